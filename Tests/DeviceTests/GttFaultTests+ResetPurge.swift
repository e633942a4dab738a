import CDrm
import Testing
@testable import FakeDRMDevice

/// GttFaultTests: GPU reset, purge, reclaim and the snoop rule.
extension GttFaultTests {
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
