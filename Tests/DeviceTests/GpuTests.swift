import CDrm
import Dispatch
import Testing
@testable import FakeDRMDevice

/// The software GPU: command decoding, MI_MATH, execution through the
/// device API, hangs, cancellation and GEM_BUSY bits.
@Suite struct GpuTests {
    var fx = Fixture()

    func create(_ f: FileID, _ words: [UInt32] = []) throws -> Handle {
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        if !words.isEmpty { try write(f, h, 0, words) }
        return h
    }

    func write(_ f: FileID, _ h: Handle, _ offset: UInt64, _ words: [UInt32]) throws {
        try fx.dev.pwrite(f, handle: h, offset: offset, size: UInt64(words.count * 4), dataPtr: userPtr) { dst in
            words.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
    }

    func read(_ f: FileID, _ h: Handle, _ offset: UInt64) throws -> UInt32 {
        var v: UInt32 = 0
        try fx.dev.pread(f, handle: h, offset: offset, size: 4, dataPtr: userPtr) { src in v = src.load(as: UInt32.self) }
        return v
    }

    /// Softpinned objects (batch last) on `ring` of context `ctx`.
    func exec(_ f: FileID, _ objs: [(Handle, UInt64, UInt64)], ring: UInt64 = UInt64(I915_EXEC_RENDER), ctx: UInt32 = 0) throws {
        var entries = pinnedEntries(objs)
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = UInt32(entries.count)
        args.flags = ring | UInt64(I915_EXEC_NO_RELOC)
        args.rsvd1 = UInt64(ctx)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, fences: { [] }, readRelocations: { _ in [] })
    }

    func wait(_ f: FileID, _ h: Handle, ms: Int64 = 5000) throws {
        var t = ms * 1_000_000
        try fx.dev.gemWait(f, handle: h, flags: 0, timeoutNs: &t)
    }

    static let bbe: UInt32 = 0x0A << 23
    static let sdi: UInt32 = 0x20 << 23 | 2

