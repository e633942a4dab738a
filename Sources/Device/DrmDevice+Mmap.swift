import CDrm

/// Offset nodes: MMAP_OFFSET, and msync as a coherency point.
extension DrmDevice {
    /// i915_gem_mmap_offset_ioctl after its extensions: `flags` picks the
    /// type; one node per (object, type), created on first request; the
    /// calling file is allowed once. Returns the fake byte offset.
    public func mmapOffset(_ file: FileID, handle: Handle, flags: UInt64) throws(DrmError) -> UInt64 {
        guard let type = MmapType(rawValue: flags) else { throw DrmError.EINVAL }
        return try withFile(file, revoking: { (s, f, revoke) throws(DrmError) in
            let obj = try s.lookup(handle, in: f)
            // i915_gem_object_never_mmap: userptr (I915_GEM_OBJECT_NO_MMAP).
            if obj.userptr != nil { throw DrmError.ENODEV }
            // An integrated part has no TTM objects: FIXED is for those only.
            if type == .fixed { throw DrmError.ENODEV }
            let mmo = try s.node(of: obj, type: type, stale: &revoke)
            revoke += s.allowMapping(f, mmo, of: obj, once: true)
            return mmo.byteOffset
        })
    }

    /// fsync/msync through an open: a coherency point. Its stores are in
    /// (the kernel wrote the synced range back before asking); every other
    /// view of the objects this open has cached, in any open including this
    /// one's other nodes, is written back and dropped.
    public func sync(inode: InodeID) {
        withLock(revoking: { (s: inout DeviceState, revoke: inout Flush) in
            for id in s.inodeFiles[inode] ?? [] {
                guard let f = s.files[id] else { continue }
                for obj in f.mappable.values where obj.mmos.contains(where: { $0.isCached(in: inode) }) {
                    revoke += s.takeCached(of: obj)
                }
            }
        })
    }
}

extension DeviceState {
    /// The object's node of `type`, made on first use (ENOSPC when the
    /// offset space is full). When the space wraps, freed ranges become
    /// reusable and may still be cached (readahead zeros, old pages) in any
    /// open: `stale` gets the whole space, to drop everywhere before anyone
    /// maps a reused range (OffsetManager: once per wrap, not per node).
    mutating func node(of obj: GemObject, type: MmapType, stale: inout Flush) throws(DrmError) -> MmapOffset {
        if let existing = obj.mmo(type) { return existing }
        var made: MmapOffset?
        let wraps = offsets.wraps
        _ = offsets.reserve(pages: obj.pages) { start in
            made = MmapOffset(type: type, start: start, pages: obj.pages, object: obj)
            return made!
        }
        if offsets.wraps != wraps {
            let offset = offsets.firstPage << Page.shift, length = (offsets.endPage - offsets.firstPage) << Page.shift
            stale += inodeFiles.keys.map { Invalidation(inode: $0, offset: offset, length: length) }
        }
        guard let node = made else { throw DrmError.ENOSPC }
        obj.mmos.append(node)
        return node
    }

    /// Lets `f` fault `mmo` from now on, and with `once` also mmap it
    /// (drm_vma_node_allow_once; the legacy GEM_MMAP does not). A file new
    /// to the object gets the object's current contents: every open's cached
    /// copy is flushed (a coherency point, as GEM_OPEN + mmap is for i915,
    /// where all views are one memory). So does any new view after a SET_DOMAIN skipped its
    /// write-back (CoherencyPoint.swift): the shortcut's proof ends here.
    mutating func allowMapping(_ f: DrmFile, _ mmo: MmapOffset, of obj: GemObject, once: Bool) -> Flush {
        let newcomer = obj.mmos.allSatisfy { !$0.mayFault(f.id) }
        let fresh = once ? mmo.allowOnce(f.id) : mmo.allowFaults(f.id)
        f.mappable[ObjectIdentifier(obj)] = obj
        if newcomer { return takeCached(of: obj, except: obj.skippedWriteBack ? nil : f.inode) }
        return fresh && obj.skippedWriteBack ? takeCached(of: obj) : Flush()
    }
}
