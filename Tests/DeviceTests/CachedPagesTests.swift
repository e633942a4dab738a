import Testing
@testable import FakeDRMDevice

/// A coherency point on a large node revokes the pages cached since the
/// last one, not the node: its cost follows the pages, not the object.
@Suite struct CachedPagesTests {
    @Test func pageRunsCoalesce() {
        var r = PageRuns()
        r.insert(10..<12)
        r.insert(0..<2)
        r.insert(5..<6)
        r.insert(2..<5) // bridges 0..<2 and 5..<6
        #expect(r.runs == [0..<6, 10..<12])
        r.insert(11..<20)
        #expect(r.runs == [0..<6, 10..<20])
        r.insert(3..<4)
        #expect(r.runs == [0..<6, 10..<20])
        var o = PageRuns()
        o.insert(6..<10)
        r.formUnion(o)
        #expect(r.runs == [0..<20])
    }

    @Test func largeNodeRevokesOnlyCachedPages() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let size: UInt64 = 4 << 30 + 4096
        let h = try fx.dev.gemCreate(a, size: size).handle
        let wc = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wc.rawValue)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: wc + 1000 << 12, count: 32 << 12) // a readahead window
        try fx.dev.write(a, handle: h, offset: 5, [1])
        #expect(fx.cache.take() == [Invalidation(inode: 1, offset: wc + 1000 << 12, length: 32 << 12)])
        // Dropped: the next one has nothing to revoke.
        try fx.dev.write(a, handle: h, offset: 5, [2])
        #expect(fx.cache.take().isEmpty)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: wc + (size - 4096))
        try fx.dev.write(a, handle: h, offset: 5, [3])
        #expect(fx.cache.take() == [Invalidation(inode: 1, offset: wc + size - 4096, length: 4096)])
    }

    /// A coherency point that starts while another is still revoking revokes
    /// that one's pages too (it must not return before they are written back).
    @Test func concurrentPointRevokesInFlightPagesAgain() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 1 << 20).handle
        let wb = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: wb)
        let page = Invalidation(inode: 1, offset: wb, length: 4096)
        let first = fx.dev.state.withLock { s in s.takeCached(of: s.files[a]!.handles[h]!) }
        #expect(first.ranges == [page])
        let second = fx.dev.state.withLock { s in s.takeCached(of: s.files[a]!.handles[h]!) }
        #expect(second.ranges == [page])
        fx.dev.flush(first)
        fx.dev.flush(second)
        _ = fx.cache.take()
        let third = fx.dev.state.withLock { s in s.takeCached(of: s.files[a]!.handles[h]!) }
        #expect(third.ranges.isEmpty)
        #expect(fx.dev.state.withLock { $0.cachedPages.isEmpty })
    }

    /// write(2) through the file leaves its pages cached: a coherency point
    /// must find them.
    @Test func writeThroughTheFileIsCached() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 1 << 20).handle
        let wb = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        let data = [UInt8](repeating: 7, count: 4096)
        let failure: DrmError? = data.withUnsafeBytes { b in
            do throws(DrmError) { try fx.dev.writeback(inode: 1, offset: wb + 8192, data: b, fromCache: false) } catch { return error }
            return nil
        }
        #expect(failure == nil)
        try fx.dev.write(a, handle: h, offset: 0, [1])
        #expect(fx.cache.take() == [Invalidation(inode: 1, offset: wb + 8192, length: 4096)])
    }
}