    @Test func decodesLengths() throws {
        let rq = Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                         batchIndex: 0, targets: [], dependencies: [])
        defer { rq.signal() } // a fence never left unsignalled
        let cs = CommandStreamer(request: rq, regs: Registers(mmioBase: 0x2000, saved: [:]), swizzle: { _ in 0 }, poll: { _ in })
        #expect(try cs.length(of: 0) == 1)                      // MI_NOOP
        #expect(try cs.length(of: Self.bbe) == 1)
        #expect(try cs.length(of: Self.sdi) == 4)
        #expect(try cs.length(of: 0x7A00_0004) == 6)            // PIPE_CONTROL
        #expect(try cs.length(of: 0x6904_0000) == 1)            // PIPELINE_SELECT
        #expect(try cs.length(of: 0x7800_0010) == 0x12)         // a 3DSTATE, by its length field
        #expect(try cs.length(of: 2 << 29 | 0x53 << 22 | 8) == 10) // XY_SRC_COPY_BLT
        #expect(throws: CommandStreamer.Hang.self) { try cs.length(of: 0xFFFF_FFFF) }
        #expect(throws: CommandStreamer.Hang.self) { try cs.length(of: 0x3F << 23) } // unknown MI opcode
    }

    @Test func miMath() throws {
        var regs = Registers(mmioBase: 0x2000, saved: [:])
        regs.setGpr64(0, 40)
        regs.setGpr64(1, 2)
        var m = MiMath()
        for insn: UInt32 in [0x080 << 20 | 0x20 << 10 | 0, 0x080 << 20 | 0x21 << 10 | 1, 0x101 << 20, 0x180 << 20 | 2 << 10 | 0x31] {
            try m.execute(insn, &regs)
        }
        #expect(regs.gpr64(2) == 38)
        #expect(throws: MiMath.Failure.self) { try m.execute(0xFFF << 20, &regs) }
    }

    @Test func storeDwordAndBusyBits() throws {
        let f = fx.open(inode: 1)
        let target = try create(f)
        let batch = try create(f, [Self.sdi, 0x20000, 0, 0xC0FFEE, Self.bbe])
        try exec(f, [(target, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT))
        try wait(f, target)
        #expect(try read(f, target, 0) == 0xC0FFEE)
        #expect(try fx.dev.gemBusy(f, handle: target) == 0)
    }

    /// MI_BATCH_BUFFER_START with MI_BATCH_PREDICATE is skipped while bit 0
    /// of MI_PREDICATE_RESULT_1 is clear: gem_exec_fence's 20 ms timed wait
    /// (build_wait_bb) leaves its loop that way, and looped until the
    /// heartbeat reset when the bit was ignored.
    @Test(arguments: [(0, 0x600D), (1, 0xBAD)] as [(UInt32, UInt32)])
    func predicatedBatchBufferStart(predicate: UInt32, expected: UInt32) throws {
        let f = fx.open(inode: 1)
        let target = try create(f)
        let batch = try create(f, [
            0x22 << 23 | 1, 0x2000 + 0x41C, predicate,          // LRI MI_PREDICATE_RESULT_1
            0x31 << 23 | 1 << 15 | 1, 0x1002C, 0,               // BB_START | MI_BATCH_PREDICATE
            Self.sdi, 0x20000, 0, 0x600D, Self.bbe,             // not taken
            Self.sdi, 0x20000, 0, 0xBAD, Self.bbe,              // 0x1002C: taken
        ])
        try exec(f, [(target, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)])
        try wait(f, target)
        #expect(try read(f, target, 0) == expected)
    }

    /// `--gpu noop`: validation, placement and the fence stay; nothing runs,
    /// so neither a store nor a malformed command (which would hang) happens.
    @Test func noopGpuSignalsWithoutExecuting() throws {
        var profile = DeviceProfile()
        profile.gpu = .noop
        let t = GpuTests(fx: Fixture(profile: profile))
        let f = t.fx.open(inode: 1)
        let target = try t.create(f)
        let batch = try t.create(f, [Self.sdi, 0x20000, 0, 0xC0FFEE, 0xFFFF_FFFF])
        try t.exec(f, [(target, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)])
        try t.wait(f, target)
        #expect(try t.read(f, target, 0) == 0)
        #expect(try t.fx.dev.resetStats(f, context: 0, flags: 0, pad: 0, privileged: true) == (0, 0, 0))
        #expect(throws: DrmError.EINVAL) { try t.exec(f, [(batch, 0x10001, 0)]) } // softpin alignment still checked
    }

    /// Gen12 registers a proto-context at CONTEXT_CREATE: SETPARAM may still
    /// set ENGINES (Intel's compute runtime does) until the first lookup
    /// (here GETPARAM) finalizes it; then ENGINES is EINVAL (ctx_setparam).
    @Test func protoContextTakesEnginesUntilLookedUp() throws {
        let f = fx.open(inode: 1)
        let engines = DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_ENGINES), size: 12, value: 1,
                                                engines: [(UInt16(I915_ENGINE_CLASS_COPY.rawValue), 0)])
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false)
        try fx.dev.contextSetParam(f, context: ctx, engines, privileged: false)
        _ = try fx.dev.contextGetParam(f, context: ctx, param: UInt64(I915_CONTEXT_PARAM_GTT_SIZE), size: 0)
        #expect(throws: DrmError.EINVAL) { try fx.dev.contextSetParam(f, context: ctx, engines, privileged: false) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.contextSetParam(f, context: 0, engines, privileged: false) }
    }

    @Test func spinnerBusyUntilItsContextGoes() throws {
        let f = fx.open(inode: 1)
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)], privileged: false)
        let target = try create(f)
        let batch = try create(f, [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10000, 0])
        try exec(f, [(target, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: ctx)
        #expect(try fx.dev.gemBusy(f, handle: target) == 0x20000 | 2)
        #expect(try fx.dev.gemBusy(f, handle: batch) == 0x20000)
        #expect(throws: DrmError.ETIME) { try wait(f, target, ms: 20) }
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
        try wait(f, target)
        #expect(try fx.dev.gemBusy(f, handle: target) == 0)
    }

    /// gem_tiled_fence_blits: one batch object, its relocations rewritten
    /// by each execbuf. The kernel waits for the batch's earlier requests
    /// before writing a relocation into it (reloc_vaddr ->
    /// i915_gem_object_prepare_write); writing at once changed the addresses
    /// of a request still queued, and its store landed in the next one's target.
    /// eb_reserve, then i915_gem_evict_vm: an object without 48B must end below
    /// 4 GiB; bindings of earlier execbufs are evicted to make room
    /// (gem_evict_alignment major-*: before, ENOSPC), and what cannot fit even
    /// in an empty zone is ENOSPC.
    @Test func placementEvictsTheVmBeforeENOSPC() throws {
        let f = fx.open(inode: 1)
        let a = try fx.dev.gemCreate(f, size: 3 << 30).handle, b = try fx.dev.gemCreate(f, size: 3 << 30).handle
        let batch = try create(f, [Self.bbe])
        func run(_ hs: [Handle]) throws {
            var entries = (hs + [batch]).map { h in
                var e = drm_i915_gem_exec_object2()
                e.handle = h.rawValue
                return e
            }
            try fx.dev.execbuffer(f, &entries, ring: UInt64(I915_EXEC_BLT))
        }
        try run([a])
        try run([b])
        try run([a])
        #expect(throws: DrmError.ENOSPC) { try run([a, b]) }
        try run([b])
    }

    /// The heartbeat resets a loop with no arbitration point only after two
    /// intervals and the preempt timeout (heartbeat(): the first pulse is at
    /// I915_PRIORITY_MIN and preempts nothing), so a non-preemptible spinner
    /// lives 5 s (gem_ctx_persistence@saturated-hostile-nopreempt: it was
    /// reset at 3.14 s); one with MI_ARB_CHECK is never reset.
    @Test func heartbeatResetsOnlyLoopsWithoutArbitration() throws {
        let f = fx.open(inode: 1)
        let nonPersistent = [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)]
        let hostile = try fx.dev.contextCreate(f, flags: 0, params: nonPersistent, privileged: false)
        let polite = try fx.dev.contextCreate(f, flags: 0, params: nonPersistent, privileged: false)
        let bbStart: UInt32 = 0x31 << 23 | 1 << 8 | 1
        let noArb = try create(f, [0, bbStart, 0x10000, 0])
        let arb = try create(f, [0x05 << 23, bbStart, 0x20000, 0])
        try exec(f, [(noArb, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: hostile)
        try exec(f, [(arb, 0x20000, 0)], ring: UInt64(I915_EXEC_RENDER), ctx: polite)
        let start = DispatchTime.now()
        #expect(throws: DrmError.ETIME) { try wait(f, noArb, ms: 5000) }
        try wait(f, noArb, ms: 5000)
        let ms = (DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000
        #expect(ms >= 5000)
        #expect(try fx.dev.resetStats(f, context: hostile, flags: 0, pad: 0, privileged: true).active == 1)
        // The arbitrating spinner still runs; destroying its context ends it.
        #expect(throws: DrmError.ETIME) { try wait(f, arb, ms: 10) }
        #expect(try fx.dev.resetStats(f, context: polite, flags: 0, pad: 0, privileged: true).active == 0)
        try fx.dev.contextDestroy(f, context: polite, pad: 0)
        try wait(f, arb)
    }

    @Test func relocationWaitsForTheBatchsEarlierRequests() throws {
        let f = fx.open(inode: 1)
        let gate = try create(f), t1 = try create(f), t2 = try create(f)
        let spinner = try create(f, [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10000, 0])
        let batch = try create(f, [Self.sdi, 0, 0, 0xC0FFEE, Self.bbe])
        // The spinner (its own non-persistent context) writes `gate`; each
        // store request reads it, so it queues behind until the context goes.
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)], privileged: false)
        try exec(f, [(gate, 0x30000, UInt64(EXEC_OBJECT_WRITE)), (spinner, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: ctx)
        let dev = fx.dev
        @Sendable func storeInto(_ target: Handle, at addr: UInt64) throws {
            var reloc = drm_i915_gem_relocation_entry()
            reloc.target_handle = target.rawValue
            reloc.offset = 4
            reloc.presumed_offset = ~0
            reloc.write_domain = UInt32(I915_GEM_DOMAIN_RENDER)
            reloc.read_domains = UInt32(I915_GEM_DOMAIN_RENDER)
            var entries = [(gate, UInt64(0x30000), 0), (target, addr, 0), (batch, UInt64(0x50000), 1)].map { h, a, n in
                var e = drm_i915_gem_exec_object2()
                e.handle = h.rawValue
                e.offset = a
                e.flags = UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
                e.relocation_count = UInt32(n)
                return e
            }
            var args = drm_i915_gem_execbuffer2()
            args.buffer_count = 3
            args.flags = UInt64(I915_EXEC_BLT)
            try DrmDevice.checkExecbuffer(&args)
            var out = DrmDevice.ExecbufOutput()
            try dev.execbuffer(f, args, objects: &entries, output: &out, fences: { [] }, readRelocations: { _ in [reloc] })
        }
        try storeInto(t1, at: 0x40000)
        let second = DispatchSemaphore(value: 0)
        // Its own (overcommit) queue: the global pool may be held by the parallel suite.
        DispatchQueue(label: "second execbuf").async {
            try? storeInto(t2, at: 0x60000)
            second.signal()
        }
        // The second execbuf must wait for the first request, which waits for the spinner.
        #expect(second.wait(timeout: .now() + .milliseconds(100)) == .timedOut)
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
        #expect(second.wait(timeout: .now() + .seconds(10)) == .success)
        try wait(f, t1)
        try wait(f, t2)
        #expect(try read(f, t1, 0) == 0xC0FFEE)
        #expect(try read(f, t2, 0) == 0xC0FFEE)
    }

    @Test func malformedCommandHangsAndBlames() throws {
        let f = fx.open(inode: 1)
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false)
        let batch = try create(f, [0, 0xFFFF_FFFF])
        try exec(f, [(batch, 0x10000, 0)], ctx: ctx)
        try wait(f, batch)
        #expect(try fx.dev.resetStats(f, context: ctx, flags: 0, pad: 0, privileged: true) == (1, 1, 0))
        #expect(try fx.dev.resetStats(f, context: 0, flags: 0, pad: 0, privileged: false) == (0, 0, 0))
        #expect(fx.dev.debugText(.engineInfo).contains("last hang: rcs0"))
        // A jump out of the request's objects hangs too.
        try write(f, batch, 0, [0x31 << 23 | 1 << 8 | 1, 0x7000_0000, 0])
        try exec(f, [(batch, 0x10000, 0)], ctx: ctx)
        try wait(f, batch)
        #expect(try fx.dev.resetStats(f, context: ctx, flags: 0, pad: 0, privileged: true).active == 2)
    }

    /// A hang is intel_gt_handle_error for its engine: with `reset` 3 the
    /// engine alone resets (the GT stays up, no full reset counted); with 0
    /// the GT is wedged and later execbufs fail with EIO, as
    /// intel_gt_terminally_wedged makes them.
    @Test func hangFollowsTheResetParameter() throws {
        let f = fx.open(inode: 1)
        let hang = try create(f, [0, 0xFFFF_FFFF])
        try exec(f, [(hang, 0x10000, 0)])
        try wait(f, hang)
        #expect(!fx.dev.isWedged)
        let ok = try create(f, [Self.bbe])
        try exec(f, [(ok, 0x20000, 0)])
        try wait(f, ok)
        try fx.dev.params.write("reset", Array("0".utf8))
        try exec(f, [(hang, 0x10000, 0)])
        try wait(f, hang)
        #expect(fx.dev.isWedged)
        #expect(throws: DrmError.EIO) { try exec(f, [(ok, 0x20000, 0)]) }
    }

    /// gem_madvise@dontneed-before-exec: a purged object's pages cannot be
    /// pinned for execution (EFAULT).
    @Test func purgedObjectIsEFAULT() throws {
        let f = fx.open(inode: 1)
        let target = try create(f)
        _ = try fx.dev.madvise(f, handle: target, madv: UInt32(I915_MADV_DONTNEED))
        let batch = try create(f, [Self.bbe])
        #expect(throws: DrmError.EFAULT) { try exec(f, [(target, 0x10000, 0), (batch, 0x20000, 0)]) }
    }

    /// gem_bad_reloc@negative-reloc-bltcopy: XY_COLOR_BLT whose surface
    /// starts a page below the object (a relocation delta of -4096) and
    /// fills row 1: the row lands on the object's first page.
    @Test func blitSurfaceBaseBelowTheObject() throws {
        let f = fx.open(inode: 1)
        let target = try create(f)
        let cmd: UInt32 = 2 << 29 | 0x50 << 22 | 1 << 21 | 1 << 20 | 5
        let batch = try create(f, [cmd, 0xF0 << 16 | 1 << 25 | 1 << 24 | 4096, 1 << 16, 2 << 16 | 1024,
                                   0x10000 - 4096, 0, 0xC0FFEE, Self.bbe])
        try exec(f, [(target, 0x10000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT))
        try wait(f, target)
        #expect(try read(f, target, 0) == 0xC0FFEE)
        #expect(try read(f, target, 4092) == 0xC0FFEE)
    }

    /// gem_bad_reloc@negative-reloc-bltcopy: the first object sits at GPU
    /// address 0, so its surface base (delta -4096) is the top page of the
    /// 48-bit space; the row's address wraps to 0, as the engine's adder does.
    @Test func blitSurfaceBaseWrapsBelowAddressZero() throws {
        let f = fx.open(inode: 1)
        let target = try create(f)
        let cmd: UInt32 = 2 << 29 | 0x50 << 22 | 1 << 21 | 1 << 20 | 5
        let batch = try create(f, [cmd, 0xF0 << 16 | 1 << 25 | 1 << 24 | 4096, 1 << 16, 2 << 16 | 1024,
                                   0xFFFF_F000, 0xFFFF_FFFF, 0xC0FFEE, Self.bbe])
        try exec(f, [(target, 0, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT))
        try wait(f, target)
        #expect(try read(f, target, 0) == 0xC0FFEE)
        #expect(try read(f, target, 4092) == 0xC0FFEE)
    }

    @Test func vmFirstFitHonoursAlignmentAndAvoidance() {
        let vm = GpuVm()
        let obj = GemObject(serial: 1, size: 4096, backing: Backing(size: 4096)!, caching: 0)
        vm.bind(obj, at: 0, size: 0x3000)
        #expect(vm.hole(size: 0x1000, alignment: 0, low: 0, high: GpuVm.zone4G) == 0x3000)
        #expect(vm.hole(size: 0x1000, alignment: 0x10000, low: 0, high: GpuVm.zone4G) == 0x10000)
        #expect(vm.hole(size: 0x1000, alignment: 0, low: 0, high: GpuVm.zone4G, avoid: [(0x3000, 0x2000)]) == 0x5000)
        #expect(vm.hole(size: 0x1000, alignment: 0, low: 0, high: 0x3000) == nil)
    }
}
