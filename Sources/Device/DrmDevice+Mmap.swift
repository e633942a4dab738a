import CDrm

/// Offset nodes and the fault path: MMAP_OFFSET, page faults (FUSE READ at a
/// fake offset) and writeback of dirty mapped pages (FUSE WRITE).
extension DrmDevice {
    /// i915_gem_mmap_offset_ioctl after its extensions: `flags` picks the
    /// type; one node per (object, type), created on first request; the
    /// calling file is allowed once. Returns the fake byte offset.
    public func mmapOffset(_ file: FileID, handle: UInt32, flags: UInt64) throws(DrmError) -> UInt64 {
        guard let type = MmapType(rawValue: flags) else { throw DrmError.EINVAL }
        return try withFile(file) { (s, f) throws(DrmError) in
            let obj = try s.lookup(handle, in: f)
            // An integrated part has no TTM objects: FIXED is for those only.
            if type == .fixed { throw DrmError.ENODEV }
            let mmo: MmapOffset
            if let existing = obj.mmo(type) {
                mmo = existing
            } else {
                var made: MmapOffset?
                _ = s.offsets.reserve(pages: obj.pages) { start in
                    made = MmapOffset(type: type, start: start, pages: obj.pages, object: obj)
                    return made!
                }
                guard let node = made else { throw DrmError.ENOSPC }
                obj.mmos.append(node)
                mmo = node
            }
            mmo.allowed.insert(f.id) // drm_vma_node_allow_once
            mmo.everAllowed.insert(f.id)
            f.mappable[ObjectIdentifier(obj)] = obj
            return mmo.byteOffset
        }
    }

    /// A page fault: FUSE READ of `buffer.count` bytes at `offset` through an
    /// open's inode. Fills the buffer or fails (the client gets SIGBUS):
    /// EIO where no node is, EACCES for a file never allowed on the node,
    /// EFAULT for a purged object or a snooped object in a GTT view without
    /// LLC (i915's vm_fault_gtt).
    public func fault(_ file: FileID, inode: UInt64, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DrmError) {
        try state.withLock { (s: inout DeviceState) throws(DrmError) in
            let f = s.files[file]
            f?.stats.faults += 1
            var done = 0
            while done < buffer.count {
                let at = offset + UInt64(done)
                guard let hit = s.offsets.lookup(page: at >> 12) else { f?.stats.deniedFaults += 1; throw DrmError.EIO }
                let mmo = hit.value
                guard mmo.everAllowed.contains(file) else { f?.stats.deniedFaults += 1; throw DrmError.EACCES }
                let obj = mmo.object
                if obj.isPurged { throw DrmError.EFAULT }
                if mmo.type == .gtt, obj.caching != UInt32(I915_CACHING_NONE), !profile.hasLLC { throw DrmError.EFAULT }
                let inObject = at - mmo.byteOffset
                let n = Int(min(UInt64(buffer.count - done), mmo.byteLength - inObject))
                obj.backing.copyOut(at: Int(inObject), into: buffer.baseAddress! + done, count: n)
                mmo.userfault.insert(inode)
                done += n
            }
        }
    }

    /// Writeback of dirty mapped pages (FUSE WRITE). Stores land in the
    /// backing if a file opened through `inode` may map the node; ranges with
    /// no live node are dropped (the object is gone). A readonly object
    /// refuses: EACCES is returned (msync reports it) and the pages get the
    /// object's true contents back, so the client sees what the object holds.
    public func writeback(inode: UInt64, offset: UInt64, data: UnsafeRawBufferPointer) throws(DrmError) {
        let refused = state.withLock { (s: inout DeviceState) -> [(Invalidation, [UInt8])] in
            let files = s.inodeFiles[inode] ?? []
            var refused: [(Invalidation, [UInt8])] = []
            var done = 0
            while done < data.count {
                let at = offset + UInt64(done)
                guard let hit = s.offsets.lookup(page: at >> 12) else {
                    done += 4096 - Int(at & 4095)
                    continue
                }
                let mmo = hit.value
                let inObject = at - mmo.byteOffset
                let n = Int(min(UInt64(data.count - done), mmo.byteLength - inObject))
                let obj = mmo.object
                if obj.readonly {
                    var truth = [UInt8](repeating: 0, count: n)
                    truth.withUnsafeMutableBytes { obj.backing.copyOut(at: Int(inObject), into: $0.baseAddress!, count: n) }
                    refused.append((Invalidation(inode: inode, offset: at, length: UInt64(n)), truth))
                } else if !obj.isPurged, !mmo.everAllowed.isDisjoint(with: files) {
                    obj.backing.copyIn(at: Int(inObject), from: data.baseAddress! + done, count: n)
                    for id in files { s.files[id]?.stats.writebacks += 1 }
                }
                done += n
            }
            return refused
        }
        guard !refused.isEmpty else { return }
        for (range, truth) in refused { cache.refuse(range, contents: truth) }
        throw DrmError.EACCES
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
                    out += s.takeCachedRanges(of: obj, except: inode)
                }
            }
            return out
        }
        cache.invalidate(invals)
    }
}
