import Dispatch
import Synchronization

/// One execbuf's work on one engine (i915_request): a batch address in the
/// context's VM, the objects bound for it (held alive until it retires),
/// what it must wait for, and its completion fence.
final class Request: @unchecked Sendable {
    /// An object as the request sees it: where it is bound, and whether the
    /// GPU may write it (a readonly object's PTEs are read-only).
    struct Target {
        let object: GemObject
        let backing: Backing
        let start: UInt64
        let size: UInt64
        let write: Bool
        let readonly: Bool
        /// EXEC_OBJECT_CAPTURE: its contents go into the error state of a hang.
        var capture = false
        /// A userptr reached through the VM, not the exec list
        /// (ResidentVmas): the engine writes its stores through to the client.
        var unlistedUserptr: UserptrMemory?
        var end: UInt64 { start + size }
    }

    /// `skipped`: an awaited fence signalled with an error (the kernel skips
    /// the request and its fence carries that error).
    enum Cancel: Int32, Sendable { case none = 0, closed, reset, banned, skipped }

    let seqno: UInt64
    /// Touched only under the device lock.
    let context: GpuContext
    let engine: EngineID
    let batchStart: UInt64
    /// Sorted by start.
    let targets: [Target]
    /// Requests writing what this one reads, or reading what it writes:
    /// implicit synchronisation (i915_request_await_object).
    let dependencies: [Request]
    /// Index into `targets` of the batch object.
    let batchIndex: Int
    /// Requests this one may start only once they have started (a FENCE_SUBMIT
    /// in-fence: i915_request_await_execution).
    let submitDependencies: [Request]
    /// Explicit fences to wait for before running (the syncobjs of the exec
    /// fence array and a FENCE_IN sync_file); the engine drops them once
    /// they signalled, and a fatal error of theirs skips this request.
    /// Touched under the device lock.
    var awaits: DmaFence
    /// A sw_sync point's timeline name: a software fence that no engine
    /// runs, signalled by SW_SYNC_IOC_INC (Exports/SwSync.swift); nil for a
    /// GPU request.
    let softwareTimeline: String?
    /// Which of its context's timelines orders it (a ring of its own):
    /// each slot of an engine map is an intel_context with its own
    /// timeline, the legacy ring map has one per engine. Set before queueing.
    var timeline = 0
    var timelineKey: TimelineKey { TimelineKey(context: ObjectIdentifier(context), timeline: timeline) }

    /// Relocations into userptr objects: written to the client's memory
    /// when the request starts (DrmDevice.loadUserptrs). Set before queueing.
    var userRelocs: [(object: GemObject, offset: Int, value: UInt64)] = []
    /// Its priority (i915_sched_attr.priority): its context's at
    /// submission, raised when a request of higher priority comes to
    /// depend on it (DrmDevice.schedule). `unscheduled` until then. The
    /// engine's scheduler reads it without the lock.
    var priority: Int64 { effectivePriority.load(ordering: .relaxed) }
    static let unscheduled = Int64.min
    private let effectivePriority = Atomic<Int64>(Request.unscheduled)

    /// Only raises it; under the device lock (i915_schedule's schedule_lock).
    func raisePriority(to p: Int64) {
        if p > priority { effectivePriority.store(p, ordering: .relaxed) }
    }

    private let completed = DispatchGroup()
    private let doneFlag = Atomic<Bool>(false)
    private let cancelReason = Atomic<Int32>(0)
    private let startedFlag = Atomic<Bool>(false)
    /// The fence error: 0, or EIO for a hung or cancelled request.
    let fenceError = Atomic<Int32>(0)
    /// CLOCK_MONOTONIC ns when it was last given the engine: of an engine's
    /// started requests, the latest is the active one an engine reset blames.
    let lastRan = Atomic<UInt64>(0)
    /// CLOCK_MONOTONIC ns when the fence signalled (sync_fence_info.timestamp_ns).
    let signaledAt = Atomic<UInt64>(0)
    /// Run once when the fence signals (sync_file poll wake-ups).
    private let waiters = Mutex<[@Sendable () -> Void]>([])

