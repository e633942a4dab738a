import Testing
@testable import FakeDRMDevice

/// Reusing the fake-offset space (OffsetManager's epochs): a long-running
/// daemon wraps its 1 TiB of offsets after about two million one-page nodes.
@Suite struct OffsetReuseTests {
    /// Before a reused range is handed out, every open inode has dropped it
    /// (old pages, readahead zeros); and that costs one whole-space
    /// invalidation per inode per wrap, not one per node: after the first
    /// wrap every MMAP_OFFSET paid a notify_inval_inode per inode, and 16
    /// clients of an aged daemon ran at 0.01x of the floor.
    @Test func reusedRangesAreDroppedOncePerWrap() throws {
        let fx = Fixture()
        let pages: UInt64 = 8
        let first = OffsetManager<MmapOffset>.firstPage
        fx.dev.state.withLock { $0.offsets = OffsetManager(firstPage: first, pageCount: pages) }
        let a = fx.open(inode: 1), b = fx.open(inode: 2)
        _ = fx.cache.take()

        var handedOut: Set<UInt64> = []
        var droppedSince: [UInt64: Set<InodeID>] = [:]   // offset -> inodes that dropped the space since
        var invalidations = 0
        let cycles = 200
        for i in 0..<cycles {
            let file = i % 2 == 0 ? a : b
            let h = try fx.dev.gemCreate(file, size: 4096).handle
            let off = try fx.dev.mmapOffset(file, handle: h, flags: MmapType.gtt.rawValue)
            let revoked = fx.cache.take()
            invalidations += revoked.count
            for r in revoked {
                for k in droppedSince.keys where r.offset <= k && k + 4096 <= r.offset + r.length {
                    droppedSince[k]!.insert(r.inode)
                }
            }
            if handedOut.contains(off) {
                #expect(droppedSince[off] == [1, 2], "offset 0x\(String(off, radix: 16)) reused before both inodes dropped it")
            }
            handedOut.insert(off)
            droppedSince[off] = []
            try fx.dev.gemClose(file, handle: h)
            // Plain mode keeps a closed object for mappings it cannot see; the scan frees it.
            fx.dev.reclaimUnmapped(fx.dev.zombieSnapshot(), mapped: DrmDevice.MappedRanges())
            invalidations += fx.cache.take().count
        }
        let wraps = fx.dev.state.withLock { $0.offsets.wraps }
        #expect(wraps >= cycles / Int(pages) - 1)
        #expect(invalidations <= 2 * (wraps + 1), "\(invalidations) invalidations for \(wraps) wraps")
    }
}
