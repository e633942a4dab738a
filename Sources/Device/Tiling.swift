import CDrm

/// A fence's view of memory (gen >= 4): linear addresses through the
/// aperture map to X- or Y-tiled addresses, then bit 6 may be swizzled.
/// All offsets are relative to the start of the fenced range; the swizzle
/// uses page-local bits only, so object offsets serve as physical ones.
public struct Tiling: Sendable, Equatable {
    public let mode: UInt32    // I915_TILING_*
    public let stride: Int     // bytes per row
    public let swizzle: UInt32 // I915_BIT_6_SWIZZLE_*

    /// Y tiling: bit k is set when the swizzle flips bit 6 in OWord column
    /// k of a tile (the swizzle reads address bits 9-11 only, which within
    /// a tile are the column). Worked out once, not per 16-byte run.
    public let yColumnFlips: UInt8

    public init(mode: UInt32, stride: Int, swizzle: UInt32 = UInt32(I915_BIT_6_SWIZZLE_NONE)) {
        self.mode = mode
        self.stride = stride
        self.swizzle = swizzle
        var flips: UInt8 = 0
        for k in 0..<8 where Self.swizzled(k << 9, swizzle) != k << 9 { flips |= 1 << UInt8(k) }
        yColumnFlips = flips
    }

    public static let none = Tiling(mode: UInt32(I915_TILING_NONE), stride: 0)

    public var isTiled: Bool { mode != UInt32(I915_TILING_NONE) }

    /// i915_gem_tile_height: rows per tile.
    public var tileHeight: Int { mode == UInt32(I915_TILING_Y) ? 32 : 8 }

    /// Bytes in one row of tiles (the unit partial views and fences round to).
    public var tileRowSize: Int { stride * tileHeight }

    /// The tiled offset of linear offset `l`.
    @inline(__always)
    public func tiled(_ l: Int) -> Int {
        tiledAt(x: l % stride, y: l / stride)
    }

    /// Bit-6 swizzling of a tiled offset.
    @inline(__always)
    public func swizzled(_ t: Int) -> Int { Self.swizzled(t, swizzle) }

    @inline(__always)
    static func swizzled(_ t: Int, _ swizzle: UInt32) -> Int {
        let bit: Int
        switch swizzle {
        case UInt32(I915_BIT_6_SWIZZLE_9): bit = t >> 9
        case UInt32(I915_BIT_6_SWIZZLE_9_10): bit = (t >> 9) ^ (t >> 10)
        case UInt32(I915_BIT_6_SWIZZLE_9_11): bit = (t >> 9) ^ (t >> 11)
        case UInt32(I915_BIT_6_SWIZZLE_9_10_11): bit = (t >> 9) ^ (t >> 10) ^ (t >> 11)
        default: return t
        }
        return t ^ ((bit & 1) << 6)
    }

    /// Where linear offset `l` lives in the tiled, swizzled layout.
    @inline(__always)
    public func physical(_ l: Int) -> Int { isTiled ? swizzled(tiled(l)) : l }

    /// Linear bytes that stay contiguous in the tiled layout: a span of a
    /// tile row (512 for X, a 16-byte OWord for Y), cut to 64 by swizzling.
    public var run: Int {
        guard isTiled else { return 4096 }
        let span = mode == UInt32(I915_TILING_X) ? 512 : 16
        return swizzle == UInt32(I915_BIT_6_SWIZZLE_NONE) ? span : min(span, 64)
    }

    /// Splits linear `[from, from+count)` into runs contiguous in the tiled
    /// layout and calls `body(bytesDone, tiledOffset, runLength)` for each.
    /// Walks rows incrementally: no division per run.
    @inline(__always)
    public func forEachRun(from: Int, count: Int, _ body: (Int, Int, Int) -> Void) {
        guard isTiled else {
            body(0, from, count)
            return
        }
        let mask = self.run - 1   // a power of two: no division per run
        var y = from / stride, x = from % stride
        var done = 0
        while done < count {
            let n = min(count - done, mask + 1 - x & mask)
            body(done, swizzled(tiledAt(x: x, y: y)), n)
            done += n
            x += n
            if x == stride { x = 0; y += 1 }
        }
    }

