import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// The fault path: page faults (FUSE READ at a fake offset) and writeback of
/// dirty mapped pages (FUSE WRITE).
extension DrmDevice {
    /// A page fault or readahead: FUSE READ of `buffer.count` bytes at
    /// `offset` through an open's inode. Fills the buffer or fails (the
    /// client gets SIGBUS): EACCES for a file never allowed on a node in
    /// range, EFAULT for a purged object or a snooped object in a GTT view
    /// without LLC (i915's vm_fault_gtt), ENOSPC for a view larger than the
    /// aperture, EIO when the range holds no node at all. GTT views go
    /// through the simulated aperture: bind, fence, detile, PTE.
    ///
    /// Readahead around a fault may run into the guard gap that follows
    /// every node (see OffsetManager): gap pages read as zeros; no node is
    /// ever close enough for a window to reach it from another.
    ///
    /// Mappings revoked on the way (eviction, fence stealing) are appended to
    /// `revocations` for the caller to revoke after it has answered, on
    /// success and on error alike: revoking from inside a READ can wait for a
    /// folio another READ holds while it revokes ours.
    /// `pid` is the faulting thread (fault injection tells touches apart by it).
    public func fault(_ file: FileID, inode: InodeID, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer,
                      pid: Int32 = 0, deferring revocations: inout [Invalidation]) throws(DrmError) {
        try faultRetrying(file, pid: pid, offset: offset, into: buffer, deferring: &revocations) { (r: inout [Invalidation]) throws(DrmError) in
            try faultOnce(file, inode: inode, offset: offset, into: buffer, deferring: &r)
        }
    }

    /// How long a fault keeps retrying while the aperture or the fences are
    /// exhausted. The kernel retries for ever (ENOSPC and ENOBUFS are
    /// VM_FAULT_NOPAGE: the access faults again); a FUSE READ, once sent,
    /// cannot be interrupted by its client, so the daemon gives up and the
    /// touch gets SIGBUS rather than hang.
    public static let exhaustionRetryNanoseconds: UInt64 = 500_000_000

