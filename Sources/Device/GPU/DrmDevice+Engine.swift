import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Running requests on the engines, and what follows them: hang handling
/// (engine reset, guilty context) and the coherency point before the fence
/// signals (every client's cached view of what the GPU wrote goes stale).
/// A request on an engine's run list: started, holding its command
/// streamer (ip, return address, registers: the saved context) between turns.
final class RunningRequest {
    let rq: Request
    var cs: CommandStreamer
    let snapshots: UserptrSnapshots
    /// The scheduler's clock when it last had the engine (round robin).
    var lastTurn: UInt64 = 0
    var yielded: CommandStreamer.Yield?

    init(_ rq: Request, _ cs: CommandStreamer, _ snapshots: UserptrSnapshots) {
        self.rq = rq
        self.cs = cs
        self.snapshots = snapshots
    }
}

/// A request handed to the engine and not started: what it waits for.
final class QueuedRequest {
    let rq: Request
    let deps: [Request]
    let awaited: DmaFence
    /// Whether its unfinished fences kick the engine when they signal.
    var armed = false

    init(_ rq: Request, _ deps: [Request], _ awaited: DmaFence) {
        self.rq = rq
        self.deps = deps
        self.awaited = awaited
    }

    /// Its implicit dependencies and fences signalled, its FENCE_SUBMIT
    /// requests given an engine (i915_request_await_execution).
    var ready: Bool { Self.isReady(rq, deps: deps, awaited: awaited) }

    static func isReady(_ rq: Request, deps: [Request], awaited: DmaFence) -> Bool {
        deps.allSatisfy(\.isDone) && awaited.isSignaled && rq.submitDependencies.allSatisfy { $0.isStarted || $0.isDone }
    }

    var waitsForSubmit: Bool { rq.submitDependencies.contains { !$0.isStarted && !$0.isDone } }

    func arm(_ engine: Engine) {
        guard !armed else { return }
        armed = true
        for dep in deps + awaited.requests where !dep.isDone { dep.whenDone { engine.kick() } }
    }
}

extension DrmDevice {
    /// The engine's thread (execlists' dequeue and CSB processing in one):
    /// runs while the engine has requests. Started requests form a run list;
    /// the next to run is the ready one of highest priority that had the
    /// engine least recently (a request not yet started first), except that
    /// a request yielding on an unsatisfied semaphore lets anyone else run
    /// first. A timeline's requests start in order, each once the previous
    /// one completed (one ring per context and engine-map slot, or per
    /// context and engine for the legacy map). When every started
    /// request waits (semaphore, spinner), the thread sleeps 20 µs doubling
    /// to 1 ms per round; with nothing started and nothing ready it sleeps
    /// until a fence it waits for signals, a submission, or 1 ms.
    func runEngine(_ engine: Engine) {
        var running: [RunningRequest] = []
        var queued: [QueuedRequest] = []
        var clock: UInt64 = 0
        var blockedStreak = 0
        var backoff = 20_000
        while true {
            guard let new = engine.take(idle: running.isEmpty && queued.isEmpty) else {
                engine.runningPriority.store(Int64.min, ordering: .relaxed)
                return
            }
            if !new.isEmpty {
                // Taking the lock first orders everything the submitter wrote
                // before this thread reads the request (for ThreadSanitizer too).
                let waits = state.withLock { _ in new.map { ($0.dependencies, $0.awaits) } }
                for (rq, w) in zip(new, waits) { queued.append(QueuedRequest(rq, w.0, w.1)) }
            }
            // Candidates: every started request, and the oldest queued
            // request of each timeline with none on the run list, when ready.
            var pick: (index: Int, started: Bool)?
            var pickKey: (Int, Int64, UInt64) = (0, 0, 0)
            var candidates = 0
            var timelines = Set<TimelineKey>()
            for (i, r) in running.enumerated() {
                timelines.insert(r.rq.timelineKey)
                candidates += 1
                // Only the latest turn's semaphore waiter steps back for everyone.
                let key = (r.yielded == .semaphore && r.lastTurn == clock ? 0 : 1, r.rq.priority, UInt64.max - r.lastTurn)
                if pick == nil || key > pickKey { pick = (i, true); pickKey = key }
            }
            var submitWait = false
            for (i, q) in queued.enumerated() {
                guard timelines.insert(q.rq.timelineKey).inserted else { continue }
                guard q.ready else {
                    q.arm(engine)
                    submitWait = submitWait || q.waitsForSubmit
                    continue
                }
                candidates += 1
                let key = (1, q.rq.priority, UInt64.max)
                if pick == nil || key > pickKey { pick = (i, false); pickKey = key }
            }
            guard let pick else {
                // Nothing started, nothing ready: FENCE_SUBMIT is polled (50 µs).
                engine.sleep(ns: submitWait ? 50_000 : 1_000_000)
                continue
            }
            let r: RunningRequest
            if pick.started {
                r = running.remove(at: pick.index)
                if r.yielded == .semaphore || r.yielded == .spinning, blockedStreak >= candidates {
                    // Every started request waits: a bounded sleep, as a lone
                    // spinner's, before polling again.
                    running.insert(r, at: pick.index)
                    engine.sleep(ns: backoff)
                    backoff = min(backoff * 2, 1_000_000)
                    blockedStreak = 0
                    continue
                }
            } else {
                // What was submitted while we looked may be ready too (one
                // fence can free them all) and come first: take it, look again.
                if engine.hasPending { continue }
                guard let started = start(queued.remove(at: pick.index), engine) else {
                    blockedStreak = 0
                    backoff = 20_000
                    engine.completed()
                    continue
                }
                r = started
            }
            clock += 1
            r.lastTurn = clock
            engine.runningPriority.store(r.rq.priority, ordering: .relaxed)
            engine.preemptSince.store(0, ordering: .relaxed)
            r.cs.sliceStart = Registers.monotonicNs()
            let outcome = r.cs.run()
            if case .yielded(let why) = outcome {
                r.yielded = why
                running.append(r)
                if why == .timeslice { blockedStreak = 0; backoff = 20_000 } else { blockedStreak += 1 }
                continue
            }
            blockedStreak = 0
            backoff = 20_000
            storeUserptrs(r.rq, r.snapshots, written: r.cs.written)
            complete(r.rq, outcome, r.cs)
            engine.completed()
        }
    }

