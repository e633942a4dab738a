import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The DRM core's syncobj ioctls (drm_syncobj.c, 6.11+), in the kernel's
/// errno order. User arrays are read through the callbacks, outside the
/// device lock, at the point the kernel copies them.
extension DrmDevice {
    /// uapi bits newer than the libdrm headers we build with (drm.h, 6.5+):
    /// WAIT_DEADLINE, and the TIMELINE flags of HANDLE_TO_FD / FD_TO_HANDLE.
    public static let syncobjWaitDeadline: UInt32 = 1 << 3
    public static let syncobjFdTimeline: UInt32 = 1 << 1

    /// drm_syncobj_find for several handles (drm_syncobj_array_find): ENOENT.
    private func lookupSyncobjs(_ file: FileID, _ handles: [SyncobjHandle]) throws(DrmError) -> [Syncobj] {
        try withFile(file) { (s, f) throws(DrmError) -> [Syncobj] in
            let fg = s.gpu.file(f.id)
            var out: [Syncobj] = []
            for h in handles {
                guard let o = fg.syncobjs[h] else { throw DrmError.ENOENT }
                out.append(o)
            }
            return out
        }
    }

    private func lookupSyncobj(_ file: FileID, _ handle: SyncobjHandle) throws(DrmError) -> Syncobj {
        try lookupSyncobjs(file, [handle])[0]
    }

    /// SYNCOBJ_CREATE: flags other than SIGNALED are EINVAL.
    public func syncobjCreate(_ file: FileID, flags: UInt32) throws(DrmError) -> SyncobjHandle {
        guard flags & ~UInt32(DRM_SYNCOBJ_CREATE_SIGNALED) == 0 else { throw DrmError.EINVAL }
        return try withFile(file) { (s, f) throws(DrmError) -> SyncobjHandle in
            let fg = s.gpu.file(f.id)
            let o = Syncobj()
            if flags & UInt32(DRM_SYNCOBJ_CREATE_SIGNALED) != 0 { o.replace(.stub) }
            let h = SyncobjHandle(rawValue: fg.syncobjIDs.allocate())
            fg.syncobjs[h] = o
            return h
        }
    }

    /// SYNCOBJ_DESTROY: pad EINVAL, unknown handle EINVAL (idr_remove).
    public func syncobjDestroy(_ file: FileID, handle: SyncobjHandle, pad: UInt32) throws(DrmError) {
        guard pad == 0 else { throw DrmError.EINVAL }
        try withFile(file) { (s, f) throws(DrmError) in
            let fg = s.gpu.file(f.id)
            guard fg.syncobjs.removeValue(forKey: handle) != nil else { throw DrmError.EINVAL }
            fg.syncobjIDs.free(handle.rawValue)
        }
    }

