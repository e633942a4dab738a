import Synchronization

/// An engine's scheduling tunables, as sysfs_engines.c shows them in
/// /sys/class/drm/card0/engine/<name>/ (and their build defaults in
/// .defaults/). Atomics: the engine's thread reads them at every looping
/// jump, root writes them through the debug tree at any time.
public final class EngineProperties: Sendable {
    /// The tunables, in sysfs's order; each file's name is the key.
    public enum Name: String, CaseIterable, Sendable {
        case maxBusywait = "max_busywait_duration_ns"
        case stopTimeout = "stop_timeout_ms"
        case heartbeatInterval = "heartbeat_interval_ms"
        case timesliceDuration = "timeslice_duration_ms"
        case preemptTimeout = "preempt_timeout_ms"

        /// The Kconfig defaults of a Tiger Lake engine
        /// (CONFIG_DRM_I915_MAX_REQUEST_BUSYWAIT, _STOP_TIMEOUT,
        /// _HEARTBEAT_INTERVAL, _TIMESLICE_DURATION, _PREEMPT_TIMEOUT).
        public var initial: UInt64 {
            switch self {
            case .maxBusywait: 8000
            case .stopTimeout: 100
            case .heartbeatInterval: 2500
            case .timesliceDuration: 1
            case .preemptTimeout: 640
            }
        }

        /// The largest value a store takes: jiffies_to_nsecs(2) for the
        /// busywait, jiffies_to_msecs(MAX_SCHEDULE_TIMEOUT) (HZ=250, a u32)
        /// for the rest; heartbeat_store wants less than that.
        var limit: UInt64 {
            switch self {
            case .maxBusywait: 8_000_000
            case .heartbeatInterval: 4_294_967_291
            default: 4_294_967_292
            }
        }
    }

    private let maxBusywait = Atomic(Name.maxBusywait.initial), stopTimeout = Atomic(Name.stopTimeout.initial)
    private let heartbeatInterval = Atomic(Name.heartbeatInterval.initial)
    private let timesliceDuration = Atomic(Name.timesliceDuration.initial)
    private let preemptTimeout = Atomic(Name.preemptTimeout.initial)

    public init() {}

    public subscript(_ name: Name) -> UInt64 {
        switch name {
        case .maxBusywait: maxBusywait.load(ordering: .relaxed)
        case .stopTimeout: stopTimeout.load(ordering: .relaxed)
        case .heartbeatInterval: heartbeatInterval.load(ordering: .relaxed)
        case .timesliceDuration: timesliceDuration.load(ordering: .relaxed)
        case .preemptTimeout: preemptTimeout.load(ordering: .relaxed)
        }
    }

    private func set(_ name: Name, _ v: UInt64) {
        switch name {
        case .maxBusywait: maxBusywait.store(v, ordering: .relaxed)
        case .stopTimeout: stopTimeout.store(v, ordering: .relaxed)
        case .heartbeatInterval: heartbeatInterval.store(v, ordering: .relaxed)
        case .timesliceDuration: timesliceDuration.store(v, ordering: .relaxed)
        case .preemptTimeout: preemptTimeout.store(v, ordering: .relaxed)
        }
    }

    /// The store methods of sysfs_engines.c: kstrtoull(buf, 0) (EINVAL for
    /// no number, ERANGE past 64 bits), then the property's bound (EINVAL).
    /// Returns the value stored.
    @discardableResult
    public func store(_ name: Name, _ text: [UInt8]) throws(DrmError) -> UInt64 {
        let v = try Self.parse(text)
        guard v <= name.limit else { throw DrmError.EINVAL }
        set(name, v)
        return v
    }

    /// Nanoseconds, for the engine's clocks (0: off).
    var preemptTimeoutNs: UInt64 { self[.preemptTimeout] * 1_000_000 }
    var heartbeatIntervalNs: UInt64 { self[.heartbeatInterval] * 1_000_000 }

    /// kstrtoull with base 0: an optional '+', "0x" hex, a leading 0 octal,
    /// else decimal; one trailing newline allowed.
    static func parse(_ text: [UInt8]) throws(DrmError) -> UInt64 {
        var s = text[...]
        if s.last == UInt8(ascii: "\n") { s = s.dropLast() }
        if s.first == UInt8(ascii: "+") { s = s.dropFirst() }
        var radix: UInt64 = 10
        if s.count > 1, s.first == UInt8(ascii: "0") {
            let x = s[s.index(after: s.startIndex)]
            if x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
                radix = 16
                s = s.dropFirst(2)
            } else {
                radix = 8
                s = s.dropFirst()
            }
        }
        guard !s.isEmpty else { throw DrmError.EINVAL }
        var v: UInt64 = 0
        for c in s {
            let d: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt64(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt64(c - UInt8(ascii: "A") + 10)
            default: throw DrmError.EINVAL
            }
            guard d < radix else { throw DrmError.EINVAL }
            let (m, o1) = v.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { throw DrmError.ERANGE }
            v = a
        }
        return v
    }
}
