import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// SYNCOBJ_EVENTFD's target: the daemon's duplicate of the caller's eventfd
/// (the transport gets it with pidfd_getfd). Closed when the last entry
/// holding it is gone (signalled, or its syncobj freed unsignalled).
public final class SyncobjEventfd: Sendable {
    let fd: Int32

    /// Takes ownership of `fd`.
    public init(fd: Int32) { self.fd = fd }

    /// eventfd_signal: the counter goes up by 1.
    func signal() { fdrm_eventfd_signal(fd) }

    deinit { close(fd) }
}

/// A syncobj_eventfd_entry: which point to watch, and whether an available
/// fence (WAIT_AVAILABLE) is enough.
struct SyncobjEventfdEntry {
    let eventfd: SyncobjEventfd
    let point: UInt64
    let waitAvailable: Bool
}

extension Syncobj {
    /// syncobj_eventfd_entry_func: false while the point has no fence (the
    /// entry stays); else the eventfd is signalled now (WAIT_AVAILABLE, or
    /// already signalled) or when the fence signals, and the entry leaves.
    func runEventfd(_ e: SyncobjEventfdEntry) -> Bool {
        guard hasFence, let fence = find(e.point) else { return false }
        if e.waitAvailable {
            e.eventfd.signal()
        } else {
            Self.whenSignaled(fence) { e.eventfd.signal() }
        }
        return true
    }

    /// dma_fence_add_callback: `body` once every request of `fence` is done.
    static func whenSignaled(_ fence: DmaFence, _ body: @escaping @Sendable () -> Void) {
        guard let pending = fence.requests.first(where: { !$0.isDone }) else { return body() }
        pending.notify { whenSignaled(fence, body) }
    }
}
