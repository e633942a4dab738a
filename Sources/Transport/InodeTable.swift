import FakeDRMDevice
import Synchronization

/// The mount's names and inodes. The root directory is inode 1; every
/// LOOKUP of a device file mints a fresh inode (entry and attr timeouts 0),
/// so each open() gets its own inode, page cache and drm_file, and the READs
/// of its mappings carry its own file handle. FORGET retires them.
final class InodeTable: Sendable {
    static let root: InodeID = 1

    /// What an inode is.
    enum Node: Sendable, Equatable {
        case device(Minor)
        case debugDirectory
        case debug(DrmDevice.DebugFile)
        /// debug/i915_params and its files (ModuleParams).
        case paramsDirectory
        case param(String)
        /// by-path, as udev makes /dev/dri/by-path, and its symlinks.
        case byPathDirectory
        case link(String)
        /// debug/fakedrm_pool: the session loop's reader pool (ReaderPoolFile.swift).
        case pool
        /// debug/engine: sysfs's card0/engine (DrmDevice+EngineProperties.swift),
        /// each engine's directory (by EngineID.index), its files, its
        /// .defaults/ and their files.
        case engineDirectory
        case engine(Int)
        case engineFile(Int, String)
        case engineDefaults(Int)
        case engineDefault(Int, String)

        var isDirectory: Bool {
            switch self {
            case .debugDirectory, .paramsDirectory, .byPathDirectory, .engineDirectory, .engine, .engineDefaults: true
            default: false
            }
        }
    }

    static let names: [(String, Node)] = [("card0", .device(.primary)), ("renderD128", .device(.render)),
                                          ("debug", .debugDirectory), ("by-path", .byPathDirectory)]

    /// udev's 60-drm persistent links: pci-<slot>-card and -render.
    static let byPath: [(String, Node)] = {
        let slot = DrmDevice.busID.dropFirst(4)
        return [("pci-\(slot)-card", .link("../card0")), ("pci-\(slot)-render", .link("../renderD128"))]
    }()
    static let paramsName = "i915_params"
    static let paramsDirectory: InodeID = 60
    static let byPathDirectory: InodeID = 50
    static let poolFile: InodeID = 40
    /// debug/engine; engine i's directory at engineDirectory + 1 + 16 i,
    /// its .defaults at + 1, then its files, then the defaults' files.
    static let engineDirectory: InodeID = 200
    static let engineFiles = DrmDevice.engineIdentityFiles + EngineProperties.Name.allCases.map(\.rawValue)
    static let engineDefaultFiles = EngineProperties.Name.allCases.map(\.rawValue)
    private static func engineBase(_ i: Int) -> UInt64 { engineDirectory.rawValue + 1 + 16 * UInt64(i) }

    /// What a directory lists, in order.
    static func listing(_ dir: InodeID) -> [(String, Node)]? {
        switch dir {
        case root: names
        case debugDirectory: DrmDevice.DebugFile.allCases.map { ($0.rawValue, .debug($0)) }
            + [(ReaderPoolFile.name, .pool), (paramsName, .paramsDirectory), ("engine", .engineDirectory)]
        case paramsDirectory: ModuleParams.all.map { ($0.name, .param($0.name)) }
        case byPathDirectory: byPath
        case engineDirectory: EngineID.all.map { ($0.name, .engine($0.index)) }
        default:
            switch fixedNode(dir) {
            case .engine(let e): [(".defaults", .engineDefaults(e))] + engineFiles.map { ($0, .engineFile(e, $0)) }
            case .engineDefaults(let e): engineDefaultFiles.map { ($0, .engineDefault(e, $0)) }
            default: nil
            }
        }
    }

