import CDrm
import Testing
@testable import FakeDRMDevice

/// The fence's address math (SEMANTICS §5.2, worked numbers §10), the fence
/// size (§5.3) and the register encoding (§3.3).
@Suite struct TilingMathTests {
    typealias R = GttRef

    // MARK: tiled()

    @Test func xTileWorkedNumber() {
        let t = Tiling(mode: R.x, stride: 1024)
        #expect(t.tiled(1 * 1024 + 600) == 4696)
        #expect(t.physical(1 * 1024 + 600) == 4696)
    }

    @Test func yTileWorkedNumber() {
        let t = Tiling(mode: R.y, stride: 256)
        #expect(t.tiled(33 * 256 + 20) == 8724)
        #expect(t.physical(33 * 256 + 20) == 8724)
    }

    @Test func xTileMoreHandComputedPlaces() {
        let t = Tiling(mode: R.x, stride: 1024)
        // y = 9, x = 5: tile row 1 (8192), tile column 0, row-in-tile 1 (512), 5.
        #expect(t.tiled(9 * 1024 + 5) == 8709)
        // y = 7, x = 1023: tile row 0, column 1 (4096), 7*512, 511.
        #expect(t.tiled(7 * 1024 + 1023) == 4096 + 3584 + 511)
        // The first 512 bytes of a row are the tile's first row.
        #expect(t.tiled(0) == 0)
        #expect(t.tiled(511) == 511)
        #expect(t.tiled(512) == 4096)
    }

    @Test func yTileMoreHandComputedPlaces() {
        let t = Tiling(mode: R.y, stride: 256)
        // y = 0, x = 200: tile column 1 (4096), OWord column 4 (2048), 8.
        #expect(t.tiled(200) == 6152)
        // Consecutive rows of one OWord column are 16 bytes apart.
        #expect(t.tiled(256) == 16)
        #expect(t.tiled(31 * 256) == 31 * 16)
        // The next OWord of a row starts a new 512-byte column.
        #expect(t.tiled(16) == 512)
    }

