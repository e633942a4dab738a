import FakeDRMDevice
import Synchronization

/// The mount's names and inodes. The root directory is inode 1; every
/// LOOKUP of a device file mints a fresh inode (entry and attr timeouts 0),
/// so each open() gets its own inode, page cache and drm_file, and the READs
/// of its mappings carry its own file handle. FORGET retires them.
final class InodeTable: Sendable {
    static let root: UInt64 = 1

    /// What an inode is.
    enum Node: Sendable, Equatable {
        case device(Minor)
        case debugDirectory
        case debug(DrmDevice.DebugFile)
    }

    static let names: [(String, Node)] = [("card0", .device(.primary)), ("renderD128", .device(.render)),
                                          ("debug", .debugDirectory)]

    /// The debugfs-like directory and its files have fixed inodes.
    static let debugDirectory: UInt64 = 2
    static func inode(of file: DrmDevice.DebugFile) -> UInt64 {
        3 + UInt64(DrmDevice.DebugFile.allCases.firstIndex(of: file)!)
    }
    static func fixedNode(_ ino: UInt64) -> Node? {
        if ino == debugDirectory { return .debugDirectory }
        let files = DrmDevice.DebugFile.allCases
        guard ino >= 3, ino < 3 + UInt64(files.count) else { return nil }
        return .debug(files[Int(ino - 3)])
    }

    private struct Entry {
        let node: Node
        var lookups: UInt64
    }

    private let entries = Mutex<[UInt64: Entry]>([:])
    private let next = Atomic<UInt64>(100)

    /// LOOKUP of `name` in `parent`: a fresh inode for a device file, the
    /// fixed one for anything else; nil when there is no such name.
    func lookup(_ name: String, in parent: UInt64) -> (UInt64, Node)? {
        if parent == Self.debugDirectory {
            guard let f = DrmDevice.DebugFile(rawValue: name) else { return nil }
            return (Self.inode(of: f), .debug(f))
        }
        guard parent == Self.root, let node = Self.names.first(where: { $0.0 == name })?.1 else { return nil }
        if node == .debugDirectory { return (Self.debugDirectory, node) }
        let ino = next.add(1, ordering: .relaxed).newValue
        entries.withLock { $0[ino] = Entry(node: node, lookups: 1) }
        return (ino, node)
    }

    func node(_ ino: UInt64) -> Node? { Self.fixedNode(ino) ?? entries.withLock { $0[ino]?.node } }

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
