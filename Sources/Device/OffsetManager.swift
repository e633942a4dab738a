/// The device-global fake-offset space, after the kernel's
/// drm_vma_offset_manager: page ranges from 4 GiB up (about 1 TiB of them),
/// found by any page they contain.
///
/// Ranges are handed out in epochs by a pointer that only moves up: a range
/// freed during an epoch stays a tombstone until the pointer reaches the end
/// of the space. Then the space *wraps*: the tombstones are swept, the
/// pointer starts again at the bottom and takes the first gap that fits
/// above it. The caller drops every cached page of the space once per wrap
/// (DeviceState.node): a reused range may hold pages of its old object or
/// readahead zeros, and invalidating the whole space once per wrap costs what
/// one range per allocation cost, with millions fewer round trips
/// (BENCHMARKS.md, issue 14: after the first wrap every MMAP_OFFSET paid one
/// notify_inval_inode per open inode and a linear scan; 16 clients fell to
/// 0.01x of the floor).
/// Every range can be followed by a guard gap of unused pages (the device
/// makes it wider than the kernel's readahead reaches, so a READ that starts
/// in one range never touches the next).
/// Starts stay sorted, so lookup is a binary search; removal leaves a
/// tombstone that a later compaction sweeps.
public struct OffsetManager<Value> {
    /// DRM_FILE_PAGE_OFFSET_START and _SIZE on 64-bit, in pages.
    public static var firstPage: UInt64 { (0xFFFF_FFFF >> Page.shift) + 1 }
    public static var defaultPageCount: UInt64 { (0xFFFF_FFFF >> Page.shift) * 256 }
    /// The readahead window the transport asks for (128 KiB, the default
    /// bdi maximum), and a guard that no window reaches across: four windows.
    public static var readaheadBytes: Int { 128 << 10 }
    public static var readaheadGuardPages: UInt64 { UInt64(readaheadBytes >> Page.shift) * 4 }

    private struct Entry {
        var start: UInt64
        var pages: UInt64
        var value: Value?
    }

    private var entries: [Entry] = []
    private var tombstones = 0
    private var next: UInt64
    public let firstPage: UInt64
    public let endPage: UInt64
    public private(set) var count = 0
    /// How many times the space wrapped: freed ranges are reused only after one.
    public private(set) var wraps = 0
    /// Tombstones left after the last compaction (those above the pointer).
    private var keptTombstones = 0

    /// Unused pages kept after every range.
    public let guardPages: UInt64

    public init(firstPage: UInt64 = Self.firstPage, pageCount: UInt64 = Self.defaultPageCount, guardPages: UInt64 = 0) {
        self.guardPages = guardPages
        self.firstPage = firstPage
        self.endPage = firstPage + pageCount
        self.next = firstPage
    }

    /// Reserves `pages` pages for `value` and returns the first page, or nil
    /// when no range fits (the kernel's -ENOSPC).
    public mutating func insert(pages: UInt64, value: Value) -> UInt64? {
        reserve(pages: pages) { _ in value }
    }

    /// Reserves `pages` pages and stores what `make` builds from their first
    /// page (for values that record their own offset).
    public mutating func reserve(pages: UInt64, make: (UInt64) -> Value) -> UInt64? {
        guard pages > 0, let (start, i) = allocate(pages: pages + guardPages) else { return nil }
        entries.insert(Entry(start: start, pages: pages, value: make(start)), at: i)
        count += 1
        return start
    }

    /// Where a new range goes: its start and its index in `entries`. The
    /// first gap at or above the pointer; past the end, one wrap.
    private mutating func allocate(pages: UInt64) -> (UInt64, Int)? {
        if let hit = fit(pages: pages) { return hit }
        wraps += 1
        compact(below: endPage)
        next = firstPage
        if let hit = fit(pages: pages) { return hit }
        next = endPage  // the next attempt wraps again: nothing freed since is reused unseen
        return nil
    }

    /// The first gap of `pages` at or above `next`, which moves past it.
    private mutating func fit(pages: UInt64) -> (UInt64, Int)? {
        var i = firstIndex(atOrAbove: next)
        if i > 0 { next = max(next, entries[i - 1].start + entries[i - 1].pages + guardPages) }
        while next <= endPage {
            let gapEnd = i < entries.count ? entries[i].start : endPage
            if gapEnd >= next, gapEnd - next >= pages {
                defer { next += pages }
                return (next, i)
            }
            guard i < entries.count else { break }
            next = entries[i].start + entries[i].pages + guardPages
            i += 1
        }
        next = endPage
        return nil
    }

    /// Frees the range that starts at `start`: a tombstone until the sweep.
    public mutating func remove(start: UInt64) {
        guard let i = index(containing: start), entries[i].start == start, entries[i].value != nil else { return }
        entries[i].value = nil
        tombstones += 1
        count -= 1
        if tombstones > 64 && tombstones > count && tombstones > 2 * keptTombstones { compact(below: next) }
    }

    /// The range holding `page`: its start, size and value.
    public func lookup(page: UInt64) -> (start: UInt64, pages: UInt64, value: Value)? {
        guard let i = index(containing: page), let v = entries[i].value else { return nil }
        return (entries[i].start, entries[i].pages, v)
    }

    /// drm_vma_offset_exact_lookup: the range must start at `page` and hold
    /// `pages` pages.
    public func exactLookup(page: UInt64, pages: UInt64) -> Value? {
        guard let hit = lookup(page: page), hit.start == page, pages <= hit.pages else { return nil }
        return hit.value
    }

    /// drm_vma_offset_lookup_locked: the range holding `page` must hold all
    /// `pages` pages from there on (a range may be entered in its middle).
    public func rangeLookup(page: UInt64, pages: UInt64) -> Value? {
        guard let hit = lookup(page: page), pages <= hit.start + hit.pages - page else { return nil }
        return hit.value
    }

    private func index(containing page: UInt64) -> Int? {
        let i = firstIndex(atOrAbove: page + 1)
        guard i > 0 else { return nil }
        let e = entries[i - 1]
        return page - e.start < e.pages ? i - 1 : nil
    }

    /// The index of the first range that starts at or above `page`.
    private func firstIndex(atOrAbove page: UInt64) -> Int {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].start < page { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Sweeps the tombstones that start below `limit`. Those at or above the
    /// pointer must stay until the next wrap: the pointer would hand them
    /// out in this epoch, before anyone dropped their cached pages.
    private mutating func compact(below limit: UInt64) {
        guard tombstones > 0 else { return }
        entries.removeAll { $0.value == nil && $0.start < limit }
        tombstones = entries.reduce(0) { $0 + ($1.value == nil ? 1 : 0) }
        keptTombstones = tombstones
    }
}
