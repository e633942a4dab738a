import CDrm

/// Files the daemon makes for a client (strict mode): sync_files, syncobj
/// files and dma-bufs, each served as a hidden file of the mount that the preload
/// library opens to create the fd the kernel would have installed
/// (include/fakedrm.h, "Daemon-made file descriptors"). A token names one;
/// its inode is FAKEDRM_EXPORT_INO_BASE + token.
struct Export {
    enum Kind {
        case syncFile(SyncFile)
        /// A syncobj file (drm_syncobj_get_fd's "syncobj_file"): the same
        /// syncobj, which every handle imported from it shares.
        case syncobj(Syncobj)
        /// A sw_sync timeline: one open of the sw_sync file (SwSync.swift).
        case swSync(SwSyncTimeline)
        /// A dma-buf: the object, held by a hidden drm_file of its own
        /// (`holder`, a handle on it: the dma-buf's object reference), whose
        /// WB node at `mapOffset` backs the export file's pages.
        case dmaBuf(GemObject, holder: FileID, mapOffset: UInt64)
    }

    let kind: Kind
    /// The open whose ioctl made it: an export nobody ever opened goes
    /// with that open (the library died between the ioctl and its open).
    let creator: FileID
    /// Threads whose ioctl returned this token and have not opened it yet:
    /// only they may look its name up, once each.
    var tickets: [Int32]
    var opens = 0
    var claimed = false

    init(kind: Kind, creator: FileID, creatorPid: Int32) {
        self.kind = kind
        self.creator = creator
        self.tickets = [creatorPid]
    }
}

struct ExportTable {
    var exports: [UInt32: Export] = [:]
    /// obj->dma_buf: an object's live dma-buf, so a second export is the same one.
    var dmaBufs: [ObjectIdentifier: UInt32] = [:]
    private var last: UInt32 = 0

    mutating func add(_ e: Export) -> UInt32 {
        let token = reserve()
        insert(token, e)
        return token
    }

    /// A token no export has (never 0 or ~0).
    mutating func reserve() -> UInt32 {
        repeat {
            last &+= 1
        } while last == FAKEDRM_TOKEN_NONE || last == FAKEDRM_TOKEN_BADF || exports[last] != nil
        return last
    }

    mutating func insert(_ token: UInt32, _ e: Export) {
        exports[token] = e
        if case .dmaBuf(let obj, _, _) = e.kind { dmaBufs[ObjectIdentifier(obj)] = token }
    }

    /// Drops an export; returns it.
    mutating func remove(_ token: UInt32) -> Export? {
        guard let e = exports.removeValue(forKey: token) else { return nil }
        if case .dmaBuf(let obj, _, _) = e.kind { dmaBufs[ObjectIdentifier(obj)] = nil }
        return e
    }

    func syncFile(_ token: UInt32) -> SyncFile? {
        if case .syncFile(let f)? = exports[token]?.kind, exports[token]!.claimed { return f }
        return nil
    }

    func syncobj(_ token: UInt32) -> Syncobj? {
        if case .syncobj(let o)? = exports[token]?.kind, exports[token]!.claimed { return o }
        return nil
    }

    func dmaBuf(_ token: UInt32) -> GemObject? {
        if case .dmaBuf(let obj, _, _)? = exports[token]?.kind, exports[token]!.claimed { return obj }
        return nil
    }
}

extension DrmDevice {
    public static func exportInode(_ token: UInt32) -> InodeID {
        InodeID(rawValue: UInt64(FAKEDRM_EXPORT_INO_BASE) + UInt64(token))
    }

    /// The token an export inode stands for, or nil.
    public static func exportToken(inode: InodeID) -> UInt32? {
        let base = UInt64(FAKEDRM_EXPORT_INO_BASE)
        let ino = inode.rawValue
        guard ino > base, ino - base < UInt64(FAKEDRM_TOKEN_BADF) else { return nil }
        return UInt32(ino - base)
    }

    /// What the transport serves for an export file.
    public enum ExportFile: Sendable {
        case syncFile
        /// An anon inode with only a release method: no read, poll or ioctl.
        case syncobj
        /// sw_sync's debugfs file: only its two ioctls.
        case swSync
        /// Its size, and the device offset of its pages (the object's WB node).
        /// Not `mappable` when the object has no shmem file (USERPTR):
        /// i915_gem_dmabuf_mmap's ENODEV.
        case dmaBuf(size: UInt64, mapOffset: UInt64, holder: FileID, mappable: Bool)
    }

    /// LOOKUP of an export's name: only by a thread whose ioctl returned the
    /// token and has not opened it since. Otherwise nil (ENOENT).
    public func lookupExport(_ token: UInt32, pid: Int32, uid: UInt32) -> ExportFile? {
        state.withLock { s in
            guard let e = s.exports.exports[token], e.tickets.contains(pid) else { return nil }
            return Self.describe(e)
        }
    }

    /// GETATTR of an export inode: nil once it is gone.
    public func exportAttributes(_ token: UInt32) -> ExportFile? {
        state.withLock { s in s.exports.exports[token].map(Self.describe) }
    }

    private static func describe(_ e: Export) -> ExportFile {
        switch e.kind {
        case .syncFile: .syncFile
        case .syncobj: .syncobj
        case .swSync: .swSync
        case .dmaBuf(let obj, let holder, let at): .dmaBuf(size: obj.size, mapOffset: at, holder: holder, mappable: obj.userptr == nil)
        }
    }

    /// OPEN of an export inode: uses the caller's ticket (its name was just
    /// looked up), or shares a live one (a /proc/PID/fd reopen).
    public func openExport(_ token: UInt32, pid: Int32) -> Bool {
        state.withLock { s in
            guard var e = s.exports.exports[token] else { return false }
            if let i = e.tickets.firstIndex(of: pid) {
                e.tickets.remove(at: i)
                e.claimed = true
            } else if e.opens == 0 {
                return false
            }
            e.opens += 1
            s.exports.exports[token] = e
            return true
        }
    }

    /// RELEASE of an export file: the last one frees it (a dma-buf's holder
    /// lets go of the object, which then lives on only by its handles).
    public func releaseExport(_ token: UInt32) {
        let (holder, closed) = state.withLock { s -> (FileID?, [Request]) in
            guard var e = s.exports.exports[token] else { return (nil, []) }
            e.opens -= 1
            guard e.opens <= 0 else {
                s.exports.exports[token] = e
                return (nil, [])
            }
            guard let gone = s.exports.remove(token) else { return (nil, []) }
            // A sw_sync timeline's pending points signal with -ENOENT.
            if case .swSync(let tl) = gone.kind { return (nil, tl.close()) }
            return (Self.holder(of: gone), [])
        }
        for rq in closed { rq.signal() }
        if let holder { release(holder) }
    }

    static func holder(of e: Export) -> FileID? {
        if case .dmaBuf(_, let h, _) = e.kind { return h }
        return nil
    }

    /// An open going: the exports it made that were never opened go too.
    func dropUnclaimedExports(_ s: inout DeviceState, of file: FileID) -> [FileID] {
        let dead = s.exports.exports.filter { $0.value.creator == file && !$0.value.claimed }.map(\.key)
        return dead.compactMap { s.exports.remove($0).flatMap { Self.holder(of: $0) } }
    }

    /// Whether the preload library has probed this open (strict mode).
    func isStrict(_ s: borrowing DeviceState, _ file: FileID) -> Bool { s.files[file]?.strict ?? false }

    /// PROBE on a device fd: the library runs in this open's process.
    public func markStrict(_ file: FileID) {
        state.withLock { s in s.files[file]?.strict = true }
    }
}
