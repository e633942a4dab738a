import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// sync_file fences: EXECBUFFER2's I915_EXEC_FENCE_IN / FENCE_SUBMIT /
/// FENCE_OUT (i915_gem_do_execbuffer) and the sync_file ioctls
/// (drivers/dma-buf/sync_file.c). A plain open (no preload library) has no
/// way to hold a sync_file: it keeps the answers of a kernel without them.
extension DrmDevice {
    /// The in-fence named by rsvd2's lower half, or nil without FENCE_IN /
    /// FENCE_SUBMIT. Both flags: EINVAL; an fd that is no sync_file
    /// (sync_file_get_fence fails): EINVAL. A plain open can name none.
    func execInFence(_ file: FileID, _ args: drm_i915_gem_execbuffer2) throws(DrmError) -> DmaFence? {
        let inFences = UInt64(I915_EXEC_FENCE_IN | I915_EXEC_FENCE_SUBMIT)
        guard args.flags & inFences != 0 else { return nil }
        if args.flags & inFences == inFences { throw DrmError.EINVAL }
        let token = UInt32(truncatingIfNeeded: args.rsvd2)
        return try state.withLock { (s: inout DeviceState) throws(DrmError) -> DmaFence in
            guard isStrict(s, file), let f = s.exports.syncFile(token) else { throw DrmError.EINVAL }
            return f.fence
        }
    }

    /// Whether a sync_file is to be made. Deviation in plain mode: ENODEV
    /// (no fd can be installed in the caller; HAS_EXEC_FENCE says 0 there).
    func execOutFence(_ file: FileID, _ args: drm_i915_gem_execbuffer2) throws(DrmError) -> Bool {
        guard args.flags & UInt64(I915_EXEC_FENCE_OUT) != 0 else { return false }
        guard state.withLock({ s in isStrict(s, file) }) else { throw DrmError.ENODEV }
        return true
    }

    /// sync_file_create on the request's fence: an export the caller's
    /// library opens as the fd (its token goes into rsvd2's upper half).
    func makeOutFence(_ s: inout DeviceState, _ rq: Request, file: FileID, pid: Int32) -> UInt32 {
        s.exports.add(Export(kind: .syncFile(SyncFile(fence: DmaFence(rq))), creator: file, creatorPid: pid))
    }

    /// Whether `file` may hold sync_files and dma-bufs (strict mode): the
    /// HAS_EXEC_FENCE / HAS_EXEC_SUBMIT_FENCE params and DRM_CAP_PRIME.
    public func canExport(_ file: FileID) -> Bool { state.withLock { s in isStrict(s, file) } }

    /// GETPARAM as `file` sees it: the exec fence params say 1 in strict mode.
    public func getParam(_ param: Int32, file: FileID) throws(DrmError) -> Int32 {
        switch param {
        case I915_PARAM_HAS_EXEC_FENCE, I915_PARAM_HAS_EXEC_SUBMIT_FENCE:
            return canExport(file) ? 1 : 0
        default:
            return try getParam(param)
        }
    }

    /// One fence of SYNC_IOC_FILE_INFO (sync_fill_fence_info).
    public struct FenceInfo: Sendable {
        public let objName: String
        public let driverName: String
        public let status: Int32
        public let timestampNs: UInt64
    }

    /// SYNC_IOC_FILE_INFO's contents: the file's name, status and fences
    /// (dma_fence_unwrap_for_each: a request each, or the one stub).
    /// ENOTTY on another kind of file (a syncobj file or a dma-buf); EINVAL
    /// when there is no such export (not reachable through an export fd).
    public func syncFileInfo(_ token: UInt32) throws(DrmError) -> (name: String, status: Int32, fences: [FenceInfo]) {
        let sf = try syncFile(token)
        var fences = sf.fence.requests.map { rq in
            let st = SyncFile.status(rq)
            return FenceInfo(objName: SyncFile.timelineName(rq), driverName: SyncFile.driverName(rq), status: st,
                             timestampNs: st != 0 ? rq.signaledAt.load(ordering: .relaxed) : 0)
        }
        if fences.isEmpty {
            let (driver, timeline) = SyncFile.stubNames(sf.fence)
            fences = [FenceInfo(objName: timeline, driverName: driver, status: sf.status, timestampNs: 0)]
        }
        return (sf.name, sf.status, fences)
    }

    /// SYNC_IOC_MERGE (sync_file_ioctl_merge) of the sync_file `token` with
    /// `other` (the token the library found for fd2): ENOTTY on a file that
    /// is no sync_file; flags or pad set EINVAL; fd2 no sync_file ENOENT. A
    /// new export, opened by the caller.
    public func syncMerge(_ token: UInt32, with other: UInt32, name: String, flags: UInt32, pad: UInt32,
                          pid: Int32) throws(DrmError) -> UInt32 {
        let a = try syncFile(token)
        guard flags == 0, pad == 0 else { throw DrmError.EINVAL }
        return try state.withLock { (s: inout DeviceState) throws(DrmError) -> UInt32 in
            guard let b = s.exports.syncFile(other) else { throw DrmError.ENOENT }
            return s.exports.add(Export(kind: .syncFile(a.merged(with: b, name: name)), creator: 0, creatorPid: pid))
        }
    }

    /// The sync_file an ioctl on export `token` is for: ENOTTY on another
    /// kind of file (sync_file_ioctl is only a sync_file's), EINVAL for none.
    private func syncFile(_ token: UInt32) throws(DrmError) -> SyncFile {
        try state.withLock { (s: inout DeviceState) throws(DrmError) -> SyncFile in
            if let sf = s.exports.syncFile(token) { return sf }
            throw s.exports.exports[token] == nil ? DrmError.EINVAL : DrmError.ENOTTY
        }
    }

    /// sync_file_poll: whether the fence has signalled; when not, `wake`
    /// runs once it has (the transport's poll notification).
    public func pollSyncFile(_ token: UInt32, wake: (@Sendable () -> Void)?) -> Bool {
        guard let sf = state.withLock({ s in s.exports.syncFile(token) }) else { return true }
        if sf.isSignaled { return true }
        if let wake { sf.whenSignaled(wake) }
        return false
    }
}
