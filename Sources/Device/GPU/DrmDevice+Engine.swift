import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Running requests on the engines, and what follows them: hang handling
/// (engine reset, guilty context) and the coherency point before the fence
/// signals (every client's cached view of what the GPU wrote goes stale).
extension DrmDevice {
    /// Runs on the engine's thread.
    func execute(_ rq: Request) {
        // Taking the lock first orders everything the submitter wrote before
        // this thread reads the request (for ThreadSanitizer too).
        let (deps, awaited) = state.withLock { _ in (rq.dependencies, rq.awaits) }
        for dep in deps { _ = dep.wait(deadline: nil) }
        // FENCE_SUBMIT: begin once the in-fence's request has begun.
        for dep in rq.submitDependencies { while !dep.isStarted && !dep.isDone { usleep(50) } }
        // i915_request_await_dma_fence: a fatal error of an awaited fence
        // skips the request, whose fence carries it (fatal_error()).
        _ = awaited.wait(deadline: nil)
        let awaitError = awaited.error
        state.withLock { _ in rq.awaits = .stub }
        if awaitError != 0, awaitError != EAGAIN, awaitError != ETIMEDOUT {
            rq.fenceError.store(awaitError, ordering: .relaxed)
            rq.cancel(.skipped)
        }
        let saved = state.withLock { s -> [UInt32: UInt32] in
            if rq.context.banned { rq.cancel(.banned) }
            rq.markStarted()
            return rq.context.registers[rq.engine.index] ?? [:]
        }
        let swizzleX = profile.swizzleX, swizzleY = profile.swizzleY
        var cs = CommandStreamer(request: rq, regs: Registers(mmioBase: rq.engine.mmioBase, saved: saved),
                                 swizzle: { $0 == UInt32(I915_TILING_X) ? swizzleX : $0 == UInt32(I915_TILING_Y) ? swizzleY : 0 },
                                 poll: { [unowned self] i in self.flushCPU(rq, target: i) },
                                 publish: { [unowned self] i in self.dropCached(rq, target: i) },
                                 tracer: commandTrace)
        if let commandTrace {
            commandTrace.commandTrace(CommandStreamer.tracePrefix(rq) + "start batch=0x" + String(rq.batchStart, radix: 16)
                                      + " objects=" + String(rq.targets.count)
                                      + (profile.gpu == .noop ? " (--gpu noop: no command is executed)" : ""))
        }
        let snapshots = loadUserptrs(rq)
        let outcome: CommandStreamer.Outcome = rq.cancelled != .none ? .cancelled(rq.cancelled)
            : profile.gpu == .noop ? .completed : cs.run()
        storeUserptrs(rq, snapshots, written: cs.written)
        complete(rq, outcome, cs)
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
            case .hung(let reason):
                hung = true
                s.gpu.stats.hangs += 1
                s.gpu.resets += 1
                s.gpu.lastHang = rq.engine.name + " ctx " + String(rq.context.id) + " seqno " + String(rq.seqno) + ": " + reason
                rq.context.markGuilty(now: DispatchTime.now().uptimeNanoseconds)
            }
            return written.reduce(Flush()) { $0 + s.takeCached(of: rq.targets[$1].object) }
        }
        // The coherency point: no client keeps a stale copy of what the GPU wrote.
        flush(stale)
        // intel_gt_handle_error for the hung engine, as `reset` allows.
        if hung { handleHang() }
        if outcome != .completed, rq.fenceError.load(ordering: .relaxed) == 0 { rq.fenceError.store(EIO, ordering: .relaxed) }
        state.withLock { s in s.gpu.retire(rq) }
        if let commandTrace { commandTrace.commandTrace(CommandStreamer.tracePrefix(rq) + Self.describe(outcome, cs)) }
        rq.signal()
    }

    /// The last trace line of a request.
    private static func describe(_ outcome: CommandStreamer.Outcome, _ cs: CommandStreamer) -> String {
        let counts = String(cs.executed) + " commands, " + String(cs.skipped) + " skipped"
        switch outcome {
        case .completed: return "completed: " + counts
        case .hung(let reason): return "hung: " + reason + " (engine reset; " + counts + ")"
        case .cancelled(let why): return "cancelled (" + String(describing: why) + "): " + counts
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
