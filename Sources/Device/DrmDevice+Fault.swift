import CDrm

/// The fault path: page faults (FUSE READ at a fake offset) and writeback of
/// dirty mapped pages (FUSE WRITE).
extension DrmDevice {
    /// A page fault: FUSE READ of `buffer.count` bytes at `offset` through an
    /// open's inode. Fills the buffer or fails (the client gets SIGBUS):
    /// EIO where no node is, EACCES for a file never allowed on the node,
    /// EFAULT for a purged object or a snooped object in a GTT view without
    /// LLC (i915's vm_fault_gtt), ENOSPC for a view larger than the aperture.
    /// GTT views go through the simulated aperture: bind, fence, detile, PTE.
    public func fault(_ file: FileID, inode: UInt64, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DrmError) {
        var revoke: [Invalidation] = []
        defer { cache.invalidate(revoke) }
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
                let inObject = Int(at - mmo.byteOffset)
                let n = min(buffer.count - done, 4096 - inObject % 4096)
                let dst = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n])
                if mmo.type == .gtt {
                    if obj.caching != UInt32(I915_CACHING_NONE), !profile.hasLLC { throw DrmError.EFAULT }
                    revoke += try s.serveGtt(mmo, page: inObject >> 12, in: inObject & 4095, inode: inode, into: dst)
                } else {
                    obj.backing.copyOut(at: inObject, into: dst.baseAddress!, count: n)
                }
                mmo.userfault.insert(inode)
                done += n
            }
        }
    }

    /// Writeback of dirty mapped pages (FUSE WRITE). Stores land in the
    /// backing if a file opened through `inode` may map the node, through the
    /// fence layout the page was served with for GTT views; ranges with no
    /// live node are dropped (the object is gone). A readonly object refuses:
    /// EACCES is returned (msync reports it) and the pages get the object's
    /// true contents back, so the client sees what the object holds.
    public func writeback(inode: UInt64, offset: UInt64, data: UnsafeRawBufferPointer) throws(DrmError) {
        let refused = state.withLock { (s: inout DeviceState) -> [(Invalidation, [UInt8])] in
            let files = s.inodeFiles[inode] ?? []
            var refused: [(Invalidation, [UInt8])] = []
            var done = 0
            while done < data.count {
                let at = offset + UInt64(done)
                let n = min(data.count - done, 4096 - Int(at & 4095))
                defer { done += n }
                guard let mmo = s.offsets.lookup(page: at >> 12)?.value else { continue }
                let obj = mmo.object
                let inObject = Int(at - mmo.byteOffset)
                let layout = mmo.type == .gtt ? obj.servedTiling(page: inObject >> 12) : .none
                let src = UnsafeRawBufferPointer(rebasing: data[done..<done + n])
                if obj.readonly {
                    var truth = [UInt8](repeating: 0, count: n)
                    truth.withUnsafeMutableBytes { obj.copyOut(layout, at: inObject, into: $0) }
                    refused.append((Invalidation(inode: inode, offset: at, length: UInt64(n)), truth))
                } else if !obj.isPurged, !mmo.everAllowed.isDisjoint(with: files) {
                    obj.copyIn(layout, at: inObject, from: src)
                    for id in files { s.files[id]?.stats.writebacks += 1 }
                }
            }
            return refused
        }
        guard !refused.isEmpty else { return }
        for (range, truth) in refused { cache.refuse(range, contents: truth) }
        throw DrmError.EACCES
    }
}

