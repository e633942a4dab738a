import Testing
@testable import FakeDRMDevice

/// FUSE WRITE of dirty mapped pages: who may store, and what is refused.
@Suite struct WritebackTests {
    /// An 8 KiB object of file `a` (inode 1), mapped WB by it; `b` (inode 2)
    /// holds a handle but never asked for an offset.
    struct Setup {
        let fx = Fixture()
        let a: FileID, b: FileID, h: Handle, hb: Handle, off: UInt64
        init() throws {
            a = fx.open(inode: 1, minor: .primary)
            b = fx.open(inode: 2, minor: .primary)
            h = try fx.dev.gemCreate(a, size: 8192).handle
            hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
            off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        }
    }

    @Test func storesLandForAllowedInode() throws {
        let s = try Setup()
        try s.fx.dev.writeBack(inode: 1, offset: s.off + 4096 + 8, [9, 8, 7])
        #expect(try s.fx.dev.read(s.a, handle: s.h, offset: 4096 + 7, count: 5) == [0, 9, 8, 7, 0])
    }

    @Test func storesThroughOtherInodeAreDropped() throws {
        let s = try Setup()
        try s.fx.dev.writeBack(inode: 2, offset: s.off, [1, 2, 3])
        try s.fx.dev.writeBack(inode: 99, offset: s.off, [1, 2, 3]) // no file at all
        #expect(try s.fx.dev.read(s.b, handle: s.hb, count: 3) == [0, 0, 0])
    }

    @Test func storesStillLandAfterGemClose() throws {
        let s = try Setup()
        try s.fx.dev.gemClose(s.a, handle: s.h)
        try s.fx.dev.writeBack(inode: 1, offset: s.off, [5])
        #expect(try s.fx.dev.read(s.b, handle: s.hb, count: 1) == [5])
    }

    @Test func writeSpanningTwoPagesLands() throws {
        let s = try Setup()
        let data = pattern(8192, seed: 3)
        try s.fx.dev.writeBack(inode: 1, offset: s.off, data)
        #expect(try s.fx.dev.read(s.a, handle: s.h, count: 8192) == data)
    }

    @Test func readonlyObjectRefusesAndHandsBackTheTrueBytes() throws {
        let s = try Setup()
        try s.fx.dev.write(s.a, handle: s.h, offset: 4096, [1, 1, 1, 1])
        try s.fx.dev.setReadonly(s.a, handle: s.h, flags: 0)
        _ = s.fx.cache.takeRefused()
        #expect(throws: DrmError.EACCES) { try s.fx.dev.writeBack(inode: 1, offset: s.off + 4096, [2, 2]) }
        #expect(s.fx.cache.takeRefused() == [.init(range: Invalidation(inode: 1, offset: s.off + 4096, length: 2), contents: [1, 1])])
        #expect(try s.fx.dev.read(s.a, handle: s.h, offset: 4096, count: 4) == [1, 1, 1, 1])
        // An unaligned store: exactly the bytes written, with what the object holds there.
        #expect(throws: DrmError.EACCES) { try s.fx.dev.writeBack(inode: 1, offset: s.off + 100, [2, 2]) }
        #expect(s.fx.cache.takeRefused() == [.init(range: Invalidation(inode: 1, offset: s.off + 100, length: 2), contents: [0, 0])])
    }

    @Test func purgedObjectDropsWrites() throws {
        let s = try Setup()
        #expect(try s.fx.dev.madvise(s.a, handle: s.h, madv: 1) == false) // DONTNEED
        try s.fx.dev.writeBack(inode: 1, offset: s.off, [7, 7, 7])
        #expect(s.fx.dev.backingBytes(atNode: s.off, offset: 0, count: 3) == [0, 0, 0])
    }

    @Test func writesWhereNoNodeIsAreIgnored() throws {
        let s = try Setup()
        try s.fx.dev.writeBack(inode: 1, offset: 0, [1])                 // below the space
        try s.fx.dev.writeBack(inode: 1, offset: s.off + 8192, pattern(5000)) // past the node
        #expect(try s.fx.dev.read(s.a, handle: s.h, count: 8192) == [UInt8](repeating: 0, count: 8192))
        // Once the object is reclaimed its range is nowhere too.
        try s.fx.dev.gemClose(s.a, handle: s.h)
        try s.fx.dev.gemClose(s.b, handle: s.hb)
        s.fx.dev.release(s.a)
        #expect(s.fx.dev.node(at: s.off) == nil)
        try s.fx.dev.writeBack(inode: 1, offset: s.off, [1, 2, 3])
    }
}
