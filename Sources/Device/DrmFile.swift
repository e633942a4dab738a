/// Identifies one open of a device file (one FUSE file handle): a drm_file.
/// Its own type (as swift-system's FileDescriptor): an InodeID or a GEM
/// Handle cannot be passed for it. Integer literals are ids (tests, the
/// export ioctls' "no file" 0); Transport converts a FUSE fh with
/// `init(rawValue:)`.
public struct FileID: NumberedID {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The id handed out after this one.
    var next: FileID { FileID(rawValue: rawValue + 1) }
}

/// Which device node a file was opened through.
public enum Minor: Sendable {
    case primary // card0
    case render  // renderD128

    public var number: Int { self == .primary ? 0 : 128 }
}

/// Per-open state: a drm_file with its GEM handle table.
final class DrmFile {
    let id: FileID
    let minor: Minor
    /// The inode this open was made through (each open has its own).
    let inode: InodeID
    let pid: Int32
    /// The opener's user: who may act on this open's mappings from elsewhere.
    let uid: UInt32
    var authenticated: Bool
    var isMaster = false
    var wasMaster = false
    /// The drm_master this primary-node file refers to (its own once it was
    /// master); nil for render nodes, which have none.
    var master: DrmMaster?
    var handles: [Handle: GemObject] = [:]
    private var handleIDs = IDAllocator()
    /// Objects on whose nodes this file is in `everAllowed`: what to let go at release.
    var mappable: [ObjectIdentifier: GemObject] = [:]
    var stats = FileStats()
    /// The preload library probed this open: fds can be made for it (Exports/).
    var strict = false
    /// drm_prime_file_private: dma-buf token -> handle, for imports to find.
    var prime: [UInt32: Handle] = [:]

    init(id: FileID, minor: Minor, inode: InodeID, pid: Int32, uid: UInt32 = 0, authenticated: Bool) {
        self.id = id
        self.minor = minor
        self.inode = inode
        self.pid = pid
        self.uid = uid
        self.authenticated = authenticated
    }

    var isRender: Bool { minor == .render }

    /// drm_gem_handle_create: the lowest free handle, from 1.
    func addHandle(_ obj: GemObject) -> Handle {
        let h = Handle(rawValue: handleIDs.allocate())
        handles[h] = obj
        obj.handleCount += 1
        return h
    }

    func removeHandle(_ h: Handle) -> GemObject? {
        guard let obj = handles.removeValue(forKey: h) else { return nil }
        handleIDs.free(h.rawValue)
        // drm_gem_remove_prime_handles
        if !prime.isEmpty { prime = prime.filter { $0.value != h } }
        obj.handleCount -= 1
        return obj
    }
}

/// Counters shown by the introspection listing.
struct FileStats {
    var ioctls = 0
    var faults = 0
    var deniedFaults = 0
    var writebacks = 0
}
