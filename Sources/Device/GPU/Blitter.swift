import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// The blitter's copy and fill commands on linear, X- and Y-tiled surfaces,
/// laid out by the same tiling math the GTT views detile with (Tiling.swift).
extension CommandStreamer {
    /// A rectangle's surface: base address, pitch in bytes, layout, bytes per pixel.
    struct Surface {
        let address: UInt64
        let pitch: Int
        let tiling: UInt32
        let cpp: Int
    }

    mutating func blit(_ dw: [UInt32]) throws(Hang) {
        let h = dw[0]
        let op = (h >> 22) & 0x7F
        func need(_ n: Int) throws(Hang) {
            if dw.count < n { throw Hang(reason: "blit opcode 0x" + String(op, radix: 16) + " too short") }
        }
        let swctrl = regs.read(Registers.bcsSwctrl)
        switch op {
        case 0x53:                                              // XY_SRC_COPY_BLT
            try need(10)
            let cpp = Self.legacyCpp(dw[1])
            let dstTiling = h & (1 << 11) == 0 ? UInt32(I915_TILING_NONE) : swctrl & 2 != 0 ? UInt32(I915_TILING_Y) : UInt32(I915_TILING_X)
            let srcTiling = h & (1 << 15) == 0 ? UInt32(I915_TILING_NONE) : swctrl & 1 != 0 ? UInt32(I915_TILING_Y) : UInt32(I915_TILING_X)
            let dst = Surface(address: Self.address(dw[4], dw[5]), pitch: Self.pitch(dw[1], dstTiling), tiling: dstTiling, cpp: cpp)
            let src = Surface(address: Self.address(dw[8], dw[9]), pitch: Self.pitch(dw[7], srcTiling), tiling: srcTiling, cpp: cpp)
            copy(dst: dst, dstRect: dw[2], dw[3], src: src, srcOrigin: dw[6])
        case 0x42:                                              // XY_FAST_COPY_BLT
            try need(10)
            let cpp = [1, 2, 4, 4, 8, 16, 16, 16][Int((dw[1] >> 24) & 7)]
            let dstTiling = Self.fastTiling((h >> 13) & 3), srcTiling = Self.fastTiling((h >> 20) & 3)
            let dst = Surface(address: Self.address(dw[4], dw[5]), pitch: Self.pitch(dw[1], dstTiling), tiling: dstTiling, cpp: cpp)
            let src = Surface(address: Self.address(dw[8], dw[9]), pitch: Self.pitch(dw[7], srcTiling), tiling: srcTiling, cpp: cpp)
            copy(dst: dst, dstRect: dw[2], dw[3], src: src, srcOrigin: dw[6])
        case 0x50:                                              // XY_COLOR_BLT
            try need(7)
            let tiling = h & (1 << 11) == 0 ? UInt32(I915_TILING_NONE) : swctrl & 2 != 0 ? UInt32(I915_TILING_Y) : UInt32(I915_TILING_X)
            let dst = Surface(address: Self.address(dw[4], dw[5]), pitch: Self.pitch(dw[1], tiling), tiling: tiling, cpp: Self.legacyCpp(dw[1]))
            fill(dst: dst, rect: dw[2], dw[3], color: [dw[6]])
        case 0x44:                                              // XY_FAST_COLOR_BLT (igt_draw's layout)
            try need(11)
            let cpp = [1, 2, 4, 8, 16, 16, 16, 16][Int((h >> 19) & 7)]
            let t = dw[1] >> 30
            let tiling = t == 0 ? UInt32(I915_TILING_NONE) : t == 1 ? UInt32(I915_TILING_X) : UInt32(I915_TILING_Y)
            let pitch = Self.pitch((dw[1] & 0x3FFFF) + 1, tiling)
            let dst = Surface(address: Self.address(dw[4], dw[5]), pitch: pitch, tiling: tiling, cpp: cpp)
            fill(dst: dst, rect: dw[2], dw[3], color: Array(dw[7..<11]))
        default:
            skipped += 1                                        // setup, mono and text blits
        }
    }

    /// BR13 color depth (bits 25:24): 8, 16 (565), 16 (1555), 32 bpp.
    static func legacyCpp(_ br13: UInt32) -> Int { [1, 2, 2, 4][Int((br13 >> 24) & 3)] }

    /// Pitch field: bytes for linear surfaces, dwords for tiled ones.
    static func pitch(_ d: UInt32, _ tiling: UInt32) -> Int {
        let p = Int(d & 0xFFFF)
        return tiling == UInt32(I915_TILING_NONE) ? p : p * 4
    }

    /// XY_FAST_COPY_BLT tiling field: linear, X, Y (Yf/Yb as legacy Y), Ys (as Y).
    static func fastTiling(_ t: UInt32) -> UInt32 {
        t == 0 ? UInt32(I915_TILING_NONE) : t == 1 ? UInt32(I915_TILING_X) : UInt32(I915_TILING_Y)
    }

    private func layout(_ s: Surface) -> Tiling {
        s.tiling == UInt32(I915_TILING_NONE) ? .none : Tiling(mode: s.tiling, stride: s.pitch, swizzle: swizzle(s.tiling))
    }

    /// An object's bytes as a blit sees them, looked up once per blit or
    /// row: the engine's per-run work is then pointer arithmetic and a copy
    /// (looking each run up in the request's targets costs reference
    /// counting per 16-byte Y run, which made a debug daemon's tiled blits
    /// slow: gem_tiled_blits took 200 s).
    struct Mem {
        let base: UnsafeMutableRawPointer
        let start: UInt64, size: Int
        let index: Int
        let readonly: Bool
    }

