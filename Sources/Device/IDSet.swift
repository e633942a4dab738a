/// A set of file ids or inode numbers (`IDSet<FileID>`, `IDSet<InodeID>`) that holds one member inline: a node's
/// allow and userfault lists almost always name a single client, and a
/// `Set` would be a heap allocation of about 80 bytes per list per node.
public struct IDSet<ID: Hashable & Sendable>: Sequence, Equatable, ExpressibleByArrayLiteral, Sendable {
    private enum Storage: Sendable {
        case empty
        case one(ID)
        case many(Set<ID>) // two or more
    }

    private var storage = Storage.empty

    public init() {}

    public init(arrayLiteral ids: ID...) {
        for id in ids { insert(id) }
    }

    public var isEmpty: Bool {
        if case .empty = storage { true } else { false }
    }

    public var count: Int {
        switch storage {
        case .empty: 0
        case .one: 1
        case .many(let s): s.count
        }
    }

    public func contains(_ id: ID) -> Bool {
        switch storage {
        case .empty: false
        case .one(let x): x == id
        case .many(let s): s.contains(id)
        }
    }

    public mutating func insert(_ id: ID) {
        switch storage {
        case .empty: storage = .one(id)
        case .one(let x) where x != id: storage = .many([x, id])
        case .one: break
        case .many(var s):
            storage = .empty // keep `s` uniquely referenced
            s.insert(id)
            storage = .many(s)
        }
    }

    public mutating func remove(_ id: ID) {
        switch storage {
        case .one(let x) where x == id: storage = .empty
        case .many(var s):
            storage = .empty
            s.remove(id)
            storage = s.count == 1 ? .one(s.first!) : .many(s)
        default: break
        }
    }

    public func isDisjoint(with other: Set<ID>) -> Bool {
        !contains { other.contains($0) }
    }

    public var asSet: Set<ID> { Set(self) }

    public static func == (a: IDSet<ID>, b: IDSet<ID>) -> Bool { a.asSet == b.asSet }

    public struct Iterator: IteratorProtocol {
        var single: ID?
        var rest: Set<ID>.Iterator?

        public mutating func next() -> ID? {
            if let x = single {
                single = nil
                return x
            }
            return rest?.next()
        }
    }

    public func makeIterator() -> Iterator {
        switch storage {
        case .empty: Iterator()
        case .one(let x): Iterator(single: x)
        case .many(let s): Iterator(rest: s.makeIterator())
        }
    }
}
