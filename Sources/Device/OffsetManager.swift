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
/// The ranges sit in two sorted arrays on either side of the pointer, the
/// ones below it ascending and the ones ahead descending: a new range is
/// appended below, a range the pointer passes moves from one end to the
/// other, and lookup is a binary search in one of them. (One sorted array
/// moved every range above the insertion point: after a wrap, each
/// MMAP_OFFSET shifted the older ranges near the top, 6% of the daemon.)
/// Removal leaves a tombstone that a later compaction sweeps.
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

    /// Ranges that start below `next`, ascending, and at or above it, descending.
    private var below: [Entry] = []
    private var ahead: [Entry] = []
    /// Tombstones in `below` (a compaction may sweep them) and in `ahead`
    /// (they wait for the wrap: the pointer would hand them out unflushed).
    private var tombstones = 0
    private var aheadTombstones = 0
    private var next: UInt64
    public let firstPage: UInt64
    public let endPage: UInt64
    public private(set) var count = 0
    /// How many times the space wrapped: freed ranges are reused only after one.
    public private(set) var wraps = 0

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
        guard pages > 0, let start = allocate(pages: pages + guardPages) else { return nil }
        below.append(Entry(start: start, pages: pages, value: make(start)))
        count += 1
        return start
    }

    /// Where a new range starts: the first gap at or above the pointer;
    /// past the end, one wrap.
    private mutating func allocate(pages: UInt64) -> UInt64? {
        if let start = fit(pages: pages) { return start }
        wraps += 1
        below.removeAll { $0.value == nil }
        ahead.removeAll { $0.value == nil }
        ahead += below.reversed()
        below = []
        tombstones = 0
        aheadTombstones = 0
        next = firstPage
        if let start = fit(pages: pages) { return start }
        next = endPage  // the next attempt wraps again: nothing freed since is reused unseen
        return nil
    }

    /// The first gap of `pages` at or above `next`, which moves past it.
    private mutating func fit(pages: UInt64) -> UInt64? {
        while true {
            let gapEnd = ahead.last?.start ?? endPage
            if gapEnd >= next, gapEnd - next >= pages {
                defer { next += pages }
                return next
            }
            guard let e = ahead.popLast() else { break }
            if e.value == nil { aheadTombstones -= 1; tombstones += 1 }
            below.append(e)
            next = max(next, e.start + e.pages + guardPages)
        }
        next = endPage
        return nil
    }

    /// Frees the range that starts at `start`: a tombstone until a sweep.
    public mutating func remove(start: UInt64) {
        if start < next {
            guard let i = Self.index(in: below, containing: start, ascending: true),
                  below[i].start == start, below[i].value != nil else { return }
            below[i].value = nil
            tombstones += 1
        } else {
            guard let i = Self.index(in: ahead, containing: start, ascending: false),
                  ahead[i].start == start, ahead[i].value != nil else { return }
            ahead[i].value = nil
            aheadTombstones += 1
        }
        count -= 1
        if tombstones > 64 && tombstones > count {
            below.removeAll { $0.value == nil }
            tombstones = 0
        }
    }

    /// The range holding `page`: its start, size and value.
    public func lookup(page: UInt64) -> (start: UInt64, pages: UInt64, value: Value)? {
        // Two branches, not one `side` variable: no array retain on the fault path.
        if page < next {
            guard let i = Self.index(in: below, containing: page, ascending: true), let v = below[i].value else { return nil }
            return (below[i].start, below[i].pages, v)
        }
        guard let i = Self.index(in: ahead, containing: page, ascending: false), let v = ahead[i].value else { return nil }
        return (ahead[i].start, ahead[i].pages, v)
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

    /// The range of `side` holding `page`, by binary search.
    private static func index(in side: [Entry], containing page: UInt64, ascending: Bool) -> Int? {
        // The number of ranges that start at or below `page` in ascending order.
        var lo = 0, hi = side.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let e = side[ascending ? mid : side.count - 1 - mid]
            if e.start <= page { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let i = ascending ? lo - 1 : side.count - lo
        return page - side[i].start < side[i].pages ? i : nil
    }
}
