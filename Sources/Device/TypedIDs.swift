/// Ids that must not be mixed up, each its own type over the kernel's number
/// (as swift-system's FileDescriptor wraps its Int32): a mapping's cookie
/// cannot be passed where a flink name is wanted, nor either where a handle
/// is, nor a GEM handle where an inode number is. The uapi and the FUSE
/// transport convert at their edges (`rawValue`, `init(rawValue:)`).

/// What the numbered ids (FileID, InodeID, Handle, SyncobjHandle) share:
/// ordered and printed as their number, and integer literals (tests) read
/// as ids.
public protocol NumberedID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
                            ExpressibleByIntegerLiteral where RawValue: FixedWidthInteger, IntegerLiteralType == RawValue {
    init(rawValue: RawValue)
}

extension NumberedID {
    public init(integerLiteral value: RawValue) { self.init(rawValue: value) }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(rawValue)" }
}

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
public struct InodeID: NumberedID {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// A GEM handle: an object's name in one drm_file's table (drm_gem_handle_create,
/// the lowest free from 1; 0 is never one). Not a syncobj handle, which
/// names a different table. Integer literals are handles (tests).
public struct Handle: NumberedID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
}

/// A syncobj handle: a syncobj's name in one drm_file's syncobj_idr (from
/// 1), a table apart from GEM handles. Integer literals are handles (tests).
public struct SyncobjHandle: NumberedID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
}
