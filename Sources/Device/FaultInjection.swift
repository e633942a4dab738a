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

    // MARK: what is armed (printed by DrmDevice+DebugControl.swift)

    /// Faults still to fail.
    var faultsToFail: Int { rules.withLock { $0.failFaults } }

    /// Armed ioctl failures by number: errno and calls left.
    var armedIoctls: [(nr: UInt32, errno: Int32, count: Int)] {
        rules.withLock { r in r.ioctls.sorted { $0.key < $1.key }.map { ($0.key, $0.value.errno, $0.value.count) } }
    }
}

extension DrmDevice {
    /// Exhausts the aperture: no free space, nothing evictable (as if every
    /// binding were pinned). Bindings already made keep serving faults;
    /// a fault that needs a new one fails with ENOSPC and retries.
    public func exhaustAperture(_ on: Bool) { state.withLock { $0.ggtt.exhausted = on } }

    /// Exhausts the fences: every register pinned, none can be stolen
    /// (fence_find's ENOBUFS). Tiled bindings that hold a fence keep it; a
    /// fault that needs one retries.
    public func exhaustFences(_ on: Bool) { state.withLock { $0.ggtt.fencesExhausted = on } }

    var exhaustion: (aperture: Bool, fences: Bool) { state.withLock { ($0.ggtt.exhausted, $0.ggtt.fencesExhausted) } }
}
