import CDrm

/// Object lifetime and naming: GEM_CREATE, GEM_CLOSE, FLINK, OPEN.
extension DrmDevice {
    /// i915_gem_create_ioctl: size rounded up to the 4 KiB page. Like
    /// shmem, creating reserves nothing the object cannot have: an object
    /// larger than memory is made, and fails where its pages are needed.
    public func gemCreate(_ file: FileID, size: UInt64) throws(DrmError) -> (handle: Handle, size: UInt64) {
        let rounded = try objectSize(size)
        var pagesError = pagesError(size: rounded)
        var backing = pagesError == nil ? Backing(size: Int(rounded)) : nil
        if backing == nil {
            // No address space for it: its pages cannot be had either.
            pagesError = pagesError ?? DrmError.ENOMEM
            backing = Backing(unreservedSize: Int(rounded))
        }
        let caching = UInt32(profile.hasLLC ? I915_CACHING_CACHED : I915_CACHING_NONE)
        return try withFile(file) { (s, f) throws(DrmError) in
            s.nextSerial += 1
            let obj = GemObject(serial: s.nextSerial, size: rounded, backing: backing!, caching: caching)
            obj.pagesError = pagesError
            s.lifetime.created(obj)
            return (f.addHandle(obj), rounded)
        }
    }

    /// The checks __i915_gem_object_create_user_ext makes on a size: 0, or
    /// wrapping when rounded to the page, is EINVAL; past MAX_LFS_FILESIZE E2BIG.
    func objectSize(_ size: UInt64) throws(DrmError) -> UInt64 {
        let rounded = Page.roundUp(size)
        guard rounded != 0 else { throw DrmError.EINVAL }
        guard rounded <= UInt64(Int64.max) else { throw DrmError.E2BIG }
        return rounded
    }

    /// What i915_gem_shmem.c's validate_size says when the pages of an
    /// object of `size` bytes are first needed (shmem_get_pages): more pages
    /// than an unsigned int counts (sg_alloc_table) is E2BIG, more bytes
    /// than the system memory region holds ENOMEM.
    func pagesError(size: UInt64) -> DrmError? {
        if size >> Page.shift > UInt64(UInt32.max) { return DrmError.E2BIG }
        if size > profile.systemMemory { return DrmError.ENOMEM }
        return nil
    }

    /// drm_gem_close_ioctl: unknown handle (0 included) is EINVAL. Mappings
    /// made while allowed keep working; the object outlives its last handle
    /// while a file that may map it is open.
    public func gemClose(_ file: FileID, handle: Handle) throws(DrmError) {
        let zombies = try withFile(file, revoking: { (s, f, revoke) throws(DrmError) in
            guard let obj = s.closeHandle(handle, of: f) else { throw DrmError.EINVAL }
            // i915_gem_close_object: the file's last handle closes the
            // object's VMAs in its ppGTTs (another file may keep it alive).
            if obj.handleCount == 0 || !f.handles.values.contains(where: { $0 === obj }) {
                s.gpu.files[file]?.closeVmas(of: obj)
            }
            revoke += s.put(obj)
            return s.lifetime.zombieUsage
        })
        reportZombies(zombies)
    }

    /// drm_gem_flink_ioctl: one global name per object, kept until its last
    /// handle closes.
    public func gemFlink(_ file: FileID, handle: Handle) throws(DrmError) -> FlinkName {
        try withFile(file) { (s, f) throws(DrmError) in
            s.lifetime.flink(try s.lookup(handle, in: f))
        }
    }

    /// drm_gem_open_ioctl: a new handle on every call.
    public func gemOpen(_ file: FileID, name: FlinkName) throws(DrmError) -> (handle: Handle, size: UInt64) {
        try withFile(file) { (s, f) throws(DrmError) in
            guard let obj = s.lifetime.object(named: name) else { throw DrmError.ENOENT }
            return (f.addHandle(obj), obj.size)
        }
    }

    /// DRM_IOCTL_FAKEDRM_GEM_SET_READONLY: the kernel's I915_BO_READONLY, one-way.
    public func setReadonly(_ file: FileID, handle: Handle, flags: UInt32) throws(DrmError) {
        // Write back what clients stored before the flag, then set it.
        try withFile(file, revoking: { (s, f, revoke) throws(DrmError) in
            guard flags == 0 else { throw DrmError.EINVAL }
            revoke += s.takeCached(of: try s.lookup(handle, in: f))
        })
        try withFile(file) { (s, f) throws(DrmError) in try s.lookup(handle, in: f).readonly = true }
    }
}