    @Test func untiledIsIdentity() {
        let t = Tiling.none
        #expect(!t.isTiled)
        for l in [0, 1, 4095, 4096, 123_457] { #expect(t.physical(l) == l) }
    }

    // MARK: swizzled()

    @Test func swizzle9_10WorkedNumber() {
        let t = Tiling(mode: R.x, stride: 512, swizzle: R.sw9_10)
        #expect(t.swizzled(0x240) == 0x200)
    }

    /// (swizzle, tiled offset, expected), worked by hand from §5.2.
    static let swizzleCases: [(UInt32, Int, Int)] = [
        // 9: bit 6 ^= bit 9.
        (R.sw9, 0x200, 0x240), (R.sw9, 0x240, 0x200), (R.sw9, 0x400, 0x400), (R.sw9, 0x1234, 0x1234 ^ 0x40),
        // 9_10: bit 6 ^= bit 9 ^ bit 10.
        (R.sw9_10, 0x400, 0x440), (R.sw9_10, 0x600, 0x600), (R.sw9_10, 0x640, 0x640), (R.sw9_10, 0x200, 0x240),
        // 9_11: bit 6 ^= bit 9 ^ bit 11.
        (R.sw9_11, 0x800, 0x840), (R.sw9_11, 0xA00, 0xA00), (R.sw9_11, 0x400, 0x400), (R.sw9_11, 0x240, 0x200),
        // 9_10_11: bit 6 ^= bit 9 ^ bit 10 ^ bit 11.
        (R.sw9_10_11, 0xE00, 0xE40), (R.sw9_10_11, 0x600, 0x600), (R.sw9_10_11, 0xC40, 0xC40),
        (R.sw9_10_11, 0x1440, 0x1400), (R.sw9_10_11, 0x800, 0x840),
        // NONE: untouched.
        (R.swNone, 0x240, 0x240), (R.swNone, 0xE00, 0xE00),
    ]

    @Test(arguments: swizzleCases)
    func swizzleByHand(sw: UInt32, t: Int, expected: Int) {
        #expect(Tiling(mode: R.x, stride: 512, swizzle: sw).swizzled(t) == expected)
        #expect(R.swizzle(t, sw) == expected) // the reference agrees
    }

    @Test(arguments: [R.swNone, R.sw9, R.sw9_10, R.sw9_11, R.sw9_10_11])
    func swizzleIsAnInvolutionWithinThePage(sw: UInt32) {
        let t = Tiling(mode: R.y, stride: 128, swizzle: sw)
        for off in stride(from: 0, to: 3 * 4096, by: 37) {
            let p = t.swizzled(off)
            #expect(p >> 12 == off >> 12 && p & ~0x40 == off & ~0x40)
            #expect(t.swizzled(p) == off)
        }
    }

    @Test func physicalAppliesSwizzleAfterTiling() {
        let t = Tiling(mode: R.x, stride: 1024, swizzle: R.sw9_10)
        // 4696 = 0x1258: bit 9 set, bit 10 clear ⇒ bit 6 flips (0x1258 ^ 0x40 = 0x1218).
        #expect(t.physical(1 * 1024 + 600) == 0x1218)
    }

    // MARK: run, fence size, tile rows

    @Test func runLengths() {
        #expect(Tiling(mode: R.x, stride: 4096).run == 512)
        #expect(Tiling(mode: R.y, stride: 4096).run == 16)
        #expect(Tiling(mode: R.x, stride: 4096, swizzle: R.sw9_10).run == 64)
        #expect(Tiling(mode: R.x, stride: 4096, swizzle: R.sw9).run == 64)
        #expect(Tiling(mode: R.y, stride: 4096, swizzle: R.sw9).run == 16)
        #expect(Tiling.none.run == 4096)
    }

    @Test func tileRowGeometry() {
        #expect(Tiling(mode: R.x, stride: 4096).tileHeight == 8)
        #expect(Tiling(mode: R.y, stride: 4096).tileHeight == 32)
        #expect(Tiling(mode: R.x, stride: 4096).tileRowSize == 32768)
        #expect(Tiling(mode: R.x, stride: 4096).tileRowPages == 8)
        #expect(Tiling(mode: R.y, stride: 2048).tileRowPages == 16)
        #expect(Tiling(mode: R.x, stride: 12288).tileRowPages == 24)
        #expect(Tiling(mode: R.y, stride: 128).tileRowPages == 1)
        #expect(Tiling.none.tileRowPages == 0)
    }

    @Test func fenceSizeWorkedNumber() {
        let x = Tiling(mode: R.x, stride: 4096)
        #expect(x.fenceSize(objectSize: (4 << 20) + 4096) == 4_227_072)
        #expect(x.fenceSize(objectSize: 4 << 20) == 4 << 20) // already whole rows
        #expect(x.fenceSize(objectSize: 4096) == 32768)
        #expect(Tiling(mode: R.y, stride: 2048).fenceSize(objectSize: 4096) == 65536)
        #expect(Tiling(mode: R.x, stride: 12288).fenceSize(objectSize: 1000 * 4096) == 42 * 24 * 4096)
        #expect(Tiling.none.fenceSize(objectSize: 4096 * 3) == 4096 * 3)
    }

    // MARK: property: a bijection made of contiguous runs

    @Test func physicalIsABijectionOfContiguousRuns() {
        var rng = SplitMix64(seed: 0x6767_7474)
        let swizzles = [R.swNone, R.sw9, R.sw9_10, R.sw9_11, R.sw9_10_11]
        for _ in 0..<16 {
            let isX = Bool.random(using: &rng)
            let mode = isX ? R.x : R.y
            let stride = isX ? 512 * Int.random(in: 1...8, using: &rng) : 128 * Int.random(in: 1...16, using: &rng)
            let sw = swizzles.randomElement(using: &rng)!
            let t = Tiling(mode: mode, stride: stride, swizzle: sw)
            let rows = Int.random(in: 1...2, using: &rng)
            let size = rows * t.tileRowSize
            var seen = [Bool](repeating: false, count: size)
            var bad = 0, outside = 0, dup = 0, gaps = 0
            for l in 0..<size {
                let p = t.physical(l)
                if p != R.physical(l, mode: mode, stride: stride, swizzle: sw) { bad += 1 }
                guard p >= 0, p < size else { outside += 1; continue }
                if seen[p] { dup += 1 }
                seen[p] = true
                let base = l - l % t.run
                if p != t.physical(base) + l % t.run { gaps += 1 }
            }
            let label = "mode \(mode) stride \(stride) swizzle \(sw) rows \(rows)"
            #expect(bad == 0, "differs from §5.2: \(label)")
            #expect(outside == 0 && dup == 0, "not a bijection: \(label)")
            #expect(!seen.contains(false), "not onto: \(label)")
            #expect(gaps == 0, "a run is not contiguous: \(label)")
        }
    }

    @Test func tiledRowStaysInItsTileRow() {
        // Each tile row of linear bytes maps onto the same tile row of the
        // tiled layout: what lets a partial view start on a row boundary.
        for t in [Tiling(mode: R.x, stride: 1536), Tiling(mode: R.y, stride: 384, swizzle: R.sw9)] {
            let row = t.tileRowSize
            for l in stride(from: 0, to: 3 * row, by: 61) {
                #expect(t.physical(l) / row == l / row)
            }
        }
    }

    // MARK: fence register

    @Test func fenceRegisterEncodingX() {
        let obj = ggttTestObject(serial: 1, pages: 1025)
        let vma = Vma(object: obj, view: GttView(offset: 0, pages: 1025, isPartial: false), start: 16)
        let tiling = Tiling(mode: R.x, stride: 4096)
        let start = 16 << 12, size = tiling.fenceSize(objectSize: 1025 << 12)
        let f = Fence(vma: vma, lastUse: 1, tiling: tiling, start: start, size: size)
        #expect(size == 4_227_072)
        #expect(f.value.hi == UInt64(start + 4_227_072 - 4096))
        #expect(f.value.lo == UInt64(start) | (31 << 32) | 1)
        #expect(f.value.lo & 2 == 0) // X: no Y bit
    }

    @Test func fenceRegisterEncodingY() {
        let obj = ggttTestObject(serial: 1, pages: 16)
        let vma = Vma(object: obj, view: GttView(offset: 0, pages: 16, isPartial: false), start: 0)
        let tiling = Tiling(mode: R.y, stride: 2048)
        let f = Fence(vma: vma, lastUse: 1, tiling: tiling, start: 0x20_0000, size: 65536)
        #expect(f.value.hi == 0x20_0000 + 65536 - 4096)
        #expect(f.value.lo == 0x20_0000 | (15 << 32) | 0b10 | 1)
        #expect((f.value.lo >> 32) & 0x7ff == UInt64(2048 / 128 - 1))
    }

    @Test func fenceRegisterIsZeroWhenUnusedOrUntiled() {
        let none = Fence()
        #expect(none.value.hi == 0 && none.value.lo == 0)
        let obj = ggttTestObject(serial: 1, pages: 1)
        let vma = Vma(object: obj, view: GttView(offset: 0, pages: 1, isPartial: false), start: 0)
        let untiled = Fence(vma: vma, lastUse: 0, tiling: .none, start: 0, size: 4096)
        #expect(untiled.value.hi == 0 && untiled.value.lo == 0)
    }
}
