import Synchronization

/// i915's module parameters, as the debugfs directory `i915_params` shows
/// the device's copy (i915_params.h I915_PARAMS_FOR_EACH, v6.11+: the
/// display ones live in intel_display_params since 6.8; parameters whose
/// debugfs mode is 0 are left out). Values print and parse as
/// i915_debugfs_params.c and kernel/params.c do; every errno is decided here.
public final class ModuleParams: Sendable {
    public enum Kind: Sendable { case bool, int, uint, charp }

    public enum Value: Sendable, Equatable {
        case bool(Bool), int(Int32), uint(UInt32), charp(String?)
    }

    public struct Param: Sendable {
        public let name: String
        public let kind: Kind
        /// 0o600 (writable) or 0o400, the kernel's mode for the file.
        public let mode: UInt16
        let initial: Value
        public var isWritable: Bool { mode & 0o200 != 0 }
    }

    /// Defaults of a Debian kernel config (REQUEST_TIMEOUT=20000,
    /// CAPTURE_ERROR=y, GVT=y, FORCE_PROBE=""). enable_guc is the value the
    /// device's copy holds after uc_expand_default_options() on Tiger Lake
    /// (0: execlists, no HuC), not the module's -1.
    public static let all: [Param] = [
        Param(name: "modeset", kind: .int, mode: 0o400, initial: .int(-1)),
        Param(name: "enable_guc", kind: .int, mode: 0o400, initial: .int(0)),
        Param(name: "guc_log_level", kind: .int, mode: 0o400, initial: .int(-1)),
        Param(name: "guc_firmware_path", kind: .charp, mode: 0o400, initial: .charp(nil)),
        Param(name: "huc_firmware_path", kind: .charp, mode: 0o400, initial: .charp(nil)),
        Param(name: "gsc_firmware_path", kind: .charp, mode: 0o400, initial: .charp(nil)),
        Param(name: "memtest", kind: .bool, mode: 0o400, initial: .bool(false)),
        Param(name: "mmio_debug", kind: .int, mode: 0o600, initial: .int(0)),
        Param(name: "reset", kind: .uint, mode: 0o600, initial: .uint(3)),
        Param(name: "force_probe", kind: .charp, mode: 0o400, initial: .charp("")),
        Param(name: "request_timeout_ms", kind: .uint, mode: 0o600, initial: .uint(20000)),
        Param(name: "lmem_size", kind: .uint, mode: 0o400, initial: .uint(0)),
        Param(name: "lmem_bar_size", kind: .uint, mode: 0o400, initial: .uint(0)),
        Param(name: "enable_hangcheck", kind: .bool, mode: 0o600, initial: .bool(true)),
        Param(name: "error_capture", kind: .bool, mode: 0o600, initial: .bool(true)),
        Param(name: "enable_gvt", kind: .bool, mode: 0o400, initial: .bool(false)),
    ]

    public static func param(named name: String) -> Param? { all.first { $0.name == name } }

    private let values: Mutex<[String: Value]>

    public init() {
        values = Mutex(Dictionary(uniqueKeysWithValues: Self.all.map { ($0.name, $0.initial) }))
    }

    public func value(_ name: String) -> Value? { values.withLock { $0[name] } }

    /// The `reset` parameter: 0 no reset, 1 full GT reset only, 2+ engine resets too.
    public var reset: UInt32 {
        if case .uint(let v) = value("reset") { return v }
        return 0
    }

    /// `request_timeout_ms` in nanoseconds: a user request running longer is
    /// cancelled (0: never).
    public var requestTimeoutNs: UInt64 {
        if case .uint(let v) = value("request_timeout_ms") { return UInt64(v) * 1_000_000 }
        return 0
    }

    /// `enable_hangcheck`: off, closing a context kills its requests even
    /// when it is persistent (context_close: the kernel cannot be sure they end).
    public var enableHangcheck: Bool {
        if case .bool(let v) = value("enable_hangcheck") { return v }
        return true
    }

    /// What a read of the file shows: "%d\n", "%u\n", "Y\n"/"N\n", "%s\n"
    /// (a NULL string prints as "(null)", as vsnprintf does).
    public func text(_ name: String) -> String? {
        guard let v = value(name) else { return nil }
        switch v {
        case .bool(let b): return b ? "Y\n" : "N\n"
        case .int(let i): return "\(i)\n"
        case .uint(let u): return "\(u)\n"
        case .charp(let s): return (s ?? "(null)") + "\n"
        }
    }

