import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Fault injection, armed through the debug tree's control files: fail the
/// next faults (SIGBUS), fail the next ioctls of a kind with a chosen errno,
/// and exhaust the aperture or the fences (those two live in the Ggtt model,
/// where bindings and fences are decided). Every injected errno is decided
/// here. Disarmed, the hot paths pay one relaxed atomic load.
public final class FaultInjection: Sendable {
    private let armed = Atomic<Bool>(false)
    private let rules = DeviceLock(Rules())

    struct Rules {
        var failFaults = 0
        /// The range a failed READ covered, per file, and the thread whose
        /// touch it was: the kernel re-reads the page before it gives up
        /// (filemap_fault once, and again after VM_FAULT_RETRY; filemap_read
        /// once), and those re-reads must fail too for the touch to see
        /// SIGBUS. Re-reads come from the faulting thread; a READ from another
        /// thread, or elsewhere, means that touch is over.
        var poisoned: [FileID: Poison] = [:]
        /// ioctl number → errno and how many more calls fail.
        var ioctls: [UInt32: (errno: Int32, count: Int)] = [:]

        var isEmpty: Bool { failFaults == 0 && poisoned.isEmpty && ioctls.isEmpty }
    }

    struct Poison {
        let pid: Int32, start: UInt64, end: UInt64
    }

    public init() {}

    private func update<R>(_ body: (inout Rules) -> R) -> R {
        rules.withLock { r in
            let result = body(&r)
            armed.store(!r.isEmpty, ordering: .relaxed)
            return result
        }
    }

    // MARK: faults

    /// Arms the next `count` faults to fail (0 disarms).
    public func failFaults(_ count: Int) { update { $0.failFaults = max(0, count); $0.poisoned = [:] } }

    /// The error a READ of `length` bytes at `offset` through `file` must
    /// answer, if one is armed: EIO (the client's touch gets SIGBUS).
    func faultFailure(_ file: FileID, pid: Int32, offset: UInt64, length: Int) -> DrmError? {
        guard armed.load(ordering: .relaxed) else { return nil }
        return update { r in
            let end = offset + UInt64(length)
            if let p = r.poisoned[file] {
                if p.pid == pid, offset < p.end, p.start < end { return DrmError.EIO }
                r.poisoned[file] = nil
            }
            return failNext(&r, file, pid, offset, end)
        }
    }

    /// A released file has no touch in progress.
    func forget(_ file: FileID) {
        guard armed.load(ordering: .relaxed) else { return }
        update { _ = $0.poisoned.removeValue(forKey: file) }
    }

    private func failNext(_ r: inout Rules, _ file: FileID, _ pid: Int32, _ start: UInt64, _ end: UInt64) -> DrmError? {
        guard r.failFaults > 0 else { return nil }
        r.failFaults -= 1
        r.poisoned[file] = Poison(pid: pid, start: start, end: end)
        return DrmError.EIO
    }

    // MARK: ioctls

    /// Arms ioctl `nr` to fail with `errno` for its next `count` calls (0 disarms).
    public func failIoctl(nr: UInt32, errno: Int32, count: Int) {
        update { $0.ioctls[nr] = count > 0 ? (errno, count) : nil }
    }

    public func clearIoctls() { update { $0.ioctls = [:] } }

    /// The error the next call of ioctl `nr` must fail with, if one is armed.
    public func ioctlFailure(nr: UInt32) -> DrmError? {
        guard armed.load(ordering: .relaxed) else { return nil }
        return update { r in
            guard let rule = r.ioctls[nr] else { return nil }
            r.ioctls[nr] = rule.count > 1 ? (rule.errno, rule.count - 1) : nil
            return DrmError(rule.errno)
        }
    }

    // MARK: text

    var failFaultsText: String {
        let n = rules.withLock { $0.failFaults }
        return n == 0 ? "0\n" : "\(n) (the next \(n) faults fail: SIGBUS)\n"
    }

    /// One armed rule a line, as written: "GEM_CREATE ENOMEM 2".
    var failIoctlText: String {
        rules.withLock { r in
            r.ioctls.sorted { $0.key < $1.key }.map { nr, rule in
                "\(IoctlNames.name(nr: nr) ?? "0x" + String(nr, radix: 16)) \(DrmError.name(of: rule.errno)) \(rule.count)\n"
            }.joined()
        }
    }
}

