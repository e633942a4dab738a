import CDrm
import Testing
@testable import FakeDRMDevice

/// GTT faults through the simulated aperture, seen through the device API
/// (SEMANTICS §3.1-§3.5, §5). Here the shared fixtures and detiling and
/// writeback through the fence; by topic in GttFaultTests+*.swift: partial
/// views and eviction, readahead windows, fences, SET_TILING, GPU reset and
/// purge/reclaim/snoop.
@Suite struct GttFaultTests {
    typealias R = GttRef
    static let page = 4096

    /// An object of file `f` with a GTT node.
    struct Obj {
        let h: Handle
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
        func range(_ inode: InodeID, from: Int = 0, pages: Int? = nil) -> Invalidation {
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
        let lin = noise(o.size, seed: 11)
        try fx.dev.writeBack(inode: 1, offset: o.gtt, lin)
        let raw = try fx.dev.read(f, handle: o.h, count: o.size)
        let zeros = [UInt8](repeating: 0, count: o.size)
        #expect(gttByteDiff(raw, R.tiledImage(lin, into: zeros, mode: mode, stride: stride, swizzle: swizzle)) == nil)
    }

    /// A readonly object refuses a writeback through its tiled GTT view and
    /// hands back what the view shows there: the detiled true bytes, for
    /// any window (whole pages, a start inside a row), and zeros for an
    /// object never written.
    @Test(arguments: layouts)
    func refusedTiledWritebackHandsBackTheDetiledBytes(mode: UInt32, stride: Int, pages: Int, swizzle: UInt32) throws {
        let fx = Self.fixture(swizzle: swizzle)
        let f = fx.open(inode: 1)
        let o = try Obj(fx, f, pages: pages, mode: mode, stride: UInt32(stride))
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt, count: o.size) // served under this layout
        try fx.dev.setReadonly(f, handle: o.h, flags: 0)
        _ = fx.cache.takeRefused()
        #expect(throws: DrmError.EACCES) { try fx.dev.writeBack(inode: 1, offset: o.gtt + 4096, noise(4096, seed: 1)) }
        #expect(fx.cache.takeRefused().first?.contents == [UInt8](repeating: 0, count: 4096), "never written: zeros")

        let raw = noise(o.size, seed: 12)
        let o2 = try Obj(fx, f, pages: pages, mode: mode, stride: UInt32(stride))
        try fx.dev.write(f, handle: o2.h, raw)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: o2.gtt, count: o2.size)
        try fx.dev.setReadonly(f, handle: o2.h, flags: 0)
        _ = fx.cache.takeRefused()
        for (at, n) in [(0, 4096), (4096 + 100, 333), (o2.size - 4096 + 17, 4096 - 17)] {
            #expect(throws: DrmError.EACCES) { try fx.dev.writeBack(inode: 1, offset: o2.gtt + UInt64(at), noise(n, seed: 2)) }
            let back = fx.cache.takeRefused().flatMap(\.contents)
            #expect(gttByteDiff(back, R.detiled(raw, at..<at + n, mode: mode, stride: stride, swizzle: swizzle)) == nil,
                    "window \(at)+\(n)")
        }
        #expect(try fx.dev.read(f, handle: o2.h, count: o2.size) == raw)
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
}
