import CDrm
import FakeDRMDevice

/// drm_ioctl_desc's flags (the kernel's enum drm_ioctl_flags).
public struct IoctlFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// DRM_AUTH: an authenticated primary-node file (or a render node).
    public static let auth = IoctlFlags(rawValue: 1 << 0)
    /// DRM_MASTER: the current DRM master only.
    public static let master = IoctlFlags(rawValue: 1 << 1)
    /// DRM_ROOT_ONLY: CAP_SYS_ADMIN (here uid 0).
    public static let rootOnly = IoctlFlags(rawValue: 1 << 2)
    /// DRM_RENDER_ALLOW: also on render nodes.
    public static let renderAllow = IoctlFlags(rawValue: 1 << 5)
}

/// A trace line's fields: [("handle", "1"), ("size", "4096")].
typealias Fields = [(String, String)]

/// One ioctl of the device, as the kernel's drm_ioctl_desc (DRM_IOCTL_DEF_DRV):
/// its number (libdrm's, so its struct size and direction), permission
/// flags, libdrm name and handler, and beside them what the kernel keeps
/// elsewhere: how a trace decodes its struct, a plausible call for the
/// fuzzer, and its handler on the mount's root (strict mode). Built by
/// IoctlTable.swift; read by dispatch, trace, root dispatch and the fuzzers.
public final class IoctlDesc: Sendable {
    /// The full ioctl value (DRM_IOCTL_I915_GEM_CREATE).
    public let cmd: UInt32
    public let flags: IoctlFlags
    /// libdrm's name, "DRM_IOCTL_I915_GEM_CREATE".
    public let name: String
    /// The short name traces and fault injection use: "GEM_CREATE".
    public let shortName: String
    /// The size of the uapi struct the handler reads (0: none): never more
    /// than the number's own size (the table test checks).
    public let argSize: Int
    /// Whether the mount's root answers it too (strict mode, no drm_file).
    public var servedOnRoot: Bool { root != nil }

    let handler: @Sendable (DrmDevice, UnsafeMutableRawBufferPointer, IoctlCaller) throws(DrmError) -> Void
    let root: (@Sendable (DrmDevice, UnsafeMutableRawBufferPointer, RootCaller) throws(DrmError) -> Void)?
    /// "{handle=1, size=4096}", going in (`out` false) or coming out.
    let fields: @Sendable (UnsafeRawBufferPointer, _ out: Bool) -> String
    /// What the trace shows after the call instead of the struct coming out
    /// (GETPARAM's value, QUERY's items), given the errno.
    let result: (@Sendable (UnsafeRawBufferPointer, Int32, any UserMemory) -> String)?
    /// A plausible struct for the in-process fuzzer (nil: random fields).
    let fuzz: (@Sendable (inout FuzzChoices) -> [UInt8])?

    private init(cmd: UInt32, flags: IoctlFlags, argSize: Int,
                 handler: @escaping @Sendable (DrmDevice, UnsafeMutableRawBufferPointer, IoctlCaller) throws(DrmError) -> Void,
                 root: (@Sendable (DrmDevice, UnsafeMutableRawBufferPointer, RootCaller) throws(DrmError) -> Void)?,
                 fields: @escaping @Sendable (UnsafeRawBufferPointer, _ out: Bool) -> String,
                 result: (@Sendable (UnsafeRawBufferPointer, Int32, any UserMemory) -> String)?,
                 fuzz: (@Sendable (inout FuzzChoices) -> [UInt8])?) {
        self.cmd = cmd
        self.flags = flags
        self.name = fdrm_libdrm_ioctl_name(cmd).map { String(cString: $0) } ?? "ioctl(0x" + String(cmd, radix: 16) + ")"
        self.shortName = IoctlNames.short(name)
        self.argSize = argSize
        self.handler = handler
        self.root = root
        self.fields = fields
        self.result = result
        self.fuzz = fuzz
    }

