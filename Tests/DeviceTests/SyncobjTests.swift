import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// Syncobjs in the model: dma_fence_chain semantics (find_seqno, query,
/// garbage collection, unordered points), fence errors, the ioctls' errnos
/// and per-file handles, and execbuf's fence entries.
@Suite struct SyncobjTests {
    let fx = Fixture()

    func request(_ seqno: UInt64 = 1) -> Request {
        Request(seqno: seqno, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                batchIndex: 0, targets: [], dependencies: [])
    }

    func newContext() -> () -> UInt64 {
        var n: UInt64 = 100
        return { n += 1; return n }
    }

    @Test func binaryFence() {
        let o = Syncobj()
        #expect(o.find(0).map { _ in 1 } == nil)
        let rq = request()
        o.replace(DmaFence(rq))
        #expect(o.find(0)?.isSignaled == false)
        #expect(o.find(1).map { _ in 1 } == nil)          // a point on a binary fence: EINVAL
        #expect(o.query(lastSubmitted: false) == 0)
        rq.fenceError.store(EIO, ordering: .relaxed)
        rq.signal()
        #expect(o.find(0)?.isSignaled == true)
        #expect(o.find(0)?.error == EIO)   // a hung request's fence carries its error
        o.replace(nil)
        #expect(!o.hasFence)
    }

    @Test func timelinePoints() {
        let o = Syncobj(), ctx = newContext()
        let r1 = request(1), r2 = request(2)
        o.addPoint(DmaFence(r1), 1, newContext: ctx)
        o.addPoint(DmaFence(r2), 3, newContext: ctx)
        #expect(o.query(lastSubmitted: true) == 3)
        #expect(o.query(lastSubmitted: false) == 0)
        #expect(o.find(4).map { _ in 1 } == nil)                        // not submitted
        #expect(o.find(2)?.isSignaled == false)           // point 2 is within node 3
        r1.signal()
        #expect(o.query(lastSubmitted: false) == 1)
        #expect(o.find(1)?.isSignaled == true)
        #expect(o.find(3)?.isSignaled == false)
        r2.signal()
        #expect(o.query(lastSubmitted: false) == 3)
        o.addPoint(.stub, 5, newContext: ctx)
        #expect(o.links.count == 1)                      // signalled nodes below the head collected
        #expect(o.find(2)?.isSignaled == true)            // collected: a stub
        // An unordered point: a new context, seqno max(prev, point).
        o.addPoint(.stub, 2, newContext: ctx)
        #expect(o.query(lastSubmitted: true) == 5)
        #expect(o.links.last?.context != o.links.first?.context || o.links.count == 1)
    }

    @Test func timelineOnABinaryFence() {
        let o = Syncobj(), rq = request()
        o.replace(DmaFence(rq))
        o.addPoint(.stub, 1, newContext: newContext())
        #expect(o.find(0)?.isSignaled == false)           // the chain includes the binary fence
        #expect(o.query(lastSubmitted: false) == 0)
        rq.signal()
        #expect(o.query(lastSubmitted: false) == 1)
    }

    @Test func mergeKeepsTheFirstError() {
        let a = request(1), b = request(2)
        a.signal()
        b.fenceError.store(EIO, ordering: .relaxed)
        b.signal()
        let m = DmaFence.merge([DmaFence(a), DmaFence(b)])
        #expect(m.requests.count == 1 && m.isSignaled && m.error == EIO)
        #expect(m.compacted().requests.isEmpty && m.compacted().error == EIO)
        #expect(DmaFence.merge([]).isSignaled)
    }

