import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// Strict mode: what the kernel decides inside mmap(2), which FUSE never
/// forwards, asked for by the preload library before it lets a mapping be
/// used; and the mappings it reports, which hold their objects.
extension DrmDevice {
    /// i915_gem_mmap for `file`: drm_vma_offset_lookup_locked (since v6.12,
    /// "drm/i915/gem: Do not look for the exact address in node": a mapping
    /// may start inside a node and maps the object from that page on), then
    /// drm_vma_node_is_allowed, then the readonly check. No node holding
    /// `offset` and the whole range after it is EINVAL; a node this open may
    /// not map is EACCES; VM_WRITE on a readonly object is EINVAL. A granted
    /// mapping is registered and holds the object until it is closed (ENOMEM
    /// past MappingRegistry.maxPerFile, as mmap past vm.max_map_count).
    /// `readonly` says VM_MAYWRITE is clear: mprotect may never add write.
    public func strictMmap(_ file: FileID, offset: UInt64, size: UInt64, prot: Int32) throws(DrmError)
        -> (cookie: Cookie, readonly: Bool) {
        try withFile(file) { (s, f) throws(DrmError) in
            // The syscall's own checks come first in the kernel; the library
            // only asks after they passed, so these only guard bad payloads.
            guard Page.offset(offset) == 0, size != 0, size <= UInt64.max - UInt64(Page.size - 1) else { throw DrmError.EINVAL }
            guard let mmo = s.offsets.rangeLookup(page: Page.index(offset), pages: Page.count(covering: size)) else {
                throw DrmError.EINVAL
            }
            guard mmo.isAllowed(f.id) else { throw DrmError.EACCES }
            let obj = mmo.object
            if obj.readonly, prot & PROT_WRITE != 0 { throw DrmError.EINVAL }
            return (try s.lifetime.mappings.register(file: f.id, mmo: mmo), obj.readonly)
        }
    }

    /// i915_gem_mmap_ioctl, the legacy CPU mmap, up to the vm_mmap it makes
    /// in the caller (the library makes it, at the returned offset of the
    /// object's WB or WC node). Registers that mapping. The file may fault
    /// the node from then on, but is not allowed to mmap it: the kernel maps
    /// the shmem file and no offset node is involved.
    public func legacyMmap(_ file: FileID, handle: Handle, offset: UInt64, size: UInt64, flags: UInt64,
                           pid: Int32 = 0) throws(DrmError)
        -> (mapOffset: UInt64, cookie: Cookie, token: UInt32) {
        // Disallowed on discrete parts and past gen 12.0.
        guard profile.graphicsVersion <= 12 else { throw DrmError.EOPNOTSUPP }
        guard flags & ~UInt64(I915_MMAP_WC) == 0 else { throw DrmError.EINVAL }
        // I915_MMAP_WC needs PAT, which every part this emulates has.
        let type: MmapType = flags != 0 ? .wc : .wb
        return try withFile(file, revoking: { (s, f, revoke) throws(DrmError) in
            let obj = try s.lookup(handle, in: f)
            // No shmem file: in i915 readonly objects are userptr.
            if obj.readonly || obj.userptr != nil { throw DrmError.ENXIO }
            // range_overflows(), then vm_mmap's own checks.
            guard offset < obj.size, size <= obj.size - offset else { throw DrmError.EINVAL }
            guard Page.offset(offset) == 0, size != 0 else { throw DrmError.EINVAL }
            let mmo = try s.node(of: obj, type: type, stale: &revoke)
            let cookie = try s.lifetime.mappings.register(file: f.id, mmo: mmo)
            revoke += s.allowMapping(f, mmo, of: obj, once: false)
            // i915 maps the object's one shmem file: here its one export
            // (Exports/), so every open's legacy maps share a page cache.
            let token = try s.dmaBuf(of: obj, for: f, pid: pid, revoke: &revoke)
            return (mmo.byteOffset + offset, cookie, token)
        })
    }

    /// vm_open: a forked child holds a copy of a registered mapping. From
    /// the mount's root (`uid` given), only the user of the open that made
    /// the mapping, or root, may: EPERM for anyone else.
    public func vmaOpen(cookie: Cookie, uid: UInt32 = 0) throws(DrmError) {
        try state.withLock { (s: inout DeviceState) throws(DrmError) in
            try s.checkMaker(of: cookie, uid: uid)
            guard s.lifetime.mappings.open(cookie) else { throw DrmError.ENOENT }
        }
    }

    /// vm_close: one holder of a registered mapping let go of it. With the
    /// last one gone, an object without handles is freed at once. `uid` as
    /// for vmaOpen.
    public func vmaClose(cookie: Cookie, uid: UInt32 = 0) throws(DrmError) {
        try withLock(revoking: { (s: inout DeviceState, revoke: inout Flush) throws(DrmError) in
            try s.checkMaker(of: cookie, uid: uid)
            guard let obj = try s.lifetime.mappings.close(cookie) else { return }
            revoke += s.put(obj)
        })
    }

    /// Which node an open was made through.
    public func minor(of file: FileID) throws(DrmError) -> Minor {
        try withFile(file) { (_, f) throws(DrmError) in f.minor }
    }
}

extension DeviceState {
    /// A mapping's holders are its maker's processes: a caller of another
    /// user (not root) gets EPERM; an unknown cookie is left to the registry.
    func checkMaker(of cookie: Cookie, uid: UInt32) throws(DrmError) {
        guard uid != 0, let file = lifetime.mappings.file(of: cookie) else { return }
        // A mapping outlives its open (mappings hold the object, and the
        // open's release forgets them): no open, no mapping to check.
        guard let f = files[file], f.uid == uid else { throw DrmError.EPERM }
    }
}
