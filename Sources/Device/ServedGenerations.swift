/// The tiling generation each GTT page of an object was last served to one
/// open (inode) with, kept by pages touched: a client that touches one page
/// of a huge tiled object costs one chunk, not a byte per object page.
/// Pages never recorded read as generation 0, the untiled start.
struct ServedGenerations {
    /// Pages per chunk: a fault's readahead window (32 pages) lands in one
    /// or two, and a chunk costs about as much as its dictionary entry.
    static let chunkPages = 64

    private var chunks: [Int: SIMD64<UInt8>] = [:]

    subscript(page page: Int) -> UInt8 {
        get { chunks[page / Self.chunkPages]?[page % Self.chunkPages] ?? 0 }
        set { chunks[page / Self.chunkPages, default: SIMD64()][page % Self.chunkPages] = newValue }
    }

    /// Chunks held (tests and the memory figures).
    var chunkCount: Int { chunks.count }
}
