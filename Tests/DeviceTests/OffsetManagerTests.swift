import Testing
@testable import FakeDRMDevice

/// `insert` as a plain function, so #require can take its result.
private func insert<V>(_ m: inout OffsetManager<V>, pages: UInt64, value: V) -> UInt64? {
    m.insert(pages: pages, value: value)
}

/// drm_vma_offset_manager semantics (SEMANTICS §1.3, §10).
@Suite struct OffsetManagerTests {
    @Test func firstNodeAtFourGiB() {
        #expect(OffsetManager<Int>.firstPage == 0x100000)
        #expect(OffsetManager<Int>.defaultPageCount == 0xFFFFF * 256)
        var m = OffsetManager<Int>()
        let a = m.insert(pages: 3, value: 1)
        #expect(a == 0x100000)
        #expect(a.map { $0 << 12 } == 1 << 32)
        #expect(m.insert(pages: 1, value: 2) == 0x100003)
        #expect(m.insert(pages: 0, value: 3) == nil) // empty ranges are refused
        #expect(m.count == 2)
    }

    @Test func lookupInsideNodeHoleAndPastEnd() throws {
        var m = OffsetManager<String>(firstPage: 1000, pageCount: 100)
        let a = try #require(insert(&m, pages: 4, value: "a")) // 1000..1003
        let b = try #require(insert(&m, pages: 2, value: "b")) // 1004..1005
        let c = try #require(insert(&m, pages: 3, value: "c")) // 1006..1008
        #expect((a, b, c) == (1000, 1004, 1006))
        m.remove(start: b)

        #expect(m.lookup(page: 1000)?.value == "a")
        let inner = m.lookup(page: 1003)
        #expect(inner?.value == "a" && inner?.start == 1000 && inner?.pages == 4)
        #expect(m.lookup(page: 1004) == nil) // hole left by b
        #expect(m.lookup(page: 1005) == nil)
        #expect(m.lookup(page: 1006)?.value == "c")
        #expect(m.lookup(page: 1008)?.value == "c")
        #expect(m.lookup(page: 1009) == nil) // past the last node
        #expect(m.lookup(page: 999) == nil)  // below the range
        #expect(m.lookup(page: 0) == nil)
        #expect(m.count == 2)
    }

    @Test func exactLookupNeedsStartAndFit() throws {
        var m = OffsetManager<String>(firstPage: 1000, pageCount: 100)
        _ = try #require(insert(&m, pages: 4, value: "a"))
        #expect(m.exactLookup(page: 1000, pages: 1) == "a")
        #expect(m.exactLookup(page: 1000, pages: 4) == "a")
        #expect(m.exactLookup(page: 1000, pages: 5) == nil) // longer than the node
        #expect(m.exactLookup(page: 1001, pages: 1) == nil) // inside, not at start
        #expect(m.exactLookup(page: 1004, pages: 1) == nil) // past the node
    }

    /// drm_vma_offset_lookup_locked, which i915_gem_mmap uses since v6.12.
    @Test func rangeLookupEntersANodeAnywhere() throws {
        var m = OffsetManager<String>(firstPage: 1000, pageCount: 100)
        _ = try #require(insert(&m, pages: 4, value: "a"))
        _ = try #require(insert(&m, pages: 2, value: "b"))
        #expect(m.rangeLookup(page: 1000, pages: 4) == "a")
        #expect(m.rangeLookup(page: 1001, pages: 3) == "a") // inside, fits
        #expect(m.rangeLookup(page: 1003, pages: 1) == "a") // the last page
        #expect(m.rangeLookup(page: 1001, pages: 4) == nil) // runs past the end
        #expect(m.rangeLookup(page: 1003, pages: 2) == nil) // into the next node
        #expect(m.rangeLookup(page: 1004, pages: 1) == "b")
        #expect(m.rangeLookup(page: 1006, pages: 1) == nil) // a hole
        #expect(m.rangeLookup(page: 999, pages: 2) == nil)
    }

    @Test func removeSemantics() throws {
        var m = OffsetManager<Int>(firstPage: 10, pageCount: 100)
        let a = try #require(insert(&m, pages: 4, value: 1))
        m.remove(start: a + 1) // not a node start
        #expect(m.lookup(page: a)?.value == 1)
        m.remove(start: a)
        m.remove(start: a)
        #expect(m.count == 0)
        #expect(m.lookup(page: a) == nil)
        // While space remains above, a freed range is not handed out again.
        #expect(m.insert(pages: 4, value: 2) == a + 4)
    }

