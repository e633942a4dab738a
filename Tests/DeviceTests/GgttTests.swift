import CDrm
import Testing
@testable import FakeDRMDevice

/// The simulated aperture on its own: placement, LRU eviction, PTEs and the
/// fence LRU (SEMANTICS §3.1 steps 3-6, §3.3).
@Suite struct GgttTests {
    typealias R = GttRef

    static func whole(_ pages: Int) -> GttView { GttView(offset: 0, pages: pages, isPartial: false) }

    // MARK: placement and eviction

    @Test func bindWithoutEvictFailsWhenFull() {
        var g = Ggtt(mappableBytes: 4 << 12, fences: 2)
        defer { g.unbindEverything() }
        let a = ggttTestObject(serial: 1, pages: 2), b = ggttTestObject(serial: 2, pages: 2), c = ggttTestObject(serial: 3, pages: 1)
        let (va, ea) = g.bind(a, Self.whole(2), evict: false)
        let (vb, eb) = g.bind(b, Self.whole(2), evict: false)
        #expect(va?.start == 0 && vb?.start == 2)
        #expect(ea.isEmpty && eb.isEmpty)
        let (vc, ec) = g.bind(c, Self.whole(1), evict: false)
        #expect(vc == nil)
        #expect(ec.isEmpty)
        #expect(g.vmas.count == 2)
        #expect(g.stats.binds == 2 && g.stats.evictions == 0)
        #expect(c.vmas.isEmpty)
    }

    @Test func viewLargerThanTheApertureNeverBinds() {
        var g = Ggtt(mappableBytes: 4 << 12, fences: 2)
        defer { g.unbindEverything() }
        let a = ggttTestObject(serial: 1, pages: 2), big = ggttTestObject(serial: 2, pages: 5)
        _ = g.bind(a, Self.whole(2), evict: false)
        let (v, evicted) = g.bind(big, Self.whole(5), evict: true)
        #expect(v == nil)
        #expect(evicted.isEmpty) // nothing thrown out for a hopeless request
        #expect(g.vmas.count == 1)
    }

    @Test func evictsTheLeastRecentlyUsedFirst() throws {
        var g = Ggtt(mappableBytes: 4 << 12, fences: 2)
        defer { g.unbindEverything() }
        let a = ggttTestObject(serial: 1, pages: 2), b = ggttTestObject(serial: 2, pages: 2), c = ggttTestObject(serial: 3, pages: 2)
        let va = try #require(g.bind(a, Self.whole(2), evict: false).0)
        let vb = try #require(g.bind(b, Self.whole(2), evict: false).0)
        va.lastUse = g.tick() // a used after b: b is now the LRU
        let (vc, evicted) = g.bind(c, Self.whole(2), evict: true)
        #expect(evicted.map { $0.object.serial } == [2])
        #expect(evicted.first === vb)
        #expect(vc?.start == 2)
        #expect(g.vmas.map { $0.object.serial } == [1, 3])
        #expect(b.vmas.isEmpty)
        #expect(g.stats.evictions == 1)
    }

    @Test func evictsInLRUOrderUntilAHoleFits() throws {
        var g = Ggtt(mappableBytes: 4 << 12, fences: 2)
        defer { g.unbindEverything() }
        let a = ggttTestObject(serial: 1, pages: 1), b = ggttTestObject(serial: 2, pages: 2), c = ggttTestObject(serial: 3, pages: 1)
        _ = g.bind(a, Self.whole(1), evict: false) // [0,1)
        _ = g.bind(b, Self.whole(2), evict: false) // [1,3)
        let vc = try #require(g.bind(c, Self.whole(1), evict: false).0) // [3,4)
        let d = ggttTestObject(serial: 4, pages: 2)
        let (vd, evicted) = g.bind(d, Self.whole(2), evict: true)
        // a alone leaves a one-page hole; a and b together make [0,3).
        #expect(evicted.map { $0.object.serial } == [1, 2])
        #expect(vd?.start == 0)
        #expect(g.vmas.contains { $0 === vc })
        #expect(g.stats.evictions == 2)
    }

