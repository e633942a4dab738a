/// A DRM sync object (drm_syncobj.c): a container for a fence. A binary
/// syncobj holds one fence (or none); a timeline holds a dma_fence_chain —
/// points with increasing seqnos, each signalled when its fence and every
/// earlier point's have. Touched under the device lock.
final class Syncobj: @unchecked Sendable {
    /// One dma_fence_chain node, or (first) the plain fence a chain was
    /// started on. `prevSeqno` and `context` are fixed at init, as the kernel's.
    struct Link {
        var seqno: UInt64
        var prevSeqno: UInt64
        var context: UInt64
        var fence: DmaFence
        var isChain: Bool
    }

    /// Oldest first; the last is the syncobj's fence. Empty: no fence.
    private(set) var links: [Link] = []
    /// Waiters for a fence to be installed (WAIT_FOR_SUBMIT / WAIT_AVAILABLE).
    private var waiters: [FenceWaker] = []
    /// SYNCOBJ_EVENTFD entries whose point has no fence yet (ev_fd_list).
    private var eventfds: [SyncobjEventfdEntry] = []

    var hasFence: Bool { !links.isEmpty }

    /// drm_syncobj_replace_fence (nil: reset).
    func replace(_ fence: DmaFence?) {
        links = fence.map { [Link(seqno: 0, prevSeqno: 0, context: 0, fence: $0, isChain: false)] } ?? []
        wakeWaiters()
    }

    /// drm_syncobj_add_point with dma_fence_chain_init: the context and
    /// prev_seqno of the previous node when the point is later, else a new
    /// context (an unordered point) with seqno max(prev, point).
    func addPoint(_ fence: DmaFence, _ point: UInt64, newContext: () -> UInt64) {
        var link = Link(seqno: point, prevSeqno: 0, context: 0, fence: fence, isChain: true)
        if let prev = links.last, prev.isChain, point > prev.seqno {
            link.context = prev.context
            link.prevSeqno = prev.seqno
        } else {
            link.context = newContext()
            if let prev = links.last, prev.isChain { link.seqno = max(prev.seqno, point) }
        }
        links.append(link)
        collectGarbage()
        wakeWaiters()
    }

    /// dma_fence_chain_walk's garbage collection: signalled nodes below the
    /// head leave the chain; signalled fences drop their requests.
    func collectGarbage() {
        guard links.count > 1 else {
            if !links.isEmpty { links[0].fence = links[0].fence.compacted() }
            return
        }
        let head = links.removeLast()
        links.removeAll { $0.fence.isSignaled }
        links.append(head)
        links[links.count - 1].fence = head.fence.compacted()
    }

    /// dma_fence_chain_find_seqno on the syncobj's fence: what to wait for
    /// to see `point` (the whole fence for 0; a stub for a point already
    /// signalled and collected), or nil (EINVAL) for no fence, a point on a
    /// binary fence, or a point not yet submitted.
    func find(_ point: UInt64) -> DmaFence? {
        // As dma_fence_chain_walk: collected on the way (and a finished
        // request no longer held, with its objects).
        collectGarbage()
        guard let head = links.last else { return nil }
        if point == 0 { return DmaFence.merge(links.map(\.fence)) }
        guard head.isChain, head.seqno >= point else { return nil }
        var i = links.count - 1
        while i >= 0 {
            let l = links[i]
            if i != links.count - 1, l.fence.isSignaled {
                i -= 1
                continue
            }
            if !l.isChain || l.context != head.context || l.prevSeqno < point {
                return DmaFence.merge(links[0...i].map(\.fence))
            }
            i -= 1
        }
        return .stub
    }

    /// drm_syncobj_query_ioctl's point: the last submitted one, or the
    /// last signalled (the prev_seqno of the oldest unsignalled node of the
    /// head's context); 0 for a binary syncobj.
    func query(lastSubmitted: Bool) -> UInt64 {
        guard let head = links.last, head.isChain else { return 0 }
        if lastSubmitted { return head.seqno }
        var last = links.count - 1
        var i = links.count - 2
        while i >= 0 {
            let l = links[i]
            if !l.fence.isSignaled {
                if !l.isChain || l.context != head.context { break }
                last = i
            }
            i -= 1
        }
        let signaled = links[0...last].allSatisfy { $0.fence.isSignaled }
        return signaled ? links[last].seqno : links[last].prevSeqno
    }

    func addWaiter(_ w: FenceWaker) { waiters.append(w) }
    func removeWaiter(_ w: FenceWaker) { waiters.removeAll { $0 === w } }

    /// drm_syncobj_add_eventfd: tried at once, then on every fence change.
    func addEventfd(_ e: SyncobjEventfdEntry) {
        if !runEventfd(e) { eventfds.append(e) }
    }

    /// On a new fence (drm_syncobj_replace_fence / add_point): waiters look
    /// again; eventfd entries whose point now has a fence leave.
    private func wakeWaiters() {
        for w in waiters { w.wake() }
        if !eventfds.isEmpty { eventfds.removeAll { runEventfd($0) } }
    }
}