    /// `fault` with the kernel's NOPAGE retry for an exhausted aperture or
    /// fence pool, and the armed fault failures.
    func faultRetrying(_ file: FileID, pid: Int32, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer,
                       deferring revocations: inout [Invalidation],
                       _ once: (inout [Invalidation]) throws(DrmError) -> Void) throws(DrmError) {
        if let injected = injection.faultFailure(file, pid: pid, offset: offset, length: buffer.count) {
            state.withLock { $0.files[file]?.stats.deniedFaults += 1 }
            throw injected
        }
        var deadline: UInt64 = 0
        while true {
            do throws(DrmError) {
                return try once(&revocations)
            } catch {
                let (aperture, fences) = exhaustion
                guard (error == .ENOSPC && aperture) || (error == .ENOBUFS && fences) else { throw error }
                let now = Self.monotonicNanoseconds()
                if deadline == 0 { deadline = now + Self.exhaustionRetryNanoseconds }
                guard now < deadline else { throw error }
                usleep(2_000)
            }
        }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// One attempt at a fault (fault injection may retry it).
    func faultOnce(_ file: FileID, inode: InodeID, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer,
                   deferring revocations: inout [Invalidation]) throws(DrmError) {
        var copies = FaultCopies(into: buffer)
        try state.withLock { (s: inout DeviceState) throws(DrmError) in
            let f = s.files[file]
            f?.stats.faults += 1
            var served = false
            var done = 0
            while done < buffer.count {
                let at = offset + UInt64(done)
                guard let hit = s.offsets.lookup(page: Page.index(at)) else {
                    // A guard gap (or below the first node): zeros, a page at a time.
                    let n = min(buffer.count - done, Page.remaining(at))
                    copies.zeros(at: done, count: n)
                    done += n
                    continue
                }
                let mmo = hit.value
                guard mmo.mayFault(file) else { f?.stats.deniedFaults += 1; throw DrmError.EACCES }
                s.lifetime.mappings.noteFault(file, mmo)
                // The whole run of this request that lies in this node.
                let inObject = Int(at - mmo.byteOffset)
                let n = min(buffer.count - done, Int(mmo.byteLength) - inObject)
                try s.serve(mmo, at: inObject, inode: inode, deferring: &revocations,
                            into: &copies, replyAt: done, count: n)
                served = true
                done += n
            }
            guard served else { f?.stats.deniedFaults += 1; throw DrmError.EIO }
        }
        copies.perform()
    }

    /// A fault with no answer to wait for (tests, tools): revokes at once.
    public func fault(_ file: FileID, inode: InodeID, offset: UInt64,
                      into buffer: UnsafeMutableRawBufferPointer) throws(DrmError) {
        var revocations: [Invalidation] = []
        defer { cache.invalidate(revocations) }
        try fault(file, inode: inode, offset: offset, into: buffer, deferring: &revocations)
    }

    /// write(2) through open `file` (FUSE WRITE that is no writeback): the
    /// mirror of read(2). Every node in range must be one this open was
    /// allowed on itself (EACCES, as a fault; a `/proc/self/fd/N` reopen is
    /// a new open with no rights of its sibling's); a range that holds no
    /// node at all is EIO; bytes in guard gaps are dropped. Then as
    /// writeback (a readonly object refuses with EACCES).
    public func write(_ file: FileID, inode: InodeID, offset: UInt64, data: UnsafeRawBufferPointer) throws(DrmError) {
        try state.withLock { (s: inout DeviceState) throws(DrmError) in
            let f = s.files[file]
            var any = false
            let pages = PageRange(bytes: offset, count: UInt64(data.count))
            var page = pages.lowerBound
            while page < pages.upperBound {
                guard let hit = s.offsets.lookup(page: page) else {
                    page += 1
                    continue
                }
                guard hit.value.mayFault(file) else { f?.stats.deniedFaults += 1; throw DrmError.EACCES }
                any = true
                page = hit.start + hit.pages
            }
            guard any else { f?.stats.deniedFaults += 1; throw DrmError.EIO }
        }
        try writeback(inode: inode, offset: offset, data: data, fromCache: false)
    }

    /// Writeback of dirty mapped pages (FUSE WRITE). Stores land in the
    /// backing if a file opened through `inode` may map the node, through the
    /// fence layout the page was served with for GTT views; ranges with no
    /// live node are dropped (the object is gone). A readonly object refuses:
    /// EACCES is returned (msync reports it) and the pages get the object's
    /// true contents back, so the client sees what the object holds.
    /// `fromCache` is false for a write(2) through the file: its pages are
    /// locked until the answer, and the kernel drops them on error anyway.
    public func writeback(inode: InodeID, offset: UInt64, data: UnsafeRawBufferPointer,
                          fromCache: Bool = true) throws(DrmError) {
        let refused = state.withLock { (s: inout DeviceState) -> [(Invalidation, [UInt8])] in
            let files = s.inodeFiles[inode] ?? []
            var refused: [(Invalidation, [UInt8])] = []
            var done = 0
            while done < data.count {
                let at = offset + UInt64(done)
                let n = min(data.count - done, Page.remaining(at))
                defer { done += n }
                guard let mmo = s.offsets.lookup(page: Page.index(at))?.value else { continue }
                let obj = mmo.object
                let inObject = Int(at - mmo.byteOffset)
                let layout = mmo.type == .gtt ? obj.servedTiling(page: inObject >> Page.shift, inode: inode) : .none
                let src = UnsafeRawBufferPointer(rebasing: data[done..<done + n])
                if obj.readonly {
                    var truth = [UInt8](repeating: 0, count: n)
                    truth.withUnsafeMutableBytes { obj.copyOut(layout, at: inObject, into: $0) }
                    refused.append((Invalidation(inode: inode, offset: at, length: UInt64(n)), truth))
                } else if !obj.isPurged, obj.pagesError == nil, mmo.mayFault(anyOf: files) {
                    if obj.twins.isEmpty {
                        obj.copyIn(layout, at: inObject, from: src)
                    } else {
                        // A tiled view's page spreads over several: look at every twin.
                        let pages = layout.isTiled ? nil : (inObject >> Page.shift)...((inObject + n - 1) >> Page.shift)
                        obj.twins.merge(obj.backing, candidates: pages) { obj.copyIn(layout, at: inObject, from: src) }
                    }
                    // write(2) through the file leaves the pages cached.
                    if !fromCache { s.noteCached(mmo, inode: inode, bytes: inObject..<inObject + n) }
                    for id in files { s.files[id]?.stats.writebacks += 1 }
                }
            }
            return refused
        }
        guard !refused.isEmpty else { return }
        if fromCache { for (range, truth) in refused { cache.refuse(range, contents: truth) } }
        throw DrmError.EACCES
    }
}

extension DeviceState {
    /// Bytes of a node from object offset `at` as a fault sees them. The
    /// mappings revoked on the way (eviction, fence stealing) are appended to
    /// `revoke` as they happen, so a failure later on keeps them.
    mutating func serve(_ mmo: MmapOffset, at: Int, inode: InodeID, deferring revoke: inout [Invalidation],
                        into copies: inout FaultCopies, replyAt: Int, count: Int) throws(DrmError) {
        let obj = mmo.object
        if obj.isPurged { throw DrmError.EFAULT }
        // vm_fault_gtt/vm_fault_cpu pin the pages first (SIGBUS either way).
        if let e = obj.pagesError { throw e }
        if !mmo.isCached(in: inode) { servedObjects[inode, default: [:]][ObjectIdentifier(obj)] = obj }
        noteCached(mmo, inode: inode, bytes: at..<at + count)
        guard mmo.type == .gtt else {
            let b = obj.backing
            copies.add(b.written ? UnsafeRawPointer(b.base + at) : nil, of: b, at: replyAt, count: count)
            return
        }
        // i915 refuses snooped pages through the GTT without LLC.
        if obj.caching != UInt32(I915_CACHING_NONE), !hasLLC { throw DrmError.EFAULT }
        var vma: Vma?
        var done = 0
        while done < count {
            let l = at + done
            let page = l >> Page.shift
            if vma == nil || !vma!.view.contains(page: page) {
                vma = try gttBinding(mmo, page: page, inode: inode, deferring: &revoke)
            }
            // The rest of the request that this binding covers, in one go.
            let view = vma!.view
            let n = min(count - done, (view.offset + view.pages) << Page.shift - l)
            readThroughAperture(vma!, at: l, inode: inode, into: &copies, replyAt: replyAt + done, count: n)
            done += n
        }
    }