    @Test func ioctlErrnosAndHandles() throws {
        let f = fx.open(inode: 1), g = fx.open(inode: 2)
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjCreate(f, flags: 2) }
        let a = try fx.dev.syncobjCreate(f, flags: 0), b = try fx.dev.syncobjCreate(f, flags: UInt32(DRM_SYNCOBJ_CREATE_SIGNALED))
        #expect(a == 1 && b == 2)
        #expect(try fx.dev.syncobjCreate(g, flags: 0) == 1)   // per file
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjDestroy(f, handle: a, pad: 1) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjDestroy(f, handle: 9, pad: 0) }
        func wait(_ hs: [UInt32], _ flags: UInt32 = 0, timeout: Int64 = 0) throws(DrmError) -> UInt32? {
            try fx.dev.syncobjWait(f, count: UInt32(hs.count), flags: flags, timeline: false, timeoutNsec: timeout,
                                   handles: { hs }, points: { nil })
        }
        #expect(try wait([]) == nil)
        #expect(throws: DrmError.ENOENT) { try wait([9]) }
        #expect(throws: DrmError.EINVAL) { try wait([a]) }
        #expect(throws: DrmError.EINVAL) { try wait([a], UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE)) }
        #expect(try wait([a, b], UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT)) == 1)
        let start = DrmDevice.monotonicNow()
        #expect(throws: DrmError.ETIME) {
            try wait([a], UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), timeout: start + 20_000_000)
        }
        #expect(DrmDevice.monotonicNow() - start >= 19_000_000)
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjResetOrSignal(f, signal: true, count: 0, pad: 0, handles: { [] }) }
        try fx.dev.syncobjResetOrSignal(f, signal: true, count: 1, pad: 0, handles: { [a] })
        #expect(try wait([a, b], UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL)) == 0)
        #expect(throws: DrmError.ENOENT) { try fx.dev.syncobjTransfer(f, src: a, srcPoint: 0, dst: 9, dstPoint: 0, flags: 0, pad: 0) }
        try fx.dev.syncobjTransfer(f, src: a, srcPoint: 0, dst: b, dstPoint: 4, flags: 0, pad: 0)
        #expect(try fx.dev.syncobjQuery(f, count: 1, flags: 0, handles: { [b] }) == [4])
        #expect(throws: DrmError.EOPNOTSUPP) {
            try fx.dev.syncobjFdIoctl(f, toFd: true, handle: b, flags: 0, pad: 0, point: 0)
        }
        // Handles go with their file.
        fx.dev.release(f)
        #expect(throws: DrmError.ENODEV) { try wait([a]) }
    }

    @Test func execFenceEntries() throws {
        let f = fx.open(inode: 1)
        let s = try fx.dev.syncobjCreate(f, flags: 0)
        let wait = UInt32(I915_EXEC_FENCE_WAIT), signal = UInt32(I915_EXEC_FENCE_SIGNAL)
        #expect(throws: DrmError.EINVAL) { try DrmDevice.checkExecFenceFlags(4) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.execFence(f, handle: 9, flags: wait, point: 0, timeline: false) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.execFence(f, handle: s, flags: wait, point: 0, timeline: false) }
        #expect(try fx.dev.execFence(f, handle: s, flags: signal, point: 0, timeline: false)?.signals == true)
        #expect(throws: DrmError.EINVAL) { try fx.dev.execFence(f, handle: s, flags: wait, point: 1, timeline: true) }
        #expect(try fx.dev.execFence(f, handle: s, flags: 0, point: 0, timeline: true).map { _ in 1 } == nil)
        let t = try fx.dev.execFence(f, handle: s, flags: signal, point: 2, timeline: true)
        #expect(t?.chain == true)
        try fx.dev.syncobjResetOrSignal(f, signal: true, count: 1, pad: 0, handles: { [s] })
        #expect(throws: DrmError.EINVAL) { try fx.dev.execFence(f, handle: s, flags: wait, point: 1, timeline: true) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.execFence(f, handle: s, flags: wait | signal, point: 1, timeline: true) }
        #expect(try fx.dev.execFence(f, handle: s, flags: wait, point: 0, timeline: false)?.awaited?.isSignaled == true)
    }
    /// A request SIGNALs a syncobj; a second one WAITs on it and SIGNALs a
    /// timeline point; SYNCOBJ_WAIT and TIMELINE_WAIT see both complete.
    @Test func execbufSignalsAndAwaits() throws {
        let f = fx.open(inode: 1)
        let batch = try fx.dev.gemCreate(f, size: 4096).handle
        let bbe: UInt32 = 0x0A << 23
        try fx.dev.pwrite(f, handle: batch, offset: 0, size: 4, dataPtr: userPtr) { dst in dst.storeBytes(of: bbe, as: UInt32.self) }
        let s = try fx.dev.syncobjCreate(f, flags: 0), tl = try fx.dev.syncobjCreate(f, flags: 0)
        let wait = UInt32(I915_EXEC_FENCE_WAIT), signal = UInt32(I915_EXEC_FENCE_SIGNAL)
        func exec(_ ring: UInt64, _ fences: () throws(DrmError) -> [ExecFence]) throws {
            var e = drm_i915_gem_exec_object2()
            e.handle = batch
            e.offset = 0x100000
            e.flags = UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
            var entries = [e]
            var args = drm_i915_gem_execbuffer2()
            args.buffer_count = 1
            args.flags = ring | UInt64(I915_EXEC_NO_RELOC)
            try DrmDevice.checkExecbuffer(&args)
            var out = DrmDevice.ExecbufOutput()
            try fx.dev.execbuffer(f, args, objects: &entries, output: &out, fences: fences, readRelocations: { _ in [] })
        }
        try exec(UInt64(I915_EXEC_BLT)) { () throws(DrmError) in
            [try fx.dev.execFence(f, handle: s, flags: signal, point: 0, timeline: false)!]
        }
        try exec(UInt64(I915_EXEC_RENDER)) { () throws(DrmError) in
            [try fx.dev.execFence(f, handle: s, flags: wait, point: 0, timeline: false)!,
             try fx.dev.execFence(f, handle: tl, flags: signal, point: 1, timeline: true)!]
        }
        let deadline = DrmDevice.monotonicNow() + 5_000_000_000
        _ = try fx.dev.syncobjWait(f, count: 1, flags: 0, timeline: true, timeoutNsec: deadline,
                                   handles: { [tl] }, points: { [1] })
        #expect(try fx.dev.syncobjQuery(f, count: 1, flags: 0, handles: { [tl] }) == [1])
        #expect(try fx.dev.syncobjWait(f, count: 2, flags: UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL), timeline: false,
                                       timeoutNsec: deadline, handles: { [s, tl] }, points: { nil }) == 0)
    }
}