    /// Gives a ready request the engine: its fences' errors, the context
    /// image, userptr contents. nil when it ended at once (skipped,
    /// cancelled, `--gpu noop`).
    private func start(_ q: QueuedRequest, _ engine: Engine) -> RunningRequest? {
        let rq = q.rq
        // i915_request_await_dma_fence: a fatal error of an awaited fence
        // skips the request, whose fence carries it (fatal_error()).
        let awaitError = q.awaited.error
        if awaitError != 0, awaitError != EAGAIN, awaitError != ETIMEDOUT {
            rq.fenceError.store(awaitError, ordering: .relaxed)
            rq.cancel(.skipped)
        }
        let saved = state.withLock { s -> [UInt32: UInt32] in
            rq.awaits = .stub
            if rq.context.banned { rq.cancel(.banned) }
            rq.markStarted()
            return rq.context.registers[rq.engine.index] ?? [:]
        }
        let swizzleX = profile.swizzleX, swizzleY = profile.swizzleY
        let shadow = UserptrSnapshots()
        let cs = CommandStreamer(request: rq, regs: Registers(mmioBase: rq.engine.mmioBase, saved: saved),
                                 swizzle: { $0 == UInt32(I915_TILING_X) ? swizzleX : $0 == UInt32(I915_TILING_Y) ? swizzleY : 0 },
                                 poll: { [unowned self] i in self.flushCPU(rq, target: i) },
                                 publish: { [unowned self] i in
                                     self.dropCached(rq, target: i)
                                     self.storeUserptr(rq, target: i, shadow)
                                 },
                                 contended: { engine.contended },
                                 preemptSince: { engine.preemptSince.load(ordering: .relaxed) },
                                 properties: engine.properties,
                                 watchdogNs: rq.context.watchdogNs ?? params.requestTimeoutNs,
                                 resident: residentVmas(rq),
                                 tracer: commandTrace)
        if let commandTrace {
            commandTrace.commandTrace(CommandStreamer.tracePrefix(rq) + "start batch=0x" + String(rq.batchStart, radix: 16)
                                      + " objects=" + String(rq.targets.count)
                                      + (profile.gpu == .noop ? " (--gpu noop: no command is executed)" : ""))
        }
        shadow.before = loadUserptrs(rq)
        let r = RunningRequest(rq, cs, shadow)
        if rq.cancelled != .none || profile.gpu == .noop {
            let outcome: CommandStreamer.Outcome = rq.cancelled != .none ? .cancelled(rq.cancelled) : .completed
            storeUserptrs(rq, r.snapshots, written: r.cs.written)
            complete(rq, outcome, r.cs)
            return nil
        }
        return r
    }

    /// A killed context's requests that have not started are retired by the
    /// engine: a running request that cannot be preempted is reset after
    /// the preempt timeout (kill_engines' heartbeat pulse).
    func preemptFor(killed ctx: GpuContext) {
        for rq in ctx.requests where !rq.isStarted { engines[rq.engine.index].requestPreemption() }
    }

