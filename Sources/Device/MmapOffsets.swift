/// An object's offset nodes (the merged design's obj->mmo.offsets), at most
/// one per mmap type. The first is held inline: most objects are mapped one
/// way only, and an array of one would be a 48-byte allocation per object.
struct MmapOffsets: Sequence, ExpressibleByArrayLiteral {
    private var first: MmapOffset?
    private var rest: [MmapOffset] = []

    init(arrayLiteral nodes: MmapOffset...) {
        for n in nodes { append(n) }
    }

    var isEmpty: Bool { first == nil }
    var count: Int { first == nil ? 0 : 1 + rest.count }

    mutating func append(_ node: MmapOffset) {
        if first == nil { first = node } else { rest.append(node) }
    }

    struct Iterator: IteratorProtocol {
        var first: MmapOffset?
        var rest: IndexingIterator<[MmapOffset]>

        mutating func next() -> MmapOffset? {
            if let f = first {
                first = nil
                return f
            }
            return rest.next()
        }
    }

    func makeIterator() -> Iterator { Iterator(first: first, rest: rest.makeIterator()) }
}
