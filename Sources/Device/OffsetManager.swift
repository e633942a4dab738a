/// The device-global fake-offset space, after the kernel's
/// drm_vma_offset_manager: page ranges from 4 GiB up (about 1 TiB of them),
/// found by any page they contain.
///
/// Ranges are handed out by a bump pointer, so a freed range is not reused
/// until the space above is exhausted; then the lowest fitting gap is taken.
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
    /// Set once the space above is exhausted and freed ranges are reused.
    public private(set) var reusing = false

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

    /// Where a new range goes: its start and its index in `entries`.
    private mutating func allocate(pages: UInt64) -> (UInt64, Int)? {
        if pages <= endPage - next {
            defer { next += pages }
            return (next, entries.count)
        }
        compact()
        reusing = true
        var gapStart = firstPage
        for (i, e) in entries.enumerated() {
            if e.start - gapStart >= pages { return (gapStart, i) }
            gapStart = e.start + e.pages + guardPages
        }
        guard endPage - gapStart >= pages else { return nil }
        next = gapStart + pages
        return (gapStart, entries.count)
    }

    /// Frees the range that starts at `start`.
    public mutating func remove(start: UInt64) {
        guard let i = index(containing: start), entries[i].start == start, entries[i].value != nil else { return }
        entries[i].value = nil
        tombstones += 1
        count -= 1
        if tombstones > 64 && tombstones > count { compact() }
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
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].start <= page { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let e = entries[lo - 1]
        return page - e.start < e.pages ? lo - 1 : nil
    }

    private mutating func compact() {
        guard tombstones > 0 else { return }
        entries.removeAll { $0.value == nil }
        tombstones = 0
    }
}
