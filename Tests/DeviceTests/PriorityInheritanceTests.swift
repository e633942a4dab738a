import CDrm
import Testing
@testable import FakeDRMDevice

/// Priority inheritance (i915_scheduler.c __i915_schedule): a request's
/// priority passes to the unfinished requests it waits for — its context's
/// earlier request, implicit dependencies, awaited fences — so a
/// low-priority chain that a high-priority request needs runs before
/// middling work (IGT gem_exec_schedule@promotion).
extension GpuTests {
    func priorityContext(_ f: FileID, _ prio: Int64) throws -> UInt32 {
        try fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PRIORITY), size: 0,
                                                                                 value: UInt64(bitPattern: prio))],
                                 privileged: true)
    }

    /// A software fence no engine runs (a sw_sync point): IGT's cork.
    func cork() -> Request {
        Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0, batchIndex: 0,
                targets: [], dependencies: [], softwareTimeline: "cork")
    }

    /// `exec` with exec fences: awaiting `cork`, and syncobj fences.
    func exec(_ f: FileID, _ objs: [(Handle, UInt64, UInt64)], ctx: UInt32, ring: UInt64 = UInt64(I915_EXEC_RENDER),
              cork: Request? = nil, fences: [(SyncobjHandle, UInt32)] = []) throws {
        var entries = pinnedEntries(objs)
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = UInt32(entries.count)
        args.flags = ring | UInt64(I915_EXEC_NO_RELOC)
        args.rsvd1 = UInt64(ctx)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        var all = try fences.compactMap { h, flags in try fx.dev.execFence(f, handle: h, flags: flags, point: 0, timeline: false) }
        if let cork {
            all.append(ExecFence(syncobj: Syncobj(), flags: UInt32(I915_EXEC_FENCE_WAIT), point: 0, awaited: DmaFence(cork), chain: false))
        }
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, fences: { all }, readRelocations: { _ in [] })
    }

    func storeBatch(_ f: FileID, at addr: UInt64, _ value: UInt32) throws -> Handle {
        try create(f, [Self.sdi, UInt32(truncatingIfNeeded: addr), UInt32(truncatingIfNeeded: addr >> 32), value, Self.bbe])
    }

    /// gem_exec_schedule@promotion: NOISE (0) and LO (min) store to
    /// `result` behind a cork; LO then writes `dep`, which HI (max) reads
    /// before storing to `result` itself. HI lifts LO's chain above NOISE:
    /// LO, HI, NOISE — NOISE's value is last. Without inheritance NOISE ran
    /// first and HI's value was last.
    @Test func priorityPassesToTheChainAHighRequestWaitsFor() throws {
        let f = fx.open(inode: 1, privileged: true)
        let lo = try priorityContext(f, DrmDevice.minUserPriority)
        let hi = try priorityContext(f, DrmDevice.maxUserPriority)
        let noise = try priorityContext(f, 0)
        let result = try create(f), dep = try create(f)
        let plug = cork()
        let batches = try [(noise, 0x10000, result, 0x40000, UInt64(0), UInt32(0xE0)), (lo, 0x11000, result, 0x40000, 0, 0x10),
                           (lo, 0x12000, dep, 0x50000, UInt64(EXEC_OBJECT_WRITE), 0x11), (hi, 0x13000, dep, 0x50000, 0, 0x20),
                           (hi, 0x14000, result, 0x40000, 0, 0x21)].enumerated().map { n, b in
            let batch = try storeBatch(f, at: UInt64(b.3), b.5)
            try exec(f, [(b.2, UInt64(b.3), b.4), (batch, UInt64(b.1), 0)], ctx: b.0, cork: n < 2 ? plug : nil)
            return batch
        }
        plug.signal()
        for b in batches { try wait(f, b) }
        #expect(try read(f, dep, 0) == 0x20)
        let final = try read(f, result, 0)
        #expect(final == 0xE0, "result \(String(final, radix: 16))")
    }

    /// The same through an exec fence: HI awaits the syncobj LO's request
    /// signals (i915_request_await_request), and lifts it above NOISE.
    @Test func priorityPassesThroughAnExecFence() throws {
        let f = fx.open(inode: 1, privileged: true)
        let lo = try priorityContext(f, DrmDevice.minUserPriority)
        let hi = try priorityContext(f, DrmDevice.maxUserPriority)
        let noise = try priorityContext(f, 0)
        let result = try create(f), other = try create(f)
        let sync = try fx.dev.syncobjCreate(f, flags: 0)
        let plug = cork()
        let noiseBatch = try storeBatch(f, at: 0x40000, 0xE0), loBatch = try storeBatch(f, at: 0x40000, 0x10)
        let hiBatch = try storeBatch(f, at: 0x50000, 0x20)
        try exec(f, [(result, 0x40000, 0), (noiseBatch, 0x10000, 0)], ctx: noise, cork: plug)
        try exec(f, [(result, 0x40000, 0), (loBatch, 0x11000, 0)], ctx: lo, cork: plug, fences: [(sync, UInt32(I915_EXEC_FENCE_SIGNAL))])
        try exec(f, [(other, 0x50000, UInt64(EXEC_OBJECT_WRITE)), (hiBatch, 0x12000, 0)], ctx: hi, fences: [(sync, UInt32(I915_EXEC_FENCE_WAIT))])
        plug.signal()
        for b in [noiseBatch, loBatch, hiBatch] { try wait(f, b) }
        #expect(try read(f, other, 0) == 0x20)
        let final = try read(f, result, 0)
        #expect(final == 0xE0, "result \(String(final, radix: 16))")
    }

    /// Raising never lowers: a request already above the waiter keeps its
    /// priority, and what has signalled is left alone.
    @Test func scheduleOnlyRaises() throws {
        let f = fx.open(inode: 1, privileged: true)
        let hi = try priorityContext(f, DrmDevice.maxUserPriority)
        let lo = try priorityContext(f, DrmDevice.minUserPriority)
        let target = try create(f)
        let plug = cork()
        let first = try storeBatch(f, at: 0x40000, 1), second = try storeBatch(f, at: 0x40000, 2)
        try exec(f, [(target, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (first, 0x10000, 0)], ctx: hi, cork: plug)
        try exec(f, [(target, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (second, 0x11000, 0)], ctx: lo)
        let (a, b) = try fx.dev.withFile(f) { (s, file) throws(DrmError) in
            let rqs = s.gpu.active[ObjectIdentifier(try s.lookup(target, in: file))] ?? []
            return (rqs[0].priority, rqs[1].priority)
        }
        #expect(a == DrmDevice.maxUserPriority && b == DrmDevice.minUserPriority)
        plug.signal()
        try wait(f, second)
        #expect(try read(f, target, 0) == 2)
    }
}
