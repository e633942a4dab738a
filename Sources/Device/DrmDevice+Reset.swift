/// A simulated GPU reset.
extension DrmDevice {
    /// intel_reset.c revoke_mmaps(): every GTT mapping of a binding that holds
    /// a fence is revoked (written back, then dropped); bindings and fences
    /// stay, as the fences are restored after the reset.
    public func gpuReset() {
        resetEngines()
        let revoke = state.withLock { (s: inout DeviceState) -> [Invalidation] in
            s.ggtt.noteReset()
            var out: [Invalidation] = []
            for fence in s.ggtt.fences {
                guard let vma = fence.vma else { continue }
                out += vma.revocations
                vma.userfault = []
            }
            return out
        }
        cache.invalidate(revoke)
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
