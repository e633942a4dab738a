import CTsan
#if canImport(Glibc)
import Glibc
#endif

/// The model's lock (the device state, the backing arena, fault injection).
///
/// A plain glibc mutex, not Swift's `Mutex`: on Linux that one is a
/// priority-inheritance futex (FUTEX_LOCK_PI after a 1000-pause spin), whose
/// unlock hands the lock to the oldest waiter. With more FUSE workers than
/// CPUs that waiter is often not running, so every contended hand-off waited
/// for a context switch while the lock sat idle (a convoy: at 8 clients the
/// daemon spent 2.5% of its time in futex_lock_pi and 4% spinning in
/// `_MutexHandle._lockSlow`). glibc's normal mutex lets a running thread
/// take a free lock at once.
///
/// ThreadSanitizer does know pthread mutexes; the acquire and release
/// annotations (no-ops without TSan) stay for the edges they always gave.
final class DeviceLock<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    init(_ value: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        self.value = .allocate(capacity: 1)
        self.value.initialize(to: value)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let token = Unmanaged.passUnretained(self).toOpaque()
        pthread_mutex_lock(mutex)
        fdrm_tsan_acquire(token)
        defer {
            fdrm_tsan_release(token)
            pthread_mutex_unlock(mutex)
        }
        return try body(&value.pointee)
    }
}
