import CDrm
import Dispatch

/// GEM_BUSY, GEM_WAIT, the waits CPU access makes for rendering, and the
/// engines' debug listing.
extension DrmDevice {
    /// i915_gem_busy_ioctl: engine-class read bits, and the writer's class + 1.
    public func gemBusy(_ file: FileID, handle: Handle) throws(DrmError) -> UInt32 {
        try withFile(file) { (s, f) throws(DrmError) -> UInt32 in
            let obj = try s.lookup(handle, in: f)
            return activeRequests(s, obj, writers: false).reduce(0) { $0 | $1.busyBits(writes: $1.writes(obj)) }
        }
    }

    /// i915_gem_wait_ioctl: waits up to `timeoutNs` (negative: for ever) for
    /// every request using the object; ETIME if one is still running. The
    /// remaining time is written back, as the kernel does. Interruptible
    /// (I915_WAIT_INTERRUPTIBLE): EINTR with the time left written back, as
    /// i915_gem_wait_ioctl does for -ERESTARTSYS (a restart waits the rest).
    public func gemWait(_ file: FileID, handle: Handle, flags: UInt32, timeoutNs: inout Int64,
                        interruption: Interruption? = nil) throws(DrmError) {
        guard flags == 0 else { throw DrmError.EINVAL }
        let pending = try withFile(file) { (s, f) throws(DrmError) -> [Request] in
            activeRequests(s, try s.lookup(handle, in: f), writers: false)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var outcome = WaitOutcome.signaled
        if !pending.isEmpty {
            if timeoutNs == 0 {
                outcome = pending.allSatisfy(\.isDone) ? .signaled : .timedOut
            } else {
                // dispatch_time keeps clock flags in bits 62-63: a timeout
                // that far (INT64_MAX, as anv passes) is for ever.
                let deadline: DispatchTime? = timeoutNs < 0 || timeoutNs >= 1 << 60 ? nil
                    : DispatchTime(uptimeNanoseconds: start &+ UInt64(timeoutNs))
                for rq in pending {
                    outcome = rq.wait(deadline: deadline, interruption: interruption)
                    if outcome != .signaled { break }
                }
            }
        }
        if timeoutNs > 0 {
            let elapsed = Int64(DispatchTime.now().uptimeNanoseconds - start)
            timeoutNs = max(0, timeoutNs - elapsed)
            if outcome == .timedOut { timeoutNs = 0 }
        }
        switch outcome {
        case .signaled: return
        case .timedOut: throw DrmError.ETIME
        case .interrupted: throw DrmError.EINTR
        }
    }

    /// i915_gem_object_wait before CPU access: a read waits for the writers,
    /// a write for every request. Interruptible (I915_WAIT_INTERRUPTIBLE):
    /// EINTR, nothing done yet.
    public func awaitRendering(_ file: FileID, handle: Handle, write: Bool,
                               interruption: Interruption? = nil) throws(DrmError) {
        let pending = try withFile(file) { (s, f) throws(DrmError) -> [Request] in
            activeRequests(s, try s.lookup(handle, in: f), writers: !write)
        }
        try awaitAll(pending, interruption)
    }

    /// Waits for every request for ever, or until interrupted (EINTR).
    func awaitAll(_ requests: [Request], _ interruption: Interruption?) throws(DrmError) {
        for rq in requests where rq.wait(deadline: nil, interruption: interruption) == .interrupted {
            throw DrmError.EINTR
        }
    }

    /// i915_engine_info: each engine's queued and running requests, and totals.
    func engineInfoText(_ s: borrowing DeviceState) -> String {
        var all: [Request] = []
        for f in s.gpu.files.values { for c in f.contexts.values { all += c.requests.filter { !$0.isDone } } }
        var out = ""
        for e in EngineID.all {
            let mine = all.filter { $0.engine == e }.sorted { $0.seqno < $1.seqno }
            let running = mine.first { $0.isStarted }
            out += e.name + ": class " + String(e.uabiClass) + " instance " + String(e.instance)
                + " mmio 0x" + String(e.mmioBase, radix: 16) + " queued " + String(mine.count - (running == nil ? 0 : 1))
                + (running.map { " running seqno " + String($0.seqno) + " ctx " + String($0.context.id) } ?? " idle") + "\n"
        }
        let st = s.gpu.stats
        out += "requests: submitted \(st.submitted) completed \(st.completed) cancelled \(st.cancelled) hangs \(st.hangs)\n"
        out += "commands: executed \(st.commands) not executed (render/compute/media state, skipped) \(st.skipped)\n"
        out += "resets: \(s.gpu.resets)\n"
        if !s.gpu.lastHang.isEmpty { out += "last hang: " + s.gpu.lastHang + "\n" }
        return out
    }
}
