import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// USERPTR (gem/i915_gem_userptr.c): objects whose pages are the creating
/// process's own memory.
///
/// The GPU here reads and writes a daemon-side copy (`backing`): filled from
/// the client's memory at execbuf (an idle object's) and again when a
/// request starts executing (the GPU sees the client's bytes at that
/// moment; a range unmapped meanwhile keeps the execbuf's), and the bytes the GPU changed written
/// back to the client before the request's fence signals. A readonly
/// userptr's copy is never written back: the daemon never stores to it.
extension DrmDevice {
    /// i915_gem_userptr_ioctl, its checks in the kernel's order. `pid` is the
    /// calling thread: its process's address space backs the object.
    public func gemUserptr(_ file: FileID, pid: Int32, address: UInt64, size: UInt64, flags: UInt32) throws(DrmError) -> Handle {
        // Coherent userptr needs LLC or snooping.
        guard profile.hasLLC || profile.hasSnoop else { throw DrmError.ENODEV }
        let known = UInt32(I915_USERPTR_READ_ONLY) | UInt32(I915_USERPTR_UNSYNCHRONIZED) | UInt32(I915_USERPTR_PROBE)
        guard flags & ~known == 0 else { throw DrmError.EINVAL }
        // i915_gem_object_size_2big: any u64 fits obj->base.size (size_t) on 64-bit.
        guard size != 0 else { throw DrmError.EINVAL }
        guard Page.offset(address | size) == 0 else { throw DrmError.EINVAL }
        guard Self.accessOK(address, size) else { throw DrmError.EFAULT }
        // Unsynchronized userptr was removed (5.13): ENODEV.
        if flags & UInt32(I915_USERPTR_UNSYNCHRONIZED) != 0 { throw DrmError.ENODEV }
        // READ_ONLY needs vm->has_read_only: gen12's ppGTT has read-only PTEs.
        if flags & UInt32(I915_USERPTR_PROBE) != 0 {
            // probe_range: every page covered by a VMA that is not IO/PFNMAP.
            guard let tgid = UserptrMemory.tgid(of: pid), let maps = ProcMapping.all(of: tgid),
                  ProcMapping.check(maps, address: address, length: size, device: mountDevice,
                                    needWrite: false, needRead: false) == nil else { throw DrmError.EFAULT }
        }
        // Deviation: a caller whose memory the daemon cannot open (not root,
        // or gone) cannot have a userptr; the kernel always can.
        guard let memory = UserptrMemory(pid: pid, address: address, size: Int(size)) else { throw DrmError.EFAULT }
        let backing = Backing(size: Int(size)) ?? Backing(unreservedSize: Int(size))
        return try withFile(file) { (s, f) throws(DrmError) in
            s.nextSerial += 1
            // i915_gem_object_set_cache_coherency(obj, I915_CACHE_LLC).
            let obj = GemObject(serial: s.nextSerial, size: size, backing: backing, caching: UInt32(I915_CACHING_CACHED))
            obj.userptr = memory
            obj.readonly = flags & UInt32(I915_USERPTR_READ_ONLY) != 0
            s.lifetime.created(obj)
            return f.addHandle(obj)
        }
    }

    /// The device's FUSE mount (major, minor): mappings of it are the
    /// device's own (the kernel's VM_PFNMAP GTT mmaps), never user pages.
    var mountDevice: (UInt32, UInt32)? {
        let v = mountDeviceNumber.load(ordering: .relaxed)
        return v == 0 ? nil : (UInt32((v >> 32) & 0x7FFF_FFFF), UInt32(truncatingIfNeeded: v))
    }

    /// Set by the transport once mounted.
    public func setMountDevice(major: UInt32, minor: UInt32) {
        mountDeviceNumber.store(1 << 63 | UInt64(major) << 32 | UInt64(minor), ordering: .relaxed)
    }

