import Synchronization

/// The emulated i915 device: all files, objects and offset nodes, behind
/// one lock. Each public method is one uapi operation with the kernel's
/// rules and errnos; the uapi layer only decodes and encodes.
public final class DrmDevice: Sendable {
    public let profile: DeviceProfile
    let cache: any PageCacheControl
    let state: DeviceLock<DeviceState>
    /// Armed through the debug tree's fault-injection files.
    public let injection = FaultInjection()
    /// The device's copy of the module parameters (debugfs i915_params).
    public let params = ModuleParams()
    /// I915_WEDGED: a reset failed or was refused (DrmDevice+Reset.swift).
    let wedged = Atomic<Bool>(false)
    /// The GPU's engines, each running requests on its own thread (GPU/).
    let engines = Engine.tigerLake()
    /// Told about zombies after a handle close (ZombieWatch.swift).
    let zombieWatcher = Mutex<(any ZombieWatcher)?>(nil)
    /// The FUSE mount's device number, 1 << 63 | major << 32 | minor, or 0
    /// (DrmDevice+Userptr.swift: mappings of it are not user pages).
    let mountDeviceNumber = Atomic<UInt64>(0)
    /// `--trace-commands`: each command the engines run or skip, or nil.
    let commandTrace: (any CommandTraceSink)?

    public init(profile: DeviceProfile = DeviceProfile(), cache: any PageCacheControl = NoPageCache(),
                commandTrace: (any CommandTraceSink)? = nil) {
        self.profile = profile
        self.cache = cache
        self.commandTrace = commandTrace
        self.state = DeviceLock(DeviceState(ggtt: Ggtt(mappableBytes: profile.apertureSize, fences: profile.fences), hasLLC: profile.hasLLC))
    }

    // MARK: files

    /// drm_open: a new drm_file. The first open of the primary node while no
    /// master exists becomes master; `privileged` (CAP_SYS_ADMIN, here root)
    /// makes a file authenticated.
    public func open(minor: Minor, inode: InodeID, pid: Int32, uid: UInt32 = 0, privileged: Bool) -> FileID {
        state.withLock { s in
            s.nextFileID = s.nextFileID.next
            let file = DrmFile(id: s.nextFileID, minor: minor, inode: inode, pid: pid, uid: uid, authenticated: privileged)
            if minor == .primary, s.master == nil {
                s.master = file.id
                file.isMaster = true
                file.wasMaster = true
                file.authenticated = true
                file.master = DrmMaster()
            } else if minor == .primary {
                // drm_master_open: a reference to the current master.
                file.master = s.master.flatMap { s.files[$0]?.master }
            }
            // A /proc/self/fd/N reopen shares the inode the library probed:
            // it is in strict mode too (Exports/).
            file.strict = s.inodeFiles[inode]?.contains { s.files[$0]?.strict == true } ?? false
            s.files[file.id] = file
            s.inodeFiles[inode, default: []].insert(file.id)
            return file.id
        }
    }

    /// drm_release: closes every handle, as drm_gem_release does, and lets go
    /// of objects kept alive only for this file's possible mappings. FUSE
    /// sends RELEASE after the last mapping made through the file is gone.
    public func release(_ id: FileID) {
        var holders: [FileID] = []
        defer { for h in holders { release(h) } }
        withLock(revoking: { (s: inout DeviceState, revoke: inout Flush) in
            guard let file = s.files.removeValue(forKey: id) else { return }
            holders = dropUnclaimedExports(&s, of: id)
            s.lifetime.mappings.release(id)
            for ctx in s.gpu.files[id]?.contexts.values.map({ $0 }) ?? [] { preemptFor(killed: ctx) }
            s.gpu.close(file: id)
            injection.forget(id)
            if s.master == id { s.master = nil }
            s.inodeFiles[file.inode]?.remove(id)
            if s.inodeFiles[file.inode]?.isEmpty == true {
                s.inodeFiles[file.inode] = nil
                revoke += s.forget(inode: file.inode)
            }
            revoke += s.releaseObjects(of: file)
        })
    }