    init(seqno: UInt64, context: GpuContext, engine: EngineID, batchStart: UInt64, batchIndex: Int,
         targets: [Target], dependencies: [Request], submitDependencies: [Request] = [], awaits: DmaFence = .stub,
         softwareTimeline: String? = nil) {
        self.softwareTimeline = softwareTimeline
        self.submitDependencies = submitDependencies
        self.seqno = seqno
        self.context = context
        self.engine = engine
        self.batchStart = batchStart
        self.batchIndex = batchIndex
        self.targets = targets
        self.dependencies = dependencies
        self.awaits = awaits
        completed.enter()
    }

    var isDone: Bool { doneFlag.load(ordering: .acquiring) }
    var isStarted: Bool { startedFlag.load(ordering: .acquiring) }
    var cancelled: Cancel { Cancel(rawValue: cancelReason.load(ordering: .relaxed)) ?? .none }

    func markStarted() { startedFlag.store(true, ordering: .releasing) }

    /// Stops a queued or running request at its next arbitration point.
    func cancel(_ why: Cancel) {
        _ = cancelReason.compareExchange(expected: 0, desired: why.rawValue, ordering: .relaxed)
    }

    /// Signals the fence (once).
    func signal() {
        let run = waiters.withLock { w -> [@Sendable () -> Void]? in
            guard !doneFlag.load(ordering: .acquiring) else { return nil }
            signaledAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
            doneFlag.store(true, ordering: .releasing)
            defer { w = [] }
            return w
        }
        guard let run else { return }
        completed.leave()
        for fn in run { fn() }
    }

    /// Calls `fn` once the fence has signalled: now if it has.
    func whenDone(_ fn: @escaping @Sendable () -> Void) {
        let now = waiters.withLock { w -> Bool in
            if doneFlag.load(ordering: .acquiring) { return true }
            w.append(fn)
            return false
        }
        if now { fn() }
    }

    /// Waits for the fence; false on timeout. `nil` waits for ever.
    func wait(deadline: DispatchTime?) -> Bool {
        if isDone { return true }
        guard let deadline else {
            completed.wait()
            return isDone
        }
        // The acquiring load pairs with signal(): what the engine wrote is
        // visible (and ordered for ThreadSanitizer, which does not see the group).
        return completed.wait(timeout: deadline) == .success && isDone
    }

    /// Waits for the fence, interruptibly when `interruption` is given
    /// (i915_request_wait with I915_WAIT_INTERRUPTIBLE: -ERESTARTSYS once a
    /// signal is pending).
    func wait(deadline: DispatchTime?, interruption: Interruption?) -> WaitOutcome {
        guard let interruption, !isDone else {
            return wait(deadline: deadline) ? .signaled : .timedOut
        }
        let waker = FenceWaker()
        whenDone { waker.wake() }
        return interruption.sleep(on: waker, until: deadline) { isDone }
    }

    /// Runs `body` once the fence has signalled (at once if it has), on the
    /// signalling thread, as dma_fence callbacks run. Not on a global queue:
    /// its few threads can all be blocked elsewhere, and an eventfd or a
    /// SYNCOBJ_WAIT then missed its wake-up for seconds (CI, under TSan).
    func notify(_ body: @escaping @Sendable () -> Void) {
        whenDone(body)
    }

    /// i915_request busy bits for GEM_BUSY: a reader sets the engine class's
    /// read flag, a writer also puts class + 1 in the low word.
    func busyBits(writes: Bool) -> UInt32 {
        let cls = UInt32(engine.uabiClass)
        return (0x10000 << cls) | (writes ? cls + 1 : 0)
    }

    /// Whether this request may write `obj` (EXEC_OBJECT_WRITE).
    func writes(_ obj: GemObject) -> Bool { targets.contains { $0.object === obj && $0.write } }
}

/// A context's timeline: its requests on it start in order.
struct TimelineKey: Hashable {
    let context: ObjectIdentifier
    let timeline: Int
}
