import CDrm

/// CPU access to object contents and its coherency points: PREAD, PWRITE,
/// SET_DOMAIN, SW_FINISH, and the state ioctls that change what a fault
/// may see (MADVISE, SET_CACHING).
extension DrmDevice {
    /// access_ok(): the user range lies below TASK_SIZE_MAX without wrapping.
    static func accessOK(_ ptr: UInt64, _ size: UInt64) -> Bool {
        let (end, overflow) = ptr.addingReportingOverflow(size)
        return !overflow && end <= 0x7FFF_FFFF_F000
    }

    /// Validates a PREAD/PWRITE and returns the backing plus the cached
    /// copies to flush first, per i915_gem_pread/pwrite_ioctl's order.
    private func prepareTransfer(_ file: FileID, handle: Handle, offset: UInt64, size: UInt64,
                                 dataPtr: UInt64, write: Bool) throws(DrmError) -> (Backing, Flush) {
        guard Self.accessOK(dataPtr, size) else { throw DrmError.EFAULT }
        return try withFile(file) { (s, f) throws(DrmError) in
            let obj = try s.lookup(handle, in: f)
            let (end, overflow) = offset.addingReportingOverflow(size)
            guard !overflow, end <= obj.size else { throw DrmError.EINVAL }
            if write, obj.readonly { throw DrmError.EINVAL }
            // i915_gem_userptr_pread/pwrite: "no longer allowed".
            if obj.userptr != nil { throw DrmError.EINVAL }
            // shmem pread/pwrite: pages of a purgeable object cannot be had.
            guard obj.madv == .willNeed else { throw DrmError.EFAULT }
            if let e = obj.pagesError { throw e }
            if write { obj.backing.willWrite() }
            return (obj.backing, s.takeCached(of: obj))
        }
    }

    /// i915_gem_pread_ioctl. Mapped copies are written back first, then
    /// `copyOut` moves the bytes to the client with the device unlocked (the
    /// destination may be one of the client's own mappings of this device).
    public func pread(_ file: FileID, handle: Handle, offset: UInt64, size: UInt64, dataPtr: UInt64,
                      interruption: Interruption? = nil, copyOut: (UnsafeRawBufferPointer) throws(DrmError) -> Void) throws(DrmError) {
        guard size != 0 else { return }
        let (backing, first) = try prepareTransfer(file, handle: handle, offset: offset, size: size, dataPtr: dataPtr, write: false)
        try awaitRendering(file, handle: handle, write: false, interruption: interruption)
        flush(first)
        try copyOut(UnsafeRawBufferPointer(start: backing.base + Int(offset), count: Int(size)))
    }

    /// i915_gem_pwrite_ioctl. Mapped copies are written back and dropped
    /// first, so the new bytes are what every view faults in next.
    public func pwrite(_ file: FileID, handle: Handle, offset: UInt64, size: UInt64, dataPtr: UInt64,
                       interruption: Interruption? = nil, copyIn: (UnsafeMutableRawBufferPointer) throws(DrmError) -> Void) throws(DrmError) {
        guard size != 0 else { return }
        let (backing, first) = try prepareTransfer(file, handle: handle, offset: offset, size: size, dataPtr: dataPtr, write: true)
        try awaitRendering(file, handle: handle, write: true, interruption: interruption)
        // Write back and drop what is cached, take the bytes, then drop again:
        // a fault between the two may have cached the old bytes.
        flush(first)
        defer { flush(state.withLock { s in s.files[file]?.handles[handle].map { s.takeCached(of: $0) } ?? Flush() }) }
        try copyIn(UnsafeMutableRawBufferPointer(start: backing.base + Int(offset), count: Int(size)))
    }

    /// i915_gem_set_domain_ioctl: a coherency point. Every cached copy of the
    /// object in any open is written back and dropped, so each view sees the
    /// others' stores (views are separate page caches here).
    public func setDomain(_ file: FileID, handle: Handle, readDomains: UInt32, writeDomain: UInt32, pid: Int32 = 0,
                          interruption: Interruption? = nil) throws(DrmError) {
        let gpuDomains = FDRM_GEM_GPU_DOMAINS
        guard (readDomains | writeDomain) & gpuDomains == 0 else { throw DrmError.EINVAL }
        guard writeDomain == 0 || readDomains == writeDomain else { throw DrmError.EINVAL }
        guard readDomains != 0 else { return }
        try awaitRendering(file, handle: handle, write: writeDomain != 0, interruption: interruption)
        // A userptr: i915_gem_object_userptr_validate pins its pages (iris
        // checks a userptr this way), and the domains stay as they are.
        let userptr = try withFile(file) { (s, f) throws(DrmError) -> (UserptrMemory, Bool, GemObject.Madvise)? in
            let obj = try s.lookup(handle, in: f)
            return obj.userptr.map { ($0, obj.readonly, obj.madv) }
        }
        if let (memory, readonly, madv) = userptr {
            try pinUserptr(memory, readonly: readonly, caller: pid)
            guard madv == .willNeed else { throw DrmError.EFAULT }
            return
        }
        try flushObject(file, handle: handle) { obj throws(DrmError) in
            // i915_gem_object_pin_pages: the madvise check, then shmem's.
            guard obj.madv == .willNeed else { throw DrmError.EFAULT }
            if let e = obj.pagesError { throw e }
            obj.readDomains = writeDomain != 0 ? writeDomain : obj.readDomains | readDomains
            if writeDomain != 0 { obj.writeDomain = writeDomain }
        }
    }