    /// An ioctl with a uapi struct `T`: the handler, its trace decoder and
    /// fuzz template all see the struct, never the bytes.
    convenience init<T>(_ cmd: UInt32, _ flags: IoctlFlags,
                        _ handler: @escaping @Sendable (DrmDevice, inout T, IoctlCaller) throws(DrmError) -> Void,
                        trace: (@Sendable (T, _ out: Bool) -> Fields)?,
                        result: (@Sendable (T, Int32, any UserMemory) -> String)? = nil,
                        fuzz: (@Sendable (inout FuzzChoices) -> T)? = nil,
                        root: (@Sendable (DrmDevice, inout T, RootCaller) throws(DrmError) -> Void)? = nil) {
        let run: @Sendable (DrmDevice, UnsafeMutableRawBufferPointer, IoctlCaller) throws(DrmError) -> Void = {
            (dev: DrmDevice, k: UnsafeMutableRawBufferPointer, c: IoctlCaller) throws(DrmError) in
            try with(k, T.self) { (v: inout T) throws(DrmError) in try handler(dev, &v, c) }
        }
        var runRoot: (@Sendable (DrmDevice, UnsafeMutableRawBufferPointer, RootCaller) throws(DrmError) -> Void)?
        if let root {
            runRoot = { (dev: DrmDevice, k: UnsafeMutableRawBufferPointer, c: RootCaller) throws(DrmError) in
                try with(k, T.self) { (v: inout T) throws(DrmError) in try root(dev, &v, c) }
            }
        }
        var fields: @Sendable (UnsafeRawBufferPointer, Bool) -> String = { (k: UnsafeRawBufferPointer, _: Bool) -> String in
            TraceFields.raw(k)
        }
        if let trace {
            fields = { (k: UnsafeRawBufferPointer, out: Bool) -> String in
                TraceFields.format(trace(k.loadUnaligned(as: T.self), out))
            }
        }
        var after: (@Sendable (UnsafeRawBufferPointer, Int32, any UserMemory) -> String)?
        if let result {
            after = { (k: UnsafeRawBufferPointer, errno: Int32, memory: any UserMemory) -> String in
                result(k.loadUnaligned(as: T.self), errno, memory)
            }
        }
        var template: (@Sendable (inout FuzzChoices) -> [UInt8])?
        if let fuzz {
            template = { (choices: inout FuzzChoices) -> [UInt8] in
                let v = fuzz(&choices)
                return withUnsafeBytes(of: v) { Array($0) }
            }
        }
        self.init(cmd: cmd, flags: flags, argSize: MemoryLayout<T>.size, handler: run, root: runRoot, fields: fields,
                  result: after, fuzz: template)
    }

    /// An ioctl whose struct the handler does not read (or that has none):
    /// traced as "{}".
    convenience init(_ cmd: UInt32, _ flags: IoctlFlags,
                     _ handler: @escaping @Sendable (DrmDevice, IoctlCaller) throws(DrmError) -> Void) {
        self.init(cmd: cmd, flags: flags, argSize: 0,
                  handler: { (dev: DrmDevice, _: UnsafeMutableRawBufferPointer, c: IoctlCaller) throws(DrmError) in try handler(dev, c) },
                  root: nil, fields: { (_: UnsafeRawBufferPointer, _: Bool) -> String in "{}" }, result: nil, fuzz: nil)
    }
}

/// Who calls on the mount's root: no drm_file, only the caller's uid and
/// which device node an inode of the mount is (nil: not a device file).
struct RootCaller {
    let uid: UInt32
    let minor: (InodeID) -> Minor?
}

/// The in-process fuzzer's choices, for a table entry's template: bytes to
/// consume and what the device handed out so far.
public struct FuzzChoices {
    public var data: ArraySlice<UInt8>
    public let handles: [UInt32]
    public let names: [UInt32]
    /// Where user pointers should point (the fuzzer's fake user memory).
    public let memory: UInt64

    public init(data: ArraySlice<UInt8>, handles: [UInt32], names: [UInt32], memory: UInt64) {
        (self.data, self.handles, self.names, self.memory) = (data, handles, names, memory)
    }

    mutating func byte() -> UInt8 { data.popFirst() ?? 0 }
    mutating func pick<T>(_ from: [T]) -> T { from[Int(byte()) % from.count] }
    /// The newest handle half the time: it is most likely still open.
    mutating func handle() -> UInt32 { byte() & 1 == 0 ? handles.last ?? 1 : pick(handles) }
}

extension IoctlDesc {
    /// Runs the fuzz template, consuming the fuzzer's bytes.
    public func fuzzTemplate(_ choices: inout FuzzChoices) -> [UInt8]? { fuzz?(&choices) }
    /// Whether the fuzz template exists (the table test lists those without).
    public var hasFuzzTemplate: Bool { fuzz != nil }
    /// The fields decoded from a zeroed struct, for the table test.
    public func traceFields(_ k: UnsafeRawBufferPointer, out: Bool) -> String { fields(k, out) }
}
