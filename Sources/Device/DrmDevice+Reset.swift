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
    public func handleError(engineMask: UInt64) {
        guard engineMask != 0 else { return }
        let reset = params.reset
        if reset >= 2, !isWedged { return }
        guard reset != 0 else {
            wedged.store(true, ordering: .relaxed)
            return
        }
        wedged.store(false, ordering: .relaxed)
        gpuReset()
    }

    /// intel_gt_is_wedged: what i915_wedged reads (1 when wedged).
    public var isWedged: Bool { wedged.load(ordering: .relaxed) }

    /// i915_gem_throttle_ioctl: "ABI: return -EIO if already wedged"; no
    /// request is ever outstanding, so otherwise there is nothing to wait for.
    public func throttle() throws(DrmError) {
        if isWedged { throw DrmError.EIO }
    }
}
