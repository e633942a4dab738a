import CDrm
import Testing
@testable import FakeDRMDevice

/// GTT faults through the simulated aperture, seen through the device API:
/// detiling, writeback through the fence, partial views and eviction, fence
/// stealing, SET_TILING, GPU reset, purge/reclaim and the snoop rule
/// (SEMANTICS §3.1-§3.5, §5).
@Suite struct GttFaultTests {
    typealias R = GttRef
    static let page = 4096

    /// An object of file `f` with a GTT node.
    struct Obj {
        let h: UInt32
        let gtt: UInt64
        let serial: UInt64
        let size: Int

        init(_ fx: Fixture, _ f: FileID, pages: Int, mode: UInt32 = R.none, stride: UInt32 = 0) throws {
            h = try fx.dev.gemCreate(f, size: UInt64(pages * GttFaultTests.page)).handle
            if mode != R.none { _ = try fx.dev.setTiling(f, handle: h, mode: mode, stride: stride) }
            gtt = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.gtt.rawValue)
            serial = try #require(fx.dev.ggttSerial(f, handle: h))
            size = pages * GttFaultTests.page
        }

        /// The revocation of `pages` pages from object page `from` through `inode`.
        func range(_ inode: UInt64, from: Int = 0, pages: Int? = nil) -> Invalidation {
            Invalidation(inode: inode, offset: gtt + UInt64(from * GttFaultTests.page),
                         length: UInt64((pages ?? size / GttFaultTests.page) * GttFaultTests.page))
        }
    }

    /// (mode, stride, pages, swizzle) layouts the fault path must detile.
    static let layouts: [(UInt32, Int, Int, UInt32)] = [
        (R.x, 4096, 16, R.swNone),   // 2 tile rows of 8 pages
        (R.x, 1024, 4, R.swNone),    // IGT's stride, 2-page tile rows
        (R.x, 1536, 6, R.swNone),    // 3 tiles per row
        (R.y, 512, 8, R.swNone),     // 2 rows of 4 pages
        (R.y, 128, 3, R.swNone),     // one tile per row
        (R.x, 4096, 8, R.sw9_10),    // gen5-7 style swizzle
        (R.y, 2048, 16, R.sw9),
        (R.x, 4096, 5, R.swNone),    // an incomplete tile row: zeros past the object
        (R.y, 2048, 3, R.swNone),
    ]

    static func fixture(swizzle: UInt32 = R.swNone) -> Fixture {
        var p = DeviceProfile()
        p.swizzleX = swizzle
        p.swizzleY = swizzle
        return Fixture(profile: p)
    }

    // MARK: detiling and writeback

    @Test(arguments: layouts)
    func gttFaultReturnsDetiledBytes(mode: UInt32, stride: Int, pages: Int, swizzle: UInt32) throws {
        let fx = Self.fixture(swizzle: swizzle)
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: pages, mode: mode, stride: UInt32(stride))
        #expect(try fx.dev.getTiling(f, handle: o.h).swizzle == swizzle)
        let raw = pattern(o.size, seed: 5)
        try fx.dev.write(f, handle: o.h, raw)
        let got = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt, count: o.size)
        #expect(gttByteDiff(got, R.detiled(raw, 0..<o.size, mode: mode, stride: stride, swizzle: swizzle)) == nil)
    }

    @Test(arguments: layouts)
    func gttWritebackStoresTiledBytes(mode: UInt32, stride: Int, pages: Int, swizzle: UInt32) throws {
        let fx = Self.fixture(swizzle: swizzle)
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: pages, mode: mode, stride: UInt32(stride))
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt, count: o.size) // served under this layout
        let lin = pattern(o.size, seed: 11)
        try fx.dev.writeBack(inode: 1, offset: o.gtt, lin)
        let raw = try fx.dev.read(f, handle: o.h, count: o.size)
        let zeros = [UInt8](repeating: 0, count: o.size)
        #expect(gttByteDiff(raw, R.tiledImage(lin, into: zeros, mode: mode, stride: stride, swizzle: swizzle)) == nil)
    }

    @Test func unalignedFaultInsideAPage() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 8, mode: R.y, stride: 256)
        let raw = pattern(o.size, seed: 2)
        try fx.dev.write(f, handle: o.h, raw)
        let got = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt + 4096 + 100, count: 333)
        #expect(gttByteDiff(got, R.detiled(raw, 4196..<4529, mode: R.y, stride: 256)) == nil)
    }

    @Test func untiledGttFaultIsLinear() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 3)
        let raw = pattern(o.size, seed: 4)
        try fx.dev.write(f, handle: o.h, raw)
        #expect(gttByteDiff(try fx.dev.faultBytes(f, inode: 1, offset: o.gtt, count: o.size), raw) == nil)
        #expect(fx.dev.ggttProbe().fence(of: o.serial) == nil) // untiled: no fence
    }

    @Test(arguments: [MmapType.wb, MmapType.wc])
    func cpuViewsShowTheRawLayout(type: MmapType) throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let raw = pattern(o.size, seed: 6)
        try fx.dev.write(f, handle: o.h, raw)
        let off = try fx.dev.mmapOffset(f, handle: o.h, flags: type.rawValue)
        #expect(gttByteDiff(try fx.dev.faultBytes(f, inode: 1, offset: off, count: o.size), raw) == nil)
        // A CPU-view store lands as is, not through the fence.
        let lin = pattern(4096, seed: 12)
        try fx.dev.writeBack(inode: 1, offset: off + 4096, lin)
        #expect(gttByteDiff(try fx.dev.read(f, handle: o.h, offset: 4096, count: 4096), lin) == nil)
        // The CPU view takes no GGTT binding.
        #expect(fx.dev.ggttProbe().vmas(of: o.serial).isEmpty)
    }

    @Test func gttFaultBindsAndFencesTheWholeObject() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 1025, mode: R.x, stride: 4096)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt + 4096 * 1024)
        let p = fx.dev.ggttProbe()
        let vma = try #require(p.vmas(of: o.serial).first)
        #expect(vma.view == GttView(offset: 0, pages: 1025, isPartial: false))
        #expect(vma.userfault == [1])
        let fence = try #require(p.fence(of: o.serial))
        let start = vma.start << 12
        #expect(fence.start == start)
        #expect(fence.size == 4_227_072)
        #expect(fence.hi == UInt64(start + 4_227_072 - 4096))
        #expect(fence.lo == UInt64(start) | (31 << 32) | 1)
        // Faulting again reuses binding and fence.
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt)
        let q = fx.dev.ggttProbe()
        #expect(q.binds == 1 && q.vmas.count == 1 && q.fenceSteals == 0)
    }

    /// i915_vma_insert with PIN_MAPPABLE reserves max(vma size, fence size):
    /// a tiled binding owns the whole fenced range, so the next binding
    /// starts past it and no two fence registers overlap.
    @Test func tiledBindingReservesItsFenceSize() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let a = try Obj(fx, f, pages: 1025, mode: R.x, stride: 4096)
        let b = try Obj(fx, f, pages: 1)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: a.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: b.gtt)
        let p = fx.dev.ggttProbe()
        let fence = try #require(p.fence(of: a.serial))
        let vb = try #require(p.vmas(of: b.serial).first)
        #expect(vb.start << 12 >= fence.start + fence.size)
    }

    // MARK: partial views and eviction

    /// An 8 MiB untiled object in a 1 MiB aperture, shared by file a (inode 1)
    /// and file b (inode 2).
    struct SmallAperture {
        let fx: Fixture
        let a: FileID, b: FileID
        let o: Obj

        init(aperture: UInt64 = 1 << 20, pages: Int = 2048, mode: UInt32 = R.none, stride: UInt32 = 0) throws {
            var p = DeviceProfile()
            p.apertureSize = aperture
            fx = Fixture(profile: p)
            a = fx.open(inode: 1, minor: .primary)
            b = fx.open(inode: 2, minor: .primary)
            o = try Obj(fx, a, pages: pages, mode: mode, stride: stride)
            let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: o.h)).handle
            _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
        }
    }

    @Test func partialViewsEvictEarlierOnesAndRevokeTheirFaulter() throws {
        let s = try SmallAperture()
        let fx = s.fx, o = s.o
        for pg in [0, 300, 2047] {
            try fx.dev.write(s.a, handle: o.h, offset: UInt64(pg * 4096), pattern(4096, seed: UInt8(pg & 0xff)))
        }
        _ = fx.cache.take()

        #expect(gttByteDiff(try fx.dev.faultBytes(s.a, inode: 1, offset: o.gtt), pattern(4096, seed: 0)) == nil)
        var p = fx.dev.ggttProbe()
        #expect(p.vmas.map(\.view) == [GttView(offset: 0, pages: 256, isPartial: true)])
        #expect(fx.cache.take().isEmpty)

        // Page 300 through the other open: chunk 1, which needs the whole aperture.
        #expect(gttByteDiff(try fx.dev.faultBytes(s.b, inode: 2, offset: o.gtt + 300 * 4096), pattern(4096, seed: UInt8(300 & 0xff))) == nil)
        p = fx.dev.ggttProbe()
        #expect(p.vmas.map(\.view) == [GttView(offset: 256, pages: 256, isPartial: true)])
        #expect(fx.cache.take() == [o.range(1, from: 0, pages: 256)]) // only inode 1 faulted chunk 0

        // A page inside the bound chunk: no new binding.
        _ = try fx.dev.faultBytes(s.b, inode: 2, offset: o.gtt + 511 * 4096)
        #expect(fx.dev.ggttProbe().binds == 2)
        #expect(fx.cache.take().isEmpty)

        // The last page: chunk 7 evicts chunk 1, which inode 2 faulted.
        #expect(gttByteDiff(try fx.dev.faultBytes(s.a, inode: 1, offset: o.gtt + 2047 * 4096), pattern(4096, seed: UInt8(2047 & 0xff))) == nil)
        p = fx.dev.ggttProbe()
        #expect(p.vmas.map(\.view) == [GttView(offset: 1792, pages: 256, isPartial: true)])
        #expect(fx.cache.take() == [o.range(2, from: 256, pages: 256)])
        #expect(p.binds == 3 && p.evictions == 2)
    }

    @Test func evictionRevokesEveryInodeThatFaultedTheView() throws {
        let s = try SmallAperture()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt + 10 * 4096)
        _ = try s.fx.dev.faultBytes(s.b, inode: 2, offset: s.o.gtt + 20 * 4096)
        _ = s.fx.cache.take()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt + 1000 * 4096)
        #expect(s.fx.cache.take() == [s.o.range(1, from: 0, pages: 256), s.o.range(2, from: 0, pages: 256)])
    }

    @Test func objectThatFitsIsBoundWhole() throws {
        var p = DeviceProfile()
        p.apertureSize = 1 << 20
        let fx = Fixture(profile: p)
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 200)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt + 150 * 4096)
        #expect(fx.dev.ggttProbe().vmas.map(\.view) == [GttView(offset: 0, pages: 200, isPartial: false)])
    }

    @Test func wholeBindingNeverEvictsButAPartialOneDoes() throws {
        // 200 + 50 pages take the 256-page aperture whole, without evicting
        // (PIN_NOEVICT). A 300-page object then cannot be bound whole; its
        // 44-page last chunk evicts the least recently used binding only.
        var p = DeviceProfile()
        p.apertureSize = 1 << 20
        let fx = Fixture(profile: p)
        let f = fx.open(inode: 1)
        let small = try Obj(fx, f, pages: 200), medium = try Obj(fx, f, pages: 50), big = try Obj(fx, f, pages: 300)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: small.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: medium.gtt)
        var q = fx.dev.ggttProbe()
        #expect(q.vmas.map(\.view) == [GttView(offset: 0, pages: 200, isPartial: false), GttView(offset: 0, pages: 50, isPartial: false)])
        #expect(q.evictions == 0)
        _ = fx.cache.take()
        _ = try fx.dev.faultBytes(f, inode: 1, offset: big.gtt + 299 * 4096)
        q = fx.dev.ggttProbe()
        #expect(q.vmas(of: big.serial).map(\.view) == [GttView(offset: 256, pages: 44, isPartial: true)])
        #expect(q.vmas(of: small.serial).isEmpty)
        #expect(q.vmas(of: medium.serial).count == 1)
        #expect(fx.cache.take() == [small.range(1)])
    }

    @Test func tiledPartialViewDetilesRelativeToTheObject() throws {
        // 1000 pages, X stride 12288 (24-page rows, 264-page chunks), 2 MiB aperture.
        let s = try SmallAperture(aperture: 2 << 20, pages: 1000, mode: R.x, stride: 12288)
        let fx = s.fx, o = s.o
        var raw = [UInt8](repeating: 0, count: o.size)
        let chunk = pattern(528 * 4096 - 264 * 4096, seed: 9)
        raw.replaceSubrange(264 * 4096..<528 * 4096, with: chunk)
        try fx.dev.write(s.a, handle: o.h, offset: 264 * 4096, chunk)
        _ = fx.cache.take()

        let got = try fx.dev.faultBytes(s.a, inode: 1, offset: o.gtt + 300 * 4096)
        #expect(gttByteDiff(got, R.detiled(raw, 300 * 4096..<301 * 4096, mode: R.x, stride: 12288)) == nil)
        var p = fx.dev.ggttProbe()
        let vma = try #require(p.vmas.first)
        #expect(vma.view == GttView(offset: 264, pages: 264, isPartial: true))
        let fence = try #require(p.fence(of: o.serial))
        #expect(fence.start == vma.start << 12)
        #expect(fence.size == 264 * 4096) // 11 whole rows
        #expect(fence.lo == UInt64(fence.start) | (UInt64(12288 / 128 - 1) << 32) | 1)

        // Page 700: chunk [528, 792) does not fit beside [264, 528) in 512 pages.
        _ = try fx.dev.faultBytes(s.b, inode: 2, offset: o.gtt + 700 * 4096)
        p = fx.dev.ggttProbe()
        #expect(p.vmas.map(\.view) == [GttView(offset: 528, pages: 264, isPartial: true)])
        #expect(fx.cache.take() == [o.range(1, from: 264, pages: 264)])

        // The clipped last chunk [792, 1000).
        _ = try fx.dev.faultBytes(s.b, inode: 2, offset: o.gtt + 999 * 4096)
        #expect(fx.dev.ggttProbe().vmas.map(\.view).contains(GttView(offset: 792, pages: 208, isPartial: true)))
    }

    @Test func viewLargerThanTheApertureIsENOSPC() throws {
        // X stride 12288 rounds the chunk to 264 pages: more than 1 MiB.
        let s = try SmallAperture(aperture: 1 << 20, pages: 1000, mode: R.x, stride: 12288)
        #expect(throws: DrmError.ENOSPC) { try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt) }
        #expect(s.fx.dev.ggttProbe().vmas.isEmpty)
    }

    // MARK: readahead windows

    /// A READ of `count` bytes at `offset`, as a readahead window asks.
    static func read(_ fx: Fixture, _ f: FileID, inode: UInt64, offset: UInt64, count: Int) throws -> [UInt8] {
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

    // MARK: fences

    /// Objects of 8 pages, X stride 4096, in a device with `fences` registers.
    static func fenced(_ fences: Int) -> Fixture {
        var p = DeviceProfile()
        p.fences = fences
        return Fixture(profile: p)
    }

    @Test func thirdTiledObjectStealsTheLRUFence() throws {
        let fx = Self.fenced(2)
        let f = fx.open(inode: 1)
        let objs = try (0..<3).map { _ in try Obj(fx, f, pages: 8, mode: R.x, stride: 4096) }
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[1].gtt + 4096)
        #expect(fx.cache.take().isEmpty)
        #expect(fx.dev.ggttProbe().fenceSteals == 0)

        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[2].gtt)
        #expect(fx.cache.take() == [objs[0].range(1)])
        var p = fx.dev.ggttProbe()
        #expect(p.fence(of: objs[0].serial) == nil)
        #expect(p.fence(of: objs[1].serial) != nil && p.fence(of: objs[2].serial) != nil)
        #expect(p.vmas.count == 3) // the victim stays bound
        #expect(p.vmas(of: objs[0].serial).first?.userfault.isEmpty == true)
        #expect(p.fenceSteals == 1)
        let v2 = try #require(p.vmas(of: objs[2].serial).first)
        let f2 = try #require(p.fence(of: objs[2].serial))
        #expect(f2.start == v2.start << 12 && f2.size == 32768)
        #expect(f2.hi == UInt64(f2.start + 32768 - 4096))

        // The victim faults again: object 1's register is now the LRU one.
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt)
        #expect(fx.cache.take() == [objs[1].range(1)])
        p = fx.dev.ggttProbe()
        #expect(p.fence(of: objs[1].serial) == nil && p.fence(of: objs[0].serial) != nil)
        #expect(p.fenceSteals == 2)
    }

    @Test func recentUseProtectsAFenceFromStealing() throws {
        let fx = Self.fenced(2)
        let f = fx.open(inode: 1)
        let objs = try (0..<3).map { _ in try Obj(fx, f, pages: 8, mode: R.x, stride: 4096) }
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[1].gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt + 4096) // object 0 used again
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[2].gtt)
        #expect(fx.cache.take() == [objs[1].range(1)])
        #expect(fx.dev.ggttProbe().fence(of: objs[0].serial) != nil)
    }

    @Test func fenceStealRevokesEveryInodeOfTheVictim() throws {
        let fx = Self.fenced(1)
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let v = try Obj(fx, a, pages: 8, mode: R.y, stride: 512)
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: v.h)).handle
        _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: v.gtt)
        _ = try fx.dev.faultBytes(b, inode: 2, offset: v.gtt + 4096)
        let thief = try Obj(fx, a, pages: 8, mode: R.x, stride: 4096)
        _ = fx.cache.take()
        _ = try fx.dev.faultBytes(a, inode: 1, offset: thief.gtt)
        #expect(fx.cache.take() == [v.range(1), v.range(2)])
    }

    @Test func untiledObjectsTakeNoFence() throws {
        let fx = Self.fenced(1)
        let f = fx.open(inode: 1)
        let tiled = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let plain = try Obj(fx, f, pages: 8)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: tiled.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: plain.gtt)
        #expect(fx.cache.take().isEmpty)
        let p = fx.dev.ggttProbe()
        #expect(p.fence(of: tiled.serial) != nil)
        #expect(p.fenceSteals == 0)
    }

    @Test func stolenFenceDoesNotChangeWhatAFaultReads() throws {
        let fx = Self.fenced(1)
        let f = fx.open(inode: 1)
        let a = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let b = try Obj(fx, f, pages: 8, mode: R.y, stride: 512)
        let rawA = pattern(a.size, seed: 21), rawB = pattern(b.size, seed: 22)
        try fx.dev.write(f, handle: a.h, rawA)
        try fx.dev.write(f, handle: b.h, rawB)
        for _ in 0..<2 {
            #expect(gttByteDiff(try fx.dev.faultBytes(f, inode: 1, offset: a.gtt, count: a.size), R.detiled(rawA, 0..<a.size, mode: R.x, stride: 4096)) == nil)
            #expect(gttByteDiff(try fx.dev.faultBytes(f, inode: 1, offset: b.gtt, count: b.size), R.detiled(rawB, 0..<b.size, mode: R.y, stride: 512)) == nil)
        }
        #expect(fx.dev.ggttProbe().fenceSteals == 3)
    }

    // MARK: SET_TILING

    /// An 8-page object shared by a (inode 1) and b (inode 2), X stride 4096,
    /// with GTT and WB nodes.
    struct Shared {
        let fx = Fixture()
        let a: FileID, b: FileID
        let o: Obj
        let wb: UInt64

        init(mode: UInt32 = R.x, stride: UInt32 = 4096) throws {
            a = fx.open(inode: 1, minor: .primary)
            b = fx.open(inode: 2, minor: .primary)
            o = try Obj(fx, a, pages: 8, mode: mode, stride: stride)
            let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: o.h)).handle
            _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
            wb = try fx.dev.mmapOffset(a, handle: o.h, flags: MmapType.wb.rawValue)
            _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.wb.rawValue)
        }
    }

    @Test func setTilingChangeRevokesGttRangesOnly() throws {
        let s = try Shared()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt)
        _ = try s.fx.dev.faultBytes(s.b, inode: 2, offset: s.o.gtt + 4096)
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.wb)
        _ = try s.fx.dev.faultBytes(s.b, inode: 2, offset: s.wb)
        _ = s.fx.cache.take()
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)
        // Both faulting inodes lose the GTT node; the CPU views keep their pages.
        #expect(s.fx.cache.take() == [s.o.range(1), s.o.range(2)])
        // The binding and its fence are gone: the next fault reacquires them.
        let p = s.fx.dev.ggttProbe()
        #expect(p.vmas.isEmpty)
        #expect(p.fences.allSatisfy { $0.owner == nil })
    }

    @Test func setTilingToTheSameLayoutRevokesNothing() throws {
        let s = try Shared()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt)
        _ = s.fx.cache.take()
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.x, stride: 4096)
        #expect(s.fx.cache.take().isEmpty)
        #expect(s.fx.dev.ggttProbe().fence(of: s.o.serial) != nil)
    }

    @Test func faultAfterSetTilingUsesTheNewLayout() throws {
        let s = try Shared()
        let raw = pattern(s.o.size, seed: 31)
        try s.fx.dev.write(s.a, handle: s.o.h, raw)
        #expect(gttByteDiff(try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt, count: s.o.size), R.detiled(raw, 0..<s.o.size, mode: R.x, stride: 4096)) == nil)
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)
        #expect(gttByteDiff(try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt, count: s.o.size), R.detiled(raw, 0..<s.o.size, mode: R.y, stride: 512)) == nil)
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.none, stride: 0)
        #expect(gttByteDiff(try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt, count: s.o.size), raw) == nil)
    }

    @Test func writebackOfAPageServedBeforeSetTilingUsesTheOldLayout() throws {
        let s = try Shared()
        let size = s.o.size
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt) // page 0 served under X
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)

        // The launder of page 0 arrives once the layout has changed (the
        // revocation runs after SET_TILING switched it): retiled as X.
        let lin0 = pattern(4096, seed: 41)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt, lin0)
        var expected = R.tiledImage(lin0, into: [UInt8](repeating: 0, count: size), mode: R.x, stride: 4096)
        #expect(gttByteDiff(try s.fx.dev.read(s.a, handle: s.o.h, count: size), expected) == nil)

        // Page 1 is faulted again after the change: retiled as Y.
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt + 4096)
        let lin1 = pattern(4096, seed: 42)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt + 4096, lin1)
        expected = R.tiledImage(lin1, at: 4096, into: expected, mode: R.y, stride: 512)
        #expect(gttByteDiff(try s.fx.dev.read(s.a, handle: s.o.h, count: size), expected) == nil)
    }

    /// SET_TILING revokes each faulting inode in turn, outside the lock. If
    /// inode 1's revocation is done and its client faults the page again
    /// (now under Y) before inode 2's dirty copy — stored through the X
    /// fence — is laundered, that launder must still land in the X layout:
    /// on hardware those stores went through the old fence. The served
    /// generation is kept per object page, not per (inode, page).
    @Test func launderFromASecondInodeAfterARefaultKeepsItsOldLayout() throws {
        let s = try Shared()
        let size = s.o.size
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt)
        _ = try s.fx.dev.faultBytes(s.b, inode: 2, offset: s.o.gtt)
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt) // inode 1 refaults under Y
        let lin = pattern(4096, seed: 45)
        try s.fx.dev.writeBack(inode: 2, offset: s.o.gtt, lin) // inode 2's launder, served under X
        let raw = try s.fx.dev.read(s.a, handle: s.o.h, count: size)
        #expect(gttByteDiff(raw, R.tiledImage(lin, into: [UInt8](repeating: 0, count: size), mode: R.x, stride: 4096)) == nil)
    }

    @Test func writebackAfterDetilingUsesTheOldTiledLayout() throws {
        let s = try Shared()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt + 2 * 4096) // served under X
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.none, stride: 0)
        let lin = pattern(4096, seed: 43)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt + 2 * 4096, lin)
        let expected = R.tiledImage(lin, at: 2 * 4096, into: [UInt8](repeating: 0, count: s.o.size), mode: R.x, stride: 4096)
        #expect(gttByteDiff(try s.fx.dev.read(s.a, handle: s.o.h, count: s.o.size), expected) == nil)
    }

    /// SEMANTICS §3.5: pages faulted before the SET_TILING inval keep their
    /// old generation, so their launder WRITE uses the old layout — linear
    /// when the object was untiled.
    @Test func writebackOfAPageServedUntiledBeforeTilingStaysLinear() throws {
        let s = try Shared(mode: R.none)
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt) // served linear
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.x, stride: 4096)
        #expect(s.fx.cache.take().contains(s.o.range(1)))
        let lin = pattern(4096, seed: 44)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt, lin)
        let raw = try s.fx.dev.read(s.a, handle: s.o.h, count: s.o.size)
        #expect(gttByteDiff(Array(raw[0..<4096]), lin) == nil)
        #expect(raw[4096...].allSatisfy { $0 == 0 })
    }

    // MARK: GPU reset

    @Test func gpuResetRevokesOnlyFencedBindings() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let tiled = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let plain = try Obj(fx, f, pages: 4)
        let wb = try fx.dev.mmapOffset(f, handle: tiled.h, flags: MmapType.wb.rawValue)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: tiled.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: plain.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: wb)
        _ = fx.cache.take()

        fx.dev.gpuReset()
        #expect(fx.cache.take() == [tiled.range(1)])
        let p = fx.dev.ggttProbe()
        #expect(p.resets == 1)
        #expect(p.vmas.count == 2) // bindings stay
        #expect(p.fence(of: tiled.serial) != nil) // fences are restored, not dropped

        // Nothing was faulted since: a second reset revokes nothing.
        fx.dev.gpuReset()
        #expect(fx.cache.take().isEmpty)
        // Refaulted, it is revoked again.
        _ = try fx.dev.faultBytes(f, inode: 1, offset: tiled.gtt + 4096)
        fx.dev.gpuReset()
        #expect(fx.cache.take() == [tiled.range(1)])
    }

    @Test func gpuResetSkipsABindingWhoseFenceWasStolen() throws {
        let fx = Self.fenced(1)
        let f = fx.open(inode: 1)
        let a = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let b = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: a.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: b.gtt)
        _ = fx.cache.take()
        fx.dev.gpuReset()
        #expect(fx.cache.take() == [b.range(1)])
    }

    // MARK: purge, reclaim, snoop

    @Test func purgeUnbindsAndFreesTheFence() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt)
        _ = fx.cache.take()
        _ = try fx.dev.madvise(f, handle: o.h, madv: UInt32(I915_MADV_DONTNEED))
        #expect(fx.cache.take().contains(o.range(1)))
        let p = fx.dev.ggttProbe()
        #expect(p.vmas.isEmpty)
        #expect(p.fences.allSatisfy { $0.owner == nil })
        #expect(throws: DrmError.EFAULT) { try fx.dev.faultBytes(f, inode: 1, offset: o.gtt) }
        #expect(fx.dev.ggttProbe().vmas.isEmpty)
    }

    @Test func reclaimUnbindsAndFreesTheFence() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let keep = try Obj(fx, f, pages: 2)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: keep.gtt)
        try fx.dev.gemClose(f, handle: o.h)
        // A zombie while its mapper is open: still bound.
        #expect(fx.dev.ggttProbe().vmas(of: o.serial).count == 1)
        _ = fx.cache.take()
        fx.dev.release(f)
        #expect(fx.cache.take().contains(o.range(1)))
        let p = fx.dev.ggttProbe()
        #expect(p.vmas.isEmpty)
        #expect(p.fences.allSatisfy { $0.owner == nil })
    }

    @Test func snoopedObjectGttFaultIsEFAULT() throws {
        let fx = Fixture() // hasLLC false, hasSnoop true
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 2)
        let wb = try fx.dev.mmapOffset(f, handle: o.h, flags: MmapType.wb.rawValue)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt)
        _ = fx.cache.take()
        try fx.dev.setCaching(f, handle: o.h, caching: UInt32(I915_CACHING_CACHED))
        #expect(fx.cache.take() == [o.range(1)])
        #expect(fx.dev.ggttProbe().vmas.isEmpty)
        #expect(throws: DrmError.EFAULT) { try fx.dev.faultBytes(f, inode: 1, offset: o.gtt) }
        #expect(fx.dev.ggttProbe().vmas.isEmpty) // refused before binding
        _ = try fx.dev.faultBytes(f, inode: 1, offset: wb) // CPU views are fine
        try fx.dev.setCaching(f, handle: o.h, caching: UInt32(I915_CACHING_NONE))
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt)
    }

    @Test func cachedObjectGttFaultIsFineWithLLC() throws {
        var p = DeviceProfile()
        p.hasLLC = true
        let fx = Fixture(profile: p)
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: 2)
        #expect(try fx.dev.getCaching(f, handle: o.h) == UInt32(I915_CACHING_CACHED))
        try fx.dev.write(f, handle: o.h, [7])
        #expect(try fx.dev.faultBytes(f, inode: 1, offset: o.gtt, count: 1) == [7])
    }
}