    /// Past the end the space wraps once (`wraps`) and the pointer takes the
    /// first gap that fits above it; a gap it passed waits for the next wrap.
    @Test func exhaustionWrapsThenFirstGapAbove() throws {
        var m = OffsetManager<Int>(firstPage: 10, pageCount: 10) // pages 10..19
        let a = try #require(insert(&m, pages: 3, value: 1))        // 10..12
        let b = try #require(insert(&m, pages: 3, value: 2))        // 13..15
        let c = try #require(insert(&m, pages: 3, value: 3))        // 16..18
        #expect((a, b, c) == (10, 13, 16))
        #expect(m.wraps == 0)
        #expect(m.insert(pages: 2, value: 4) == nil)              // one page left, none below
        #expect(m.wraps == 1)
        #expect(m.insert(pages: 1, value: 5) == 19)               // a failed attempt leaves the pointer at the end
        #expect(m.wraps == 2)
        m.remove(start: a)
        m.remove(start: c)
        #expect(m.insert(pages: 4, value: 6) == nil)              // no gap of 4 once a and c are swept
        #expect(m.insert(pages: 2, value: 7) == 10)               // from the bottom
        #expect(m.insert(pages: 2, value: 8) == 16)               // 12 has one page only: passed
        #expect(m.insert(pages: 1, value: 9) == 18)               // above the pointer first
        let w = m.wraps
        #expect(m.insert(pages: 1, value: 10) == 12)              // the passed gap, after a wrap
        #expect(m.wraps == w + 1)
        #expect(m.insert(pages: 1, value: 11) == nil)
        #expect(m.lookup(page: 13)?.value == 2)
        #expect(m.lookup(page: 17)?.value == 8)
        #expect(m.count == 6)
    }

    /// A range freed during an epoch is not handed out again before a wrap,
    /// even when a compaction runs meanwhile: its pages may still be cached,
    /// and only the wrap drops them.
    @Test func freedRangesWaitForTheWrap() throws {
        var m = OffsetManager<Int>(firstPage: 0, pageCount: 2000)
        for i in 0..<2000 { #expect(m.insert(pages: 1, value: i) == UInt64(i)) }
        for s in UInt64(0)..<100 { m.remove(start: s) }
        #expect(m.insert(pages: 1, value: -1) == 0)               // the wrap swept 0..99
        #expect(m.wraps == 1)
        for s in UInt64(1000)..<2000 { m.remove(start: s) }       // above the pointer; compactions run
        for _ in 1..<100 {
            let s = try #require(insert(&m, pages: 1, value: -2))
            #expect(s < 100, "page \(s) freed in this epoch was handed out before the wrap")
        }
        #expect(m.wraps == 1)
        #expect(m.insert(pages: 1, value: -3) == 1000)            // only after the next wrap
        #expect(m.wraps == 2)
    }

    /// Thousands of inserts and removes against a plain list of live ranges:
    /// tombstones and compaction must never change what a page resolves to.
    @Test(arguments: [
        (seed: UInt64(1), pageCount: OffsetManager<Int>.defaultPageCount, maxPages: UInt64(64)),
        (seed: UInt64(2), pageCount: UInt64(3000), maxPages: UInt64(40)),
        (seed: UInt64(3), pageCount: UInt64(500), maxPages: UInt64(9)),
    ])
    func randomizedAgainstReference(seed: UInt64, pageCount: UInt64, maxPages: UInt64) {
        let first = OffsetManager<Int>.firstPage
        var m = OffsetManager<Int>(firstPage: first, pageCount: pageCount)
        var live: [UInt64: (pages: UInt64, value: Int)] = [:]
        var rng = SplitMix64(seed: seed)

        func reference(_ page: UInt64) -> (UInt64, Int)? {
            for (s, e) in live where page >= s && page - s < e.pages { return (s, e.value) }
            return nil
        }
        func fits(_ pages: UInt64) -> Bool {
            var gap = first
            for (s, e) in live.sorted(by: { $0.key < $1.key }) {
                if s - gap >= pages { return true }
                gap = s + e.pages
            }
            return first + pageCount - gap >= pages
        }
        func check(_ page: UInt64) -> Bool {
            let got = m.lookup(page: page)
            let want = reference(page)
            return got?.start == want?.0 && got?.value == want?.1
        }

        var failures = 0
        for step in 0..<4000 {
            if live.isEmpty || rng.next() % 100 < 55 {
                let pages = 1 + rng.next() % maxPages
                if let s = m.insert(pages: pages, value: step) {
                    let overlaps = live.contains { s < $0.key + $0.value.pages && $0.key < s + pages }
                    if overlaps || s < first || s + pages > first + pageCount { failures += 1 }
                    live[s] = (pages, step)
                } else if fits(pages) {
                    failures += 1
                }
            } else {
                let victim = live.keys.randomElement(using: &rng)!
                live[victim] = nil
                m.remove(start: victim)
                if !check(victim) { failures += 1 }
            }
            // Spot checks every step, all live nodes now and then.
            for _ in 0..<4 {
                let span = min(pageCount, 200_000)
                if !check(first + rng.next() % span) { failures += 1 }
            }
            if step % 500 == 499 {
                for (s, e) in live where !(check(s) && check(s + e.pages - 1) && check(s + e.pages / 2)) {
                    failures += 1
                }
            }
            if m.count != live.count { failures += 1 }
        }
        #expect(failures == 0)
    }
}
