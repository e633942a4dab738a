import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// Syncobjs in the model: dma_fence_chain semantics (find_seqno, query,
/// garbage collection, unordered points), fence errors, the ioctls' errnos
/// and per-file handles, execbuf's fence entries, and syncobj fds (syncobj
/// files and sync_file export/import, strict mode) with their errnos.
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
        func wait(_ hs: [SyncobjHandle], _ flags: UInt32 = 0, timeout: Int64 = 0) throws(DrmError) -> UInt32? {
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
            try fx.dev.syncobjHandleToFd(f, handle: b, flags: 0, pad: 0, point: 0, pid: 7)
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
            e.handle = batch.rawValue
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

    /// The syncobj behind a handle (the model's, for tests).
    func syncobj(_ f: FileID, _ h: SyncobjHandle) -> Syncobj? { fx.dev.state.withLock { s in s.gpu.file(f).syncobjs[h] } }

    /// drm_syncobj_replace_fence under the device lock.
    func install(_ f: FileID, _ h: SyncobjHandle, _ fence: DmaFence) {
        fx.dev.state.withLock { s in s.gpu.file(f).syncobjs[h]!.replace(fence) }
    }

    func waitOne(_ f: FileID, _ h: SyncobjHandle, point: UInt64? = nil) throws -> UInt32? {
        try fx.dev.syncobjWait(f, count: 1, flags: 0, timeline: point != nil, timeoutNsec: 0, handles: { [h] },
                               points: { point.map { [$0] } })
    }

    @Test func plainOpensKeepTheKernelWithoutSyncobjFds() throws {
        let f = fx.open(inode: 1)
        let h = try fx.dev.syncobjCreate(f, flags: UInt32(DRM_SYNCOBJ_CREATE_SIGNALED))
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjHandleToFd(f, handle: SyncobjHandle(rawValue: h.rawValue + 9), flags: 0, pad: 0, point: 0, pid: 7) }
        #expect(throws: DrmError.EOPNOTSUPP) { try fx.dev.syncobjHandleToFd(f, handle: h, flags: 0, pad: 0, point: 0, pid: 7) }
        let sync = UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE)
        #expect(throws: DrmError.EOPNOTSUPP) { try fx.dev.syncobjHandleToFd(f, handle: h, flags: sync, pad: 0, point: 0, pid: 7) }
        // A strict open's syncobj file is no fd a plain open can name.
        let g = fx.open(inode: 2)
        fx.dev.markStrict(g)
        let token = try fx.dev.syncobjHandleToFd(g, handle: try fx.dev.syncobjCreate(g, flags: 0), flags: 0, pad: 0, point: 0, pid: 7)
        #expect(fx.dev.openExport(token, pid: 7))
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjFdToHandle(f, token: token, handle: 0, flags: 0, pad: 0, point: 0) }
    }

    @Test func syncobjFileSharesTheSyncobj() throws {
        let f = fx.open(inode: 1), g = fx.open(inode: 2)
        fx.dev.markStrict(f)
        fx.dev.markStrict(g)
        let h = try fx.dev.syncobjCreate(f, flags: 0)
        // Argument checks, then drm_syncobj_handle_to_fd's unknown handle.
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjHandleToFd(f, handle: h, flags: 0, pad: 1, point: 0, pid: 7) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjHandleToFd(f, handle: h, flags: 4, pad: 0, point: 0, pid: 7) }
        #expect(throws: DrmError.EINVAL) {
            try fx.dev.syncobjHandleToFd(f, handle: h, flags: DrmDevice.syncobjFdTimeline, pad: 0, point: 3, pid: 7)
        }
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjHandleToFd(f, handle: SyncobjHandle(rawValue: h.rawValue + 9), flags: 0, pad: 0, point: 0, pid: 7) }
        // A point without the TIMELINE flag is ignored (a dirty stack).
        let token = try fx.dev.syncobjHandleToFd(f, handle: h, flags: 0, pad: 0, point: 5, pid: 7)
        #expect(fx.dev.lookupExport(token, pid: 7, uid: 0).map { if case .syncobj = $0 { true } else { false } } == true)
        // Not opened yet: no fd names it.
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjFdToHandle(g, token: token, handle: 0, flags: 0, pad: 0, point: 0) }
        #expect(fx.dev.openExport(token, pid: 7))
        let h2 = try #require(try fx.dev.syncobjFdToHandle(g, token: token, handle: 0, flags: 0, pad: 0, point: 0))
        // Every import is a new handle (unlike PRIME), to the same syncobj.
        let h3 = try #require(try fx.dev.syncobjFdToHandle(g, token: token, handle: 0, flags: 0, pad: 0, point: 0))
        #expect(h2 != h3 && syncobj(g, h2) === syncobj(f, h) && syncobj(g, h3) === syncobj(f, h))
        // Signalled in one file, seen in the other; reset there, gone here.
        #expect(throws: DrmError.EINVAL) { try waitOne(g, h2) }
        try fx.dev.syncobjResetOrSignal(f, signal: true, count: 1, pad: 0, handles: { [h] })
        #expect(try waitOne(g, h2) == 0)
        try fx.dev.syncobjResetOrSignal(g, signal: false, count: 1, pad: 0, handles: { [h3] })
        #expect(throws: DrmError.EINVAL) { try waitOne(f, h) }
        // The syncobj outlives the exporter's handle and file while the fd lives.
        try fx.dev.syncobjDestroy(f, handle: h, pad: 0)
        fx.dev.release(f)
        let h4 = try #require(try fx.dev.syncobjFdToHandle(g, token: token, handle: 0, flags: 0, pad: 0, point: 0))
        #expect(syncobj(g, h4) === syncobj(g, h2))
        // Wrong fds: none, not ours, a sync_file: EINVAL.
        for bad in [FAKEDRM_TOKEN_BADF, FAKEDRM_TOKEN_NONE] {
            #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjFdToHandle(g, token: bad, handle: 0, flags: 0, pad: 0, point: 0) }
        }
        try fx.dev.syncobjResetOrSignal(g, signal: true, count: 1, pad: 0, handles: { [h2] })
        let sf = try fx.dev.syncobjHandleToFd(g, handle: h2, flags: UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE),
                                              pad: 0, point: 0, pid: 7)
        #expect(fx.dev.openExport(sf, pid: 7))
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjFdToHandle(g, token: sf, handle: 0, flags: 0, pad: 0, point: 0) }
        // A syncobj file is no sync_file: importing it is EINVAL, its ioctls ENOTTY.
        let imp = UInt32(DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE)
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjFdToHandle(g, token: token, handle: h2, flags: imp, pad: 0, point: 0) }
        #expect(throws: DrmError.ENOTTY) { try fx.dev.syncFileInfo(token) }
        // The last fd closed: the export is gone.
        fx.dev.releaseExport(token)
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjFdToHandle(g, token: token, handle: 0, flags: 0, pad: 0, point: 0) }
        #expect(syncobj(g, h2) != nil)
    }

    @Test func syncFileExportAndImport() throws {
        let f = fx.open(inode: 1)
        fx.dev.markStrict(f)
        let exp = UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE), imp = UInt32(DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE)
        let tl = DrmDevice.syncobjFdTimeline
        let a = try fx.dev.syncobjCreate(f, flags: 0)
        // drm_syncobj_find_fence: unknown handle ENOENT, no fence EINVAL.
        #expect(throws: DrmError.ENOENT) { try fx.dev.syncobjHandleToFd(f, handle: SyncobjHandle(rawValue: a.rawValue + 9), flags: exp, pad: 0, point: 0, pid: 7) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjHandleToFd(f, handle: a, flags: exp, pad: 0, point: 0, pid: 7) }
        // A pending request's fence: the sync_file waits for it, and keeps it
        // when the syncobj moves on (sync files are immutable).
        let rq = request()
        install(f, a, DmaFence(rq))
        let t = try fx.dev.syncobjHandleToFd(f, handle: a, flags: exp, pad: 0, point: 0, pid: 7)
        #expect(fx.dev.openExport(t, pid: 7))
        try fx.dev.syncobjResetOrSignal(f, signal: false, count: 1, pad: 0, handles: { [a] })
        #expect(!fx.dev.pollSyncFile(t, wake: nil))
        #expect(try fx.dev.syncFileInfo(t).status == 0)
        rq.fenceError.store(EIO, ordering: .relaxed)
        rq.signal()
        #expect(fx.dev.pollSyncFile(t, wake: nil))
        #expect(try fx.dev.syncFileInfo(t).status == -EIO)
        // Imported into another syncobj: its fence, error and all.
        let b = try fx.dev.syncobjCreate(f, flags: 0)
        #expect(throws: DrmError.ENOENT) { try fx.dev.syncobjFdToHandle(f, token: t, handle: SyncobjHandle(rawValue: b.rawValue + 9), flags: imp, pad: 0, point: 0) }
        #expect(throws: DrmError.EINVAL) {
            try fx.dev.syncobjFdToHandle(f, token: FAKEDRM_TOKEN_NONE, handle: SyncobjHandle(rawValue: b.rawValue + 9), flags: imp, pad: 0, point: 0)
        }
        #expect(try fx.dev.syncobjFdToHandle(f, token: t, handle: b, flags: imp, pad: 0, point: 0) == nil)
        #expect(try waitOne(f, b) == 0)
        #expect(syncobj(f, b)!.find(0)?.error == EIO)
        // A signalled stub: one "stub" fence.
        try fx.dev.syncobjResetOrSignal(f, signal: true, count: 1, pad: 0, handles: { [a] })
        let stub = try fx.dev.syncobjHandleToFd(f, handle: a, flags: exp, pad: 0, point: 0, pid: 7)
        #expect(fx.dev.openExport(stub, pid: 7))
        let info = try fx.dev.syncFileInfo(stub)
        #expect(info.status == 1 && info.fences.count == 1 && info.fences[0].driverName == "stub")
        // Timelines: a point's fence; a point not submitted EINVAL; imported at a point.
        let c = try fx.dev.syncobjCreate(f, flags: 0)
        try fx.dev.syncobjTimelineSignal(f, count: 1, flags: 0, handles: { [c] }, points: { [3] })
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjHandleToFd(f, handle: c, flags: exp | tl, pad: 0, point: 5, pid: 7) }
        let p3 = try fx.dev.syncobjHandleToFd(f, handle: c, flags: exp | tl, pad: 0, point: 3, pid: 7)
        #expect(fx.dev.openExport(p3, pid: 7))
        #expect(try fx.dev.syncFileInfo(p3).status == 1)
        let pending = request(2)
        install(f, a, DmaFence(pending))
        let late = try fx.dev.syncobjHandleToFd(f, handle: a, flags: exp, pad: 0, point: 0, pid: 7)
        #expect(fx.dev.openExport(late, pid: 7))
        #expect(try fx.dev.syncobjFdToHandle(f, token: late, handle: c, flags: imp | tl, pad: 0, point: 7) == nil)
        #expect(try fx.dev.syncobjQuery(f, count: 1, flags: UInt32(DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED), handles: { [c] }) == [7])
        #expect(try fx.dev.syncobjQuery(f, count: 1, flags: 0, handles: { [c] }) == [3])
        #expect(try waitOne(f, c, point: 3) == 0)
        #expect(throws: DrmError.ETIME) { try waitOne(f, c, point: 7) }
        pending.signal()
        #expect(try waitOne(f, c, point: 7) == 0)
        // The point flag without IMPORT_SYNC_FILE: EINVAL.
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjFdToHandle(f, token: late, handle: c, flags: tl, pad: 0, point: 7) }
    }
}
