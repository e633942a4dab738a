import Dispatch
import Synchronization

/// A sync_file's fence (drivers/dma-buf/sync_file.c): the requests it
/// stands for, one for an execbuf out-fence, several after SYNC_IOC_MERGE
/// (a dma_fence_array, flattened as dma_fence_unwrap sees it). Each is an
/// i915 request's dma_fence: signalled when the request retires, with EIO
/// when it hung or was cancelled (i915_request_set_error_once).
public final class SyncFile: @unchecked Sendable {
    let fences: [Request]
    /// The name SYNC_IOC_MERGE gave it, or nil (then sync_file_get_name's
    /// "driver-timeline-context-seqno" of its one fence).
    let userName: String?

    init(fences: [Request], name: String? = nil) {
        self.fences = fences
        self.userName = name
    }

    /// sync_file_merge: the union of both sets (a request once), sorted.
    func merged(with other: SyncFile, name: String) -> SyncFile {
        var all = fences
        for f in other.fences where !all.contains(where: { $0 === f }) { all.append(f) }
        // Already signalled fences are dropped, as dma_fence_unwrap_merge does,
        // unless every one is: then one stays (a signalled stub).
        let pending = all.filter { !$0.isDone }
        return SyncFile(fences: pending.isEmpty ? Array(all.prefix(1)) : pending, name: name)
    }

    var isSignaled: Bool { fences.allSatisfy(\.isDone) }

    /// dma_fence_get_status of one fence: 0 pending, 1 signalled, -errno.
    static func status(_ rq: Request) -> Int32 {
        guard rq.isDone else { return 0 }
        let e = rq.fenceError.load(ordering: .relaxed)
        return e != 0 ? -e : 1
    }

    /// dma_fence_get_status of the whole: pending while any is, else the
    /// first error, else signalled.
    var status: Int32 {
        var result: Int32 = 1
        for f in fences {
            let s = Self.status(f)
            if s == 0 { return 0 }
            if s < 0, result == 1 { result = s }
        }
        return result
    }

    /// sync_file_get_name.
    var name: String {
        if let userName { return userName }
        guard let f = fences.first else { return "" }
        return "i915-" + Self.timelineName(f) + String(f.context.id) + "-" + String(f.seqno)
    }

    /// i915_fence_get_timeline_name: the context's name, "[pid]" style
    /// here; "signaled" once retired.
    static func timelineName(_ rq: Request) -> String {
        rq.isDone ? "signaled" : rq.engine.name
    }

    /// Calls `fn` once every fence has signalled.
    func whenSignaled(_ fn: @escaping @Sendable () -> Void) {
        let remaining = Counter(fences.count)
        guard !fences.isEmpty else { fn(); return }
        for f in fences {
            f.whenDone { if remaining.decrement() { fn() } }
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
