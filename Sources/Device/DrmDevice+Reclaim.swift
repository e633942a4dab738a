/// Reclaiming zombies in plain mode (the rule they live by: ObjectLifetime.swift).
///
/// i915 frees an object when its last handle is closed and no mapping holds
/// it (every vma takes a reference). The daemon never sees mmap or munmap,
/// so an object whose last handle is closed after a file was allowed on its
/// nodes stays alive (a zombie) until that file is released: a client that
/// cycles create/mmap/munmap/close on one fd would grow without bound.
///
/// The transport finds the mappings the kernel holds (every process's
/// /proc/PID/maps shows the inode and file offset of each mapping of the
/// device) and hands them here. Two steps, so that no mapping is missed:
/// `zombieSnapshot()` names the objects that are zombies *now*; a scan of
/// the mappings taken *after* it then sees every mapping of them, because
/// a zombie gets no new mapping (the kernel would refuse the mmap: no
/// handle is left to ask for access). `reclaimUnmapped` frees those the
/// scan found unmapped.
extension DrmDevice {
    /// Objects that were zombies when the snapshot was taken.
    public struct ZombieSnapshot: Sendable {
        let serials: [UInt64]
        public var count: Int { serials.count }
    }

    /// Zombies freed per hold of the device lock: a scan finds thousands
    /// (40k a second close under 16 clients cycling create/close), and
    /// freeing them in one hold stalled every ioctl for milliseconds.
    static let reclaimBatch = 32

    /// Mapped ranges of the device's inodes, as the kernel lists them.
    public struct MappedRanges: Sendable {
        private var byInode: [InodeID: [(offset: UInt64, end: UInt64)]] = [:]

        public init() {}

        /// A mapping of `length` bytes of inode `inode` from file offset `offset`.
        public mutating func add(inode: InodeID, offset: UInt64, length: UInt64) {
            byInode[inode, default: []].append((offset, offset &+ length))
        }

        /// Whether any mapping of `inode` overlaps [offset, offset + length).
        func covers(inode: InodeID, offset: UInt64, length: UInt64) -> Bool {
            byInode[inode]?.contains { $0.offset < offset + length && offset < $0.end } ?? false
        }
    }

    /// How many zombies there are, and the bytes they hold.
    public var zombieUsage: (count: Int, bytes: UInt64) {
        state.withLock { s in s.lifetime.zombieUsage }
    }

    /// The zombies of this instant: what a mapping scan that starts after
    /// this call may free.
    public func zombieSnapshot() -> ZombieSnapshot {
        state.withLock { s in ZombieSnapshot(serials: s.lifetime.zombieSerials) }
    }

    /// Frees every object of `snapshot` still a zombie whose nodes no file
    /// that may map them has mapped (per `mapped`, a scan begun after the
    /// snapshot). A file keeps its access to nodes it has a mapping of; it
    /// loses access to the others, as in i915 a closed handle leaves no way
    /// to map them again. Returns how many objects were freed.
    @discardableResult
    public func reclaimUnmapped(_ snapshot: ZombieSnapshot, mapped: MappedRanges) -> Int {
        var freed = 0
        var next = 0
        while next < snapshot.serials.count {
            let batch = snapshot.serials[next ..< min(next + Self.reclaimBatch, snapshot.serials.count)]
            next = batch.endIndex
            freed += withLock(revoking: { (s: inout DeviceState, revoke: inout Flush) -> Int in
                var freed = 0
                // Gone meanwhile (its file released) or not: looked up again.
                for serial in batch {
                    guard let obj = s.lifetime.zombie(serial: serial) else { continue }
                    let before = s.lifetime.count
                    revoke += s.reclaimIfUnmapped(obj, mapped: mapped)
                    if s.lifetime.count < before { freed += 1 }
                }
                return freed
            })
        }
        return freed
    }
}

extension DeviceState {
    /// One zombie of a reclaim scan: a file keeps its access to the nodes it
    /// has a mapping of and loses the others (with no handle left there is
    /// no way to map them again); the object is put, and freed if nothing
    /// holds it any more.
    fileprivate mutating func reclaimIfUnmapped(_ obj: GemObject, mapped: DrmDevice.MappedRanges) -> [Invalidation] {
        // IDSets: one holder, the usual case, costs no allocation (two Sets
        // and their difference were three per zombie).
        var holders = IDSet<FileID>(), mapping = IDSet<FileID>()
        for mmo in obj.mmos {
            for id in mmo.holders {
                holders.insert(id)
                if let f = files[id], !lifetime.mappings.maps(id, mmo),
                   !mapped.covers(inode: f.inode, offset: mmo.byteOffset, length: mmo.byteLength) {
                    mmo.forget(id)
                } else {
                    mapping.insert(id)
                }
            }
        }
        for id in holders where !mapping.contains(id) { files[id]?.mappable[ObjectIdentifier(obj)] = nil }
        return put(obj)
    }
}
