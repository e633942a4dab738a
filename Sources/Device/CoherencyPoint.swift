/// Coherency points, decided here. Each view (GTT/WC/WB/UC node) of an
/// object in each open is a page cache of its own, so a store through one is
/// in the object only once its dirty page is written back. A coherency point
/// (SET_DOMAIN, SW_FINISH, PREAD, PWRITE, SET_TILING, msync, a new mapping
/// grant) writes back and drops every cached copy, so that every view, in
/// every open, faulted before or after it, shows the latest bytes.
///
/// The one shortcut (SET_DOMAIN, SW_FINISH): when the object has a single
/// node any file may fault, and only the caller may fault it, its one page
/// cache is coherent with itself and nothing else can read the object
/// through a mapping, so the write-back is skipped and `skippedWriteBack`
/// set. Another view can only appear through an ioctl that grants it
/// (MMAP_OFFSET, MMAP_GTT, the legacy MMAP: `allowMapping`), which then
/// flushes first; PREAD/PWRITE flush anyway. A node allowed but not yet
/// faulted counts as a view: it may be mapped already and faulted next.
extension DeviceState {
    /// Nodes up to this many pages are revoked whole: one readahead window.
    static var untrackedPages: UInt64 { UInt64(OffsetManager<MmapOffset>.readaheadBytes >> Page.shift) }

    /// A fault (or write(2)) put bytes `bytes` of `mmo` in `inode`'s page cache.
    mutating func noteCached(_ mmo: MmapOffset, inode: InodeID, bytes: Range<Int>) {
        mmo.noteUserfault(inode)
        guard mmo.pages > Self.untrackedPages, !bytes.isEmpty else { return }
        let key = CacheKey(object: mmo.object.serial, type: mmo.type.rawValue, inode: inode)
        let pages = PageRange(bytes: UInt64(bytes.lowerBound), count: UInt64(bytes.count)).range
        cachedPages[key, default: CachedPages()].cached.insert(pages)
    }

    /// Every cached copy of `obj` (but `inode`'s, and of `types` only when
    /// given): the ranges to write back and drop. Small nodes are revoked
    /// whole; larger ones by the pages served since the last coherency point
    /// plus those still being revoked by another.
    mutating func takeCached(of obj: GemObject, except inode: InodeID? = nil, types: Set<MmapType>? = nil) -> Flush {
        var out = Flush()
        for mmo in obj.mmos where types?.contains(mmo.type) ?? true {
            for ino in mmo.cachedIn where ino != inode {
                guard mmo.pages > Self.untrackedPages else {
                    out.ranges.append(Invalidation(inode: ino, offset: mmo.byteOffset, length: mmo.byteLength))
                    continue
                }
                let key = CacheKey(object: obj.serial, type: mmo.type.rawValue, inode: ino)
                guard let i = cachedPages.index(forKey: key) else { continue }
                let taken = cachedPages.values[i].cached
                cachedPages.values[i].cached = PageRuns()
                cachedPages.values[i].flushing.formUnion(taken)
                let runs = cachedPages.values[i].flushing.runs
                guard !runs.isEmpty else { continue }
                cachedPages.values[i].flushes += 1
                out.taken.append(key)
                for r in runs {
                    out.ranges.append(Invalidation(inode: ino, offset: mmo.byteOffset + r.lowerBound << Page.shift,
                                                   length: UInt64(r.count) << Page.shift))
                }
            }
        }
        if inode == nil, types == nil {
            obj.skippedWriteBack = false
            if !obj.twins.isEmpty { out.twins.append(TwinRelease(object: obj, stamp: obj.twins.stamp)) }
        }
        return out
    }

    /// The revocations of `taken` are done.
    mutating func finish(_ taken: [CacheKey]) {
        for key in taken {
            guard let i = cachedPages.index(forKey: key) else { continue }
            cachedPages.values[i].flushes -= 1
            if cachedPages.values[i].flushes == 0 { cachedPages.values[i].flushing = PageRuns() }
            if cachedPages.values[i].isIdle { cachedPages.remove(at: i) }
        }
    }

    /// The node goes: its records with it.
    mutating func forgetCached(_ mmo: MmapOffset) {
        guard mmo.pages > Self.untrackedPages else { return }
        for ino in mmo.cachedIn {
            cachedPages[CacheKey(object: mmo.object.serial, type: mmo.type.rawValue, inode: ino)] = nil
        }
    }

    /// SET_DOMAIN / SW_FINISH by `f`: a full flush, or the lone-view shortcut.
    mutating func coherencyPoint(_ obj: GemObject, by f: DrmFile) -> Flush {
        if obj.isLoneView(of: f) {
            obj.skippedWriteBack = true
            return Flush()
        }
        return takeCached(of: obj)
    }
}

extension GemObject {
    /// Whether `f` alone may fault the object, through one node only, and
    /// only `f`'s page cache holds it: the shortcut's proof obligation.
    func isLoneView(of f: DrmFile) -> Bool {
        var lone: MmapOffset?
        for mmo in mmos where !mmo.holders.isEmpty {
            guard lone == nil else { return false }
            lone = mmo
        }
        guard let lone else { return false }
        return lone.holders.count == 1 && lone.mayFault(f.id)
            && lone.cachedIn.allSatisfy { $0 == f.inode }
    }
}

extension DrmDevice {
    /// Runs a coherency point's revocations (with the lock released: they
    /// wait for write-backs that take it), then gives its records back.
    func flush(_ f: Flush) {
        cache.invalidate(f.ranges)
        guard !f.taken.isEmpty || !f.twins.isEmpty else { return }
        state.withLock { s in
            s.finish(f.taken)
            for t in f.twins { t.object.twins.release(upTo: t.stamp) }
        }
    }
}
