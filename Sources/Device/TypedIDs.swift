/// Ids that must not be mixed up, each its own type over the kernel's number
/// (as swift-system's FileDescriptor wraps its Int32): a mapping's cookie
/// cannot be passed where a flink name is wanted, nor either where a handle
/// is, nor a GEM handle where an inode number is. The uapi and the FUSE
/// transport convert at their edges (`rawValue`, `init(rawValue:)`).

/// A registered mapping, as strict mode's VMA_OPEN / VMA_CLOSE name it
/// (MappingRegistry).
public struct Cookie: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "\(rawValue)" }
}

/// A flink name: drm_gem_flink's device-global name of an object
/// (ObjectLifetime). 0 is never one.
public struct FlinkName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { "\(rawValue)" }
}

/// A FUSE inode number: which inode of the mount (each open of a device
/// file has its own, with its own page cache). Transport converts from
/// fuse_ino_t at its edge. Integer literals are inodes (the mount's fixed
/// ones, tests).
public struct InodeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
                       ExpressibleByIntegerLiteral {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { rawValue = value }
    public static func < (a: InodeID, b: InodeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(rawValue)" }
}

/// A GEM handle: an object's name in one drm_file's table (drm_gem_handle_create,
/// the lowest free from 1; 0 is never one). Not a syncobj handle, which
/// names a different table. Integer literals are handles (tests).
public struct Handle: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
                      ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { rawValue = value }
    public static func < (a: Handle, b: Handle) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(rawValue)" }
}

/// A syncobj handle: a syncobj's name in one drm_file's syncobj_idr (from
/// 1), a table apart from GEM handles. Integer literals are handles (tests).
public struct SyncobjHandle: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
                             ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { rawValue = value }
    public static func < (a: SyncobjHandle, b: SyncobjHandle) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(rawValue)" }
}
