import CDrm
import Testing
@testable import FakeDRMDevice

/// GttFaultTests: partial views of objects larger than the aperture, and eviction.
extension GttFaultTests {
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
}
