import Dispatch
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import FakeDRMDevice

/// Zombies (no handle left, kept for possible mappings) are freed once a
/// scan taken after they became zombies finds no mapping of their nodes.
@Suite struct ReclaimTests {
    /// A file on `inode` with one object of `pages` pages and its GTT node, faulted once.
    static func mappedObject(_ fx: Fixture, _ f: FileID, inode: InodeID, pages: Int = 2) throws -> (Handle, UInt64) {
        let h = try fx.dev.gemCreate(f, size: UInt64(pages) << 12).handle
        let off = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.gtt.rawValue)
        _ = try fx.dev.faultBytes(f, inode: inode, offset: off)
        return (h, off)
    }

    @Test func unmappedZombieIsFreedAndItsCachedPagesDropped() throws {
        let fx = Fixture()
        let f = fx.open(inode: 7)
        let (h, off) = try Self.mappedObject(fx, f, inode: 7)
        try fx.dev.gemClose(f, handle: h)
        #expect(fx.dev.liveObjects == 1) // a zombie: f may still map it
        #expect(fx.dev.zombieUsage.count == 1 && fx.dev.zombieUsage.bytes == 8192)
        _ = fx.cache.take()

        let snap = fx.dev.zombieSnapshot()
        #expect(fx.dev.reclaimUnmapped(snap, mapped: .init()) == 1)
        #expect(fx.dev.liveObjects == 0)
        #expect(fx.dev.zombieUsage.count == 0 && fx.dev.zombieUsage.bytes == 0)
        #expect(fx.cache.take().contains(Invalidation(inode: 7, offset: off, length: 8192)))
        // The node is gone: a late fault finds nothing there.
        #expect(throws: DrmError.EIO) { try fx.dev.faultBytes(f, inode: 7, offset: off) }
    }

    /// A mapping strict mode registered counts even when a scan misses it:
    /// the file keeps faulting, and the object goes at its munmap.
    @Test func aRegisteredMappingOutlivesAScanThatMissedIt() throws {
        let fx = Fixture()
        let f = fx.open(inode: 7)
        let h = try fx.dev.gemCreate(f, size: 8192).handle
        let off = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.gtt.rawValue)
        let cookie = try fx.dev.strictMmap(f, offset: off, size: 8192, prot: PROT_READ | PROT_WRITE).cookie
        try fx.dev.write(f, handle: h, pattern(4096, seed: 5))
        try fx.dev.gemClose(f, handle: h)
        #expect(fx.dev.liveObjects == 1)

        #expect(fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: .init()) == 0)
        #expect(try fx.dev.faultBytes(f, inode: 7, offset: off) == pattern(4096, seed: 5))
        try fx.dev.vmaClose(cookie: cookie)
        #expect(fx.dev.liveObjects == 0)
    }

    @Test func aMappedZombieStaysAndKeepsFaultingUntilUnmapped() throws {
        let fx = Fixture()
        let f = fx.open(inode: 7)
        let (h, off) = try Self.mappedObject(fx, f, inode: 7, pages: 4)
        try fx.dev.write(f, handle: h, pattern(4096, seed: 9))
        try fx.dev.gemClose(f, handle: h)

        // A mapping of any part of the node keeps the object.
        var mapped = DrmDevice.MappedRanges()
        mapped.add(inode: 7, offset: off + 3 * 4096, length: 4096)
        #expect(fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: mapped) == 0)
        #expect(fx.dev.liveObjects == 1)
        #expect(try fx.dev.faultBytes(f, inode: 7, offset: off) == pattern(4096, seed: 9))

        // Mappings of other inodes, or elsewhere in this one, do not.
        var elsewhere = DrmDevice.MappedRanges()
        elsewhere.add(inode: 8, offset: off, length: 4 * 4096)
        elsewhere.add(inode: 7, offset: off + 4 * 4096, length: 1 << 20)
        elsewhere.add(inode: 7, offset: 0, length: off)
        #expect(fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: elsewhere) == 1)
        #expect(fx.dev.liveObjects == 0)
    }

    @Test func onlyObjectsThatWereZombiesAtTheSnapshotAreFreed() throws {
        let fx = Fixture()
        let f = fx.open(inode: 7)
        let (h1, _) = try Self.mappedObject(fx, f, inode: 7)
        let (h2, _) = try Self.mappedObject(fx, f, inode: 7)
        try fx.dev.gemClose(f, handle: h1)
        let snap = fx.dev.zombieSnapshot()
        #expect(snap.count == 1)
        // h2 becomes a zombie after the snapshot: a mapping of it made before
        // its close may be missing from a scan that began before the close.
        try fx.dev.gemClose(f, handle: h2)
        #expect(fx.dev.reclaimUnmapped(snap, mapped: .init()) == 1)
        #expect(fx.dev.liveObjects == 1)
        #expect(fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: .init()) == 1)
        #expect(fx.dev.liveObjects == 0)
    }

    /// A scan's zombies are freed a batch per lock hold: more than a batch,
    /// one of them mapped, and a file released between snapshot and reclaim
    /// (its zombies already gone when their batch comes).
    @Test func reclaimAcrossBatchesFreesEachUnmappedZombieOnce() throws {
        let fx = Fixture()
        let f = fx.open(inode: 7), g = fx.open(inode: 8)
        let n = 3 * DrmDevice.reclaimBatch + 5
        var offsets: [UInt64] = []
        for _ in 0..<n {
            let (h, off) = try Self.mappedObject(fx, f, inode: 7, pages: 1)
            try fx.dev.gemClose(f, handle: h)
            offsets.append(off)
        }
        for _ in 0..<10 {
            let (h, _) = try Self.mappedObject(fx, g, inode: 8, pages: 1)
            try fx.dev.gemClose(g, handle: h)
        }
        let snap = fx.dev.zombieSnapshot()
        #expect(snap.count == n + 10)
        fx.dev.release(g) // its 10 zombies go now, the snapshot still names them
        var mapped = DrmDevice.MappedRanges()
        mapped.add(inode: 7, offset: offsets[2 * DrmDevice.reclaimBatch + 1], length: 4096)
        #expect(fx.dev.reclaimUnmapped(snap, mapped: mapped) == n - 1)
        #expect(fx.dev.liveObjects == 1 && fx.dev.zombieUsage.count == 1)
        _ = try fx.dev.faultBytes(f, inode: 7, offset: offsets[2 * DrmDevice.reclaimBatch + 1])
    }

    @Test func objectsWithHandlesAreNeverTouched() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let (h, off) = try Self.mappedObject(fx, a, inode: 1)
        let name = try fx.dev.gemFlink(a, handle: h)
        let hb = try fx.dev.gemOpen(b, name: name).handle
        try fx.dev.gemClose(a, handle: h) // b's handle keeps it: no zombie
        #expect(fx.dev.zombieSnapshot().count == 0)
        #expect(fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: .init()) == 0)
        #expect(fx.dev.liveObjects == 1)
        // a was allowed, and with no scan it keeps faulting (plain mode).
        _ = try fx.dev.faultBytes(a, inode: 1, offset: off)
        try fx.dev.gemClose(b, handle: hb)
        #expect(fx.dev.zombieSnapshot().count == 1)
    }

    @Test func theFileWithoutAMappingLosesAccessTheOneWithKeepsIt() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let (h, off) = try Self.mappedObject(fx, a, inode: 1)
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        #expect(try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue) == off)
        try fx.dev.write(a, handle: h, pattern(4096, seed: 3))
        try fx.dev.gemClose(a, handle: h)
        try fx.dev.gemClose(b, handle: hb)

        var mapped = DrmDevice.MappedRanges()
        mapped.add(inode: 2, offset: off, length: 8192)
        #expect(fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: mapped) == 0)
        #expect(fx.dev.liveObjects == 1)
        #expect(throws: DrmError.EACCES) { try fx.dev.faultBytes(a, inode: 1, offset: off) }
        #expect(try fx.dev.faultBytes(b, inode: 2, offset: off) == pattern(4096, seed: 3))

        // Released, a is gone from the object for good; b's unmap frees it.
        fx.dev.release(a)
        #expect(fx.dev.liveObjects == 1)
        #expect(fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: .init()) == 1)
        #expect(fx.dev.liveObjects == 0)
        fx.dev.release(b)
    }

    @Test func releaseStillFreesZombiesWithoutAnyScan() throws {
        let fx = Fixture()
        let f = fx.open(inode: 7)
        for _ in 0..<10 {
            let (h, _) = try Self.mappedObject(fx, f, inode: 7)
            try fx.dev.gemClose(f, handle: h)
        }
        #expect(fx.dev.zombieUsage.count == 10)
        fx.dev.release(f)
        #expect(fx.dev.zombieUsage.count == 0 && fx.dev.zombieUsage.bytes == 0)
        #expect(fx.dev.liveObjects == 0)
    }

    /// Clients cycling objects while reclaim runs: an object stays while its
    /// mapping is listed (a mapping made before its last handle closed is in
    /// every scan that starts afterwards), and keeps faulting its bytes; the
    /// rest are freed. Under TSan this also checks the reclaim's locking.
    @Test func reclaimRacingClientsNeverFreesAMappedObject() throws {
        let fx = Fixture()
        let maps = DeviceLock<[UInt64: (inode: InodeID, offset: UInt64)]>([:]) // "/proc/PID/maps"
        let done = DeviceLock(0)
        let failures = DeviceLock<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            if worker == 3 {
                // The scanner: snapshot, then the mappings, then reclaim.
                while done.withLock({ $0 }) < 3 {
                    let snapshot = fx.dev.zombieSnapshot()
                    var mapped = DrmDevice.MappedRanges()
                    for m in maps.withLock({ Array($0.values) }) { mapped.add(inode: m.inode, offset: m.offset, length: 4096) }
                    fx.dev.reclaimUnmapped(snapshot, mapped: mapped)
                }
                return
            }
            let inode = InodeID(rawValue: UInt64(worker + 1))
            let f = fx.open(inode: inode)
            do {
                for round in 0..<150 {
                    let h = try fx.dev.gemCreate(f, size: 4096).handle
                    let bytes = pattern(4096, seed: UInt8(truncatingIfNeeded: round * 3 + worker))
                    try fx.dev.write(f, handle: h, bytes)
                    let off = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.wc.rawValue)
                    let keep = round % 3 == 0
                    if keep { maps.withLock { $0[inode.rawValue << 32 | UInt64(round)] = (inode, off) } } // mmap
                    try fx.dev.gemClose(f, handle: h)
                    if keep {
                        for _ in 0..<3 {
                            guard try fx.dev.faultBytes(f, inode: inode, offset: off) == bytes else {
                                throw Lost(worker: worker, round: round)
                            }
                        }
                        _ = maps.withLock { $0.removeValue(forKey: inode.rawValue << 32 | UInt64(round)) } // munmap
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
            done.withLock { $0 += 1 }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        // Nothing is mapped any more: one last scan frees every zombie.
        fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: .init())
        #expect(fx.dev.liveObjects == 0)
    }

    struct Lost: Error { let worker: Int, round: Int }
}
