import CDrm

/// EXECBUFFER2's syncobj fences (i915_gem_execbuffer.c add_fence_array,
/// add_timeline_fence_array, await_fence_array, signal_fence_array): what
/// a request waits for before it runs, and which syncobjs get its fence.
public struct ExecFence: @unchecked Sendable {
    let syncobj: Syncobj
    let flags: UInt32
    let point: UInt64
    /// The fence the request awaits (eb_fence.dma_fence).
    let awaited: DmaFence?
    /// A timeline point is added on signal (a preallocated chain node).
    let chain: Bool

    var signals: Bool { flags & UInt32(I915_EXEC_FENCE_SIGNAL) != 0 }
}

extension DrmDevice {
    /// __I915_EXEC_FENCE_UNKNOWN_FLAGS: EINVAL, checked as each entry is copied.
    public static func checkExecFenceFlags(_ flags: UInt32) throws(DrmError) {
        guard flags & ~UInt32(I915_EXEC_FENCE_WAIT | I915_EXEC_FENCE_SIGNAL) == 0 else { throw DrmError.EINVAL }
    }

    /// eb_fence's allocation (krealloc of 32-byte entries): ENOMEM past KMALLOC_MAX_SIZE.
    public static func checkExecFenceCount(_ total: UInt64) throws(DrmError) {
        guard total <= (4 << 20) / 32 else { throw DrmError.ENOMEM }
    }

    /// One entry of the fence array (`timeline` false, point 0) or of the
    /// timeline-fences extension, after its flags passed: unknown handle
    /// ENOENT; a WAIT on a syncobj without a fence EINVAL; on a timeline, a
    /// point not submitted (or any point on a binary syncobj) EINVAL unless
    /// SIGNAL; WAIT and SIGNAL of one non-zero point EINVAL. nil: nothing to
    /// do (a point already signalled and collected, or no flags and no fence).
    public func execFence(_ file: FileID, handle: SyncobjHandle, flags: UInt32, point: UInt64, timeline: Bool) throws(DrmError) -> ExecFence? {
        try withFile(file) { (s, f) throws(DrmError) -> ExecFence? in
            guard let o = s.gpu.file(f.id).syncobjs[handle] else { throw DrmError.ENOENT }
            let wait = flags & UInt32(I915_EXEC_FENCE_WAIT) != 0, signal = flags & UInt32(I915_EXEC_FENCE_SIGNAL) != 0
            guard timeline else {
                // add_fence_array: only WAIT takes the fence.
                var fence: DmaFence?
                if wait {
                    guard let whole = o.find(0) else { throw DrmError.EINVAL }
                    fence = whole
                }
                return ExecFence(syncobj: o, flags: flags, point: 0, awaited: fence, chain: false)
            }
            // add_timeline_fence_array: the fence is taken whatever the flags.
            if !o.hasFence, flags != 0, !signal { throw DrmError.EINVAL }
            var fence = o.find(0)
            if fence != nil, point != 0 {
                if let at = o.find(point) {
                    fence = at
                } else if !signal {
                    throw DrmError.EINVAL
                }
            }
            if fence == nil, !signal { return nil }
            if point != 0, signal, wait { throw DrmError.EINVAL }
            return ExecFence(syncobj: o, flags: flags, point: point, awaited: fence, chain: point != 0 && signal)
        }
    }

    /// signal_fence_array: after the request is queued, under the lock.
    func signalExecFences(_ s: inout DeviceState, _ fences: [ExecFence], _ rq: Request) {
        for f in fences where f.signals {
            if f.chain {
                f.syncobj.addPoint(DmaFence(rq), f.point) { s.gpu.fenceContexts += 1; return s.gpu.fenceContexts }
            } else {
                f.syncobj.replace(DmaFence(rq))
            }
        }
    }
}
