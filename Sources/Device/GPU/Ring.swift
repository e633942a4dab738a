/// A context's ring on one of its timelines (intel_ring: one per
/// intel_context, so per engine-map slot, or per engine for the legacy
/// map; Request.timeline): each request takes ring
/// space until it completes, so a context that queues far ahead of its
/// engine blocks in execbuf (eb_throttle) instead of queueing for ever.
/// Only the accounting is modelled: commands never go through a ring.
extension GpuContext {
    /// intel_context_set_gem: a user context's ring is 16 KiB.
    static let ringSize = 16 * 1024
    /// What one request takes (its breadcrumbs, arbitration and
    /// MI_BATCH_BUFFER_START; gen12's are ~150-250 bytes): an estimate,
    /// which only decides how many requests fit (about 64 before a wait).
    static let requestRingBytes = 192
    /// CACHELINE_BYTES: __intel_ring_space keeps head and tail apart.
    private static let ringGap = 64

    /// eb_throttle: nil while the ring has a page free; else the oldest
    /// request after whose completion more than half the ring is free,
    /// which the execbuf waits for. Under the device lock.
    func throttle(on timeline: Int) -> Request? {
        let live = requests.filter { $0.timeline == timeline && !$0.isDone }
        let space = Self.ringSize - Self.ringGap - live.count * Self.requestRingBytes
        if space >= 4096 { return nil }
        for (i, rq) in live.enumerated() {
            let after = (live.count - i - 1) * Self.requestRingBytes
            if Self.ringSize - Self.ringGap - after > Self.ringSize / 2 { return rq }
        }
        return nil
    }
}
