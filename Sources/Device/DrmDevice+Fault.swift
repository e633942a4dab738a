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
    ///
    /// The first fault in a chunk (the binding's partial view, else an
    /// aligned MiB) also returns the chunk's other pages, to be pushed into
    /// the inode's cache once this fault is answered.
    @discardableResult
    public func fault(_ file: FileID, inode: UInt64, offset: UInt64,
                      into buffer: UnsafeMutableRawBufferPointer) throws(DrmError) -> [Prefault] {
        var revocations: [Invalidation] = []
        defer { revoke(revocations) }
        return try state.withLock { (s: inout DeviceState) throws(DrmError) -> [Prefault] in
            let f = s.files[file]
            f?.stats.faults += 1
            var last: (MmapOffset, Int)?
            var done = 0
            while done < buffer.count {
                let at = offset + UInt64(done)
                guard let hit = s.offsets.lookup(page: at >> 12) else { f?.stats.deniedFaults += 1; throw DrmError.EIO }
                let mmo = hit.value
                guard mmo.everAllowed.contains(file) else { f?.stats.deniedFaults += 1; throw DrmError.EACCES }
                let inObject = Int(at - mmo.byteOffset)
                let n = min(buffer.count - done, 4096 - inObject % 4096)
                revocations += try s.serve(mmo, page: inObject >> 12, at: inObject & 4095, inode: inode,
                                           into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n]))
                last = (mmo, inObject >> 12)
                done += n
            }
            guard buffer.count == 4096, offset & 4095 == 0, let (mmo, page) = last else { return [] }
            return try s.prefaultChunk(mmo, around: page, inode: inode, revocations: &revocations)
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
    /// Bytes of one page of a node as a fault sees them.
    mutating func serve(_ mmo: MmapOffset, page: Int, at pageOffset: Int, inode: UInt64,
                        into dst: UnsafeMutableRawBufferPointer) throws(DrmError) -> [Invalidation] {
        let obj = mmo.object
        if obj.isPurged { throw DrmError.EFAULT }
        var revoke: [Invalidation] = []
        if mmo.type == .gtt {
            // i915 refuses snooped pages through the GTT without LLC.
            if obj.caching != UInt32(I915_CACHING_NONE), !hasLLC { throw DrmError.EFAULT }
            revoke = try serveGtt(mmo, page: page, in: pageOffset, inode: inode, into: dst)
        } else {
            obj.backing.copyOut(at: page << 12 + pageOffset, into: dst.baseAddress!, count: dst.count)
        }
        mmo.userfault.insert(inode)
        return revoke
    }

    /// The rest of the chunk holding `page`, unless it was pushed to this
    /// inode since the last revocation of it.
    mutating func prefaultChunk(_ mmo: MmapOffset, around page: Int, inode: UInt64,
                                revocations: inout [Invalidation]) throws(DrmError) -> [Prefault] {
        let pages = Int(mmo.pages)
        var chunk = page / GttView.minChunkPages * GttView.minChunkPages
        var end = min(chunk + GttView.minChunkPages, pages)
        if mmo.type == .gtt, let view = mmo.object.vmas.first(where: { $0.view.contains(page: page) })?.view, view.isPartial {
            (chunk, end) = (view.offset, view.offset + view.pages)
        }
        let key = PushKey(inode: inode, chunk: chunk)
        guard mmo.pushed[key] == nil, end - chunk > 1 else { return [] }
        mmo.pushed[key] = epoch
        let obj = mmo.object
        if obj.isPurged { return [] }
        var vma: Vma?
        if mmo.type == .gtt {
            let (v, revoke) = try gttBinding(mmo, page: page, inode: inode)
            revocations += revoke
            // The chunk must lie in that one binding (it does: views are chunks).
            guard v.view.contains(page: chunk), v.view.contains(page: end - 1) else { return [] }
            vma = v
        }
        var out: [Prefault] = []
        for (from, to) in [(chunk, page), (page + 1, end)] where to > from {
            let prefault = Prefault(inode: inode, offset: mmo.byteOffset + UInt64(from) << 12, count: (to - from) << 12)
            let all = prefault.bytes
            if let vma {
                for p in from..<to {
                    readThroughAperture(vma, page: p, at: 0, into: UnsafeMutableRawBufferPointer(rebasing: all[(p - from) << 12..<(p - from + 1) << 12]))
                }
            } else {
                obj.backing.copyOut(at: from << 12, into: all.baseAddress!, count: all.count)
            }
            out.append(prefault)
        }
        mmo.userfault.insert(inode)
        return out
    }

    /// vm_fault_gtt for one page of a GTT node: bind, fence, then read
    /// through the aperture. Returns the mappings revoked on the way.
    mutating func serveGtt(_ mmo: MmapOffset, page: Int, in pageOffset: Int, inode: UInt64,
                           into dst: UnsafeMutableRawBufferPointer) throws(DrmError) -> [Invalidation] {
        let (vma, revoke) = try gttBinding(mmo, page: page, inode: inode)
        readThroughAperture(vma, page: page, at: pageOffset, into: dst)
        return revoke
    }

    /// A binding that covers `page`, fenced if the object is tiled: the
    /// whole object if it fits without evicting (PIN_NOEVICT), else a partial
    /// view, evicting least recently used bindings. Returns it with the
    /// mappings revoked by eviction or fence stealing.
    mutating func gttBinding(_ mmo: MmapOffset, page: Int, inode: UInt64) throws(DrmError) -> (Vma, [Invalidation]) {
        let obj = mmo.object
        var revoke: [Invalidation] = []
        var vma = obj.vmas.first { $0.view.contains(page: page) }
        if vma == nil {
            var evicted: [Vma] = []
            (vma, _) = ggtt.bind(obj, GttView(offset: 0, pages: Int(obj.pages), isPartial: false), evict: false)
            if vma == nil {
                let view = GttView.partial(objectPages: Int(obj.pages), page: page, tiling: obj.tiling)
                (vma, evicted) = ggtt.bind(obj, view, evict: true)
            }
            revoke += evicted.flatMap(\.revocations)
        }
        guard let vma else { throw DrmError.ENOSPC }
        vma.lastUse = ggtt.tick()
        vma.mmo = mmo
        vma.userfault.insert(inode)
        if obj.tiling.isTiled, let victim = ggtt.pinFence(vma, tiling: obj.tiling) {
            revoke += victim.revocations
            victim.userfault = []
        }
        return (vma, revoke)
    }

    /// Reads object page `page` through the aperture: the linear offset
    /// within the binding is detiled by the fence, and each tiled page is
    /// translated through the PTEs. Beyond the binding reads scratch (zeros).
    func readThroughAperture(_ vma: Vma, page: Int, at pageOffset: Int, into dst: UnsafeMutableRawBufferPointer) {
        let obj = vma.object
        let size = vma.view.pages << 12
        obj.tiling.forEachRun(from: (page - vma.view.offset) << 12 + pageOffset, count: dst.count) { done, t, run in
            let out = dst.baseAddress! + done
            if t + run <= size, let objPage = ggtt.pte(vma.start + t >> 12) {
                obj.backing.copyOut(at: objPage << 12 + t & 4095, into: out, count: run)
            } else {
                out.initializeMemory(as: UInt8.self, repeating: 0, count: run)
            }
        }
        obj.markServed(page: page)
    }
}

