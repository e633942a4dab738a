import Testing
@testable import FakeDRMDevice

/// Who may fault a node: allow_once on MMAP_OFFSET, revoke on GEM_CLOSE,
/// everAllowed for faults, zombie objects until RELEASE (SEMANTICS §1.3, §3.6).
@Suite struct MmapAccessTests {
    @Test func mmapOffsetAllowsOnceAndOneCloseRevokes() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary)
        let h1 = try fx.dev.gemCreate(a, size: 8192).handle
        let h2 = try fx.dev.gemOpen(a, name: try fx.dev.gemFlink(a, handle: h1)).handle
        let off = try fx.dev.mmapOffset(a, handle: h1, flags: MmapType.gtt.rawValue)
        #expect(try fx.dev.mmapOffset(a, handle: h1, flags: MmapType.gtt.rawValue) == off)
        #expect(fx.dev.node(at: off)?.allowed == [a])

        // Asked twice, but allow_once: one GEM_CLOSE of either handle revokes.
        try fx.dev.gemClose(a, handle: h2)
        let node = try #require(fx.dev.node(at: off))
        #expect(node.allowed.isEmpty)
        #expect(node.everAllowed == [a])

        _ = try fx.dev.mmapOffset(a, handle: h1, flags: MmapType.gtt.rawValue)
        #expect(fx.dev.node(at: off)?.allowed == [a])
    }

    @Test func closeRevokesEveryTypeOfTheObject() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let offs = try MmapType.allCases.filter { $0 != .fixed }.map { try fx.dev.mmapOffset(a, handle: h, flags: $0.rawValue) }
        try fx.dev.gemClose(a, handle: h)
        for off in offs { #expect(fx.dev.node(at: off)?.allowed == []) }
    }

    @Test func otherFileIsDeniedUntilItOpensAndMaps() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 8192).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        let data = pattern(8192)
        try fx.dev.write(a, handle: h, data)
        #expect(try fx.dev.faultBytes(a, inode: 1, offset: off + 4096) == Array(data[4096...]))

        #expect(throws: DrmError.EACCES) { try fx.dev.faultBytes(b, inode: 2, offset: off) }
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        #expect(throws: DrmError.EACCES) { try fx.dev.faultBytes(b, inode: 2, offset: off) }
        #expect(try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.wb.rawValue) == off)
        #expect(try fx.dev.faultBytes(b, inode: 2, offset: off, count: 8192) == data)
    }

    @Test func allowedFileKeepsFaultingAfterGemClose() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        try fx.dev.write(a, handle: h, offset: 10, [1, 2, 3])
        try fx.dev.gemClose(a, handle: h) // last handle: the object is a zombie
        let page = try fx.dev.faultBytes(a, inode: 1, offset: off)
        #expect(Array(page[9..<14]) == [0, 1, 2, 3, 0])
        #expect(fx.dev.liveObjects == 1)
    }

    @Test func zombieLivesUntilEveryMapperIsReleased() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
        try fx.dev.write(a, handle: h, [42])
        try fx.dev.gemClose(a, handle: h)
        try fx.dev.gemClose(b, handle: hb)

        #expect(try fx.dev.faultBytes(a, inode: 1, offset: off, count: 1) == [42])
        #expect(try fx.dev.faultBytes(b, inode: 2, offset: off, count: 1) == [42])
        fx.dev.release(a)
        #expect(try fx.dev.faultBytes(b, inode: 2, offset: off, count: 1) == [42])
        #expect(fx.dev.liveObjects == 1)

        fx.dev.release(b)
        #expect(fx.dev.liveObjects == 0)
        #expect(fx.dev.node(at: off) == nil)
        let c = fx.open(inode: 3)
        #expect(throws: DrmError.EIO) { try fx.dev.faultBytes(c, inode: 3, offset: off) }
    }

    @Test func releaseWithOpenHandleReclaims() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wc.rawValue)
        fx.dev.release(a)
        #expect(fx.dev.liveObjects == 0)
        #expect(fx.dev.node(at: off) == nil)
    }

    @Test func releasedFileLosesAccessToObjectOthersKeep() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        fx.dev.release(a)
        #expect(fx.dev.node(at: off)?.everAllowed == [])
        #expect(throws: DrmError.EACCES) { try fx.dev.faultBytes(b, inode: 2, offset: off) }
        #expect(try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue) == off)
        #expect(try fx.dev.faultBytes(b, inode: 2, offset: off, count: 1) == [0])
    }

    @Test func neverMappedObjectIsReclaimedAtLastClose() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let before = fx.dev.memoryRegions[0].unallocatedSize
        let h = try fx.dev.gemCreate(a, size: 1 << 20).handle
        #expect(fx.dev.memoryRegions[0].unallocatedSize == before - (1 << 20))
        try fx.dev.gemClose(a, handle: h)
        #expect(fx.dev.liveObjects == 0)
        #expect(fx.dev.memoryRegions[0].unallocatedSize == before)
    }

    @Test func faultAddressing() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 3 * 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        #expect(off == 1 << 32)
        let data = pattern(3 * 4096, seed: 9)
        try fx.dev.write(a, handle: h, data)
        // A page inside the node, and a read that is not page aligned.
        #expect(try fx.dev.faultBytes(a, inode: 1, offset: off + 8192) == Array(data[8192...]))
        #expect(try fx.dev.faultBytes(a, inode: 1, offset: off + 100, count: 50) == Array(data[100..<150]))
        // Past the node's end and below the offset space: no node, EIO.
        #expect(throws: DrmError.EIO) { try fx.dev.faultBytes(a, inode: 1, offset: off + 3 * 4096) }
        #expect(throws: DrmError.EIO) { try fx.dev.faultBytes(a, inode: 1, offset: 0) }
        // A window straddling the end (readahead): the node's bytes, then the guard's zeros.
        #expect(try fx.dev.faultBytes(a, inode: 1, offset: off + 8192, count: 8192) == Array(data[8192...]) + [UInt8](repeating: 0, count: 4096))
    }

    @Test func faultRecordsUserfaultInode() throws {
        let fx = Fixture()
        let a = fx.open(inode: 7)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        #expect(fx.dev.node(at: off)?.userfault == [])
        _ = try fx.dev.faultBytes(a, inode: 7, offset: off)
        #expect(fx.dev.node(at: off)?.userfault == [7])
        // A denied fault records nothing.
        let b = fx.open(inode: 8)
        #expect(throws: DrmError.EACCES) { try fx.dev.faultBytes(b, inode: 8, offset: off) }
        #expect(fx.dev.node(at: off)?.userfault == [7])
    }

    @Test func offsetsAreNotRecycledAfterReclaim() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off1 = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        try fx.dev.gemClose(a, handle: h)
        fx.dev.release(a)
        let b = fx.open(inode: 2)
        let h2 = try fx.dev.gemCreate(b, size: 4096).handle
        let off2 = try fx.dev.mmapOffset(b, handle: h2, flags: MmapType.gtt.rawValue)
        #expect(off2 > off1)
    }

    @Test func snoopedObjectInGttViewWithoutLLCFaults() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let gtt = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        let wb = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        try fx.dev.setCaching(a, handle: h, caching: 1) // I915_CACHING_CACHED
        #expect(throws: DrmError.EFAULT) { try fx.dev.faultBytes(a, inode: 1, offset: gtt) }
        _ = try fx.dev.faultBytes(a, inode: 1, offset: wb)

        var llc = DeviceProfile()
        llc.hasLLC = true
        let fx2 = Fixture(profile: llc)
        let b = fx2.open(inode: 1)
        let h2 = try fx2.dev.gemCreate(b, size: 4096).handle
        let gtt2 = try fx2.dev.mmapOffset(b, handle: h2, flags: MmapType.gtt.rawValue)
        #expect(try fx2.dev.getCaching(b, handle: h2) == 1) // LLC parts create CACHED
        _ = try fx2.dev.faultBytes(b, inode: 1, offset: gtt2)
    }

    @Test func offsetSpaceExhaustionIsENOSPC() throws {
        let fx = Fixture()
        fx.dev.state.withLock { $0.offsets = OffsetManager(firstPage: OffsetManager<MmapOffset>.firstPage, pageCount: 4) }
        let a = fx.open(inode: 1)
        let big = try fx.dev.gemCreate(a, size: 5 * 4096).handle
        #expect(throws: DrmError.ENOSPC) { try fx.dev.mmapOffset(a, handle: big, flags: 0) }
        let small = try fx.dev.gemCreate(a, size: 4 * 4096).handle
        _ = try fx.dev.mmapOffset(a, handle: small, flags: 0)
        #expect(throws: DrmError.ENOSPC) { try fx.dev.mmapOffset(a, handle: small, flags: 1) }
    }
}

