import Glibc

/// The request watchdog (i915_request.c __rq_arm_watchdog): a request that
/// has run longer than its context's timeout since the engine first started
/// it is cancelled with -EINTR (__rq_watchdog_expired -> i915_request_cancel).
/// Timed from the start, so work waiting for a far fence is not
/// (gem_watchdog@far-fence). Only a loop or a semaphore wait runs that long,
/// so the engine looks at every looping jump and semaphore poll: no timer
/// per request.
extension CommandStreamer {
    func expireIfOverdue() {
        guard watchdogNs != 0, Registers.monotonicNs() - startedNs > watchdogNs else { return }
        _ = request.fenceError.compareExchange(expected: 0, desired: EINTR, ordering: .relaxed)
        request.cancel(.closed)
    }
}
