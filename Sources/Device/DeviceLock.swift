import CTsan
import Synchronization

/// The model's lock (the device state, the backing arena, fault injection):
/// a `Mutex` whose critical sections ThreadSanitizer can order. Swift's Mutex on Linux is a futex TSan does not know as a lock, so
/// it reports every pair of critical sections as a race; the acquire and
/// release annotations (no-ops without TSan) give it the real edges and
/// nothing more, so a race outside the lock still shows.
final class DeviceLock<Value: ~Copyable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: consuming sending Value) { mutex = Mutex(value) }

    func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let token = Unmanaged.passUnretained(self).toOpaque()
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            fdrm_tsan_acquire(token)
            defer { fdrm_tsan_release(token) }
            return try body(&value)
        }
    }
}
