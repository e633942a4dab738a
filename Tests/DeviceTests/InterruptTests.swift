import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// Interruptible waits (Interruption): a caller's signal (FUSE INTERRUPT)
/// ends GEM_WAIT, SYNCOBJ_WAIT and the waits for rendering with EINTR, as
/// the kernel's -ERESTARTSYS; a wait with nothing to wait for ignores it.
@Suite struct InterruptTests {
    let fx = Fixture()

    func request() -> Request {
        Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                batchIndex: 0, targets: [], dependencies: [])
    }

    /// Interrupts `i` from another thread after `ms`.
    func interrupt(_ i: Interruption, after ms: Int) {
        DispatchQueue(label: "interrupt").asyncAfter(deadline: .now() + .milliseconds(ms)) { i.interrupt() }
    }

    /// A spinner on a context of `f` keeps `target` (written) and its batch busy.
    /// The context is not persistent, so CONTEXT_DESTROY ends the spinner
    /// (kill_engines); a persistent one's requests would keep running.
    func spin(_ f: FileID) throws -> (ctx: UInt32, target: Handle) {
        let nonPersistent = DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [nonPersistent], privileged: false)
        let target = try fx.dev.gemCreate(f, size: 4096).handle
        let batch = try fx.dev.gemCreate(f, size: 4096).handle
        let words: [UInt32] = [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10000, 0]
        try fx.dev.pwrite(f, handle: batch, offset: 0, size: 16, dataPtr: userPtr) { dst in
            words.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        var entries = [(target.rawValue, 0x20000 as UInt64, UInt64(EXEC_OBJECT_WRITE)), (batch.rawValue, 0x10000, 0)].map { h, addr, flags in
            var e = drm_i915_gem_exec_object2()
            e.handle = h
            e.offset = addr
            e.flags = flags | UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
            return e
        }
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = 2
        args.flags = UInt64(I915_EXEC_BLT | I915_EXEC_NO_RELOC)
        args.rsvd1 = UInt64(ctx)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, fences: { [] }, readRelocations: { _ in [] })
        return (ctx, target)
    }

    /// eb_throttle: a context whose ring is full (requests queued behind a
    /// spinner) blocks in execbuf until the oldest of them completes; a
    /// signal ends that with EINTR. Another context's ring is its own.
    @Test func fullRingBlocksExecbufInterruptibly() throws {
        let f = fx.open(inode: 1)
        let (ctx, _) = try spin(f)
        let nop = try fx.dev.gemCreate(f, size: 4096).handle
        try fx.dev.pwrite(f, handle: nop, offset: 0, size: 4, dataPtr: userPtr) { dst in dst.storeBytes(of: 0x0A << 23 as UInt32, as: UInt32.self) }
        func exec(_ ctx: UInt32, _ i: Interruption?) throws(DrmError) {
            var e = drm_i915_gem_exec_object2()
            e.handle = nop.rawValue
            e.offset = 0x40000
            e.flags = UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
            var entries = [e]
            var args = drm_i915_gem_execbuffer2()
            args.buffer_count = 1
            args.flags = UInt64(I915_EXEC_BLT | I915_EXEC_NO_RELOC)
            args.rsvd1 = UInt64(ctx)
            try DrmDevice.checkExecbuffer(&args)
            var out = DrmDevice.ExecbufOutput()
            try fx.dev.execbuffer(f, args, objects: &entries, output: &out, interruption: i, fences: { [] },
                                  readRelocations: { _ in [] })
        }
        let i = Interruption()
        i.interrupt()
        var queued = 0
        while queued < 1000 {
            do throws(DrmError) { try exec(ctx, i) } catch {
                #expect(error == .EINTR)
                break
            }
            queued += 1
        }
        // 16 KiB less a page, at 192 bytes a request, with the spinner's.
        #expect(queued == 63)
        #expect(throws: DrmError.EINTR) { try exec(ctx, i) }
        // The default context's ring on the same engine has room.
        try exec(0, i)
        // Interrupted while blocked, not only before.
        let j = Interruption()
        interrupt(j, after: 30)
        #expect(throws: DrmError.EINTR) { try exec(ctx, j) }
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
    }

    @Test func requestWaitEndsOnInterrupt() {
        let rq = request(), i = Interruption()
        interrupt(i, after: 30)
        let start = DispatchTime.now()
        #expect(rq.wait(deadline: .now() + .seconds(5), interruption: i) == .interrupted)
        #expect(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds < 2_000_000_000)
        // Already interrupted: at once, also for ever; a timeout still times out first.
        #expect(rq.wait(deadline: nil, interruption: i) == .interrupted)
        #expect(rq.wait(deadline: .now() + .milliseconds(10), interruption: Interruption()) == .timedOut)
        // Signalled wins over a pending signal (nothing to wait for).
        rq.signal()
        #expect(rq.wait(deadline: nil, interruption: i) == .signaled)
        #expect(DmaFence(rq).wait(deadline: nil, interruption: i) == .signaled)
    }

    @Test func fenceWaitEndsOnInterrupt() {
        let a = request(), b = request(), i = Interruption()
        a.signal()
        interrupt(i, after: 30)
        #expect(DmaFence(requests: [a, b]).wait(deadline: nil, interruption: i) == .interrupted)
        // Requests always end in the daemon; an unsignalled one keeps its
        // waiter's notification (and ASan calls that a leak).
        b.signal()
    }

    /// i915_gem_wait_ioctl: -ERESTARTSYS with the time left written back.
    @Test func gemWaitIsEINTRWithTheTimeLeft() throws {
        let f = fx.open(inode: 1)
        let (ctx, target) = try spin(f)
        let i = Interruption()
        interrupt(i, after: 50)
        var t: Int64 = 5_000_000_000
        #expect(throws: DrmError.EINTR) { try fx.dev.gemWait(f, handle: target, flags: 0, timeoutNs: &t, interruption: i) }
        #expect(t > 2_000_000_000 && t < 4_960_000_000)
        // For ever: the same, -1 untouched.
        t = -1
        #expect(throws: DrmError.EINTR) { try fx.dev.gemWait(f, handle: target, flags: 0, timeoutNs: &t, interruption: i) }
        #expect(t == -1)
        // The waits for rendering before CPU access.
        #expect(throws: DrmError.EINTR) {
            try fx.dev.setDomain(f, handle: target, readDomains: UInt32(I915_GEM_DOMAIN_CPU), writeDomain: 0, interruption: i)
        }
        #expect(throws: DrmError.EINTR) {
            try fx.dev.pread(f, handle: target, offset: 0, size: 4, dataPtr: userPtr, interruption: i) { _ in }
        }
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
        t = 5_000_000_000
        try fx.dev.gemWait(f, handle: target, flags: 0, timeoutNs: &t)
        // Idle: a pending signal changes nothing.
        t = 5_000_000_000
        try fx.dev.gemWait(f, handle: target, flags: 0, timeoutNs: &t, interruption: i)
        #expect(t > 0)
        try fx.dev.setDomain(f, handle: target, readDomains: UInt32(I915_GEM_DOMAIN_CPU), writeDomain: 0, interruption: i)
    }

    /// drm_syncobj_array_wait_timeout: -ERESTARTSYS once a signal is
    /// pending, on either path (a known fence; WAIT_FOR_SUBMIT's waker).
    @Test func syncobjWaitIsEINTR() throws {
        let f = fx.open(inode: 1)
        let empty = try fx.dev.syncobjCreate(f, flags: 0)
        let signaled = try fx.dev.syncobjCreate(f, flags: UInt32(DRM_SYNCOBJ_CREATE_SIGNALED))
        let pending = try fx.dev.syncobjCreate(f, flags: 0)
        let rq = request()
        fx.dev.state.withLock { s in s.gpu.file(f).syncobjs[pending]!.replace(DmaFence(rq)) }
        func wait(_ hs: [SyncobjHandle], _ flags: Int32, _ i: Interruption) throws(DrmError) -> UInt32? {
            try fx.dev.syncobjWait(f, count: UInt32(hs.count), flags: UInt32(flags), timeline: false,
                                   timeoutNsec: DrmDevice.monotonicNow() + 5_000_000_000, interruption: i,
                                   handles: { hs }, points: { nil })
        }
        let i = Interruption()
        interrupt(i, after: 30)
        #expect(throws: DrmError.EINTR) { try wait([pending], 0, i) }
        #expect(throws: DrmError.EINTR) { try wait([empty], DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, i) }
        #expect(throws: DrmError.EINTR) {
            try wait([signaled, pending], DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, i)
        }
        // Something signalled: the answer, not EINTR.
        #expect(try wait([pending, signaled], 0, i) == 1)
        // A signal arriving during the waker's sleep wakes it.
        let j = Interruption()
        interrupt(j, after: 30)
        #expect(throws: DrmError.EINTR) { try wait([empty], DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, j) }
        rq.signal()
        #expect(try wait([pending], 0, i) == 0)
    }
}
