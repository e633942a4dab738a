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

    /// X: pages 260..<270 straddle the partial views [0, 264) and [264, 528),
    /// which do not both fit a 512-page aperture (the second evicts the
    /// first). Y: a whole readahead window over [0, 256) and [256, 512).
    static let straddles: [(mode: UInt32, stride: UInt32, pages: Range<Int>, views: [GttView], evictions: Int)] = [
        (R.x, 12288, 260..<270, [GttView(offset: 264, pages: 264, isPartial: true)], 1),
        (R.y, 4096, 250..<282, [GttView(offset: 0, pages: 256, isPartial: true),
                                GttView(offset: 256, pages: 256, isPartial: true)], 0),
    ]

    @Test(arguments: straddles)
    func aWindowAcrossPartialViewsBindsBoth(mode: UInt32, stride: UInt32, pages: Range<Int>, views: [GttView], evictions: Int) throws {
        let s = try SmallAperture(aperture: 2 << 20, pages: 1000, mode: mode, stride: stride)
        let raw = pattern(s.o.size, seed: 52)
        try s.fx.dev.write(s.a, handle: s.o.h, raw)
        let bytes = pages.lowerBound * 4096..<pages.upperBound * 4096
        let window = try Self.read(s.fx, s.a, inode: 1, offset: s.o.gtt + UInt64(bytes.lowerBound), count: bytes.count)
        #expect(gttByteDiff(window, R.detiled(raw, bytes, mode: mode, stride: Int(stride))) == nil)
        #expect(s.fx.dev.ggttProbe().vmas.map(\.view) == views)
        #expect(s.fx.dev.ggttProbe().evictions == evictions)
    }
}
