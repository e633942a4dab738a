import CDrm
import Testing
@testable import FakeDRMDevice

/// GttFaultTests: readahead windows: guard gaps, tiled and partial views.
extension GttFaultTests {
    /// A READ of `count` bytes at `offset`, as a readahead window asks.
    static func read(_ fx: Fixture, _ f: FileID, inode: InodeID, offset: UInt64, count: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0xEE, count: count)
        try buf.withUnsafeMutableBytes { b in _ = try fx.dev.fault(f, inode: inode, offset: offset, into: b) }
        return buf
    }

    @Test func aWindowOverATiledViewIsDetiledPageByPage() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 16, mode: R.x, stride: 4096)
        let raw = pattern(o.size, seed: 51)
        try fx.dev.write(f, handle: o.h, raw)
        let window = try Self.read(fx, f, inode: 1, offset: o.gtt + 3 * 4096, count: 8 * 4096)
        #expect(gttByteDiff(window, R.detiled(raw, 3 * 4096..<11 * 4096, mode: R.x, stride: 4096)) == nil)
    }

    /// Y-tiled windows copy whole groups of 4 rows a cache line at a time
    /// and the rest row by row: windows that start on a group, on a row
    /// inside one, inside a row, and that end mid-group, under every swizzle.
    @Test(arguments: [R.swNone, R.sw9, R.sw9_10, R.sw9_11, R.sw9_10_11])
    func aYTiledWindowIsDetiledAtAnyAlignment(swizzle: UInt32) throws {
        let fx = Self.fixture(swizzle: swizzle)
        let f = fx.open(inode: 1)
        let stride = 1536 // 12 tiles a row; a tile row is 12 pages
        let o = try Obj(fx, f, pages: 36, mode: R.y, stride: UInt32(stride))
        let raw = pattern(o.size, seed: 54)
        try fx.dev.write(f, handle: o.h, raw)
        for (start, count) in [(0, 32 * 4096), (4 * stride, 9 * stride), (3 * stride, 20 * 4096),
                               (5 * stride + 100, 10 * 4096 + 7), (0, 36 * 4096)] {
            let window = try Self.read(fx, f, inode: 1, offset: o.gtt + UInt64(start), count: count)
            #expect(gttByteDiff(window, R.detiled(raw, start..<start + count, mode: R.y, stride: stride, swizzle: swizzle)) == nil,
                    "window \(start)+\(count)")
        }
    }

    @Test func aYTiledWindowAcrossPartialViewsBindsBoth() throws {
        let s = try SmallAperture(aperture: 2 << 20, pages: 1000, mode: R.y, stride: 4096)
        let raw = pattern(s.o.size, seed: 55)
        try s.fx.dev.write(s.a, handle: s.o.h, raw)
        // Pages 250..<282 straddle the partial views [0, 256) and [256, 512).
        let window = try Self.read(s.fx, s.a, inode: 1, offset: s.o.gtt + 250 * 4096, count: 32 * 4096)
        #expect(gttByteDiff(window, R.detiled(raw, 250 * 4096..<282 * 4096, mode: R.y, stride: 4096)) == nil)
        #expect(s.fx.dev.ggttProbe().vmas.map(\.view) == [GttView(offset: 0, pages: 256, isPartial: true),
                                                            GttView(offset: 256, pages: 256, isPartial: true)])
    }

    @Test func nodesAreSeparatedByAGuardWiderThanReadahead() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let a = try Obj(fx, f, pages: 3, mode: R.none, stride: 0)
        let b = try Obj(fx, f, pages: 3, mode: R.none, stride: 0)
        let guardBytes = OffsetManager<Int>.readaheadGuardPages << 12
        #expect(b.gtt >= a.gtt + 3 * 4096 + guardBytes)
        #expect(guardBytes >= 4 * UInt64(OffsetManager<Int>.readaheadBytes))
    }

    @Test func aWindowRunningIntoTheGuardReadsZerosThere() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 2, mode: R.none, stride: 0)
        let raw = pattern(o.size, seed: 53)
        try fx.dev.write(f, handle: o.h, raw)
        let window = try Self.read(fx, f, inode: 1, offset: o.gtt + 4096, count: 4 * 4096)
        #expect(Array(window[0..<4096]) == Array(raw[4096..<8192]))
        #expect(window[4096...].allSatisfy { $0 == 0 })
        // A window with no node at all is no fault of a mapping: EIO.
        #expect(throws: DrmError.EIO) { try Self.read(fx, f, inode: 1, offset: o.gtt + 8 * 4096, count: 4096) }
    }

    @Test func aWindowAcrossPartialViewsBindsBoth() throws {
        let s = try SmallAperture(aperture: 2 << 20, pages: 1000, mode: R.x, stride: 12288)
        let raw = pattern(s.o.size, seed: 52)
        try s.fx.dev.write(s.a, handle: s.o.h, raw)
        // Pages 260..<270 straddle the partial views [0, 264) and [264, 528).
        let window = try Self.read(s.fx, s.a, inode: 1, offset: s.o.gtt + 260 * 4096, count: 10 * 4096)
        #expect(gttByteDiff(window, R.detiled(raw, 260 * 4096..<270 * 4096, mode: R.x, stride: 12288)) == nil)
        // Two 264-page views do not fit a 512-page aperture: the second evicted the first.
        #expect(s.fx.dev.ggttProbe().vmas.map(\.view) == [GttView(offset: 264, pages: 264, isPartial: true)])
        #expect(s.fx.dev.ggttProbe().evictions == 1)
    }
}
