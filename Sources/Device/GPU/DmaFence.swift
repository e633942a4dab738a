import Dispatch

/// A dma_fence as syncobjs, execbuf fence arrays and sync_files pass it
/// around: GPU requests' completion — one request, or several
/// merged as a dma_fence_array / the points of a dma_fence_chain — or an
/// already signalled stub (dma_fence_get_stub), which may carry the error
/// of the requests it replaced. Signalled when every request has; its
/// error is the first request's error (EIO for a hung or cancelled one).
public struct DmaFence: @unchecked Sendable {
    let requests: [Request]
    /// A signalled fence's error once its requests are dropped (compacted).
    let stubError: Int32

    /// A signalled stub.
    public static let stub = DmaFence(requests: [], stubError: 0)

    init(requests: [Request], stubError: Int32 = 0) {
        self.requests = requests
        self.stubError = stubError
    }

    init(_ request: Request) { self.init(requests: [request]) }

    public var isSignaled: Bool { requests.allSatisfy(\.isDone) }

    /// dma_fence_get_status's error: 0 unless signalled with one.
    public var error: Int32 {
        if stubError != 0 { return stubError }
        for rq in requests where rq.isDone {
            let e = rq.fenceError.load(ordering: .relaxed)
            if e != 0 { return e }
        }
        return 0
    }

    /// dma_fence_unwrap_merge: one fence for all of them; requests that
    /// signalled cleanly are dropped.
    static func merge(_ fences: [DmaFence]) -> DmaFence {
        var out: [Request] = []
        var err: Int32 = 0
        for f in fences {
            if err == 0 { err = f.stubError }
            for rq in f.requests where !out.contains(where: { $0 === rq }) {
                if rq.isDone, rq.fenceError.load(ordering: .relaxed) == 0 { continue }
                out.append(rq)
            }
        }
        return DmaFence(requests: out, stubError: err)
    }

    /// A signalled fence no longer holds its requests (and their objects).
    func compacted() -> DmaFence {
        guard !requests.isEmpty, isSignaled else { return self }
        return DmaFence(requests: [], stubError: error)
    }

    /// Waits until signalled; false on timeout (nil waits for ever).
    func wait(deadline: DispatchTime?) -> Bool { requests.allSatisfy { $0.wait(deadline: deadline) } }

    /// Waits for every request, interruptibly when `interruption` is given.
    func wait(deadline: DispatchTime?, interruption: Interruption?) -> WaitOutcome {
        for rq in requests {
            let r = rq.wait(deadline: deadline, interruption: interruption)
            if r != .signaled { return r }
        }
        return .signaled
    }

    /// Wakes `waker` when any of the requests signals (at once if signalled).
    func notify(_ waker: FenceWaker) {
        let pending = requests.filter { !$0.isDone }
        if pending.isEmpty { return waker.wake() }
        for rq in pending { rq.notify { waker.wake() } }
    }
}

/// What a blocked waiter sleeps on (the task a syncobj_wait_entry wakes):
/// fences and syncobjs it watches wake it; it then looks again.
final class FenceWaker: Sendable {
    private let sem = DispatchSemaphore(value: 0)

    func wake() { sem.signal() }

    /// Sleeps until woken or `deadline`; false on timeout.
    @discardableResult
    func sleep(until deadline: DispatchTime?) -> Bool {
        guard let deadline else {
            sem.wait()
            return true
        }
        return sem.wait(timeout: deadline) == .success
    }
}
