import Dispatch
import Glibc

/// The request watchdog (i915_request.c __rq_arm_watchdog): a request that
/// has run longer than its context's timeout since it was submitted to the
/// engine is cancelled with -EINTR (__rq_watchdog_expired ->
/// i915_request_cancel). Armed when the engine starts it, so work waiting
/// for a far fence is not timed (IGT gem_watchdog@far-fence).
extension DrmDevice {
    func armWatchdog(_ rq: Request) {
        let ns = rq.context.watchdogNs ?? params.requestTimeoutNs
        guard ns > 0 else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(min(ns, UInt64(Int.max))))) { [weak rq] in
            guard let rq, !rq.isDone else { return }
            _ = rq.fenceError.compareExchange(expected: 0, desired: EINTR, ordering: .relaxed)
            rq.cancel(.closed)
        }
    }
}
