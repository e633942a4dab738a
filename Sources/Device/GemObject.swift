import CDrm

/// A GEM buffer object (drm_i915_gem_object): backing pages plus the state
/// the uapi can see. Lives in `DeviceState`, touched only under its lock.
public final class GemObject {
    public enum Madvise: Sendable { case willNeed, dontNeed, purged }

    /// A name for people (debug listings); handles are per file.
    public let serial: UInt64
    /// Bytes, a whole number of pages.
    public let size: UInt64
    public let backing: Backing
    /// Handles naming this object across all files (drm's handle_count);
    /// the flink name dies with the last. Who else holds it: ObjectLifetime.swift.
    var handleCount = 0
    var flinkName: FlinkName?
    /// I915_BO_READONLY: no path may change the contents.
    var readonly = false
    var madv = Madvise.willNeed
    var caching: UInt32
    var readDomains = UInt32(I915_GEM_DOMAIN_CPU)
    var writeDomain = UInt32(I915_GEM_DOMAIN_CPU)
    /// Fence layout set by SET_TILING (mode, stride, swizzle).
    var tiling = Tiling.none
    /// Its bindings in the mappable GGTT.
    var vmas: [Vma] = []
    /// Tiling generations: each SET_TILING change starts one. A GTT page is
    /// written back with the layout of the generation it was served under.
    var tilingGeneration: UInt8 = 0
    var tilingHistory: [UInt8: Tiling] = [:]
    /// Generation each GTT page was last served with, per inode (each open
    /// has its own cached copy, possibly from an older layout). Sparse, and
    /// dropped when the inode's last open is released (DeviceState.forget).
    var servedGeneration: [InodeID: ServedGenerations] = [:]
    /// One mmap offset node per type (the merged design's obj->mmo.offsets).
    var mmos: MmapOffsets = []
    /// Reclaimed: unreachable, its nodes gone.
    var freed = false
    /// Why its pages can never be had, or nil: what every path that needs
    /// them (PREAD, PWRITE, SET_DOMAIN, faults) fails with. See
    /// DrmDevice.pagesError(size:).
    var pagesError: DrmError?
    /// A userptr object's client memory (DrmDevice+Userptr.swift): its
    /// pages are the creator's, `backing` only the GPU's working copy.
    var userptr: UserptrMemory?

    /// What the byte totals count it as: its size, or 0 for an object whose
    /// pages can never be had (a few of 2^63 bytes would overflow them).
    var accountedBytes: UInt64 { pagesError == nil ? size : 0 }
    /// Pages the daemon stored into while a client may have held a copy
    /// (PageTwins.swift).
    var twins = PageTwins()
    /// Whether some open may hold a page of it in its page cache.
    var mayBeCached: Bool { mmos.contains { !$0.cachedIn.isEmpty } }
    /// A SET_DOMAIN/SW_FINISH took the lone-view shortcut since the last full
    /// flush: a grant of another view flushes first (CoherencyPoint.swift).
    var skippedWriteBack = false

    init(serial: UInt64, size: UInt64, backing: Backing, caching: UInt32) {
        self.serial = serial
        self.size = size
        self.backing = backing
        self.caching = caching
    }

    var pages: UInt64 { size >> Page.shift }

    func mmo(_ type: MmapType) -> MmapOffset? { mmos.first { $0.type == type } }

    /// Whether reads and writes still reach real pages.
    var isPurged: Bool { madv == .purged }
}