    /// Y tiling: where OWord column `k` of row `row` starts in a tile
    /// (k * 512 + row * 16), swizzled.
    @inline(__always)
    func yOWord(_ k: Int, row: Int) -> Int {
        let flip = Int(truncatingIfNeeded: yColumnFlips >> UInt8(truncatingIfNeeded: k)) & 1
        return (k << 9 + row << 4) ^ (flip << 6)
    }

    /// Splits linear `[from, from+count)` at tile edges and calls
    /// `body(bytesDone, tile, x, y, length)` for each piece of one row of one
    /// tile: `tile` is the tile's tiled offset (a page: X and Y tiles are
    /// 4 KiB each), `x` and `y` the piece's column and row in it. A fault
    /// translates one page per piece instead of one per 16-byte run.
    @inline(__always)
    public func forEachTileSpan(from: Int, count: Int, _ body: (Int, Int, Int, Int, Int) -> Void) {
        let widthShift = mode == UInt32(I915_TILING_X) ? 9 : 7, rowsShift = mode == UInt32(I915_TILING_X) ? 3 : 5
        let width = 1 << widthShift
        var y = from / stride, x = from % stride
        var done = 0
        while done < count {
            let inX = x & (width - 1)
            let n = min(count - done, width - inX)
            body(done, (y >> rowsShift) * (stride << rowsShift) + (x >> widthShift) << Page.shift,
                 inX, y & ((1 << rowsShift) - 1), n)
            done += n
            x += n
            if x == stride { x = 0; y += 1 }
        }
    }

    /// Moves `count` bytes of row `y` of the tile at `tile`, from column `x`
    /// (a piece of forEachTileSpan), to or from the linear bytes at
    /// `linear`: out of the tile for a fault, into it for a writeback. No
    /// call and no layout switch per run: a Y run (16 bytes) is one vector
    /// move (a memcpy call each held Y-tiled fault-in to 0.42x of tmpfs).
    @inline(__always)
    func moveSpan(tile: UnsafeMutableRawPointer, x: Int, y: Int, count: Int, linear: UnsafeMutableRawPointer, intoTile: Bool) {
        @inline(__always) func move(_ t: UnsafeMutableRawPointer, _ l: UnsafeMutableRawPointer, _ n: Int) {
            let (to, from) = intoTile ? (t, l) : (l, t)
            if n == 16 {
                to.storeBytes(of: from.loadUnaligned(as: SIMD16<UInt8>.self), as: SIMD16<UInt8>.self)
            } else {
                to.copyMemory(from: from, byteCount: n)
            }
        }
        var l = linear, c = x
        let end = x + count
        if mode == UInt32(I915_TILING_Y) {
            while c < end {
                let n = min(end - c, 16 - c & 15)
                move(tile + yOWord(c >> 4, row: y) + (c & 15), l, n)
                l += n
                c += n
            }
        } else {
            // X: a row of a tile is contiguous, cut into 64-byte runs by a swizzle.
            let mask = run - 1
            while c < end {
                let n = min(end - c, mask + 1 - c & mask)
                move(tile + swizzled(tiledAt(x: c, y: y)), l, n)
                l += n
                c += n
            }
        }
    }

    @inline(__always)
    func tiledAt(x: Int, y: Int) -> Int {
        if mode == UInt32(I915_TILING_X) {
            return (y >> 3) * (stride << 3) + (x >> 9) << 12 + (y & 7) << 9 + (x & 511)
        }
        return (y >> 5) * (stride << 5) + (x >> 7) << 12 + ((x & 127) >> 4) << 9 + (y & 31) << 4 + (x & 15)
    }

    /// i915_gem_fence_size (gen >= 4): the object rounded up to whole tile rows.
    public func fenceSize(objectSize: Int) -> Int {
        guard isTiled else { return objectSize }
        let row = tileRowSize
        return (objectSize + row - 1) / row * row
    }

    /// Pages in one tile row (0 when untiled).
    public var tileRowPages: Int { isTiled ? tileRowSize / 4096 : 0 }
}
