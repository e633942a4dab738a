/// Ids that must not be mixed up, each its own type over the kernel's number
/// (as swift-system's FileDescriptor wraps its Int32): a mapping's cookie
/// cannot be passed where a flink name is wanted, nor either where a handle
/// is. The uapi converts at its edge (`rawValue`, `init(rawValue:)`).

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
