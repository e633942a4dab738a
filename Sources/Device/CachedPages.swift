/// Which pages of one node one inode may hold in its page cache, so that a
/// coherency point revokes those and not the whole node: revoking a range
/// costs the kernel a page-table walk over all of it (zap_page_range on every
/// mapping), so a 4 GiB node revoked per PWRITE made IGT's gem_pwrite
/// big-gtt-* loop cost by object size (issue 14).
struct CacheKey: Hashable, Sendable {
    /// GemObject.serial and MmapType.rawValue: never reused, unlike offsets.
    let object: UInt64
    let type: UInt64
    let inode: InodeID
}

/// Sorted, disjoint, coalesced page ranges (node-relative page numbers).
struct PageRuns: Equatable, Sendable {
    private(set) var runs: [Range<UInt64>] = []

    var isEmpty: Bool { runs.isEmpty }

    mutating func insert(_ r: Range<UInt64>) {
        guard !r.isEmpty else { return }
        // The first run that ends at or after r starts (touching merges).
        var lo = 0, hi = runs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if runs[mid].upperBound < r.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        var start = r.lowerBound, end = r.upperBound, j = lo
        while j < runs.count, runs[j].lowerBound <= end {
            start = min(start, runs[j].lowerBound)
            end = max(end, runs[j].upperBound)
            j += 1
        }
        if j == lo + 1, runs[lo] == start..<end { return }
        runs.replaceSubrange(lo..<j, with: CollectionOfOne(start..<end))
    }

    mutating func formUnion(_ other: PageRuns) {
        for r in other.runs { insert(r) }
    }
}

/// One (node, inode)'s record. `cached`: served since the last coherency
/// point took them. `flushing`: taken by coherency points still revoking;
/// a concurrent one revokes them again, which waits for the first one's
/// write-backs (the folio locks), so it never returns before the bytes are in.
struct CachedPages: Sendable {
    var cached = PageRuns()
    var flushing = PageRuns()
    var flushes = 0

    var isIdle: Bool { cached.isEmpty && flushes == 0 }
}

/// What a coherency point revokes, and the records it took (to give back
/// with `DeviceState.finish` once the revocations are done).
struct Flush: Sendable {
    var ranges: [Invalidation] = []
    var taken: [CacheKey] = []
    var twins: [TwinRelease] = []

    static func + (a: Flush, b: Flush) -> Flush {
        Flush(ranges: a.ranges + b.ranges, taken: a.taken + b.taken, twins: a.twins + b.twins)
    }
}
