#if canImport(Glibc)
import Glibc
#endif

/// The bytes of one fault, decided under the device lock and moved after it.
///
/// A 128 KiB READ is mostly copying; done under the lock, every faulting
/// client's copy waited for every other's. The lock decides where each run
/// of the reply comes from (a place in an object's backing, or zeros); the
/// copies then run unlocked, in parallel. The backings named are retained
/// until then, so an object freed meanwhile keeps its memory (Backing frees
/// in deinit) and no other object can be given it. A store racing the copy
/// is the client's race, as on hardware; a coherency point racing it still
/// revokes after the reply, because the kernel keeps the pages of a READ
/// locked until it is answered and invalidation waits for them.
///
/// No allocation on the usual path: a readahead window never reaches a
/// second node (OffsetManager's guard gaps), so a reply is one run of one
/// backing and perhaps a run of gap zeros; more spill to arrays.
struct FaultCopies {
    private struct Run {
        var source: UnsafeRawPointer?   // nil: zeros
        var at: Int                     // offset in the reply
        var count: Int
    }
    private var inline = InlineArray<4, Run>(repeating: Run(source: nil, at: 0, count: 0))
    private var inlineCount = 0
    private var spilled: [Run] = []
    private var backing: Backing?
    private var moreBackings: [Backing] = []
    private let buffer: UnsafeMutableRawBufferPointer

    init(into buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    /// Copies made at once, under the lock: `count` linear bytes of row `y`
    /// of the tile at `tile`, from column `x` (Tiling.forEachTileSpan). A
    /// tiled page is runs of 512 (X) or 16 (Y) bytes, not worth a record
    /// each; the tile is translated once by the caller.
    @inline(__always)
    func copyTileSpan(_ tile: UnsafeRawPointer, _ layout: Tiling, x: Int, y: Int, count: Int, at: Int) {
        layout.moveSpan(tile: UnsafeMutableRawPointer(mutating: tile), x: x, y: y, count: count,
                        linear: buffer.baseAddress! + at, intoTile: false)
    }

    /// Y tiling: 4 rows (from `row`, a multiple of 4) of one tile's 128
    /// columns, each row `layout.stride` bytes after the last in the reply
    /// from `at` (the tile's column `column` of the first). Each OWord's
    /// 64-byte line holds that OWord of the 4 rows. A nil tile reads zeros.
    @inline(__always)
    func copyYLines(_ tile: UnsafeRawPointer?, _ layout: Tiling, row: Int, column: Int, at: Int) {
        let out = buffer.baseAddress! + at + column, stride = layout.stride
        guard let tile else {
            for r in 0..<4 { memset(out + r * stride, 0, 128) }
            return
        }
        for k in 0..<8 {
            let source = tile + layout.yOWord(k, row: row), o = out + k << 4
            for r in 0..<4 {
                (o + r * stride).storeBytes(of: (source + r << 4).loadUnaligned(as: SIMD16<UInt8>.self),
                                            as: SIMD16<UInt8>.self)
            }
        }
    }

    /// `count` bytes of the reply at `at` come from `source` in `backing`.
    mutating func add(_ source: UnsafeRawPointer?, of backing: Backing, at: Int, count: Int) {
        if self.backing == nil { self.backing = backing }
        else if self.backing !== backing && moreBackings.last !== backing { moreBackings.append(backing) }
        append(Run(source: source, at: at, count: count))
    }

    /// Zeros with no object behind them (guard gaps).
    mutating func zeros(at: Int, count: Int) { append(Run(source: nil, at: at, count: count)) }

    /// Adds a run, extending the last one when it continues it.
    private mutating func append(_ r: Run) {
        if inlineCount > 0, spilled.isEmpty {
            var last = inline[inlineCount - 1]
            // Zeros continue zeros (nil == nil); bytes continue where the last run ended.
            if last.at + last.count == r.at, last.source.map({ $0 + last.count }) == r.source {
                last.count += r.count
                inline[inlineCount - 1] = last
                return
            }
        }
        if inlineCount < inline.count, spilled.isEmpty {
            inline[inlineCount] = r
            inlineCount += 1
        } else {
            spilled.append(r)
        }
    }

    /// Does the copies into the reply (after the lock is released).
    func perform() {
        for i in 0..<inlineCount { copy(inline[i]) }
        for r in spilled { copy(r) }
        withExtendedLifetime((backing, moreBackings)) {}
    }

    private func copy(_ r: Run) {
        let out = buffer.baseAddress! + r.at
        if let s = r.source { out.copyMemory(from: s, byteCount: r.count) } else { memset(out, 0, r.count) }
    }
}
