/// When a GEM object dies: the one place that decides it.
///
/// The kernel counts two things on a drm_gem_object: `handle_count` (its
/// handles in every file) and `refcount` (handles, mmap VMAs, dma-bufs,
/// requests…); it is freed when the refcount drops to 0. The daemon never
/// sees mmap or munmap, so it cannot count mappings; it keeps the holders
/// it can know instead, and the rule is:
///
/// **An object lives while one of these holds it:**
/// 1. a handle, in any file: `GemObject.handleCount` (DrmFile.addHandle /
///    removeHandle, as drm_gem_handle_create / drm_gem_handle_delete). A
///    PRIME import is a handle; so is a dma-buf's (Exports/): its hidden
///    holder file keeps one until the dma-buf's last fd is released.
/// 2. a registered mapping (strict mode): `mappings`, from the library's
///    report of an mmap (or the legacy GEM_MMAP) to the last VMA_CLOSE, a
///    fork's copy counted (a VMA's reference, i915_gem_mmap to vm_close).
/// 3. a possible mapping: a file allowed on one of its nodes
///    (`DrmFile.mappable`, `MmapOffset.holders`) whose mappings are not all
///    registered (plain mode, or a strict file that faulted through a mapping
///    nobody reported) may map it. It lets go at its RELEASE (FUSE sends it
///    once no mapping made through it is left) or when the reclaim scan
///    finds none of its mappings (DrmDevice+Reclaim.swift).
///
/// **Not holders:**
/// - a flink name: it lives while handles do and goes with the last one
///   (drm_gem_object_handle_free); GEM_OPEN of it then is ENOENT.
/// - an in-flight GPU request: it keeps the Swift object, so the backing
///   pages it reads and writes stay valid until it retires (GPU/Request.swift),
///   but not the uapi object: nodes, GGTT bindings and the counts go at
///   free, ppGTT bindings are weak and go with the Swift object. i915 keeps
///   the object until the request retires; nothing of it can be reached
///   from the uapi in between, so the difference does not show.
/// - a userptr's client memory: the creator's. The object is counted
///   (`userptrCount`) and holds the creator's address space open
///   (UserptrMemory) until it goes.
///
/// An object with no handle that something else still holds is a
/// **zombie**: counted here for the plain-mode reclaim scan, and reported to
/// the mount's ZombieWatcher after a handle close (ZombieWatch.swift).
///
/// **When it is decided:** whenever a holder lets go (`DeviceState.put`):
/// GEM_CLOSE and MODE_DESTROY_DUMB, VMA_CLOSE, a file's release (its
/// handles, its possible mappings; a dma-buf's holder file when its last fd
/// goes), and a reclaim scan. With no holder left the object is freed at
/// once: marked `freed`, unbound from the GGTT, its nodes leave the offset
/// space and their cached pages are revoked, and it leaves the counts.
struct ObjectLifetime {
    /// Objects not yet freed, the bytes they hold, and how many are userptr
    /// (debug/i915_gem_objects).
    private(set) var count = 0
    private(set) var bytes: UInt64 = 0
    private(set) var userptrCount = 0
    /// Objects with no handle left, held only by (possible) mappings.
    private var zombies: [UInt64: GemObject] = [:]   // by serial
    private var zombieBytes: UInt64 = 0
    /// Strict mode's registered mappings (holder 2).
    var mappings = MappingRegistry()
    /// Flink names (dev->object_name_idr): not holders.
    private var names: [FlinkName: GemObject] = [:]
    private var nameIDs = IDAllocator()

    /// A new object (GEM_CREATE, USERPTR): counted until it is freed.
    mutating func created(_ obj: GemObject) {
        count += 1
        bytes += obj.accountedBytes
        if obj.userptr != nil { userptrCount += 1 }
    }

    // MARK: flink names

    /// drm_gem_flink_ioctl: the object's one global name, made on first use.
    mutating func flink(_ obj: GemObject) -> FlinkName {
        if let name = obj.flinkName { return name }
        let name = FlinkName(rawValue: nameIDs.allocate())
        obj.flinkName = name
        names[name] = obj
        return name
    }