extension GemObject {
    /// Records that a GTT page was served under the current tiling.
    /// Generation 0 is the untiled state every object starts in; an object
    /// that never left it needs no record.
    func markServed(page: Int) {
        guard tilingGeneration != 0 || tiling.isTiled else { return }
        if servedGeneration.isEmpty { servedGeneration = Array(repeating: 0, count: Int(pages)) }
        servedGeneration[page] = tilingGeneration
    }

    /// The layout a GTT page was served with.
    func servedTiling(page: Int) -> Tiling {
        let g = servedGeneration.isEmpty ? 0 : servedGeneration[page]
        return g == tilingGeneration ? tiling : tilingHistory[g] ?? .none
    }

    /// Reads linear bytes at `offset` as seen through a fence with `layout`.
    func copyOut(_ layout: Tiling, at offset: Int, into dst: UnsafeMutableRawBufferPointer) {
        let size = Int(self.size)
        layout.forEachRun(from: offset, count: dst.count) { done, p, run in
            if p + run <= size { backing.copyOut(at: p, into: dst.baseAddress! + done, count: run) }
            else { (dst.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: run) }
        }
    }

    /// Writes linear bytes at `offset` through a fence with `layout`; bytes
    /// whose tiled place lies past the object (an incomplete tile row) drop.
    func copyIn(_ layout: Tiling, at offset: Int, from src: UnsafeRawBufferPointer) {
        let size = Int(self.size)
        layout.forEachRun(from: offset, count: src.count) { done, p, run in
            if p + run <= size { backing.copyIn(at: p, from: src.baseAddress! + done, count: run) }
        }
    }
}
