import Testing
@testable import FakeDRMDevice

/// Coherency points revoke every cached copy (each (inode, node) that
/// faulted) and nothing else (SEMANTICS §3.4, §3.7).
@Suite struct CoherencyTests {
    /// One 2-page object shared by files `a` (inode 1) and `b` (inode 2),
    /// both mapped GTT and WB.
    struct Setup {
        let fx = Fixture()
        let a: FileID, b: FileID, h: Handle, hb: Handle, gtt: UInt64, wb: UInt64
        init() throws {
            a = fx.open(inode: 1, minor: .primary)
            b = fx.open(inode: 2, minor: .primary)
            h = try fx.dev.gemCreate(a, size: 8192).handle
            hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
            gtt = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
            wb = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
            _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
            _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.wb.rawValue)
        }

        func inval(_ inode: InodeID, _ off: UInt64) -> Invalidation {
            Invalidation(inode: inode, offset: off, length: 8192)
        }

        /// Faults one page of `off` through each listed (file, inode).
        func touch(_ off: UInt64, _ who: [(FileID, InodeID)]) throws {
            for (f, ino) in who { _ = try fx.dev.faultBytes(f, inode: ino, offset: off + 4096) }
        }

        func touchAll() throws {
            try touch(gtt, [(a, 1), (b, 2)])
            try touch(wb, [(a, 1), (b, 2)])
        }