    /// A write(2) of `bytes` to the parameter's file: EACCES when it is
    /// read-only, EINVAL or ERANGE when the text does not parse.
    public func write(_ name: String, _ bytes: [UInt8]) throws(DrmError) {
        guard let p = Self.param(named: name) else { throw DrmError.ENOENT }
        guard p.isWritable else { throw DrmError.EACCES }
        let v = try Self.parse(bytes, as: p.kind)
        values.withLock { $0[name] = v }
    }

    /// i915_param_int_write / i915_param_uint_write: kstrto[u]int in base 0,
    /// falling back to kstrtobool ("support boolean values too");
    /// debugfs_write_file_bool: kstrtobool. The numeric error wins when both fail.
    static func parse(_ bytes: [UInt8], as kind: Kind) throws(DrmError) -> Value {
        switch kind {
        case .bool: return .bool(try kstrtobool(bytes))
        case .int:
            do throws(DrmError) { return .int(try kstrtoint(bytes)) } catch {
                guard let b = try? kstrtobool(bytes) else { throw error }
                return .int(b ? 1 : 0)
            }
        case .uint:
            do throws(DrmError) {
                let v = try kstrtoull(bytes)
                guard v <= UInt64(UInt32.max) else { throw DrmError.ERANGE }
                return .uint(UInt32(v))
            } catch {
                guard let b = try? kstrtobool(bytes) else { throw error }
                return .uint(b ? 1 : 0)
            }
        case .charp: throw DrmError.EACCES
        }
    }

    /// lib/kstrtox.c kstrtobool: the first character decides (y/Y/t/T/1,
    /// n/N/f/F/0, on/off); anything else is EINVAL.
    static func kstrtobool(_ s: [UInt8]) throws(DrmError) -> Bool {
        guard let c = s.first else { throw DrmError.EINVAL }
        switch c {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "1"): return true
        case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "0"): return false
        case UInt8(ascii: "o"), UInt8(ascii: "O"):
            switch s.count > 1 ? s[1] : 0 {
            case UInt8(ascii: "n"), UInt8(ascii: "N"): return true
            case UInt8(ascii: "f"), UInt8(ascii: "F"): return false
            default: throw DrmError.EINVAL
            }
        default: throw DrmError.EINVAL
        }
    }

    /// kstrtoint(s, 0): an optional sign, then kstrtoull's digits; ERANGE
    /// outside Int32.
    static func kstrtoint(_ s: [UInt8]) throws(DrmError) -> Int32 {
        if s.first == UInt8(ascii: "-") {
            let v = try kstrtoull(Array(s.dropFirst()), allowPlus: false)
            guard v <= UInt64(Int32.max) + 1 else { throw DrmError.ERANGE }
            return Int32(truncatingIfNeeded: 0 &- Int64(v))
        }
        let v = try kstrtoull(s)
        guard v <= UInt64(Int32.max) else { throw DrmError.ERANGE }
        return Int32(v)
    }

    /// kstrtoull(s, 0): an optional '+', base from the prefix (0x hex, 0
    /// octal, else decimal), at least one digit, one trailing newline at most.
    static func kstrtoull(_ s: [UInt8], allowPlus: Bool = true) throws(DrmError) -> UInt64 {
        var i = 0
        if allowPlus, s.first == UInt8(ascii: "+") { i = 1 }
        var base: UInt64 = 10
        if i + 1 < s.count, s[i] == UInt8(ascii: "0"), s[i + 1] | 0x20 == UInt8(ascii: "x"),
           i + 2 < s.count, digit(s[i + 2]).map({ $0 < 16 }) == true {
            base = 16
            i += 2
        } else if i < s.count, s[i] == UInt8(ascii: "0") {
            base = 8
        }
        var value: UInt64 = 0, digits = 0
        while i < s.count, let d = digit(s[i]), d < base {
            let (m, o1) = value.multipliedReportingOverflow(by: base)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { throw DrmError.ERANGE }
            value = a
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw DrmError.EINVAL }
        if i < s.count, s[i] == UInt8(ascii: "\n") { i += 1 }
        guard i == s.count else { throw DrmError.EINVAL }
        return value
    }

    private static func digit(_ c: UInt8) -> UInt64? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
