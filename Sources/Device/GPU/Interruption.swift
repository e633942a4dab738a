import Dispatch
import Synchronization

/// A pending signal of the caller blocked in an ioctl (the kernel's
/// signal_pending(current)): the transport sets it when FUSE sends
/// INTERRUPT for the request, and the interruptible waits — GEM_WAIT,
/// SYNCOBJ_WAIT, the waits CPU access and relocations make for rendering —
/// give up with EINTR (the kernel's -ERESTARTSYS, which the syscall turns
/// into EINTR for a handler without SA_RESTART). One per ioctl, one waiter.
public final class Interruption: Sendable {
    private struct State {
        var interrupted = false
        var waker: FenceWaker?
    }
    private let state = Mutex(State())

    public init() {}

    public var isInterrupted: Bool { state.withLock { $0.interrupted } }

    /// The signal arrived: wakes the waiter, now and any later one.
    public func interrupt() {
        let w = state.withLock { s -> FenceWaker? in
            s.interrupted = true
            return s.waker
        }
        w?.wake()
    }

    /// Wakes `waker` on interrupt (at once if interrupted) until `unwatch`.
    func watch(_ waker: FenceWaker) {
        let now = state.withLock { s -> Bool in
            s.waker = waker
            return s.interrupted
        }
        if now { waker.wake() }
    }

    func unwatch() { state.withLock { $0.waker = nil } }
}

/// How an interruptible wait ended.
enum WaitOutcome: Equatable {
    case signaled, timedOut, interrupted
}

extension Interruption {
    /// Sleeps on `waker` until `done()` (checked after every wake-up), the
    /// deadline (nil: for ever) or an interrupt, the kernel's
    /// `wait_event_interruptible_timeout` shape. Whatever should wake the
    /// waker when `done()` may have changed is the caller's to arrange.
    func sleep(on waker: FenceWaker, until deadline: DispatchTime?, done: () -> Bool) -> WaitOutcome {
        watch(waker)
        defer { unwatch() }
        while true {
            if done() { return .signaled }
            if isInterrupted { return .interrupted }
            if !waker.sleep(until: deadline) { return done() ? .signaled : .timedOut }
        }
    }
}
