import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A simulated GPU reset.
extension DrmDevice {
    /// intel_reset.c revoke_mmaps(): every GTT mapping of a binding that holds
    /// a fence is revoked (written back, then dropped); bindings and fences
    /// stay, as the fences are restored after the reset.
    public func gpuReset() {
        resetEngines()
        revokeFencedMappings()
    }

    /// A hang the engine found (its request already cancelled):
    /// intel_gt_handle_error for that engine. With `reset` >= 2 the engine
    /// alone is reset, which leaves mmaps alone; with 1 the GT is reset
    /// (revoke_mmaps); with 0 there is no reset method and the GT is wedged.
    func handleHang() {
        switch params.reset {
        case 0: wedged.store(true, ordering: .relaxed)
        case 1: revokeFencedMappings()
        default: break
        }
    }

    /// revoke_mmaps, counted as a full reset.
    private func revokeFencedMappings() {
        withLock(revoking: { (s: inout DeviceState, revoke: inout Flush) in
            s.ggtt.noteReset()
            for fence in s.ggtt.fences {
                guard let vma = fence.vma else { continue }
                revoke += vma.revocations
                vma.userfault = []
            }
        })
    }

    /// What a write of `engineMask` to i915_wedged does: intel_gt_handle_error().
    /// With the `reset` parameter at 2 or more and the GT not wedged, each
    /// engine is reset on its own (idle engines always recover), which leaves
    /// mmaps alone; otherwise a full reset (intel_gt_reset) unwedges, revokes
    /// the fenced GTT mappings and resets; with `reset` 0 there is no reset
    /// method, so the GT is wedged instead.
    /// Either way each reset engine's active request is guilty.
    public func handleError(engineMask: UInt64) {
        guard engineMask != 0 else { return }
        // I915_ERROR_CAPTURE: the state is taken first, hang or not
        // (i915_capture_error_state), unless one is kept already.
        state.withLock { s in
            if s.gpu.errorState == nil {
                let rq = s.activeRequests(engineMask: engineMask).first { !$0.context.noErrorCapture }
                s.gpu.errorState = GpuErrorState(rq, reason: "Manually reset engine mask to 0x" + String(engineMask, radix: 16))
            }
        }
        let reset = params.reset
        guard reset != 0 else {
            wedged.store(true, ordering: .relaxed)
            return
        }
        if reset >= 2, !isWedged {
            blameActive(engineMask: engineMask)
            return
        }
        wedged.store(false, ordering: .relaxed)
        blameActive(engineMask: engineMask)
        gpuReset()
    }

    /// The reset's rewind (execlists_reset_active -> __i915_request_reset
    /// with `stalled`): on each engine in the mask the active request, the
    /// started one last given the engine, is guilty: skipped with EIO, its
    /// context marked (mark_guilty: banned if not RECOVERABLE, or on a fast
    /// third hang). The others on the engine are innocent and replay.
    private func blameActive(engineMask: UInt64) {
        state.withLock { s in
            let now = DispatchTime.now().uptimeNanoseconds
            for rq in s.activeRequests(engineMask: engineMask) where rq.cancelled == .none {
                rq.cancel(.reset)
                rq.context.markGuilty(now: now)
            }
        }
    }

    /// The engine's bit in a reset mask: BIT(intel_engine_id), where RCS0
    /// is 0, BCS0 1, VCS0 10 and VECS0 18; TGL's uabi vcs1 is VCS2.
    static func resetMask(_ e: EngineID) -> UInt64 {
        switch e.uabiClass {
        case UInt16(I915_ENGINE_CLASS_RENDER.rawValue): return 1 << 0
        case UInt16(I915_ENGINE_CLASS_COPY.rawValue): return 1 << (1 + UInt64(e.instance))
        case UInt16(I915_ENGINE_CLASS_VIDEO.rawValue): return 1 << (10 + 2 * UInt64(e.instance))
        default: return 1 << (18 + UInt64(e.instance))
        }
    }

    /// intel_gt_is_wedged: what i915_wedged reads (1 when wedged).
    public var isWedged: Bool { wedged.load(ordering: .relaxed) }

    /// i915_gem_throttle_ioctl: "ABI: return -EIO if already wedged"; no
    /// request is ever outstanding, so otherwise there is nothing to wait for.
    public func throttle() throws(DrmError) {
        if isWedged { throw DrmError.EIO }
    }
}

extension DeviceState {
    /// The active request of each engine in `engineMask` (a reset mask):
    /// the started one last given the engine.
    func activeRequests(engineMask: UInt64) -> [Request] {
        var active: [Int: Request] = [:]
        for f in gpu.files.values {
            for ctx in f.contexts.values {
                for rq in ctx.requests where rq.isStarted && !rq.isDone && !ctx.closed
                    && engineMask & DrmDevice.resetMask(rq.engine) != 0 {
                    let cur = active[rq.engine.index]
                    if cur == nil || rq.lastRan.load(ordering: .relaxed) > cur!.lastRan.load(ordering: .relaxed) {
                        active[rq.engine.index] = rq
                    }
                }
            }
        }
        return active.keys.sorted().map { active[$0]! }
    }
}
