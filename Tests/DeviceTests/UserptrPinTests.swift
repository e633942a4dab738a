import CDrm
import Testing
@testable import FakeDRMDevice
#if canImport(Glibc)
import Glibc
#endif

/// The pages an execbuf pins hold the client's bytes of that moment: a
/// userptr batch unmapped while its request is still queued runs what it
/// held (IGT's preempt-user frees queued userptr spinners; the kernel's
/// munmap waits for the request in i915_gem_userptr_invalidate).
extension UserptrTests {
    @Test func unmappedBeforeItStartsStillRunsWhatWasPinned() throws {
        let f = fx.open(inode: 1)
        let p = pages(1)
        let words: [UInt32] = [0x20 << 23 | 2, 0x40000, 0, 0xC0DE, 0x0A << 23]
        for (i, w) in words.enumerated() { p.storeBytes(of: w, toByteOffset: 4 * i, as: UInt32.self) }
        let batch = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 4096, flags: 0)
        let target = try fx.dev.gemCreate(f, size: 4096).handle
        // Held back by a software fence until the range is gone.
        let cork = Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                           batchIndex: 0, targets: [], dependencies: [], softwareTimeline: "cork")
        var entries = [(target, UInt64(0x40000), UInt64(EXEC_OBJECT_WRITE)), (batch, UInt64(0x10000), UInt64(0))].map { h, at, flags in
            var e = drm_i915_gem_exec_object2()
            e.handle = h.rawValue
            e.offset = at
            e.flags = flags | UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
            return e
        }
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = 2
        args.flags = UInt64(I915_EXEC_RENDER | I915_EXEC_NO_RELOC)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        let fence = ExecFence(syncobj: Syncobj(), flags: UInt32(I915_EXEC_FENCE_WAIT), point: 0, awaited: DmaFence(cork), chain: false)
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, pid: me, fences: { [fence] }, readRelocations: { _ in [] })
        munmap(p, 4096)
        cork.signal()
        var t: Int64 = 5_000_000_000
        try fx.dev.gemWait(f, handle: target, flags: 0, timeoutNs: &t)
        var v: UInt32 = 0
        try fx.dev.pread(f, handle: target, offset: 0, size: 4, dataPtr: userPtr) { v = $0.load(as: UInt32.self) }
        #expect(v == 0xC0DE)
        #expect(fx.dev.state.withLock { $0.gpu.stats.hangs } == 0)
    }
}