    /// drm_syncobj_handle_to_fd_ioctl / fd_to_handle_ioctl's argument checks:
    /// pad, unknown flags; then `point` counts only with the TIMELINE flag
    /// (6.17's "Fix handle <-> fd ioctls with dirty stack"), and a point
    /// without a sync_file to export or import is EINVAL. The point to use.
    private static func syncobjFdArgs(toFd: Bool, flags: UInt32, pad: UInt32, point: UInt64) throws(DrmError) -> UInt64 {
        guard pad == 0 else { throw DrmError.EINVAL }
        let syncFile = toFd ? UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE)
                            : UInt32(DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE)
        guard flags & ~(syncobjFdTimeline | syncFile) == 0 else { throw DrmError.EINVAL }
        let p = flags & syncobjFdTimeline != 0 ? point : 0
        if flags & syncFile == 0, p != 0 { throw DrmError.EINVAL }
        return p
    }

    /// SYNCOBJ_HANDLE_TO_FD. A syncobj file (drm_syncobj_handle_to_fd: an
    /// unknown handle EINVAL) or, with EXPORT_SYNC_FILE, a sync_file of the
    /// syncobj's fence at `point` (drm_syncobj_export_sync_file through
    /// drm_syncobj_find_fence: unknown handle ENOENT, no fence or no such
    /// point EINVAL). Returns the export's token, which the preload library
    /// opens as the fd (O_CLOEXEC, as get_unused_fd_flags). A plain open
    /// cannot hold one: EOPNOTSUPP after the handle check (deviation: a FUSE
    /// ioctl cannot install an fd in the caller; docs/strict-mode.md).
    public func syncobjHandleToFd(_ file: FileID, handle: SyncobjHandle, flags: UInt32, pad: UInt32, point: UInt64,
                                  pid: Int32) throws(DrmError) -> UInt32 {
        let p = try Self.syncobjFdArgs(toFd: true, flags: flags, pad: pad, point: point)
        let exportSyncFile = flags & UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE) != 0
        return try withFile(file) { (s, f) throws(DrmError) -> UInt32 in
            let o = s.gpu.file(f.id).syncobjs[handle]
            guard f.strict else {
                if !exportSyncFile, o == nil { throw DrmError.EINVAL }
                throw DrmError.EOPNOTSUPP
            }
            guard exportSyncFile else {
                guard let o else { throw DrmError.EINVAL }
                return s.exports.add(Export(kind: .syncobj(o), creator: f.id, creatorPid: pid))
            }
            guard let o else { throw DrmError.ENOENT }
            guard let fence = o.find(p) else { throw DrmError.EINVAL }
            return s.exports.add(Export(kind: .syncFile(SyncFile(fence: fence)), creator: f.id, creatorPid: pid))
        }
    }

    /// SYNCOBJ_FD_TO_HANDLE. `token` is the export the caller's fd opens
    /// (FAKEDRM_TOKEN_NONE / _BADF: none). A syncobj file gives a new handle
    /// in this file to the same syncobj (drm_syncobj_fd_to_handle: any other
    /// fd, or none, EINVAL). With IMPORT_SYNC_FILE the sync_file's fence
    /// replaces `handle`'s, or is added at `point`
    /// (drm_syncobj_import_sync_file_fence: no sync_file EINVAL, then an
    /// unknown handle ENOENT); nil is returned. A plain open can name no
    /// such fd: EINVAL.
    public func syncobjFdToHandle(_ file: FileID, token: UInt32, handle: SyncobjHandle, flags: UInt32, pad: UInt32,
                                  point: UInt64) throws(DrmError) -> SyncobjHandle? {
        let p = try Self.syncobjFdArgs(toFd: false, flags: flags, pad: pad, point: point)
        let importSyncFile = flags & UInt32(DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE) != 0
        return try withFile(file) { (s, f) throws(DrmError) -> SyncobjHandle? in
            guard f.strict else { throw DrmError.EINVAL }
            let fg = s.gpu.file(f.id)
            guard importSyncFile else {
                guard let o = s.exports.syncobj(token) else { throw DrmError.EINVAL }
                let h = SyncobjHandle(rawValue: fg.syncobjIDs.allocate())
                fg.syncobjs[h] = o
                return h
            }
            guard let sf = s.exports.syncFile(token) else { throw DrmError.EINVAL }
            guard let o = fg.syncobjs[handle] else { throw DrmError.ENOENT }
            if p != 0 {
                o.addPoint(sf.fence, p) { s.gpu.fenceContexts += 1; return s.gpu.fenceContexts }
            } else {
                o.replace(sf.fence)
            }
            return nil
        }
    }

    /// drm_syncobj_find_fence: the fence at `point`, waiting up to 5 s for it
    /// to be submitted with WAIT_FOR_SUBMIT.
    func syncobjFindFence(_ file: FileID, handle: SyncobjHandle, point: UInt64, flags: UInt32) throws(DrmError) -> DmaFence {
        guard flags & ~UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT) == 0 else { throw DrmError.EINVAL }
        let o = try lookupSyncobj(file, handle)
        if let f = state.withLock({ _ in o.find(point) }) { return f }
        guard flags & UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT) != 0 else { throw DrmError.EINVAL }
        let waker = FenceWaker()
        let deadline = DispatchTime.now() + .seconds(5)
        state.withLock { _ in o.addWaiter(waker) }
        defer { state.withLock { _ in o.removeWaiter(waker) } }
        while true {
            if let f = state.withLock({ _ in o.find(point) }) { return f }
            if !waker.sleep(until: deadline) { throw DrmError.ETIME }
        }
    }

    /// SYNCOBJ_TRANSFER: pad EINVAL; dst_point 0 replaces the destination's
    /// fence, else adds a point (the source's fence merged, dma_fence_unwrap_merge).
    public func syncobjTransfer(_ file: FileID, src: SyncobjHandle, srcPoint: UInt64, dst: SyncobjHandle, dstPoint: UInt64,
                                flags: UInt32, pad: UInt32) throws(DrmError) {
        guard pad == 0 else { throw DrmError.EINVAL }
        let target = try lookupSyncobj(file, dst)
        let fence = try syncobjFindFence(file, handle: src, point: srcPoint, flags: flags)
        try withFile(file) { (s, _) throws(DrmError) in
            if dstPoint != 0 {
                target.addPoint(fence, dstPoint) { s.gpu.fenceContexts += 1; return s.gpu.fenceContexts }
            } else {
                target.replace(fence)
            }
        }
    }

    /// SYNCOBJ_RESET and SYNCOBJ_SIGNAL: pad and an empty list EINVAL; the
    /// handles (EFAULT, ENOENT), then each loses its fence / gets a stub.
    public func syncobjResetOrSignal(_ file: FileID, signal: Bool, count: UInt32, pad: UInt32,
                                     handles: () throws(DrmError) -> [SyncobjHandle]) throws(DrmError) {
        guard pad == 0, count > 0 else { throw DrmError.EINVAL }
        let objs = try lookupSyncobjs(file, try handles())
        try withFile(file) { (_, _) throws(DrmError) in
            for o in objs { o.replace(signal ? .stub : nil) }
        }
    }

    /// SYNCOBJ_TIMELINE_SIGNAL: flags or an empty list EINVAL; handles, then
    /// points (EFAULT; no pointer means all 0); a stub added at each point.
    public func syncobjTimelineSignal(_ file: FileID, count: UInt32, flags: UInt32, handles: () throws(DrmError) -> [SyncobjHandle],
                                      points: () throws(DrmError) -> [UInt64]?) throws(DrmError) {
        guard flags == 0, count > 0 else { throw DrmError.EINVAL }
        let objs = try lookupSyncobjs(file, try handles())
        let pts = try points() ?? [UInt64](repeating: 0, count: objs.count)
        try withFile(file) { (s, _) throws(DrmError) in
            for (o, p) in zip(objs, pts) {
                o.addPoint(.stub, p) { s.gpu.fenceContexts += 1; return s.gpu.fenceContexts }
            }
        }
    }

    /// SYNCOBJ_EVENTFD (drm_syncobj_eventfd_ioctl): flags other than
    /// WAIT_AVAILABLE EINVAL, pad EINVAL, an unknown handle ENOENT, then the
    /// eventfd (eventfd_ctx_fdget: EBADF, EINVAL for another file). The
    /// eventfd is signalled once the point's fence is, or with WAIT_AVAILABLE
    /// once it has one; never if the syncobj goes first.
    public func syncobjEventfd(_ file: FileID, handle: SyncobjHandle, flags: UInt32, point: UInt64, pad: UInt32,
                               eventfd: () throws(DrmError) -> SyncobjEventfd) throws(DrmError) {
        let available = UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE)
        guard flags & ~available == 0, pad == 0 else { throw DrmError.EINVAL }
        let o = try lookupSyncobj(file, handle)
        let ev = try eventfd()
        try withFile(file) { (_, _) throws(DrmError) in
            o.addEventfd(SyncobjEventfdEntry(eventfd: ev, point: point, waitAvailable: flags & available != 0))
        }
    }

    /// SYNCOBJ_QUERY: flags other than LAST_SUBMITTED or an empty list
    /// EINVAL; handles; each one's point.
    public func syncobjQuery(_ file: FileID, count: UInt32, flags: UInt32,
                             handles: () throws(DrmError) -> [SyncobjHandle]) throws(DrmError) -> [UInt64] {
        guard flags & ~UInt32(DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) == 0, count > 0 else { throw DrmError.EINVAL }
        let objs = try lookupSyncobjs(file, try handles())
        let last = flags & UInt32(DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) != 0
        return try withFile(file) { (_, _) throws(DrmError) -> [UInt64] in objs.map { $0.query(lastSubmitted: last) } }
    }

    /// CLOCK_MONOTONIC now, as the client's absolute timeouts count it.
    static func monotonicNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// SYNCOBJ_WAIT and SYNCOBJ_TIMELINE_WAIT (drm_syncobj_array_wait_timeout):
    /// flags EINVAL (WAIT_AVAILABLE only for the timeline wait); no handles:
    /// 0 at once; handles (EFAULT, ENOENT); points (EFAULT). A syncobj
    /// without a fence (or the point) is EINVAL unless WAIT_FOR_SUBMIT /
    /// WAIT_AVAILABLE wait for it. `timeoutNsec` is absolute CLOCK_MONOTONIC
    /// (0 polls); ETIME when it passes. Returns first_signaled (~0 when a
    /// WAIT_ALL found none signalled at first, as the kernel). Interruptible:
    /// EINTR once a signal is pending and nothing is signalled
    /// (drm_syncobj_array_wait_timeout's -ERESTARTSYS; first_signaled is
    /// not written, the absolute timeout makes a restart wait the rest).
    public func syncobjWait(_ file: FileID, count: UInt32, flags: UInt32, timeline: Bool, timeoutNsec: Int64,
                            interruption: Interruption? = nil,
                            handles: () throws(DrmError) -> [SyncobjHandle],
                            points: () throws(DrmError) -> [UInt64]?) throws(DrmError) -> UInt32? {
        var possible = UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT)
            | Self.syncobjWaitDeadline
        if timeline { possible |= UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE) }
        guard flags & ~possible == 0 else { throw DrmError.EINVAL }
        if count == 0 { return nil }
        let objs = try lookupSyncobjs(file, try handles())
        // drm_timeout_abs_to_jiffies: 0 polls, a past time polls.
        var deadline: DispatchTime? = .now()
        if timeoutNsec != 0 {
            let left = timeoutNsec &- Self.monotonicNow()
            // dispatch_time keeps clock flags in bits 62-63: beyond 2^60 ns is for ever.
            if left > 0 { deadline = left >= 1 << 60 ? nil : .now() + .nanoseconds(Int(left)) }
        }
        let pts = try points() ?? [UInt64](repeating: 0, count: objs.count)
        let submit = flags & UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE) != 0
        let available = flags & UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE) != 0
        let all = flags & UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL) != 0

        var first: UInt32 = ~0
        var entries = [DmaFence?](repeating: nil, count: objs.count)
        let initial = state.withLock { _ -> Int? in
            var signaled = 0
            for (i, o) in objs.enumerated() {
                guard let f = o.find(pts[i]) else {
                    if submit { continue }
                    return nil
                }
                entries[i] = f
                if available || f.isSignaled {
                    if signaled == 0 { first = UInt32(i) }
                    signaled += 1
                }
            }
            return signaled
        }
        guard let initial else { throw DrmError.EINVAL }
        if initial == objs.count || (initial > 0 && !all) { return first }

        // Every fence known and all of them wanted: wait on each in turn,
        // without the waker's extra hop (GEM_WAIT's path).
        if !available, all || objs.count == 1, entries.allSatisfy({ $0 != nil }) {
            for case let f? in entries {
                switch f.wait(deadline: deadline, interruption: interruption) {
                case .signaled: continue
                case .timedOut: throw DrmError.ETIME
                case .interrupted: throw DrmError.EINTR
                }
            }
            return objs.count == 1 ? 0 : first
        }
        let waker = FenceWaker()
        if submit { state.withLock { _ in for o in objs { o.addWaiter(waker) } } }
        defer { if submit { state.withLock { _ in for o in objs { o.removeWaiter(waker) } } } }
        interruption?.watch(waker)
        defer { interruption?.unwatch() }
        var watched = [Bool](repeating: false, count: objs.count)
        while true {
            if submit {
                // syncobj_wait_syncobj_func: a fence installed since.
                state.withLock { _ in
                    for (i, o) in objs.enumerated() where entries[i] == nil { entries[i] = o.find(pts[i]) }
                }
            }
            var signaled = 0
            for i in entries.indices {
                guard let f = entries[i] else { continue }
                if available || f.isSignaled {
                    if !all {
                        first = UInt32(i)
                        return first
                    }
                    signaled += 1
                } else if !watched[i] {
                    watched[i] = true
                    f.notify(waker)
                }
            }
            if signaled == objs.count { return first }
            if let d = deadline, d <= .now() { throw DrmError.ETIME }
            if interruption?.isInterrupted == true { throw DrmError.EINTR }
            waker.sleep(until: deadline)
        }
    }
}
