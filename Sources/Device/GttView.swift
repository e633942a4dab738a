/// Which pages of an object a GGTT binding maps: the whole object, or a
/// partial view of it (i915_gtt_view).
public struct GttView: Sendable, Equatable, CustomStringConvertible {
    /// First object page and page count.
    public let offset: Int
    public let pages: Int
    public let isPartial: Bool

    /// MIN_CHUNK_PAGES: a partial view is 1 MiB, rounded up to whole tile rows.
    public static let minChunkPages = (1 << 20) >> Page.shift

    /// compute_partial_view: the chunk around `page`, or the whole object
    /// when the chunk covers it.
    public static func partial(objectPages: Int, page: Int, tiling: Tiling) -> GttView {
        var chunk = minChunkPages
        if tiling.isTiled {
            let row = max(tiling.tileRowPages, 1)
            chunk = (chunk + row - 1) / row * row
        }
        if chunk >= objectPages { return GttView(offset: 0, pages: objectPages, isPartial: false) }
        let offset = page / chunk * chunk
        return GttView(offset: offset, pages: min(chunk, objectPages - offset), isPartial: true)
    }

    public func contains(page: Int) -> Bool { page >= offset && page < offset + pages }

    public var description: String { isPartial ? "partial(\(offset)+\(pages))" : "normal" }
}
