import CDrm
import Testing
@testable import FakeDRMDevice

/// Issue 11: what a hostile client can make the device keep, and inputs it
/// must answer as the kernel does.
@Suite struct ReliabilityTests {
    // MARK: per-open fault state (items 3 and 4)

    /// Chunks of served-generation state an object keeps for `inode`.
    static func servedChunks(_ dev: DrmDevice, node off: UInt64, inode: InodeID) -> Int? {
        dev.state.withLock { s in s.offsets.lookup(page: off >> 12)?.value.object.servedGeneration[inode]?.chunkCount }
    }

    @Test func servedGenerationsAreSparse() {
        var g = ServedGenerations()
        #expect(g[page: 1 << 40] == 0)
        g[page: 5] = 3
        g[page: 1 << 30] = 7
        #expect(g[page: 5] == 3 && g[page: 6] == 0 && g[page: 1 << 30] == 7)
        #expect(g.chunkCount == 2)
    }

    /// One touched page of a 16 GiB X-tiled object costs one chunk per open,
    /// not a byte per object page; the state goes when the open does.
    @Test func tiledFaultStateCostsByPagesTouchedAndGoesAtRelease() throws {
        var profile = DeviceProfile()
        profile.systemMemory = 64 << 30 // whatever this machine has
        let fx = Fixture(profile: profile)
        let a = fx.open(inode: 1, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 16 << 30).handle
        _ = try fx.dev.setTiling(a, handle: h, mode: UInt32(I915_TILING_X), stride: 4096)
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        let name = try fx.dev.gemFlink(a, handle: h)
        var opens: [(FileID, InodeID)] = []
        for i in 0..<3 {
            let ino = InodeID(rawValue: UInt64(10 + i))
            let f = fx.open(inode: ino, minor: .primary)
            let hf = try fx.dev.gemOpen(f, name: name).handle
            #expect(try fx.dev.mmapOffset(f, handle: hf, flags: MmapType.gtt.rawValue) == off)
            _ = try fx.dev.faultBytes(f, inode: ino, offset: off + (8 << 30))
            opens.append((f, ino))
        }
        for (_, ino) in opens { #expect(Self.servedChunks(fx.dev, node: off, inode: ino) == 1) }
        for (f, ino) in opens {
            fx.dev.release(f)
            #expect(Self.servedChunks(fx.dev, node: off, inode: ino) == nil)
            #expect(fx.dev.node(at: off)?.userfault.contains(ino) == false)
        }
        #expect(fx.dev.state.withLock { $0.servedObjects.isEmpty })
    }

    /// A reopen (same inode) keeps the inode's state until the last open of it goes.
    @Test func stateOfAnInodeStaysWhileAnotherOpenOfItLives() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary)
        let reopen = fx.open(inode: 1, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 1 << 20).handle
        _ = try fx.dev.setTiling(a, handle: h, mode: UInt32(I915_TILING_X), stride: 4096)
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: off)
        fx.dev.release(reopen)
        #expect(Self.servedChunks(fx.dev, node: off, inode: 1) == 1)
        fx.dev.release(a)
        #expect(fx.dev.state.withLock { $0.servedObjects.isEmpty })
    }

    /// A freed object leaves no trace in the per-inode registry.
    @Test func freedObjectLeavesTheRegistry() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 8192).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: off)
        #expect(fx.dev.state.withLock { $0.servedObjects[1]?.count } == 1)
        try fx.dev.gemClose(a, handle: h) // a zombie while `a` may map it
        fx.dev.release(a)
        #expect(fx.dev.state.withLock { $0.servedObjects.isEmpty })
        #expect(fx.dev.liveObjects == 0)
    }

    // MARK: MADVISE of a readonly object (item 8)

    @Test func readonlyObjectIsNotPurgedByDontNeed() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 8192).handle
        try fx.dev.write(a, handle: h, pattern(8192))
        try fx.dev.setReadonly(a, handle: h, flags: 0)
        #expect(try fx.dev.madvise(a, handle: h, madv: UInt32(I915_MADV_DONTNEED)) == true)
        // Pages cannot be pinned while DONTNEED (no truncate, no get_pages).
        #expect(throws: DrmError.EFAULT) { try fx.dev.read(a, handle: h, count: 4) }
        #expect(try fx.dev.madvise(a, handle: h, madv: UInt32(I915_MADV_WILLNEED)) == true)
        #expect(try fx.dev.read(a, handle: h, count: 8192) == pattern(8192))
    }

    // MARK: objects larger than memory (item 9)

    @Test func objectsLargerThanMemoryAreMadeAndFailWherePagesAreNeeded() throws {
        var profile = DeviceProfile()
        profile.systemMemory = 1 << 30
        let fx = Fixture(profile: profile)
        let a = fx.open(inode: 1)
        let cases: [(UInt64, DrmError?)] = [(1 << 30, nil), ((1 << 30) + 4096, .ENOMEM), ((1 << 44) - 4096, .ENOMEM),
                                            (1 << 44, .E2BIG), (1 << 47, .E2BIG), ((1 << 63) - 4096, .E2BIG)]
        for (size, err) in cases {
            let (h, got) = try fx.dev.gemCreate(a, size: size)
            #expect(got == size)
            if let err {
                #expect(throws: err) { try fx.dev.read(a, handle: h, count: 4) }
                #expect(throws: err) { try fx.dev.write(a, handle: h, [1]) }
                #expect(throws: err) {
                    try fx.dev.setDomain(a, handle: h, readDomains: UInt32(I915_GEM_DOMAIN_CPU), writeDomain: 0)
                }
                // (Nodes of the largest do not fit the offset space: ENOSPC.)
                if let off = try? fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue) {
                    #expect(throws: err) { try fx.dev.faultBytes(a, inode: 1, offset: off) }
                }
                #expect(try fx.dev.madvise(a, handle: h, madv: UInt32(I915_MADV_DONTNEED)) == false)
            } else {
                try fx.dev.write(a, handle: h, [1])
            }
            try fx.dev.gemClose(a, handle: h)
        }
        // Many of the largest do not overflow the byte totals (they count 0).
        for _ in 0..<4 { _ = try fx.dev.gemCreate(a, size: (1 << 63) - 4096) }
        #expect(fx.dev.memoryRegions[0].unallocatedSize == 1 << 30)
        #expect(throws: DrmError.E2BIG) { try fx.dev.gemCreate(a, size: 1 << 63) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.gemCreate(a, size: UInt64.max) }
    }

    // MARK: write(2) through an open (item 7)

    @Test func writeThroughAnOpenNeedsItsOwnRights() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary)
        let reopen = fx.open(inode: 1, minor: .primary) // /proc/self/fd/N
        let h = try fx.dev.gemCreate(a, size: 8192).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        func write(_ f: FileID, _ at: UInt64) throws(DrmError) {
            let failure: DrmError? = [UInt8](repeating: 7, count: 4096).withUnsafeBytes { b in
                do throws(DrmError) { try fx.dev.write(f, inode: 1, offset: at, data: b) } catch { return error }
                return nil
            }
            if let failure { throw failure }
        }
        #expect(throws: DrmError.EACCES) { try write(reopen, off) }
        #expect(throws: DrmError.EIO) { try write(a, 4096) }
        #expect(throws: DrmError.EIO) { try write(a, off + (64 << 12)) }
        #expect(try fx.dev.read(a, handle: h, count: 1) == [0])
        try write(a, off)
        #expect(try fx.dev.read(a, handle: h, count: 1) == [7])
    }

    // MARK: fail_ioctl errnos (item 10)

    @Test func failIoctlTakesOnlyUserspaceErrnos() {
        #expect(DrmError(named: "133") != nil)
        #expect(DrmError(named: "134") == nil)
        #expect(DrmError(named: "512") == nil) // ERESTARTSYS
        #expect(DrmError(named: "4095") == nil)
        #expect(DrmError(named: "0") == nil)
        let dev = DrmDevice()
        #expect(!dev.configureInjection(.failIoctl, "GEM_CREATE 512"))
        #expect(!dev.configureInjection(.failIoctl, "GEM_CREATE 517 2"))
        #expect(dev.configureInjection(.failIoctl, "GEM_CREATE 133 0"))
        #expect(!dev.debugText(.failIoctl).contains("GEM_CREATE"))
    }
}

/// Issue 11 item 6: a mapping's VMA_OPEN/VMA_CLOSE from the mount root.
@Suite struct MappingMakerTests {
    @Test func onlyTheMakersUserOrRootTouchesAMapping() throws {
        let fx = Fixture()
        let f = fx.dev.open(minor: .primary, inode: 1, pid: 10, uid: 1000, privileged: false)
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        let off = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.wb.rawValue)
        let cookie = try fx.dev.strictMmap(f, offset: off, size: 4096, prot: 1).cookie
        #expect(throws: DrmError.EPERM) { try fx.dev.vmaOpen(cookie: cookie, uid: 65534) }
        #expect(throws: DrmError.EPERM) { try fx.dev.vmaClose(cookie: cookie, uid: 65534) }
        try fx.dev.vmaOpen(cookie: cookie, uid: 1000)
        try fx.dev.vmaClose(cookie: cookie, uid: 0)
        try fx.dev.vmaClose(cookie: cookie, uid: 1000)
        #expect(throws: DrmError.ENOENT) { try fx.dev.vmaClose(cookie: cookie, uid: 1000) }
    }
}