        var everything: Set<Invalidation> { [inval(1, gtt), inval(2, gtt), inval(1, wb), inval(2, wb)] }
    }

    @Test func pwriteRevokesEveryFaultedCopy() throws {
        let s = try Setup()
        try s.touchAll()
        try s.fx.dev.write(s.a, handle: s.h, [1])
        #expect(s.fx.cache.take() == s.everything)
        // Every coherency point covers every open that faulted the object,
        // however many run at once: a second PWRITE revokes them again.
        try s.fx.dev.write(s.a, handle: s.h, [2])
        #expect(s.fx.cache.take() == s.everything)
    }

    @Test func preadRevokesEveryFaultedCopy() throws {
        let s = try Setup()
        try s.touch(s.gtt, [(s.b, 2)])
        try s.touch(s.wb, [(s.a, 1)])
        _ = try s.fx.dev.read(s.a, handle: s.h, count: 1)
        #expect(s.fx.cache.take() == [s.inval(2, s.gtt), s.inval(1, s.wb)])
    }

    @Test func setDomainWithTwoHoldersRevokesAll() throws {
        let s = try Setup()
        try s.touch(s.gtt, [(s.a, 1), (s.b, 2)])
        try s.fx.dev.setDomain(s.a, handle: s.h, readDomains: 0x40, writeDomain: 0x40) // GTT
        #expect(s.fx.cache.take() == [s.inval(1, s.gtt), s.inval(2, s.gtt)])
    }

    /// Another file may fault the object later without a coherency point of
    /// its own: the caller's stores must reach the object even when its copy
    /// is the only one cached.
    @Test func setDomainWithOnlyCallersCopyRevokesItWhenAnotherFileMayFault() throws {
        let s = try Setup()
        try s.touch(s.gtt, [(s.a, 1)])
        try s.fx.dev.setDomain(s.a, handle: s.h, readDomains: 1, writeDomain: 1) // CPU
        #expect(s.fx.cache.take() == [s.inval(1, s.gtt)])
    }

    /// A lone file's only view is coherent with itself: nothing to do.
    @Test func setDomainOfALoneFilesOnlyViewRevokesNothing() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 8192).handle
        let gtt = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: gtt)
        _ = fx.cache.take()
        try fx.dev.setDomain(a, handle: h, readDomains: 1, writeDomain: 1)
        #expect(fx.cache.take().isEmpty)
        try fx.dev.swFinish(a, handle: h)
        #expect(fx.cache.take().isEmpty)
        // A second file allowed on it later gets the lone file's stores:
        // its first MMAP_OFFSET flushes them.
        let b = fx.open(inode: 2, minor: .primary)
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        #expect(fx.cache.take().isEmpty)
        _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
        #expect(fx.cache.take() == [Invalidation(inode: 1, offset: gtt, length: 8192)])
        _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.wb.rawValue)
        #expect(fx.cache.take().isEmpty)
    }

    @Test func swFinishWithOtherHolderRevokes() throws {
        let s = try Setup()
        try s.touch(s.wb, [(s.b, 2)])
        try s.fx.dev.swFinish(s.a, handle: s.h)
        #expect(s.fx.cache.take() == [s.inval(2, s.wb)])
    }

    @Test func madviseDontNeedRevokesAll() throws {
        let s = try Setup()
        try s.touchAll()
        _ = try s.fx.dev.madvise(s.a, handle: s.h, madv: 1)
        #expect(s.fx.cache.take() == s.everything)
    }

    @Test func tilingChangeRevokesOnlyGttCopies() throws {
        let s = try Setup()
        try s.touchAll()
        _ = try s.fx.dev.setTiling(s.a, handle: s.h, mode: 1, stride: 512) // X
        #expect(s.fx.cache.take() == [s.inval(1, s.gtt), s.inval(2, s.gtt)])
        try s.touch(s.gtt, [(s.a, 1)])
        _ = try s.fx.dev.setTiling(s.a, handle: s.h, mode: 1, stride: 512) // unchanged
        #expect(s.fx.cache.take().isEmpty)
    }

    @Test func setCachingChangeRevokes() throws {
        let s = try Setup()
        try s.touch(s.wb, [(s.a, 1)])
        try s.fx.dev.setCaching(s.a, handle: s.h, caching: 0) // unchanged (NONE)
        #expect(s.fx.cache.take().isEmpty)
        try s.fx.dev.setCaching(s.a, handle: s.h, caching: 1)
        #expect(s.fx.cache.take() == [s.inval(1, s.wb)])
    }

    @Test func setReadonlyRevokesAll() throws {
        let s = try Setup()
        try s.touchAll()
        try s.fx.dev.setReadonly(s.a, handle: s.h, flags: 0)
        #expect(s.fx.cache.take() == s.everything)
    }

    @Test func nothingRevokedWhenNobodyFaulted() throws {
        let s = try Setup()
        try s.fx.dev.write(s.a, handle: s.h, [1])
        _ = try s.fx.dev.read(s.b, handle: s.hb, count: 1)
        try s.fx.dev.setDomain(s.a, handle: s.h, readDomains: 1, writeDomain: 1)
        try s.fx.dev.swFinish(s.b, handle: s.hb)
        _ = try s.fx.dev.setTiling(s.a, handle: s.h, mode: 2, stride: 128)
        try s.fx.dev.setCaching(s.a, handle: s.h, caching: 1)
        try s.fx.dev.setReadonly(s.a, handle: s.h, flags: 0)
        _ = try s.fx.dev.madvise(s.a, handle: s.h, madv: 1)
        #expect(s.fx.cache.take().isEmpty)
    }

    @Test func reclaimRevokesFaultedInodes() throws {
        let s = try Setup()
        try s.touch(s.gtt, [(s.a, 1), (s.b, 2)])
        try s.touch(s.wb, [(s.b, 2)])
        try s.fx.dev.gemClose(s.a, handle: s.h)
        try s.fx.dev.gemClose(s.b, handle: s.hb)
        // Each open's cached copies go with its release (its inode's last
        // open); the object stays while b may still map it.
        s.fx.dev.release(s.a)
        #expect(s.fx.cache.take() == [s.inval(1, s.gtt)])
        s.fx.dev.release(s.b)
        #expect(s.fx.cache.take() == [s.inval(2, s.gtt), s.inval(2, s.wb)])
    }

    /// msync is a coherency point for every view: the synced open's other
    /// nodes are page caches of their own, so they go too (issue 9 §1).
    @Test func syncRevokesEveryView() throws {
        let s = try Setup()
        try s.touchAll()
        s.fx.dev.sync(inode: 1)
        #expect(s.fx.cache.take() == s.everything)
        // Holders are kept: a later coherency point finds them all again.
        #expect(s.fx.dev.node(at: s.gtt)?.userfault == [1, 2])
    }
}
