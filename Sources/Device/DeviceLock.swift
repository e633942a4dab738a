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
/// Adaptive (`PTHREAD_MUTEX_ADAPTIVE_NP`): a thread that finds the lock
/// taken spins a little before sleeping, since the sections are a few
/// microseconds and the holder is usually running on the other CPU. Asleep,
/// a reader left a CPU idle while requests waited in /dev/fuse (at most one
/// reader per CPU waits there): futex calls per ioctl 0.044 → 0.026, daemon
/// CPU 10.5–11.2 → 9.2–9.6 µs per ioctl at 16 clients (BENCHMARKS.md,
/// "third look").
///
/// ThreadSanitizer does know pthread mutexes; the acquire and release
/// annotations (no-ops without TSan) stay for the edges they always gave.
final class DeviceLock<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    init(_ value: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attr)
        pthread_mutexattr_destroy(&attr)
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