    /// i915_gem_sw_finish_ioctl: the end of a CPU access; a coherency point.
    public func swFinish(_ file: FileID, handle: Handle) throws(DrmError) {
        try flushObject(file, handle: handle) { _ in }
    }

    /// Looks up the handle, applies `update`, then flushes every open's
    /// cached copies unless the shortcut proves it needless
    /// (DeviceState.coherencyPoint).
    private func flushObject(_ file: FileID, handle: Handle, _ update: (GemObject) throws(DrmError) -> Void) throws(DrmError) {
        try withFile(file, revoking: { (s, f, revoke) throws(DrmError) in
            let obj = try s.lookup(handle, in: f)
            try update(obj)
            revoke += s.coherencyPoint(obj, by: f)
        })
    }

    /// i915_gem_madvise_ioctl. DONTNEED purges at once, as the shrinker would
    /// under pressure: the pages are gone, mappings are revoked, later faults
    /// SIGBUS and PREAD/PWRITE fail with EFAULT. A readonly object is never
    /// purged (below). Returns `retained`.
    public func madvise(_ file: FileID, handle: Handle, madv: UInt32) throws(DrmError) -> Bool {
        guard madv == UInt32(I915_MADV_WILLNEED) || madv == UInt32(I915_MADV_DONTNEED) else { throw DrmError.EINVAL }
        return try withFile(file, revoking: { (s, f, revoke) throws(DrmError) -> Bool in
            let obj = try s.lookup(handle, in: f)
            guard obj.madv != .purged else { return false }
            if madv == UInt32(I915_MADV_WILLNEED) {
                obj.madv = .willNeed
                return true
            }
            // i915's readonly objects are userptr, whose ops have no
            // truncate (i915_gem_object_truncate does nothing): DONTNEED is
            // recorded and the object retained; its pages are the client's
            // memory and nothing is dropped. While it is DONTNEED, PREAD,
            // PWRITE and SET_DOMAIN cannot pin its pages (EFAULT, as
            // ____i915_gem_object_get_pages for a non-WILLNEED object).
            if obj.readonly || obj.userptr != nil {
                obj.madv = .dontNeed
                return true
            }
            // An object a request still uses has its pages pinned: the
            // kernel truncates only an object without pages, the shrinker
            // the rest later. Recorded, retained (Mesa's bo cache marks a
            // batch DONTNEED right after submitting it).
            if !activeRequests(s, obj, writers: false).isEmpty {
                obj.madv = .dontNeed
                return true
            }
            obj.madv = .purged
            obj.backing.purge()
            revoke += s.unbindAll(obj)
            revoke += s.takeCached(of: obj)
            return false
        })
    }

    /// i915_gem_set_caching_ioctl. A change revokes mappings, as unbinding
    /// does, so the next GTT fault applies the snoop rule.
    public func setCaching(_ file: FileID, handle: Handle, caching: UInt32) throws(DrmError) {
        switch caching {
        case UInt32(I915_CACHING_NONE), UInt32(I915_CACHING_DISPLAY): break
        case UInt32(I915_CACHING_CACHED):
            guard profile.hasLLC || profile.hasSnoop else { throw DrmError.ENODEV }
        default: throw DrmError.EINVAL
        }
        // Without write-through (HAS_WT) DISPLAY is uncached.
        let level = caching == UInt32(I915_CACHING_DISPLAY) ? UInt32(I915_CACHING_NONE) : caching
        try withFile(file, revoking: { (s, f, revoke) throws(DrmError) in
            let obj = try s.lookup(handle, in: f)
            // i915_gem_object_is_proxy: CACHED is silently allowed for
            // userptr (Vulkan sets it on everything), anything else ENXIO.
            if obj.userptr != nil {
                guard caching == UInt32(I915_CACHING_CACHED) else { throw DrmError.ENXIO }
                return
            }
            guard obj.caching != level else { return }
            obj.caching = level
            revoke += s.unbindAll(obj)
            revoke += s.takeCached(of: obj)
        })
    }

    /// i915_gem_get_caching_ioctl.
    public func getCaching(_ file: FileID, handle: Handle) throws(DrmError) -> UInt32 {
        try withFile(file) { (s, f) throws(DrmError) in try s.lookup(handle, in: f).caching }
    }

    /// GEM_BUSY / GEM_WAIT: nothing ever executes, so every object is idle.
    public func checkIdle(_ file: FileID, handle: Handle) throws(DrmError) {
        try withFile(file) { (s, f) throws(DrmError) in _ = try s.lookup(handle, in: f) }
    }
}