    /// i915_gem_object_userptr_submit_init: only the creating process may pin
    /// the pages (its mm), every page must be mapped normal memory, writable
    /// unless the object is readonly (FOLL_WRITE). EFAULT otherwise. Runs
    /// without the device lock. With `fill`, what was read becomes the
    /// object's copy while no request uses it: the pinned pages hold the
    /// client's bytes of this moment, so a range unmapped before the request
    /// starts still runs them (IGT frees a queued userptr spinner: the
    /// kernel's munmap waits for the request, i915_gem_userptr_invalidate).
    func pinUserptr(_ memory: UserptrMemory, readonly: Bool, caller pid: Int32, maps known: [ProcMapping]? = nil,
                    fill: (object: ObjectIdentifier, backing: Backing)? = nil) throws(DrmError) {
        guard let tgid = UserptrMemory.tgid(of: pid), tgid == memory.tgid else { throw DrmError.EFAULT }
        guard let maps = known ?? ProcMapping.all(of: tgid),
              ProcMapping.check(maps, address: memory.address, length: UInt64(memory.size), device: mountDevice,
                                needWrite: !readonly, needRead: true) == nil else { throw DrmError.EFAULT }
        // Same pid, other mm (exec'd): the object's mm has no users left.
        guard memory.isAlive else { throw DrmError.EFAULT }
        // pin_user_pages faults every page in: one that cannot be had (a
        // file mapping past its end, a page nobody provides) is EFAULT. Read
        // into scratch: the object's copy may be in use by the engine.
        let chunk = min(memory.size, 64 << 10)
        var fill = fill
        let ok = withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 16) { buf -> Bool in
            var at = 0
            while at < memory.size {
                let n = min(chunk, memory.size - at)
                guard memory.read(at: at, into: buf.baseAddress!, count: n) else { return false }
                if let (key, backing) = fill, backing.reserved {
                    let idle = state.withLock { s -> Bool in
                        guard (s.gpu.active[key] ?? []).allSatisfy(\.isDone) else { return false }
                        backing.willWrite()
                        (backing.base + at).copyMemory(from: buf.baseAddress!, byteCount: n)
                        return true
                    }
                    if !idle { fill = nil }
                }
                at += n
            }
            return true
        }
        guard ok else { throw DrmError.EFAULT }
    }

    /// Pins every userptr object of an execbuf (eb_lookup_vmas), once each.
    /// (`userptr` never changes once the object is published; `readonly` is
    /// read under the lock.)
    func pinUserptrs(_ objects: [GemObject], caller pid: Int32) throws(DrmError) {
        guard objects.contains(where: { $0.userptr != nil }) else { return }
        let pins = state.withLock { _ -> [(ObjectIdentifier, Backing, UserptrMemory, Bool, Bool)] in
            var seen = Set<ObjectIdentifier>()
            return objects.compactMap { obj in
                guard let up = obj.userptr, seen.insert(ObjectIdentifier(obj)).inserted else { return nil }
                return (ObjectIdentifier(obj), obj.backing, up, obj.readonly, obj.backing.reserved)
            }
        }
        // One read of the caller's maps for the whole list.
        let maps = pins.count > 1 ? UserptrMemory.tgid(of: pid).flatMap(ProcMapping.all(of:)) : nil
        for (key, backing, up, readonly, reserved) in pins {
            try pinUserptr(up, readonly: readonly, caller: pid, maps: maps, fill: (key, backing))
            if !reserved { throw DrmError.ENOMEM }
        }
    }

    /// The execution-time copy: relocations into a writable userptr reach
    /// the client's memory, then each userptr target's copy is refilled from
    /// it. Returns what the writable ones held, to find the GPU's stores.
    /// A range gone since the execbuf keeps the copy it has (the kernel's
    /// pages stay pinned until the request retires).
    func loadUserptrs(_ rq: Request) -> [Int: [UInt8]] {
        // Only writable objects' relocations are recorded (relocate()).
        for r in rq.userRelocs {
            guard let up = r.object.userptr else { continue }
            var v = r.value
            up.write(at: r.offset, from: &v, count: 8)
        }
        var snapshots: [Int: [UInt8]] = [:]
        for (i, t) in rq.targets.enumerated() {
            guard let up = t.object.userptr, t.backing.reserved else { continue }
            t.backing.willWrite()
            _ = up.read(at: 0, into: t.backing.base, count: up.size, mayWait: false)
            if !t.readonly {
                snapshots[i] = [UInt8](UnsafeRawBufferPointer(start: t.backing.base, count: up.size))
            }
        }
        return snapshots
    }

    /// A spinner polling a userptr it does not write (a batch or a semaphore
    /// in client memory) sees the CPU's stores: the copy is refilled.
    func reloadUserptr(_ t: Request.Target) {
        guard let up = t.object.userptr, !t.write || t.readonly, t.backing.reserved else { return }
        _ = up.read(at: 0, into: t.backing.base, count: up.size, mayWait: false)
    }

    /// Writes the bytes the GPU changed in each writable userptr target back
    /// to the client's memory, run by run (bytes the GPU left alone are not
    /// written, so concurrent CPU stores to them survive).
    func storeUserptrs(_ rq: Request, _ snapshots: UserptrSnapshots, written: [Bool]) {
        for i in snapshots.before.keys where written[i] { storeUserptr(rq, target: i, snapshots) }
    }

    /// One target's changed bytes to the client, now: a running batch's
    /// stores reach the client at its poll points, as the GPU's reach pinned
    /// pages (IGT polls a userptr spinner's start flag). What was stored
    /// becomes the new baseline.
    func storeUserptr(_ rq: Request, target i: Int, _ snapshots: UserptrSnapshots) {
        guard let before = snapshots.before[i] else { return }
        let t = rq.targets[i]
        guard let up = t.object.userptr else { return }
        let now = UnsafeRawBufferPointer(start: t.backing.base, count: up.size)
        let changed = before.withUnsafeBytes { old -> Bool in
            var changed = false
            var at = 0
            let n = up.size
            while at < n {
                // Skip equal pages fast, then find the changed runs.
                if Page.offset(at) == 0, at + Page.size <= n, memcmp(old.baseAddress! + at, now.baseAddress! + at, Page.size) == 0 {
                    at += Page.size
                    continue
                }
                if old[at] == now[at] {
                    at += 1
                    continue
                }
                var end = at + 1
                while end < n, old[end] != now[end] { end += 1 }
                up.write(at: at, from: now.baseAddress! + at, count: end - at)
                changed = true
                at = end
            }
            return changed
        }
        if changed { snapshots.before[i] = [UInt8](now) }
    }
}

/// What each writable userptr target held when its copy was last synced
/// with the client (loaded, or written back): the GPU's stores are what
/// differs. The engine thread's own.
final class UserptrSnapshots: @unchecked Sendable {
    var before: [Int: [UInt8]] = [:]
}