extension DeviceState {
    /// vm_fault_gtt for one page of a GTT node: find or make a binding that
    /// covers the page (whole object if it fits without evicting, else a
    /// partial view, evicting least recently used bindings), give it a fence
    /// if the object is tiled, then read through the aperture: the fence
    /// detiles the linear address, the PTE names the object page. Returns the
    /// mappings revoked by eviction or fence stealing.
    mutating func serveGtt(_ mmo: MmapOffset, page: Int, in pageOffset: Int, inode: UInt64,
                           into dst: UnsafeMutableRawBufferPointer) throws(DrmError) -> [Invalidation] {
        let obj = mmo.object
        var revoke: [Invalidation] = []
        var vma = obj.vmas.first { $0.view.contains(page: page) }
        if vma == nil {
            var evicted: [Vma] = []
            let whole = GttView(offset: 0, pages: Int(obj.pages), isPartial: false)
            (vma, _) = ggtt.bind(obj, whole, evict: false)
            if vma == nil {
                let view = GttView.partial(objectPages: Int(obj.pages), page: page, tiling: obj.tiling)
                (vma, evicted) = ggtt.bind(obj, view, evict: true)
            }
            revoke += evicted.flatMap(\.revocations)
        }
        guard let vma else { throw DrmError.ENOSPC }
        vma.lastUse = ggtt.tick()
        vma.mmo = mmo
        if obj.tiling.isTiled, let victim = ggtt.pinFence(vma, tiling: obj.tiling) {
            revoke += victim.revocations
            victim.userfault = []
        }
        // Through the aperture: linear offset within the binding, detiled by
        // the fence, then translated page by page through the PTEs.
        let tiling = obj.tiling
        let linear = (page - vma.view.offset) << 12 + pageOffset
        let size = vma.view.pages << 12
        var done = 0
        while done < dst.count {
            let l = linear + done
            let run = min(dst.count - done, tiling.run - l % tiling.run)
            let t = tiling.physical(l)
            let out = dst.baseAddress! + done
            if t + run <= size, let objPage = ggtt.pte(vma.start + t >> 12) {
                obj.backing.copyOut(at: objPage << 12 + t & 4095, into: out, count: run)
            } else {
                out.initializeMemory(as: UInt8.self, repeating: 0, count: run) // past the object: scratch
            }
            done += run
        }
        obj.markServed(page: page)
        vma.userfault.insert(inode)
        return revoke
    }
}

extension GemObject {
    /// Records that a GTT page was served under the current tiling.
    func markServed(page: Int) {
        guard tiling.isTiled || !tilingHistory.isEmpty else { return }
        if servedGeneration.isEmpty { servedGeneration = Array(repeating: tilingGeneration, count: Int(pages)) }
        servedGeneration[page] = tilingGeneration
    }

    /// The layout a GTT page was served with (current if never recorded).
    func servedTiling(page: Int) -> Tiling {
        guard !servedGeneration.isEmpty else { return tiling }
        let g = servedGeneration[page]
        return g == tilingGeneration ? tiling : tilingHistory[g] ?? .none
    }

    /// Reads linear bytes at `offset` as seen through a fence with `layout`.
    func copyOut(_ layout: Tiling, at offset: Int, into dst: UnsafeMutableRawBufferPointer) {
        forEachRun(layout, at: offset, count: dst.count) { done, p, run in
            if let p { backing.copyOut(at: p, into: dst.baseAddress! + done, count: run) }
            else { (dst.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: run) }
        }
    }

    /// Writes linear bytes at `offset` through a fence with `layout`.
    func copyIn(_ layout: Tiling, at offset: Int, from src: UnsafeRawBufferPointer) {
        forEachRun(layout, at: offset, count: src.count) { done, p, run in
            if let p { backing.copyIn(at: p, from: src.baseAddress! + done, count: run) }
        }
    }

    /// Splits a linear range into runs contiguous in `layout`; a run whose
    /// tiled place lies past the object (an incomplete tile row) gets nil.
    private func forEachRun(_ layout: Tiling, at offset: Int, count: Int, _ body: (Int, Int?, Int) -> Void) {
        var done = 0
        while done < count {
            let l = offset + done
            let run = min(count - done, layout.run - l % layout.run)
            let p = layout.physical(l)
            body(done, p + run <= Int(size) ? p : nil, run)
            done += run
        }
    }
}