    /// The fixed inode of a node that is not a device file.
    static func fixedInode(_ node: Node) -> InodeID? {
        switch node {
        case .device: nil
        case .debugDirectory: debugDirectory
        case .debug(let f): inode(of: f)
        case .paramsDirectory: paramsDirectory
        case .param(let name): InodeID(rawValue: paramsDirectory.rawValue + 1 + UInt64(ModuleParams.all.firstIndex { $0.name == name }!))
        case .byPathDirectory: byPathDirectory
        case .link(let target): InodeID(rawValue: byPathDirectory.rawValue + 1 + UInt64(byPath.firstIndex { $0.1 == .link(target) }!))
        case .pool: poolFile
        case .engineDirectory: engineDirectory
        case .engine(let e): InodeID(rawValue: engineBase(e))
        case .engineDefaults(let e): InodeID(rawValue: engineBase(e) + 1)
        case .engineFile(let e, let f): InodeID(rawValue: engineBase(e) + 2 + UInt64(engineFiles.firstIndex(of: f)!))
        case .engineDefault(let e, let f):
            InodeID(rawValue: engineBase(e) + 2 + UInt64(engineFiles.count + engineDefaultFiles.firstIndex(of: f)!))
        }
    }

    /// The debugfs-like directory and its files have fixed inodes.
    static let debugDirectory: InodeID = 2
    static func inode(of file: DrmDevice.DebugFile) -> InodeID {
        InodeID(rawValue: 3 + UInt64(DrmDevice.DebugFile.allCases.firstIndex(of: file)!))
    }
    static func fixedNode(_ inode: InodeID) -> Node? {
        if inode == debugDirectory { return .debugDirectory }
        if inode == paramsDirectory { return .paramsDirectory }
        if inode == byPathDirectory { return .byPathDirectory }
        if inode == poolFile { return .pool }
        if inode == engineDirectory { return .engineDirectory }
        if inode.rawValue > engineDirectory.rawValue, inode.rawValue < engineBase(EngineID.all.count) {
            let rel = inode.rawValue - engineBase(0), e = Int(rel / 16), k = Int(rel % 16)
            switch k {
            case 0: return .engine(e)
            case 1: return .engineDefaults(e)
            case 2..<(2 + engineFiles.count): return .engineFile(e, engineFiles[k - 2])
            case (2 + engineFiles.count)..<(2 + engineFiles.count + engineDefaultFiles.count):
                return .engineDefault(e, engineDefaultFiles[k - 2 - engineFiles.count])
            default: return nil
            }
        }
        // The numbering: each directory's entries follow it.
        let ino = inode.rawValue, params = paramsDirectory.rawValue, byPathDir = byPathDirectory.rawValue
        if ino > params, ino <= params + UInt64(ModuleParams.all.count) {
            return .param(ModuleParams.all[Int(ino - params - 1)].name)
        }
        if ino > byPathDir, ino <= byPathDir + UInt64(byPath.count) { return byPath[Int(ino - byPathDir - 1)].1 }
        let files = DrmDevice.DebugFile.allCases
        guard ino >= 3, ino < 3 + UInt64(files.count) else { return nil }
        return .debug(files[Int(ino - 3)])
    }

    private struct Entry {
        let node: Node
        var lookups: UInt64
    }

    private let entries = Mutex<[InodeID: Entry]>([:])
    /// Device files' inodes start above every fixed one.
    private let next = Atomic<UInt64>(1000)

    /// LOOKUP of `name` in `parent`: a fresh inode for a device file, the
    /// fixed one for anything else; nil when there is no such name.
    func lookup(_ name: String, in parent: InodeID) -> (InodeID, Node)? {
        guard let node = Self.listing(parent)?.first(where: { $0.0 == name })?.1 else { return nil }
        if let ino = Self.fixedInode(node) { return (ino, node) }
        let ino = InodeID(rawValue: next.add(1, ordering: .relaxed).newValue)
        entries.withLock { $0[ino] = Entry(node: node, lookups: 1) }
        return (ino, node)
    }

    func node(_ ino: InodeID) -> Node? { Self.fixedNode(ino) ?? entries.withLock { $0[ino]?.node } }

    /// FORGET: the kernel dropped `count` references.
    func forget(_ ino: InodeID, _ count: UInt64) {
        entries.withLock { e in
            guard var entry = e[ino] else { return }
            entry.lookups = entry.lookups > count ? entry.lookups - count : 0
            e[ino] = entry.lookups == 0 ? nil : entry
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