/// MmapOffset's lists behind drm_vma_manager-style methods: allow_once and
/// revoke govern mmap, faults outlive a revoke until the file lets go.
@Suite struct MmapOffsetNodeTests {
    @Test func allowRevokeForget() {
        let obj = GemObject(serial: 1, size: 4096, backing: Backing(size: 4096)!, caching: 0)
        let mmo = MmapOffset(type: .gtt, start: 16, pages: 1, object: obj)
        #expect(!mmo.isAllowed(1) && !mmo.mayFault(1))
        #expect(mmo.allowOnce(1))
        #expect(!mmo.allowOnce(1)) // not new the second time
        #expect(mmo.isAllowed(1) && mmo.mayFault(1) && !mmo.isAllowed(2))
        mmo.revoke(1)
        #expect(!mmo.isAllowed(1) && mmo.mayFault(1))
        #expect(mmo.allowFaults(2))
        #expect(!mmo.isAllowed(2) && mmo.mayFault(anyOf: [2, 7]) && !mmo.mayFault(anyOf: [7]))
        mmo.forget(1)
        #expect(!mmo.mayFault(1) && mmo.holders.asSet == [2])
        #expect(mmo.noteUserfault(5) && !mmo.noteUserfault(5) && mmo.isCached(in: 5))
        mmo.dropUserfault(5)
        #expect(!mmo.isCached(in: 5) && mmo.cachedIn.isEmpty)
    }
}
