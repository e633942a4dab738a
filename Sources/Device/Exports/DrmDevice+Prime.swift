import CDrm

/// PRIME (drm_prime.c, i915_gem_dmabuf.c): an object shared as a dma-buf.
/// A dma-buf is an export whose hidden drm_file holds the object (so it
/// outlives GEM_CLOSE until its last fd closes) and whose file pages are the
/// object's WB view (i915_gem_dmabuf_mmap). A plain open cannot hold a
/// dma-buf fd: EOPNOTSUPP, as before (GET_CAP(PRIME) says 0 there).
extension DrmDevice {
    /// drm_prime_handle_to_fd_ioctl: flags other than DRM_CLOEXEC|DRM_RDWR
    /// EINVAL; unknown handle ENOENT. An object has one dma-buf while it
    /// lives (obj->dma_buf): a second export returns the same one. The
    /// token goes into the file's prime cache, so its own import finds the
    /// handle. Returns the token the library opens as the fd.
    public func primeHandleToFd(_ file: FileID, handle: Handle, flags: UInt32, pid: Int32) throws(DrmError) -> UInt32 {
        try withFile(file, revoking: { (s, f, revoke) throws(DrmError) -> UInt32 in
            guard f.strict else { throw DrmError.EOPNOTSUPP }
            guard flags & ~UInt32(DRM_CLOEXEC | DRM_RDWR) == 0 else { throw DrmError.EINVAL }
            let obj = try s.lookup(handle, in: f)
            let token = try s.dmaBuf(of: obj, for: f, pid: pid, revoke: &revoke)
            f.prime[token] = handle
            return token
        })
    }

    /// drm_prime_fd_to_handle_ioctl: no open fd EBADF (dma_buf_get's fget);
    /// an fd that is no dma-buf EINVAL. The same dma-buf imported again on
    /// one open gives the same handle (drm_prime_lookup_buf_handle); on
    /// another open, a new handle to the same object (i915_gem_prime_import
    /// of its own dma-buf takes the object itself).
    public func primeFdToHandle(_ file: FileID, token: UInt32) throws(DrmError) -> Handle {
        try withFile(file) { (s, f) throws(DrmError) -> Handle in
            guard f.strict else { throw DrmError.EOPNOTSUPP }
            if token == FAKEDRM_TOKEN_BADF { throw DrmError.EBADF }
            guard let obj = s.exports.dmaBuf(token) else { throw DrmError.EINVAL }
            if let h = f.prime[token], f.handles[h] === obj { return h }
            let h = f.addHandle(obj)
            f.prime[token] = h
            return h
        }
    }

    /// READ of a dma-buf file's pages: the WB node's fault path, as the
    /// dma-buf's own open.
    public func faultDmaBuf(holder: FileID, token: UInt32, mapOffset: UInt64, offset: UInt64,
                            into buffer: UnsafeMutableRawBufferPointer, pid: Int32,
                            deferring revocations: inout [Invalidation]) throws(DrmError) {
        try fault(holder, inode: Self.exportInode(token), offset: mapOffset + offset, into: buffer, pid: pid,
                  deferring: &revocations)
    }

    /// DMA_BUF_IOCTL_SYNC (dma_buf_ioctl): unknown flags, or neither READ
    /// nor WRITE, EINVAL; then i915_gem_begin/end_cpu_access, a coherency
    /// point like SET_DOMAIN(CPU). ENOTTY on a sync_file.
    public func dmaBufSync(_ token: UInt32, flags: UInt64) throws(DrmError) {
        let valid = UInt64(DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END)
        let todo = try state.withLock { (s: inout DeviceState) throws(DrmError) -> Flush in
            guard case .dmaBuf(let obj, _, _)? = s.exports.exports[token]?.kind else { throw DrmError.ENOTTY }
            guard flags & ~valid == 0, flags & UInt64(DMA_BUF_SYNC_RW) != 0 else { throw DrmError.EINVAL }
            return s.takeCached(of: obj)
        }
        flush(todo)
    }

    /// dma_buf_poll: readable (EPOLLIN) once no request writes the object,
    /// writable (EPOLLOUT) once none uses it; when not, `wake` runs as soon
    /// as one of those finishes (the kernel asks again).
    public func pollDmaBuf(_ token: UInt32, wake: (@Sendable () -> Void)?) -> (readable: Bool, writable: Bool) {
        let (writers, users) = state.withLock { s -> ([Request], [Request]) in
            guard case .dmaBuf(let obj, _, _)? = s.exports.exports[token]?.kind else { return ([], []) }
            return (activeRequests(s, obj, writers: true), activeRequests(s, obj, writers: false))
        }
        if let wake { for rq in users { rq.whenDone(wake) } }
        return (writers.isEmpty, users.isEmpty)
    }
}

extension DeviceState {
    /// The object's dma-buf (obj->dma_buf), made on first use: an export
    /// whose hidden drm_file holds a handle on the object and is allowed on
    /// its WB node. A ticket for `pid`'s thread either way (it opens the file).
    mutating func dmaBuf(of obj: GemObject, for f: DrmFile, pid: Int32, revoke: inout Flush) throws(DrmError) -> UInt32 {
        if let token = exports.dmaBufs[ObjectIdentifier(obj)], var e = exports.exports[token] {
            e.tickets.append(pid)
            exports.exports[token] = e
            return token
        }
        let mmo = try node(of: obj, type: .wb, stale: &revoke)
        let token = exports.reserve()
        nextFileID = nextFileID.next
        let holder = DrmFile(id: nextFileID, minor: .render, inode: DrmDevice.exportInode(token), pid: pid,
                             uid: f.uid, authenticated: true)
        holder.strict = true
        files[holder.id] = holder
        inodeFiles[holder.inode, default: []].insert(holder.id)
        _ = holder.addHandle(obj)
        revoke += allowMapping(holder, mmo, of: obj, once: true)
        exports.insert(token, Export(kind: .dmaBuf(obj, holder: holder.id, mapOffset: mmo.byteOffset), creator: f.id, creatorPid: pid))
        return token
    }
}
