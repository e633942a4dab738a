import CDrm
import Testing
@testable import FakeDRMDevice

/// compute_partial_view (SEMANTICS §3.1) with the worked numbers of §10.
@Suite struct GttViewTests {
    typealias R = GttRef

    @Test func minChunkIsOneMiB() {
        #expect(GttView.minChunkPages == 256)
    }

    @Test func xStride4096ChunkIs256Pages() {
        let t = Tiling(mode: R.x, stride: 4096) // tile row 8 pages
        let v = GttView.partial(objectPages: 1000, page: 300, tiling: t)
        #expect(v == GttView(offset: 256, pages: 256, isPartial: true))
    }

    @Test func yStride2048ChunkIs256Pages() {
        let t = Tiling(mode: R.y, stride: 2048) // tile row 16 pages
        let v = GttView.partial(objectPages: 1000, page: 511, tiling: t)
        #expect(v == GttView(offset: 256, pages: 256, isPartial: true))
    }

    @Test func xStride12288ChunkIs264Pages() {
        let t = Tiling(mode: R.x, stride: 12288) // tile row 24 pages
        #expect(GttView.partial(objectPages: 1000, page: 0, tiling: t) == GttView(offset: 0, pages: 264, isPartial: true))
        #expect(GttView.partial(objectPages: 1000, page: 263, tiling: t).offset == 0)
        #expect(GttView.partial(objectPages: 1000, page: 264, tiling: t).offset == 264)
    }

    @Test func workedFaultAtPage300() {
        let t = Tiling(mode: R.x, stride: 12288)
        let v = GttView.partial(objectPages: 1000, page: 300, tiling: t)
        #expect(v.offset == 264)
        #expect(v.pages == 264)
        #expect(v.isPartial)
        #expect(v.contains(page: 300) && v.contains(page: 264) && v.contains(page: 527))
        #expect(!v.contains(page: 263) && !v.contains(page: 528))
    }

    @Test func lastChunkIsClippedToTheObject() {
        let x = Tiling(mode: R.x, stride: 12288)
        #expect(GttView.partial(objectPages: 1000, page: 999, tiling: x) == GttView(offset: 792, pages: 208, isPartial: true))
        #expect(GttView.partial(objectPages: 1000, page: 999, tiling: .none) == GttView(offset: 768, pages: 232, isPartial: true))
        #expect(GttView.partial(objectPages: 257, page: 256, tiling: .none) == GttView(offset: 256, pages: 1, isPartial: true))
    }

    @Test func untiledChunkIsExactly256() {
        #expect(GttView.partial(objectPages: 2048, page: 300, tiling: .none) == GttView(offset: 256, pages: 256, isPartial: true))
        #expect(GttView.partial(objectPages: 2048, page: 2047, tiling: .none) == GttView(offset: 1792, pages: 256, isPartial: true))
    }

    @Test func objectNoBiggerThanTheChunkIsWhole() {
        // chunk >= obj_pages ⇒ I915_GTT_VIEW_NORMAL.
        #expect(GttView.partial(objectPages: 100, page: 50, tiling: .none) == GttView(offset: 0, pages: 100, isPartial: false))
        #expect(GttView.partial(objectPages: 256, page: 255, tiling: .none) == GttView(offset: 0, pages: 256, isPartial: false))
        // 260 pages, X stride 12288: the chunk (264) covers it.
        let x = Tiling(mode: R.x, stride: 12288)
        #expect(GttView.partial(objectPages: 260, page: 259, tiling: x) == GttView(offset: 0, pages: 260, isPartial: false))
        #expect(GttView.partial(objectPages: 264, page: 0, tiling: x).isPartial == false)
        #expect(GttView.partial(objectPages: 265, page: 264, tiling: x) == GttView(offset: 264, pages: 1, isPartial: true))
    }

    @Test func tileRowWiderThanTheChunkSetsTheChunk() {
        // X stride 256 KiB: one tile row is 2 MiB = 512 pages.
        let t = Tiling(mode: R.x, stride: 256 << 10)
        #expect(GttView.partial(objectPages: 2048, page: 700, tiling: t) == GttView(offset: 512, pages: 512, isPartial: true))
    }

    @Test func partialViewsTileTheObject() {
        // Every page falls in exactly the view computed for it, views start on
        // tile-row boundaries and never pass the object's end.
        for t in [Tiling.none, Tiling(mode: R.x, stride: 12288), Tiling(mode: R.y, stride: 2944)] {
            let objectPages = 1537
            let row = max(t.tileRowPages, 1)
            let bad = (0..<objectPages).filter { page in
                let v = GttView.partial(objectPages: objectPages, page: page, tiling: t)
                return !v.contains(page: page) || v.offset % row != 0 || v.offset + v.pages > objectPages
            }
            #expect(bad.isEmpty, "\(t): \(bad.prefix(5))")
        }
    }

    @Test func description() {
        #expect(GttView(offset: 264, pages: 264, isPartial: true).description == "partial(264+264)")
        #expect(GttView(offset: 0, pages: 4, isPartial: false).description == "normal")
    }
}
