/// The page: 4 KiB, the CPU's PAGE_SIZE and the GTT's I915_GTT_PAGE_SIZE.
/// Fake offsets, nodes, objects and page caches are counted in it. Tile
/// geometry (Tiling.swift) and the fence registers (Fence.swift) keep their
/// own 4 KiB: a tile's, which only happens to be a page.
public enum Page {
    public static let shift = 12
    public static let size = 1 << shift

    /// A byte's offset inside its page.
    @inline(__always)
    public static func offset<T: BinaryInteger>(_ byte: T) -> T { byte & T(size - 1) }

    /// The page a byte lies in.
    @inline(__always)
    public static func index(_ byte: UInt64) -> UInt64 { byte >> shift }

    /// Bytes from `byte` to the end of its page.
    @inline(__always)
    static func remaining(_ byte: UInt64) -> Int { size - Int(offset(byte)) }

    /// Pages `bytes` bytes fill (the last one partly).
    @inline(__always)
    static func count<T: BinaryInteger>(covering bytes: T) -> T { (bytes + T(size - 1)) >> shift }

    /// PAGE_ALIGN: `bytes` rounded up to whole pages, wrapping as the kernel's.
    @inline(__always)
    static func roundUp<T: FixedWidthInteger>(_ bytes: T) -> T { (bytes &+ T(size - 1)) & ~T(size - 1) }
}

/// The pages [lowerBound, upperBound) a byte range touches: a partial first
/// or last page counts whole.
public struct PageRange: Equatable, Sendable {
    public let lowerBound: UInt64
    public let upperBound: UInt64

    /// The pages `count` bytes from `offset` touch.
    public init(bytes offset: UInt64, count: UInt64) {
        lowerBound = offset >> Page.shift
        upperBound = (offset + count + UInt64(Page.size - 1)) >> Page.shift
    }

    public var range: Range<UInt64> { lowerBound..<upperBound }
    /// The whole pages' bytes.
    public var byteOffset: UInt64 { lowerBound << Page.shift }
    public var byteLength: UInt64 { (upperBound - lowerBound) << Page.shift }
}
