import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// A sw_sync timeline (drivers/dma-buf/sw_sync.c): software fences that a
/// test signals by hand, one timeline per open of the sw_sync file
/// (strict mode: include/fakedrm.h). Its points are request fences that no
/// engine runs (Request.softwareTimeline), so sync_files, syncobjs
/// (IMPORT_SYNC_FILE) and FENCE_IN take them like any other. Touched under
/// the device lock.
final class SwSyncTimeline: @unchecked Sendable {
    let name: String
    /// The timeline's fence context (dma_fence_context_alloc).
    let context: GpuContext
    private(set) var value: UInt32 = 0
    /// Points not reached yet.
    private var pending: [Request] = []

    init(name: String, context: GpuContext) {
        self.name = name
        self.context = context
    }

    /// timeline_fence_signaled: a point is reached once it is not later
    /// than the timeline's value, in dma_fence's 32-bit order (__dma_fence_is_later).
    static func reached(_ point: UInt32, _ value: UInt32) -> Bool { Int32(bitPattern: point &- value) <= 0 }

    /// sync_pt_create: a new point at `value`, signalled at once if reached
    /// (it has no waiters yet, so under the lock is fine).
    func point(_ at: UInt32) -> Request {
        let rq = Request(seqno: UInt64(at), context: context, engine: .rcs0, batchStart: 0, batchIndex: 0, targets: [],
                         dependencies: [], softwareTimeline: name)
        if Self.reached(at, value) { rq.signal() } else { pending.append(rq) }
        return rq
    }

    /// sync_timeline_signal (SW_SYNC_IOC_INC, in INT_MAX steps): the points
    /// now reached, to be signalled outside the lock.
    func advance(by count: UInt32) -> [Request] {
        var left = count
        var reached: [Request] = []
        repeat {
            let step = min(left, UInt32(Int32.max))
            value &+= step
            left -= step
            reached += pending.filter { Self.reached(UInt32(truncatingIfNeeded: $0.seqno), value) }
            pending.removeAll { Self.reached(UInt32(truncatingIfNeeded: $0.seqno), value) }
        } while left > 0
        return reached
    }

    /// sw_sync_debugfs_release: every pending point signals with -ENOENT.
    func close() -> [Request] {
        defer { pending = [] }
        for rq in pending { rq.fenceError.store(ENOENT, ordering: .relaxed) }
        return pending
    }
}

extension DrmDevice {
    /// OPEN of the sw_sync file (sw_sync_debugfs_open): a new timeline named
    /// after the opener (its comm), an export this open holds (its token is
    /// the open's file handle).
    public func swSyncOpen(pid: Int32, name: String) -> UInt32 {
        state.withLock { (s: inout DeviceState) -> UInt32 in
            s.gpu.fenceContexts += 1
            let ctx = GpuContext(id: UInt32(truncatingIfNeeded: s.gpu.fenceContexts), vm: GpuVm(), file: nil)
            var e = Export(kind: .swSync(SwSyncTimeline(name: name, context: ctx)), creator: 0, creatorPid: pid)
            e.tickets = []
            e.claimed = true
            e.opens = 1
            return s.exports.add(e)
        }
    }

    /// SW_SYNC_IOC_CREATE_FENCE (sw_sync_ioctl_create_fence): a point at
    /// `value` as a new sync_file export, opened by the caller (O_CLOEXEC).
    /// ENOTTY on a file that is no timeline.
    public func swSyncCreateFence(_ token: UInt32, value: UInt32, pid: Int32) throws(DrmError) -> UInt32 {
        try state.withLock { (s: inout DeviceState) throws(DrmError) -> UInt32 in
            guard case .swSync(let tl)? = s.exports.exports[token]?.kind else { throw DrmError.ENOTTY }
            let fence = DmaFence(tl.point(value))
            return s.exports.add(Export(kind: .syncFile(SyncFile(fence: fence)), creator: 0, creatorPid: pid))
        }
    }

    /// SW_SYNC_IOC_INC (sw_sync_ioctl_inc): advance and signal what was reached.
    public func swSyncInc(_ token: UInt32, by count: UInt32) throws(DrmError) {
        let reached = try state.withLock { (s: inout DeviceState) throws(DrmError) -> [Request] in
            guard case .swSync(let tl)? = s.exports.exports[token]?.kind else { throw DrmError.ENOTTY }
            return tl.advance(by: count)
        }
        for rq in reached { rq.signal() }
    }
}
