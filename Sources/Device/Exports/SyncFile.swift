import Dispatch
import Synchronization

/// A sync_file (drivers/dma-buf/sync_file.c): one dma_fence, the same
/// DmaFence syncobjs and execbuf fence arrays pass around. An execbuf
/// out-fence is one request's; SYNC_IOC_MERGE makes a dma_fence_array
/// (flattened, as dma_fence_unwrap sees it); a syncobj's fence exported
/// (HANDLE_TO_FD with EXPORT_SYNC_FILE) may be a chain or a stub. Each
/// request signals when it retires, with EIO when it hung or was cancelled
/// (i915_request_set_error_once).
public final class SyncFile: @unchecked Sendable {
    let fence: DmaFence
    /// The name SYNC_IOC_MERGE gave it, or nil (then sync_file_get_name's
    /// "driver-timeline-context-seqno" of its fence).
    let userName: String?

    init(fence: DmaFence, name: String? = nil) {
        self.fence = fence
        self.userName = name
    }

    /// sync_file_merge: the union of both fences (a request once). Already
    /// signalled requests are dropped, as dma_fence_unwrap_merge does, unless
    /// every one is: then one stays (a signalled stub).
    func merged(with other: SyncFile, name: String) -> SyncFile {
        var all = fence.requests
        for rq in other.fence.requests where !all.contains(where: { $0 === rq }) { all.append(rq) }
        let pending = all.filter { !$0.isDone }
        if pending.isEmpty, all.isEmpty {
            return SyncFile(fence: DmaFence(requests: [], stubError: fence.stubError != 0 ? fence.stubError : other.fence.stubError),
                            name: name)
        }
        return SyncFile(fence: DmaFence(requests: pending.isEmpty ? Array(all.prefix(1)) : pending), name: name)
    }

    var isSignaled: Bool { fence.isSignaled }

    /// dma_fence_get_status of one request's fence: 0 pending, 1 signalled, -errno.
    static func status(_ rq: Request) -> Int32 {
        guard rq.isDone else { return 0 }
        let e = rq.fenceError.load(ordering: .relaxed)
        return e != 0 ? -e : 1
    }

    /// dma_fence_get_status of the whole: pending while any is, else the
    /// first error, else signalled.
    var status: Int32 {
        guard fence.isSignaled else { return 0 }
        let e = fence.error
        return e != 0 ? -e : 1
    }

    /// sync_file_get_name.
    var name: String {
        if let userName { return userName }
        guard let rq = fence.requests.first else {
            let (driver, timeline) = Self.stubNames(fence)
            return driver + "-" + timeline + "0-0"
        }
        return Self.driverName(rq) + "-" + Self.timelineName(rq) + String(rq.context.id) + "-" + String(rq.seqno)
    }

    /// i915_fence_get_timeline_name: the GEM context's name ("comm[pid]"),
    /// the engine's for a file's default context here; "signaled" once
    /// retired. A sw_sync point's: its timeline's.
    static func timelineName(_ rq: Request) -> String {
        if let tl = rq.softwareTimeline { return tl }
        return rq.isDone ? "signaled" : rq.context.creatorPid.map(contextName) ?? rq.engine.name
    }

    /// get_driver_name: "i915", or "sw_sync" for a sw_sync point.
    static func driverName(_ rq: Request) -> String { rq.softwareTimeline != nil ? "sw_sync" : "i915" }

    /// Driver and timeline names of a fence without requests: the
    /// signalled stub's (dma_fence_get_stub), or, when it carries an error,
    /// those of the retired i915 requests it stands for.
    static func stubNames(_ f: DmaFence) -> (driver: String, timeline: String) {
        f.stubError != 0 ? ("i915", "signaled") : ("stub", "stub")
    }

    /// Calls `fn` once the fence has signalled.
    func whenSignaled(_ fn: @escaping @Sendable () -> Void) {
        let requests = fence.requests
        let remaining = Counter(requests.count)
        guard !requests.isEmpty else { fn(); return }
        for rq in requests {
            rq.whenDone { if remaining.decrement() { fn() } }
        }
    }
}

/// Counts down to zero once.
private final class Counter: Sendable {
    private let left: Atomic<Int>
    init(_ n: Int) { left = Atomic(n) }
    /// True for the call that reaches zero.
    func decrement() -> Bool { left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 }
}