    /// drm_gem_open_ioctl's lookup: nil when no object has the name.
    func object(named name: FlinkName) -> GemObject? { names[name] }

    /// drm_gem_object_handle_free: the last handle takes the name with it.
    mutating func handleClosed(_ obj: GemObject) {
        guard obj.handleCount == 0, let name = obj.flinkName else { return }
        names[name] = nil
        nameIDs.free(name.rawValue)
        obj.flinkName = nil
    }

    // MARK: the rule

    /// Whether anything still holds `obj` (holders 1 to 3 above).
    func isHeld(_ obj: GemObject) -> Bool {
        obj.handleCount > 0 || mappings.isMapped(obj)
            || obj.mmos.contains { $0.holders.contains { !mappings.tracksEveryMapping(of: $0) } }
    }

    /// A holder of `obj` let go (drm_gem_object_put): true when none is
    /// left, so the object is freed now (and counted out); otherwise it is
    /// a zombie if it has no handle.
    mutating func put(_ obj: GemObject) -> Bool {
        guard !obj.freed else { return false }
        let zombie = zombies[obj.serial] != nil
        guard !isHeld(obj) else {
            if obj.handleCount == 0, !zombie {
                zombies[obj.serial] = obj
                zombieBytes += obj.accountedBytes
            }
            return false
        }
        obj.freed = true
        if zombie {
            zombies[obj.serial] = nil
            zombieBytes -= obj.accountedBytes
        }
        count -= 1
        bytes -= obj.accountedBytes
        if obj.userptr != nil { userptrCount -= 1 }
        return true
    }

    // MARK: zombies

    /// How many zombies there are, and the bytes they hold.
    var zombieUsage: (count: Int, bytes: UInt64) { (zombies.count, zombieBytes) }

    /// The serials of the zombies of this instant.
    var zombieSerials: [UInt64] { Array(zombies.keys) }

    /// The zombie with this serial, if it still is one.
    func zombie(serial: UInt64) -> GemObject? { zombies[serial] }
}

extension DeviceState {
    /// drm_gem_object_release_handle: revoke the file on every node of the
    /// object (i915_gem_close_object), drop the flink name with the last
    /// handle. The caller then `put`s the object.
    mutating func closeHandle(_ h: Handle, of file: DrmFile) -> GemObject? {
        guard let obj = file.removeHandle(h) else { return nil }
        for mmo in obj.mmos { mmo.revoke(file.id) }
        lifetime.handleClosed(obj)
        return obj
    }

    /// drm_gem_release and the possible mappings' end: a released file's
    /// handles close, and it stops holding the objects it was allowed to map.
    mutating func releaseObjects(of file: DrmFile) -> [Invalidation] {
        var revoke: [Invalidation] = []
        for h in Array(file.handles.keys) {
            if let obj = closeHandle(h, of: file) { revoke += put(obj) }
        }
        for obj in file.mappable.values {
            for mmo in obj.mmos { mmo.forget(file.id) }
            revoke += put(obj)
        }
        file.mappable = [:]
        return revoke
    }

    /// A holder of `obj` let go: frees it if it was the last (ObjectLifetime's
    /// rule). Returns the page-cache ranges to revoke so no stale copy
    /// outlives it.
    mutating func put(_ obj: GemObject) -> [Invalidation] {
        guard lifetime.put(obj) else { return [] }
        var invals = unbindAll(obj)
        for mmo in obj.mmos {
            for id in mmo.holders { files[id]?.mappable[ObjectIdentifier(obj)] = nil }
            for ino in mmo.cachedIn { forgetServed(obj, inode: ino) }
            invals += mmo.cachedIn.map { Invalidation(inode: $0, offset: mmo.byteOffset, length: mmo.byteLength) }
            forgetCached(mmo)
            offsets.remove(start: mmo.start)
        }
        obj.mmos = []
        return invals
    }
}