    /// Runs `body` on a file's state, or fails with EBADF-like ENODEV when the
    /// transport names a file the device does not know (it never should).
    func withFile<R>(_ id: FileID, _ body: (inout DeviceState, DrmFile) throws(DrmError) -> sending R) throws(DrmError) -> R {
        try state.withLock { (s: inout DeviceState) throws(DrmError) -> sending R in
            guard let file = s.files[id] else { throw DrmError.ENODEV }
            file.stats.ioctls += 1
            return try body(&s, file)
        }
    }
}

/// Everything the device lock guards.
struct DeviceState: ~Copyable {
    var files: [FileID: DrmFile] = [:]
    /// Which files were opened through each inode: a writeback names only the inode.
    var inodeFiles: [InodeID: Set<FileID>] = [:]
    /// Objects whose nodes served each inode (it is on their userfault
    /// lists): what to forget when the inode's last open goes.
    var servedObjects: [InodeID: [ObjectIdentifier: GemObject]] = [:]
    var nextFileID: FileID = 0
    var master: FileID?
    var offsets = OffsetManager<MmapOffset>(guardPages: OffsetManager<MmapOffset>.readaheadGuardPages)
    var nextSerial: UInt64 = 0
    /// What holds each object and when it dies: flink names, registered
    /// mappings, zombies, the counts (ObjectLifetime.swift).
    var lifetime = ObjectLifetime()
    var ggtt: Ggtt
    /// Contexts, VMs and requests (GPU/).
    var gpu = GpuState()
    /// sync_files and dma-bufs served as files (Exports/).
    var exports = ExportTable()
    /// The profile's HAS_LLC (the GTT snoop rule needs it under the lock).
    let hasLLC: Bool
    /// Pages each (large node, inode) may hold cached: CoherencyPoint.swift.
    var cachedPages: [CacheKey: CachedPages] = [:]

    init(ggtt: Ggtt, hasLLC: Bool) {
        self.ggtt = ggtt
        self.hasLLC = hasLLC
    }

    /// A device dropped with live objects (tests; never the daemon) breaks
    /// the object ↔ node and object ↔ binding cycles, so that the leak
    /// checker sees only real leaks.
    deinit {
        for f in files.values {
            for obj in Array(f.handles.values) + Array(f.mappable.values) {
                obj.mmos = []
                obj.vmas = []
            }
        }
    }

    /// Unbinds every GGTT binding of `obj`; returns the ranges to revoke.
    mutating func unbindAll(_ obj: GemObject) -> [Invalidation] {
        var out: [Invalidation] = []
        for vma in obj.vmas {
            out += vma.revocations
            ggtt.unbind(vma)
        }
        return out
    }

    /// The last open of `inode` is released: no mapping of it is left (FUSE
    /// wrote its dirty pages back before RELEASE). Whatever the device kept
    /// about it goes now, not with the objects: the pages each served
    /// (per-page tiling generations) and its places on userfault lists.
    /// Its cached copies are dropped with them (returned, to revoke): an
    /// O_PATH descriptor can still reopen the inode through /proc/self/fd,
    /// and a new open must fault afresh, not find pages whose layout the
    /// device no longer remembers.
    mutating func forget(inode: InodeID) -> [Invalidation] {
        guard let objects = servedObjects.removeValue(forKey: inode) else { return [] }
        var out: [Invalidation] = []
        for obj in objects.values {
            obj.servedGeneration[inode] = nil
            for mmo in obj.mmos where mmo.isCached(in: inode) {
                mmo.dropUserfault(inode)
                out.append(Invalidation(inode: inode, offset: mmo.byteOffset, length: mmo.byteLength))
            }
            for vma in obj.vmas { vma.userfault.remove(inode) }
        }
        return out
    }

    /// A freed object no longer served `inode`.
    mutating func forgetServed(_ obj: GemObject, inode: InodeID) {
        servedObjects[inode]?[ObjectIdentifier(obj)] = nil
        if servedObjects[inode]?.isEmpty == true { servedObjects[inode] = nil }
    }

    /// The object a handle names in a file, or ENOENT.
    func lookup(_ h: Handle, in file: DrmFile) throws(DrmError) -> GemObject {
        guard let obj = file.handles[h] else { throw DrmError.ENOENT }
        return obj
    }
}