    /// A binding that covers `page`, fenced if the object is tiled: the
    /// whole object if it fits without evicting (PIN_NOEVICT), else a partial
    /// view, evicting least recently used bindings. The mappings revoked by
    /// eviction or fence stealing go to `revoke`, also when it fails after
    /// evicting.
    mutating func gttBinding(_ mmo: MmapOffset, page: Int, inode: InodeID,
                             deferring revoke: inout [Invalidation]) throws(DrmError) -> Vma {
        let obj = mmo.object
        var vma = obj.vmas.first { $0.view.contains(page: page) }
        if vma == nil {
            var evicted: [Vma] = []
            let whole = GttView(offset: 0, pages: Int(obj.pages), isPartial: false)
            (vma, _) = ggtt.bind(obj, whole, reserve: obj.tiling.fenceSize(objectSize: whole.pages << Page.shift) >> Page.shift, evict: false)
            if vma == nil {
                let view = GttView.partial(objectPages: Int(obj.pages), page: page, tiling: obj.tiling)
                (vma, evicted) = ggtt.bind(obj, view, reserve: obj.tiling.fenceSize(objectSize: view.pages << Page.shift) >> Page.shift, evict: true)
            }
            revoke += evicted.flatMap(\.revocations)
        }
        guard let vma else { throw DrmError.ENOSPC }
        // fence_find: no register can be stolen (ENOBUFS, a retried fault).
        if obj.tiling.isTiled, vma.fence == nil, ggtt.fencesExhausted { throw DrmError.ENOBUFS }
        vma.lastUse = ggtt.tick()
        vma.mmo = mmo
        vma.userfault.insert(inode)
        if obj.tiling.isTiled, let victim = ggtt.pinFence(vma, tiling: obj.tiling) {
            revoke += victim.revocations
            victim.userfault = []
        }
        return vma
    }

