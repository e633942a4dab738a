/// A set of file ids or inode numbers that holds one member inline: a node's
/// allow and userfault lists almost always name a single client, and a
/// `Set` would be a heap allocation of about 80 bytes per list per node.
public struct IDSet: Sequence, Equatable, ExpressibleByArrayLiteral, Sendable {
    private enum Storage: Sendable {
        case empty
        case one(UInt64)
        case many(Set<UInt64>) // two or more
    }

    private var storage = Storage.empty

    public init() {}

    public init(arrayLiteral ids: UInt64...) {
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

    public func contains(_ id: UInt64) -> Bool {
        switch storage {
        case .empty: false
        case .one(let x): x == id
        case .many(let s): s.contains(id)
        }
    }

    public mutating func insert(_ id: UInt64) {
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

    public mutating func remove(_ id: UInt64) {
        switch storage {
        case .one(let x) where x == id: storage = .empty
        case .many(var s):
            storage = .empty
            s.remove(id)
            storage = s.count == 1 ? .one(s.first!) : .many(s)
        default: break
        }
    }

    public func isDisjoint(with other: Set<UInt64>) -> Bool {
        !contains { other.contains($0) }
    }

    public var asSet: Set<UInt64> { Set(self) }

    public static func == (a: IDSet, b: IDSet) -> Bool { a.asSet == b.asSet }

    public struct Iterator: IteratorProtocol {
        var single: UInt64?
        var rest: Set<UInt64>.Iterator?

        public mutating func next() -> UInt64? {
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