    /// i915_gem_evict_something scans the LRU with drm_mm_scan until the
    /// scanned bindings plus free space form a big enough hole, then evicts
    /// only the scanned bindings that overlap the chosen range: an LRU binding
    /// scanned on the way but outside the hole stays bound.
    @Test func evictionSparesScannedBindingsOutsideTheHole() throws {
        var g = Ggtt(mappableBytes: 4 << 12, fences: 2)
        defer { g.unbindEverything() }
        let objs = (1...4).map { ggttTestObject(serial: UInt64($0), pages: 1) }
        let v = try objs.map { try #require(g.bind($0, Self.whole(1), evict: false).0) } // one page each, in order
        // LRU order: a, c, b, d.
        v[0].lastUse = g.tick(); v[2].lastUse = g.tick(); v[1].lastUse = g.tick(); v[3].lastUse = g.tick()
        let e = ggttTestObject(serial: 5, pages: 2)
        let (ve, evicted) = g.bind(e, Self.whole(2), evict: true)
        #expect(ve?.start == 0)
        #expect(Set(evicted.map { $0.object.serial }) == [1, 2])
        #expect(g.vmas.contains { $0 === v[2] })
    }

    @Test func firstFitReusesHoles() throws {
        var g = Ggtt(mappableBytes: 8 << 12, fences: 2)
        defer { g.unbindEverything() }
        let a = ggttTestObject(serial: 1, pages: 2), b = ggttTestObject(serial: 2, pages: 2), c = ggttTestObject(serial: 3, pages: 2)
        _ = g.bind(a, Self.whole(2), evict: false)
        let vb = try #require(g.bind(b, Self.whole(2), evict: false).0)
        _ = g.bind(c, Self.whole(2), evict: false)
        g.unbind(vb)
        let d = ggttTestObject(serial: 4, pages: 1), e = ggttTestObject(serial: 5, pages: 2)
        #expect(g.bind(d, Self.whole(1), evict: false).0?.start == 2) // into b's hole
        #expect(g.bind(e, Self.whole(2), evict: false).0?.start == 6) // the one-page rest is too small
        #expect(g.vmas.map(\.start) == [0, 2, 4, 6]) // kept sorted
    }

    @Test func bindAndUnbindTrackTheObjectsBindings() throws {
        var g = Ggtt(mappableBytes: 8 << 12, fences: 1)
        defer { g.unbindEverything() }
        let obj = ggttTestObject(serial: 1, pages: 6)
        let v1 = try #require(g.bind(obj, GttView(offset: 0, pages: 3, isPartial: true), evict: false).0)
        let v2 = try #require(g.bind(obj, GttView(offset: 3, pages: 3, isPartial: true), evict: false).0)
        #expect(obj.vmas.count == 2)
        g.unbind(v1)
        #expect(obj.vmas.count == 1 && obj.vmas.first === v2)
        g.unbind(v1) // not bound any more: nothing happens
        #expect(g.vmas.count == 1)
    }

    @Test func tickIsMonotonic() {
        var g = Ggtt(mappableBytes: 4096, fences: 0)
        defer { g.unbindEverything() }
        let a = g.tick(), b = g.tick()
        #expect(b > a)
    }

    // MARK: PTEs

    @Test func ptesPointAtObjectPagesAndBackToScratch() throws {
        var g = Ggtt(mappableBytes: 16 << 12, fences: 1)
        defer { g.unbindEverything() }
        let filler = ggttTestObject(serial: 1, pages: 2)
        let obj = ggttTestObject(serial: 2, pages: 20)
        _ = g.bind(filler, Self.whole(2), evict: false)
        let v = try #require(g.bind(obj, GttView(offset: 5, pages: 3, isPartial: true), evict: false).0)
        #expect(v.start == 2 && v.end == 5)
        #expect((0..<3).map { g.pte(v.start + $0) } == [5, 6, 7])
        #expect(g.pte(0) == 0 && g.pte(1) == 1) // the filler's own pages
        #expect(g.pte(5) == nil && g.pte(15) == nil) // never bound: scratch
        g.unbind(v)
        #expect((0..<3).map { g.pte(v.start + $0) } == [nil, nil, nil])
        #expect(g.ptes[2...4].allSatisfy { $0 == -1 })
        #expect(g.pte(0) == 0) // others untouched
    }

    @Test func evictionPutsScratchBehindTheVictim() throws {
        var g = Ggtt(mappableBytes: 4 << 12, fences: 1)
        defer { g.unbindEverything() }
        let a = ggttTestObject(serial: 1, pages: 4), b = ggttTestObject(serial: 2, pages: 8)
        _ = g.bind(a, Self.whole(4), evict: false)
        let vb = try #require(g.bind(b, GttView(offset: 4, pages: 2, isPartial: true), evict: true).0)
        #expect(vb.start == 0)
        #expect((0..<4).map { g.pte($0) } == [4, 5, nil, nil])
    }

    // MARK: fences

    static let x4096 = Tiling(mode: UInt32(I915_TILING_X), stride: 4096)

    @Test func pinFenceReusesTheOwnedRegister() throws {
        var g = Ggtt(mappableBytes: 16 << 12, fences: 2)
        defer { g.unbindEverything() }
        let obj = ggttTestObject(serial: 1, pages: 8)
        let v = try #require(g.bind(obj, Self.whole(8), evict: false).0)
        #expect(g.pinFence(v, tiling: Self.x4096) == nil)
        let f = try #require(v.fence)
        let before = g.fences[f].lastUse
        #expect(g.pinFence(v, tiling: Self.x4096) == nil)
        #expect(v.fence == f)
        #expect(g.fences[f].lastUse > before) // moved to the LRU tail
        #expect(g.fences.filter { $0.vma != nil }.count == 1)
        #expect(g.stats.fenceSteals == 0)
    }

    @Test func pinFenceProgramsTheRegister() throws {
        var g = Ggtt(mappableBytes: 2048 << 12, fences: 4)
        defer { g.unbindEverything() }
        let filler = ggttTestObject(serial: 1, pages: 3)
        let obj = ggttTestObject(serial: 2, pages: 1025)
        _ = g.bind(filler, Self.whole(3), evict: false)
        let v = try #require(g.bind(obj, Self.whole(1025), evict: false).0)
        _ = g.pinFence(v, tiling: Self.x4096)
        let fence = g.fences[try #require(v.fence)]
        #expect(fence.vma === v)
        #expect(fence.start == 3 << 12)
        #expect(fence.size == 4_227_072)
        #expect(fence.value.hi == UInt64((3 << 12) + 4_227_072 - 4096))
        #expect(fence.value.lo == UInt64(3 << 12) | (31 << 32) | 1)
    }

    @Test func partialBindingIsFencedForItsViewOnly() throws {
        var g = Ggtt(mappableBytes: 1024 << 12, fences: 1)
        defer { g.unbindEverything() }
        let obj = ggttTestObject(serial: 1, pages: 1000)
        let t = Tiling(mode: UInt32(I915_TILING_X), stride: 12288)
        let v = try #require(g.bind(obj, GttView.partial(objectPages: 1000, page: 999, tiling: t), evict: false).0)
        _ = g.pinFence(v, tiling: t)
        // 208 pages rounded up to whole 24-page tile rows: 9 rows.
        #expect(g.fences[0].size == 9 * 24 * 4096)
    }

    @Test func pinFenceStealsTheLRURegister() throws {
        var g = Ggtt(mappableBytes: 16 << 12, fences: 2)
        defer { g.unbindEverything() }
        let objs = (1...3).map { ggttTestObject(serial: UInt64($0), pages: 2) }
        let v = try objs.map { try #require(g.bind($0, Self.whole(2), evict: false).0) }
        #expect(g.pinFence(v[0], tiling: Self.x4096) == nil)
        #expect(g.pinFence(v[1], tiling: Self.x4096) == nil) // a free register: no steal
        let f0 = try #require(v[0].fence)
        #expect(v[1].fence != f0)
        let previous = g.pinFence(v[2], tiling: Self.x4096)
        #expect(previous === v[0])
        #expect(v[0].fence == nil)
        #expect(v[2].fence == f0)
        #expect(g.fences[f0].vma === v[2])
        #expect(g.fences[f0].start == v[2].start << 12)
        #expect(g.stats.fenceSteals == 1)
        // v[0] is still bound, only unfenced.
        #expect(g.vmas.contains { $0 === v[0] })
        // Using v[1] makes v[2]'s register the LRU one.
        _ = g.pinFence(v[1], tiling: Self.x4096)
        #expect(g.pinFence(v[0], tiling: Self.x4096) === v[2])
        #expect(v[2].fence == nil && v[0].fence == f0)
        #expect(g.stats.fenceSteals == 2)
    }

    @Test func unbindReleasesTheFenceForTheNextUser() throws {
        var g = Ggtt(mappableBytes: 16 << 12, fences: 2)
        defer { g.unbindEverything() }
        let objs = (1...3).map { ggttTestObject(serial: UInt64($0), pages: 2) }
        let v = try objs.map { try #require(g.bind($0, Self.whole(2), evict: false).0) }
        _ = g.pinFence(v[0], tiling: Self.x4096)
        _ = g.pinFence(v[1], tiling: Self.x4096)
        let f1 = try #require(v[1].fence)
        g.unbind(v[1])
        #expect(v[1].fence == nil)
        #expect(g.fences[f1].vma == nil)
        #expect(g.fences[f1].value.hi == 0 && g.fences[f1].value.lo == 0)
        // The freed register goes first, even though v[0]'s is older.
        #expect(g.pinFence(v[2], tiling: Self.x4096) == nil)
        #expect(v[2].fence == f1)
        #expect(v[0].fence != nil)
        #expect(g.stats.fenceSteals == 0)
    }

    @Test func evictionReleasesTheVictimsFence() throws {
        var g = Ggtt(mappableBytes: 2 << 12, fences: 1)
        defer { g.unbindEverything() }
        let a = ggttTestObject(serial: 1, pages: 2), b = ggttTestObject(serial: 2, pages: 2)
        let va = try #require(g.bind(a, Self.whole(2), evict: false).0)
        _ = g.pinFence(va, tiling: Self.x4096)
        _ = g.bind(b, Self.whole(2), evict: true)
        #expect(va.fence == nil)
        #expect(g.fences[0].vma == nil)
    }

    @Test func noFenceRegistersMeansNoFence() throws {
        var g = Ggtt(mappableBytes: 4 << 12, fences: 0)
        defer { g.unbindEverything() }
        let obj = ggttTestObject(serial: 1, pages: 2)
        let v = try #require(g.bind(obj, Self.whole(2), evict: false).0)
        #expect(g.fences.isEmpty)
        #expect(g.pinFence(v, tiling: Self.x4096) == nil)
        #expect(v.fence == nil)
    }
}
