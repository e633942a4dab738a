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
}