    /// Writes back and drops every client's cached pages of a request's target.
    func flushCPU(_ rq: Request, target i: Int) {
        reloadUserptr(rq.targets[i])
        dropCached(rq, target: i)
    }

    /// Writes back and drops every client's cached pages of a request's
    /// target, without reloading a userptr (the GPU's writes stay).
    func dropCached(_ rq: Request, target i: Int) {
        flush(state.withLock { $0.takeCached(of: rq.targets[i].object) })
    }

    private func complete(_ rq: Request, _ outcome: CommandStreamer.Outcome, _ cs: CommandStreamer) {
        let written = rq.targets.indices.filter { cs.written[$0] }
        var hung = false
        let stale = state.withLock { s -> Flush in
            s.gpu.stats.commands += cs.executed
            s.gpu.stats.skipped += cs.skipped
            rq.context.registers[rq.engine.index] = cs.regs.saved
            switch outcome {
            case .completed: s.gpu.stats.completed += 1
            case .cancelled: s.gpu.stats.cancelled += 1
            case .yielded: break
            case .hung(let reason):
                hung = true
                s.gpu.stats.hangs += 1
                s.gpu.resets += 1
                s.gpu.lastHang = rq.engine.name + " ctx " + String(rq.context.id) + " seqno " + String(rq.seqno) + ": " + reason
                rq.context.markGuilty(now: DispatchTime.now().uptimeNanoseconds)
                if s.gpu.errorState == nil, !rq.context.noErrorCapture { s.gpu.errorState = GpuErrorState(rq, reason: reason) }
            }
            return written.reduce(Flush()) { $0 + s.takeCached(of: rq.targets[$1].object) }
        }
        // The coherency point: no client keeps a stale copy of what the GPU wrote.
        flush(stale)
        // intel_gt_handle_error for the hung engine, as `reset` allows.
        if hung { handleHang() }
        if outcome != .completed, rq.fenceError.load(ordering: .relaxed) == 0 { rq.fenceError.store(EIO, ordering: .relaxed) }
        // Traced before retiring: a GEM_WAIT that no longer finds the request
        // returns, and its caller may read the trace (CommandTraceTests).
        if let commandTrace { commandTrace.commandTrace(CommandStreamer.tracePrefix(rq) + Self.describe(outcome, cs)) }
        state.withLock { s in s.gpu.retire(rq) }
        rq.signal()
    }

    /// The last trace line of a request.
    private static func describe(_ outcome: CommandStreamer.Outcome, _ cs: CommandStreamer) -> String {
        let counts = String(cs.executed) + " commands, " + String(cs.skipped) + " skipped"
        switch outcome {
        case .completed: return "completed: " + counts
        case .hung(let reason): return "hung: " + reason + " (engine reset; " + counts + ")"
        case .cancelled(let why): return "cancelled (" + String(describing: why) + "): " + counts
        case .yielded: return "yielded: " + counts
        }
    }

    /// Requests that have not signalled on `obj`; `writers` only those writing it.
    func activeRequests(_ s: borrowing DeviceState, _ obj: GemObject, writers: Bool) -> [Request] {
        (s.gpu.active[ObjectIdentifier(obj)] ?? []).filter { !$0.isDone && (!writers || $0.writes(obj)) }
    }

    /// Cancels everything in flight (a full GPU reset): the running request
    /// of each engine is the guilty one, as i915_wedged's reset finds it.
    func resetEngines() {
        state.withLock { s in
            for f in s.gpu.files.values {
                for ctx in f.contexts.values {
                    for rq in ctx.requests where !rq.isDone { rq.cancel(.reset) }
                }
            }
        }
    }
}

extension GpuContext {
    /// mark_guilty (intel_reset.c): counted; banned when not recoverable or
    /// on a third hang within 120 s, if bannable.
    func markGuilty(now: UInt64) {
        guilty += 1
        guard bannable else { return }
        var ban = !recoverable
        if hangTimes.count == 2, now - hangTimes[0] < 120_000_000_000 { ban = true }
        hangTimes.append(now)
        if hangTimes.count > 2 { hangTimes.removeFirst() }
        if ban {
            banned = true
            for rq in requests where !rq.isStarted { rq.cancel(.banned) }
        }
        // client_mark_guilty: a ban costs the file 3 points, a fast hang 1.
        file?.banScore += ban ? 3 : 1
    }
}

extension GpuState {
    /// i915_request_retire: the request leaves its objects and context.
    mutating func retire(_ rq: Request) {
        for t in rq.targets {
            let key = ObjectIdentifier(t.object)
            active[key]?.removeAll { $0 === rq }
            if active[key]?.isEmpty == true { active[key] = nil }
        }
        rq.context.requests.removeAll { $0 === rq }
    }
}
