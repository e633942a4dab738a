import CDrm

/// Offset nodes: MMAP_OFFSET, and msync as a coherency point.
extension DrmDevice {
    /// i915_gem_mmap_offset_ioctl after its extensions: `flags` picks the
    /// type; one node per (object, type), created on first request; the
    /// calling file is allowed once. Returns the fake byte offset.
    public func mmapOffset(_ file: FileID, handle: UInt32, flags: UInt64) throws(DrmError) -> UInt64 {
        guard let type = MmapType(rawValue: flags) else { throw DrmError.EINVAL }
        var stale: [Invalidation] = []
        defer { cache.invalidate(stale) }
        return try withFile(file) { (s, f) throws(DrmError) in
            let obj = try s.lookup(handle, in: f)
            // An integrated part has no TTM objects: FIXED is for those only.
            if type == .fixed { throw DrmError.ENODEV }
            let mmo = try s.node(of: obj, type: type, stale: &stale)
            mmo.allowed.insert(f.id) // drm_vma_node_allow_once
            stale += s.allowMapping(f, mmo, of: obj)
            return mmo.byteOffset
        }
    }

    /// fsync/msync through an open: its stores are in (the kernel wrote them
    /// back before asking); make every other open drop its stale copies of the
    /// objects this one has cached.
    public func sync(inode: UInt64) {
        let invals = state.withLock { (s: inout DeviceState) -> [Invalidation] in
            var out: [Invalidation] = []
            for id in s.inodeFiles[inode] ?? [] {
                guard let f = s.files[id] else { continue }
                for obj in f.mappable.values where obj.mmos.contains(where: { $0.userfault.contains(inode) }) {
                    out += s.cachedRanges(of: obj, except: inode)
                }
            }
            return out
        }
        cache.invalidate(invals)
    }
}

extension DeviceState {
    /// The object's node of `type`, made on first use (ENOSPC when the
    /// offset space is full). A reused range may still be cached (readahead
    /// zeros, old pages) in any open: `stale` gets it, to drop everywhere
    /// before anyone maps it.
    mutating func node(of obj: GemObject, type: MmapType, stale: inout [Invalidation]) throws(DrmError) -> MmapOffset {
        if let existing = obj.mmo(type) { return existing }
        var made: MmapOffset?
        _ = offsets.reserve(pages: obj.pages) { start in
            made = MmapOffset(type: type, start: start, pages: obj.pages, object: obj)
            return made!
        }
        guard let node = made else { throw DrmError.ENOSPC }
        if offsets.reusing {
            stale += inodeFiles.keys.map { Invalidation(inode: $0, offset: node.byteOffset, length: node.byteLength) }
        }
        obj.mmos.append(node)
        return node
    }

    /// Lets `f` fault `mmo` from now on. A file new to the object gets the
    /// object's current contents: every open's cached copy is flushed (a
    /// coherency point, as GEM_OPEN + mmap is for i915, where all views are
    /// one memory), since a lone open's SET_DOMAIN skips the write-back.
    mutating func allowMapping(_ f: DrmFile, _ mmo: MmapOffset, of obj: GemObject) -> [Invalidation] {
        let newcomer = obj.mmos.allSatisfy { !$0.everAllowed.contains(f.id) }
        mmo.everAllowed.insert(f.id)
        f.mappable[ObjectIdentifier(obj)] = obj
        return newcomer ? cachedRanges(of: obj, except: f.inode) : []
    }
}