extension DrmDevice {
    /// How long a fault keeps retrying while the aperture or the fences are
    /// exhausted. The kernel retries for ever (ENOSPC and ENOBUFS are
    /// VM_FAULT_NOPAGE: the access faults again); a FUSE READ, once sent,
    /// cannot be interrupted by its client, so the daemon gives up and the
    /// touch gets SIGBUS rather than hang.
    public static let exhaustionRetryNanoseconds: UInt64 = 500_000_000

    /// Exhausts the aperture: no free space, nothing evictable (as if every
    /// binding were pinned). Bindings already made keep serving faults;
    /// a fault that needs a new one fails with ENOSPC and retries.
    public func exhaustAperture(_ on: Bool) { state.withLock { $0.ggtt.exhausted = on } }

    /// Exhausts the fences: every register pinned, none can be stolen
    /// (fence_find's ENOBUFS). Tiled bindings that hold a fence keep it; a
    /// fault that needs one retries.
    public func exhaustFences(_ on: Bool) { state.withLock { $0.ggtt.fencesExhausted = on } }

    var exhaustion: (aperture: Bool, fences: Bool) { state.withLock { ($0.ggtt.exhausted, $0.ggtt.fencesExhausted) } }

    /// `fault` with the kernel's NOPAGE retry for an exhausted aperture or
    /// fence pool, and the armed fault failures.
    func faultRetrying(_ file: FileID, pid: Int32, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer,
                       deferring revocations: inout [Invalidation],
                       _ once: (inout [Invalidation]) throws(DrmError) -> Void) throws(DrmError) {
        if let injected = injection.faultFailure(file, pid: pid, offset: offset, length: buffer.count) {
            state.withLock { $0.files[file]?.stats.deniedFaults += 1 }
            throw injected
        }
        var deadline: UInt64 = 0
        while true {
            do throws(DrmError) {
                return try once(&revocations)
            } catch {
                let (aperture, fences) = exhaustion
                guard (error == .ENOSPC && aperture) || (error == .ENOBUFS && fences) else { throw error }
                let now = Self.monotonicNanoseconds()
                if deadline == 0 { deadline = now + Self.exhaustionRetryNanoseconds }
                guard now < deadline else { throw error }
                usleep(2_000)
            }
        }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    // MARK: control files

    /// Applies a write to a fault-injection control file; false (EINVAL for
    /// the writer) when the text does not parse.
    public func configureInjection(_ file: DebugFile, _ text: String) -> Bool {
        let lines = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .filter { !$0.isEmpty }
        switch file {
        case .failFaults, .exhaustAperture, .exhaustFences:
            guard lines.count == 1, lines[0].count == 1, let n = Int(lines[0][0]), n >= 0 else { return false }
            if file == .failFaults { injection.failFaults(n) } else if file == .exhaustAperture { exhaustAperture(n != 0) } else { exhaustFences(n != 0) }
            return true
        case .failIoctl:
            // Parse every line before arming any.
            var parsed: [(UInt32, Int32, Int)?] = []
            for words in lines {
                if words == ["clear"] || words == ["0"] {
                    parsed.append(nil)
                    continue
                }
                guard (2...3).contains(words.count), let nr = IoctlNames.nr(named: words[0]),
                      let err = DrmError(named: words[1]) else { return false }
                let count = words.count == 3 ? Int(words[2]) : 1
                guard let count, count >= 0 else { return false }
                parsed.append((nr, err.errno, count))
            }
            for p in parsed {
                if let (nr, errno, count) = p { injection.failIoctl(nr: nr, errno: errno, count: count) } else { injection.clearIoctls() }
            }
            return true
        default:
            return false
        }
    }

    func injectionText(_ file: DebugFile) -> String {
        let (aperture, fences) = exhaustion
        switch file {
        case .failFaults: return injection.failFaultsText
        case .failIoctl: return injection.failIoctlText
        case .exhaustAperture:
            return aperture ? "1 (no free space, nothing evictable: faults needing a new binding retry, then SIGBUS)\n" : "0\n"
        case .exhaustFences:
            return fences ? "1 (every fence pinned: tiled GTT faults needing a fence retry, then SIGBUS)\n" : "0\n"
        default: return ""
        }
    }
}
