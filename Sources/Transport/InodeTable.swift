import FakeDRMDevice
import Synchronization

/// The mount's names and inodes. The root directory is inode 1; every
/// LOOKUP of a device file mints a fresh inode (entry and attr timeouts 0),
/// so each open() gets its own inode, page cache and drm_file, and the READs
/// of its mappings carry its own file handle. FORGET retires them.
final class InodeTable: Sendable {
    static let root: UInt64 = 1

    /// What a name in the root directory is.
    enum Node: Sendable, Equatable {
        case device(Minor)
    }

    static let names: [(String, Node)] = [("card0", .device(.primary)), ("renderD128", .device(.render))]

    private struct Entry {
        let node: Node
        var lookups: UInt64
    }

    private let entries = Mutex<[UInt64: Entry]>([:])
    private let next = Atomic<UInt64>(100)

    /// LOOKUP: a new inode for `name`, or nil when there is no such name.
    func lookup(_ name: String) -> (UInt64, Node)? {
        guard let node = Self.names.first(where: { $0.0 == name })?.1 else { return nil }
        let ino = next.add(1, ordering: .relaxed).newValue
        entries.withLock { $0[ino] = Entry(node: node, lookups: 1) }
        return (ino, node)
    }

    func node(_ ino: UInt64) -> Node? { entries.withLock { $0[ino]?.node } }

    /// FORGET: the kernel dropped `count` references.
    func forget(_ ino: UInt64, _ count: UInt64) {
        entries.withLock { e in
            guard var entry = e[ino] else { return }
            entry.lookups = entry.lookups > count ? entry.lookups - count : 0
            e[ino] = entry.lookups == 0 ? nil : entry
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