    /// A surface of one blit: its layout, and for a tiled one the object
    /// holding its base (a linear one is looked up per row, cached).
    private struct Plane {
        let s: Surface
        let t: Tiling
        let tiled: Mem?
        var last: Mem?
    }

    private func mem(at addr: UInt64) -> Mem? {
        guard let (i, _) = resolve(addr, 1) else { return nil }
        let t = target(i)
        return Mem(base: t.backing.base, start: t.start, size: Int(t.size), index: i, readonly: t.readonly)
    }

    private func plane(_ s: Surface) -> Plane {
        let t = layout(s)
        return Plane(s: s, t: t, tiled: t.isTiled ? mem(at: s.address) : nil, last: nil)
    }

    /// Calls body(byteInRow, object, offsetInObject, length) for the stored
    /// runs of row `y`, columns [x1, x2); bytes outside any object (the
    /// scratch page) are left out.
    @inline(__always)
    private func rowRuns(_ p: inout Plane, y: Int, x1: Int, x2: Int, _ body: (Int, Mem, Int, Int) -> Void) {
        guard x2 > x1, p.s.pitch > 0 else { return }
        let from = y * p.s.pitch + x1 * p.s.cpp, count = (x2 - x1) * p.s.cpp
        if !p.t.isTiled {
            // The engine addresses each row, not the surface: a base outside
            // every object (a negative relocation delta, gem_bad_reloc) is
            // fine where the rows land inside one; the sum wraps in the
            // 48-bit space (a base below an object at address 0).
            let addr = (p.s.address &+ UInt64(from)) & (GpuVm.size - 1)
            if p.last.map({ addr < $0.start || addr >= $0.start + UInt64($0.size) }) ?? true { p.last = mem(at: addr) }
            guard let m = p.last else { return }
            let at = Int(addr - m.start)
            let n = min(count, m.size - at)
            if n > 0 { body(0, m, at, n) }
            return
        }
        guard let m = p.tiled else { return }
        let base = Int(p.s.address - m.start), size = m.size
        p.t.forEachRun(from: from, count: count) { done, phys, n in
            let at = base + phys
            if at + n <= size { body(done, m, at, n) }
        }
    }

    private static func rect(_ a: UInt32, _ b: UInt32) -> (x1: Int, y1: Int, x2: Int, y2: Int) {
        (Int(a & 0xFFFF), Int(a >> 16), Int(b & 0xFFFF), Int(b >> 16))
    }

    private mutating func copy(dst: Surface, dstRect a: UInt32, _ b: UInt32, src: Surface, srcOrigin: UInt32) {
        let r = Self.rect(a, b)
        let sx = Int(srcOrigin & 0xFFFF), sy = Int(srcOrigin >> 16)
        let w = r.x2 - r.x1
        guard w > 0, r.y2 > r.y1 else { return }
        let bytes = w * dst.cpp
        var row = [UInt8](repeating: 0, count: bytes)
        var from = plane(src), to = plane(dst)
        var hit = Array(repeating: false, count: written.count)
        row.withUnsafeMutableBytes { buf in
            let rowBase = buf.baseAddress!
            for dy in 0..<(r.y2 - r.y1) {
                // A linear source row wholly inside one object is copied from
                // where it is; anything else is gathered first (zeros where
                // no object is).
                var direct: UnsafeRawPointer?
                if !from.t.isTiled {
                    rowRuns(&from, y: sy + dy, x1: sx, x2: sx + w) { done, m, off, n in
                        if done == 0, n == bytes { direct = UnsafeRawPointer(m.base + off) }
                    }
                }
                if direct == nil {
                    memset(rowBase, 0, bytes) // (initializeMemory is a per-byte loop in a debug build)
                    rowRuns(&from, y: sy + dy, x1: sx, x2: sx + w) { done, m, off, n in
                        (rowBase + done).copyMemory(from: m.base + off, byteCount: n)
                    }
                }
                let source = direct ?? UnsafeRawPointer(rowBase)
                rowRuns(&to, y: r.y1 + dy, x1: r.x1, x2: r.x2) { done, m, off, n in
                    guard !m.readonly else { return }
                    (m.base + off).copyMemory(from: source + done, byteCount: n)
                    if m.index < hit.count { hit[m.index] = true } else { resident?.written.insert(m.index - hit.count) }
                }
            }
        }
        for i in hit.indices where hit[i] { written[i] = true }
    }

    /// Fills with `color`'s first cpp bytes (little-endian dwords).
    private mutating func fill(dst: Surface, rect a: UInt32, _ b: UInt32, color: [UInt32]) {
        let r = Self.rect(a, b)
        let w = r.x2 - r.x1
        guard w > 0, r.y2 > r.y1 else { return }
        var row = [UInt8](repeating: 0, count: w * dst.cpp)
        for p in 0..<w {
            for k in 0..<dst.cpp {
                row[p * dst.cpp + k] = UInt8(truncatingIfNeeded: color[min(k / 4, color.count - 1)] >> (8 * UInt32(k % 4)))
            }
        }
        var to = plane(dst)
        var hit = Array(repeating: false, count: written.count)
        row.withUnsafeBytes { buf in
            let source = buf.baseAddress!
            for y in r.y1..<r.y2 {
                rowRuns(&to, y: y, x1: r.x1, x2: r.x2) { done, m, off, n in
                    guard !m.readonly else { return }
                    (m.base + off).copyMemory(from: source + done, byteCount: n)
                    if m.index < hit.count { hit[m.index] = true } else { resident?.written.insert(m.index - hit.count) }
                }
            }
        }
        for i in hit.indices where hit[i] { written[i] = true }
    }
}
