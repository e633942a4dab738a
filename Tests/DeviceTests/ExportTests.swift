import CDrm
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// Daemon-made fds in the model (Exports/): sync_file fences from execbuf,
/// their status, merge and errnos; an in-fence's error cancelling the request; PRIME export/import, the same-handle
/// rule and the dma-buf's hold on its object; plain opens refused.
@Suite struct ExportTests {
    let fx = Fixture()
    static let bbe: UInt32 = 0x0A << 23
    static let sdi: UInt32 = 0x20 << 23 | 2

    func create(_ f: FileID, _ words: [UInt32] = []) throws -> Handle {
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        if !words.isEmpty {
            try fx.dev.pwrite(f, handle: h, offset: 0, size: UInt64(words.count * 4), dataPtr: userPtr) { dst in
                words.withUnsafeBytes { dst.copyMemory(from: $0) }
            }
        }
        return h
    }

    func read(_ f: FileID, _ h: Handle) throws -> UInt32 {
        var v: UInt32 = 0
        try fx.dev.pread(f, handle: h, offset: 0, size: 4, dataPtr: userPtr) { src in v = src.load(as: UInt32.self) }
        return v
    }

    /// A softpinned batch (and optional written target) with fence flags; the out token.
    @discardableResult
    func exec(_ f: FileID, batch: Handle, target: Handle? = nil, flags: UInt64, rsvd2: UInt64 = 0, pid: Int32 = 7,
              ctx: UInt32 = 0) throws -> UInt32? {
        var entries: [drm_i915_gem_exec_object2] = []
        func pin(_ h: Handle, _ at: UInt64, _ fl: UInt64) {
            var e = drm_i915_gem_exec_object2()
            e.handle = h.rawValue
            e.offset = at
            e.flags = fl | UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
            entries.append(e)
        }
        if let target { pin(target, 0x20000, UInt64(EXEC_OBJECT_WRITE)) }
        pin(batch, 0x10000, 0)
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = UInt32(entries.count)
        args.flags = flags | UInt64(I915_EXEC_NO_RELOC)
        args.rsvd2 = rsvd2
        args.rsvd1 = UInt64(ctx)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, pid: pid, fences: { [] }, readRelocations: { _ in [] })
        return out.outFence
    }

    func waitSignalled(_ token: UInt32) -> Bool {
        for _ in 0..<500 {
            if fx.dev.pollSyncFile(token, wake: nil) { return true }
            usleep(10_000)
        }
        return false
    }

    @Test func plainOpensHaveNoFences() throws {
        let f = fx.open(inode: 1)
        let batch = try create(f, [Self.bbe])
        #expect(try fx.dev.getParam(I915_PARAM_HAS_EXEC_FENCE, file: f) == 0)
        #expect(try fx.dev.getCap(f, cap: UInt64(DRM_CAP_PRIME)) == 0)
        #expect(throws: DrmError.ENODEV) { try exec(f, batch: batch, flags: UInt64(I915_EXEC_FENCE_OUT)) }
        #expect(throws: DrmError.EINVAL) { try exec(f, batch: batch, flags: UInt64(I915_EXEC_FENCE_IN)) }
        #expect(throws: DrmError.EOPNOTSUPP) { try fx.dev.primeHandleToFd(f, handle: batch, flags: 0, pid: 7) }
        #expect(throws: DrmError.EOPNOTSUPP) { try fx.dev.primeFdToHandle(f, token: 1) }
        // rsvd2 without fence flags: EINVAL without exec fences, ignored with them.
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = 1
        args.rsvd2 = ~0
        #expect(throws: DrmError.EINVAL) { try DrmDevice.checkExecbuffer(&args, fences: fx.dev.canExport(f)) }
        fx.dev.markStrict(f)
        try DrmDevice.checkExecbuffer(&args, fences: fx.dev.canExport(f))
    }

    @Test func outFenceSignalsWhenTheRequestRetires() throws {
        let f = fx.open(inode: 1)
        fx.dev.markStrict(f)
        #expect(try fx.dev.getParam(I915_PARAM_HAS_EXEC_FENCE, file: f) == 1)
        #expect(try fx.dev.getCap(f, cap: UInt64(DRM_CAP_PRIME)) == 3)
        let target = try create(f)
        let batch = try create(f, [Self.sdi, 0x20000, 0, 0xC0FFEE, Self.bbe])
        let token = try #require(try exec(f, batch: batch, target: target, flags: UInt64(I915_EXEC_FENCE_OUT)))
        // Only the thread whose ioctl made it may look it up, once.
        #expect(fx.dev.lookupExport(token, pid: 8, uid: 0) == nil)
        #expect(fx.dev.lookupExport(token, pid: 7, uid: 0) != nil)
        #expect(fx.dev.openExport(token, pid: 7))
        #expect(fx.dev.lookupExport(token, pid: 7, uid: 0) == nil)
        #expect(waitSignalled(token))
        let info = try fx.dev.syncFileInfo(token)
        #expect(info.status == 1 && info.fences.count == 1 && info.fences[0].timestampNs > 0)
        #expect(try read(f, target) == 0xC0FFEE)
        fx.dev.releaseExport(token)
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncFileInfo(token) }
    }

    @Test func inFenceOrdersAndMergeJoins() throws {
        let f = fx.open(inode: 1)
        fx.dev.markStrict(f)
        let spin = try create(f, [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10000, 0])
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)], privileged: false)
        let a = try #require(try exec(f, batch: spin, flags: UInt64(I915_EXEC_BLT | I915_EXEC_FENCE_OUT), ctx: ctx))
        #expect(fx.dev.openExport(a, pid: 7))
        // An unopened token, a bad fd and both flags: EINVAL.
        let nop = try create(f, [Self.bbe])
        #expect(throws: DrmError.EINVAL) { try exec(f, batch: nop, flags: UInt64(I915_EXEC_FENCE_IN), rsvd2: 0xFFFF_FFFF) }
        #expect(throws: DrmError.EINVAL) {
            try exec(f, batch: nop, flags: UInt64(I915_EXEC_FENCE_IN | I915_EXEC_FENCE_SUBMIT), rsvd2: UInt64(a))
        }
        let target = try create(f)
        let store = try create(f, [Self.sdi, 0x20000, 0, 0xBEEF, Self.bbe])
        let b = try #require(try exec(f, batch: store, target: target, flags: UInt64(I915_EXEC_RENDER | I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT),
                                      rsvd2: UInt64(a)))
        #expect(fx.dev.openExport(b, pid: 7))
        usleep(20_000)
        #expect(!fx.dev.pollSyncFile(b, wake: nil))
        #expect(try fx.dev.syncFileInfo(b).status == 0)
        #expect(throws: DrmError.ENOENT) { try fx.dev.syncMerge(a, with: 0, name: "x", flags: 0, pad: 0, pid: 7) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncMerge(a, with: b, name: "x", flags: 1, pad: 0, pid: 7) }
        let m = try fx.dev.syncMerge(a, with: b, name: "both", flags: 0, pad: 0, pid: 7)
        #expect(fx.dev.openExport(m, pid: 7))
        let info = try fx.dev.syncFileInfo(m)
        #expect(info.name == "both" && info.fences.count == 2 && info.status == 0)
        // End the spinner: its (non-persistent) context goes.
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
        #expect(waitSignalled(m))
        #expect(waitSignalled(b))
        for t in [a, b, m] { fx.dev.releaseExport(t) }
    }

    @Test func primeSameHandleAndLifetime() throws {
        let f = fx.open(inode: 1), g = fx.open(inode: 2)
        fx.dev.markStrict(f)
        fx.dev.markStrict(g)
        let h = try create(f, [0x1234])
        #expect(throws: DrmError.EINVAL) { try fx.dev.primeHandleToFd(f, handle: h, flags: 4, pid: 7) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.primeHandleToFd(f, handle: Handle(rawValue: h.rawValue + 9), flags: 0, pid: 7) }
        let t = try fx.dev.primeHandleToFd(f, handle: h, flags: UInt32(DRM_CLOEXEC), pid: 7)
        #expect(fx.dev.openExport(t, pid: 7))
        #expect(try fx.dev.primeHandleToFd(f, handle: h, flags: 0, pid: 7) == t)
        #expect(try fx.dev.primeFdToHandle(f, token: t) == h)
        let a = try fx.dev.primeFdToHandle(g, token: t)
        #expect(try fx.dev.primeFdToHandle(g, token: t) == a)
        #expect(throws: DrmError.EBADF) { try fx.dev.primeFdToHandle(g, token: FAKEDRM_TOKEN_BADF) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.primeFdToHandle(g, token: FAKEDRM_TOKEN_NONE) }
        // Every handle closed: the dma-buf holds the object.
        try fx.dev.gemClose(f, handle: h)
        try fx.dev.gemClose(g, handle: a)
        let c = try fx.dev.primeFdToHandle(g, token: t)
        #expect(try read(g, c) == 0x1234)
        try fx.dev.gemClose(g, handle: c)
        let before = fx.dev.state.withLock { $0.lifetime.count }
        fx.dev.releaseExport(t)
        // The second export's open was never made: it goes with its creator.
        fx.dev.release(f)
        #expect(fx.dev.state.withLock { $0.lifetime.count } == before - 1)
        #expect(throws: DrmError.EINVAL) { try fx.dev.primeFdToHandle(g, token: t) }
    }

    /// I915_EXEC_FENCE_IN goes the syncobj fences' way (i915_request_await_dma_fence):
    /// an in-fence that signalled with an error skips the request, whose own
    /// fence carries that error; its batch never runs.
    @Test func inFenceErrorCancelsTheRequest() throws {
        let f = fx.open(inode: 1)
        fx.dev.markStrict(f)
        // A sync_file of a hung request's fence (EIO), exported from a syncobj.
        let hung = Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                           batchIndex: 0, targets: [], dependencies: [])
        hung.fenceError.store(EIO, ordering: .relaxed)
        hung.signal()
        let s = try fx.dev.syncobjCreate(f, flags: 0)
        fx.dev.state.withLock { st in st.gpu.file(f).syncobjs[s]!.replace(DmaFence(hung)) }
        let inFence = try fx.dev.syncobjHandleToFd(f, handle: s, flags: UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE),
                                                   pad: 0, point: 0, pid: 7)
        #expect(fx.dev.openExport(inFence, pid: 7))
        let target = try create(f)
        let store = try create(f, [Self.sdi, 0x20000, 0, 0xBEEF, Self.bbe])
        let out = try #require(try exec(f, batch: store, target: target, flags: UInt64(I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT),
                                        rsvd2: UInt64(inFence)))
        #expect(fx.dev.openExport(out, pid: 7))
        #expect(waitSignalled(out))
        #expect(try fx.dev.syncFileInfo(out).status == -EIO)
        #expect(try read(f, target) == 0)
        // A clean in-fence: the store runs.
        let ok = try #require(try exec(f, batch: store, target: target, flags: UInt64(I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT),
                                       rsvd2: UInt64(try cleanFence(f))))
        #expect(fx.dev.openExport(ok, pid: 7))
        #expect(waitSignalled(ok))
        #expect(try fx.dev.syncFileInfo(ok).status == 1)
        #expect(try read(f, target) == 0xBEEF)
    }

    /// A signalled sync_file (a syncobj's stub, exported).
    func cleanFence(_ f: FileID) throws -> UInt32 {
        let s = try fx.dev.syncobjCreate(f, flags: UInt32(DRM_SYNCOBJ_CREATE_SIGNALED))
        let t = try fx.dev.syncobjHandleToFd(f, handle: s, flags: UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE),
                                             pad: 0, point: 0, pid: 7)
        #expect(fx.dev.openExport(t, pid: 7))
        return t
    }

    /// sw_sync timelines (SwSync.swift): points signal as INC reaches them,
    /// in 32-bit order; a point already reached is born signalled; closing
    /// the timeline signals the rest with -ENOENT; other ioctls' files ENOTTY.
    @Test func swSyncTimelines() throws {
        let tl = fx.dev.swSyncOpen(pid: 7, name: "igt")
        let a = try fx.dev.swSyncCreateFence(tl, value: 1, pid: 7)
        let b = try fx.dev.swSyncCreateFence(tl, value: 3, pid: 7)
        for t in [a, b] { #expect(fx.dev.openExport(t, pid: 7)) }
        let info = try fx.dev.syncFileInfo(a)
        #expect(info.status == 0 && info.fences[0].driverName == "sw_sync" && info.fences[0].objName == "igt")
        try fx.dev.swSyncInc(tl, by: 1)
        #expect(fx.dev.pollSyncFile(a, wake: nil) && !fx.dev.pollSyncFile(b, wake: nil))
        let c = try fx.dev.swSyncCreateFence(tl, value: 1, pid: 7)
        #expect(fx.dev.openExport(c, pid: 7))
        #expect(try fx.dev.syncFileInfo(c).status == 1)
        #expect(throws: DrmError.ENOTTY) { try fx.dev.swSyncInc(a, by: 1) }
        #expect(throws: DrmError.ENOTTY) { try fx.dev.syncFileInfo(tl) }
        try fx.dev.swSyncInc(tl, by: 2)
        #expect(fx.dev.pollSyncFile(b, wake: nil))
        #expect(try fx.dev.syncFileInfo(b).status == 1)
        // 32-bit order: a point more than 2^31 ahead counts as behind (reached).
        #expect(SwSyncTimeline.reached(3, 0x8000_0002) && !SwSyncTimeline.reached(0x8000_0002, 3))
        let d = try fx.dev.swSyncCreateFence(tl, value: 100, pid: 7)
        #expect(fx.dev.openExport(d, pid: 7))
        fx.dev.releaseExport(tl)
        #expect(fx.dev.pollSyncFile(d, wake: nil))
        #expect(try fx.dev.syncFileInfo(d).status == -ENOENT)
        #expect(throws: DrmError.ENOTTY) { try fx.dev.swSyncCreateFence(tl, value: 1, pid: 7) }
    }
}