    /// Reads `count` bytes from object offset `at`, all within `vma`'s view,
    /// through the aperture: the linear offset within the binding is
    /// detiled by the fence, and each tiled page is translated through the
    /// PTEs. Beyond the binding reads scratch (zeros).
    func readThroughAperture(_ vma: Vma, at: Int, inode: InodeID,
                             into copies: inout FaultCopies, replyAt: Int, count: Int) {
        let obj = vma.object
        defer {
            for page in PageRange(bytes: UInt64(at), count: UInt64(count)).range { obj.markServed(page: Int(page), inode: inode) }
        }
        // Nothing ever stored: mapped or scratch, every byte reads zero.
        guard obj.backing.written else {
            copies.zeros(at: replyAt, count: count)
            return
        }
        let size = vma.view.pages << Page.shift, base = obj.backing.base
        var linear = at - vma.view.offset << Page.shift
        guard obj.tiling.isTiled else {
            // Page by page: the binding's pages need not be contiguous in the backing.
            var done = 0
            while done < count {
                let n = min(count - done, Page.remaining(UInt64(linear + done)))
                if let pte = ggtt.pte(vma.start + (linear + done) >> Page.shift) {
                    copies.add(base + pte << Page.shift + Page.offset(linear + done), of: obj.backing,
                               at: replyAt + done, count: n)
                } else {
                    copies.zeros(at: replyAt + done, count: n)
                }
                done += n
            }
            return
        }
        let tiling = obj.tiling
        func source(_ tile: Int) -> UnsafeRawPointer? {
            guard tile + Page.size <= size, let pte = ggtt.pte(vma.start + tile >> Page.shift) else { return nil }
            return UnsafeRawPointer(base + pte << Page.shift)
        }
        var done = 0
        // Y tiling, whole groups of 4 rows: each 64-byte line of a tile holds
        // the same OWord of 4 rows; read once, it fills all four (row by row,
        // a page's 256 OWords share 8 L1 sets and evict each other).
        if tiling.mode == UInt32(I915_TILING_Y), linear % tiling.stride == 0, (linear / tiling.stride) & 3 == 0 {
            let group = tiling.stride << 2
            while count - done >= group {
                let y = linear / tiling.stride
                for tx in 0 ..< tiling.stride >> 7 {
                    let tile = (y >> 5) * (tiling.stride << 5) + tx << Page.shift
                    copies.copyYLines(source(tile), tiling, row: y & 31, column: tx << 7, at: replyAt + done)
                }
                done += group
                linear += group
            }
        }
        // The rest a row of a tile at a time, the tile translated once.
        let rest = count - done
        guard rest > 0 else { return }
        tiling.forEachTileSpan(from: linear, count: rest) { d, tile, x, y, n in
            if let s = source(tile) {
                copies.copyTileSpan(s, tiling, x: x, y: y, count: n, at: replyAt + done + d)
            } else {
                copies.zeros(at: replyAt + done + d, count: n)
            }
        }
    }
}

extension GemObject {
    /// Records that a GTT page was served to `inode` under the current
    /// tiling. Generation 0 is the untiled state every object starts in; an
    /// object that never left it needs no record.
    func markServed(page: Int, inode: InodeID) {
        guard tilingGeneration != 0 || tiling.isTiled else { return }
        servedGeneration[inode, default: ServedGenerations()][page: page] = tilingGeneration
    }

    /// The layout a GTT page was served to `inode` with.
    func servedTiling(page: Int, inode: InodeID) -> Tiling {
        let g = servedGeneration[inode]?[page: page] ?? 0
        return g == tilingGeneration ? tiling : tilingHistory[g] ?? .none
    }

    /// Reads linear bytes at `offset` as seen through a fence with `layout`:
    /// zeros where the object was never written or (an incomplete tile row)
    /// where the tiled place lies past it. Tiled, a tile row at a time, as
    /// copyIn.
    func copyOut(_ layout: Tiling, at offset: Int, into dst: UnsafeMutableRawBufferPointer) {
        let size = Int(self.size)
        guard layout.isTiled else {
            if offset + dst.count <= size { backing.copyOut(at: offset, into: dst.baseAddress!, count: dst.count) }
            else { dst.initializeMemory(as: UInt8.self, repeating: 0) }
            return
        }
        let base = backing.base, written = backing.written
        layout.forEachTileSpan(from: offset, count: dst.count) { done, tile, x, y, n in
            if written, tile + Page.size <= size {
                layout.moveSpan(tile: base + tile, x: x, y: y, count: n, linear: dst.baseAddress! + done, intoTile: false)
            } else {
                (dst.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            }
        }
    }

    /// Writes linear bytes at `offset` through a fence with `layout`; bytes
    /// whose tiled place lies past the object (an incomplete tile row) drop.
    /// Tiled, a tile at a time (writeback of Y-tiled GTT stores is 256 runs
    /// a page).
    func copyIn(_ layout: Tiling, at offset: Int, from src: UnsafeRawBufferPointer) {
        let size = Int(self.size)
        guard layout.isTiled else {
            if offset + src.count <= size { backing.copyIn(at: offset, from: src.baseAddress!, count: src.count) }
            return
        }
        guard backing.reserved else { return }
        backing.willWrite()
        let base = backing.base
        layout.forEachTileSpan(from: offset, count: src.count) { done, tile, x, y, n in
            // Tiles are pages and objects whole pages: a tile is in or out.
            guard tile + Page.size <= size else { return }
            layout.moveSpan(tile: base + tile, x: x, y: y, count: n,
                            linear: UnsafeMutableRawPointer(mutating: src.baseAddress! + done), intoTile: true)
        }
    }
}
