import CDrm
import Testing
@testable import FakeDRMDevice
#if canImport(Glibc)
import Glibc
#endif

/// The pages an execbuf pins hold the client's bytes of that moment: a
/// userptr batch unmapped while its request is still queued runs what it
/// held (IGT's preempt-user frees queued userptr spinners; the kernel's
/// munmap waits for the request in i915_gem_userptr_invalidate).
extension UserptrTests {
    @Test func unmappedBeforeItStartsStillRunsWhatWasPinned() throws {
        let f = fx.open(inode: 1)
        let p = pages(1)
        let words: [UInt32] = [0x20 << 23 | 2, 0x40000, 0, 0xC0DE, 0x0A << 23]
        for (i, w) in words.enumerated() { p.storeBytes(of: w, toByteOffset: 4 * i, as: UInt32.self) }
        let batch = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 4096, flags: 0)
        let target = try fx.dev.gemCreate(f, size: 4096).handle
        // Held back by a software fence until the range is gone.
        let cork = Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                           batchIndex: 0, targets: [], dependencies: [], softwareTimeline: "cork")
        var entries = pinnedEntries([(target, UInt64(0x40000), UInt64(EXEC_OBJECT_WRITE)), (batch, UInt64(0x10000), UInt64(0))])
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = 2
        args.flags = UInt64(I915_EXEC_RENDER | I915_EXEC_NO_RELOC)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        let fence = ExecFence(syncobj: Syncobj(), flags: UInt32(I915_EXEC_FENCE_WAIT), point: 0, awaited: DmaFence(cork), chain: false)
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, pid: me, fences: { [fence] }, readRelocations: { _ in [] })
        // Gone for the daemon, in one step: an empty file mapped over the
        // range reads as a hole (EFAULT). After a plain munmap a test running
        // beside this one could map the address again before the request
        // starts (the kernel's munmap would wait for the request).
        var name = Array("/tmp/fakedrm-hole-XXXXXX".utf8CString)
        let empty = mkstemp(&name)
        unlink(name)
        #expect(mmap(p, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, empty, 0) == p)
        close(empty)
        cork.signal()
        var t: Int64 = 5_000_000_000
        try fx.dev.gemWait(f, handle: target, flags: 0, timeoutNs: &t)
        munmap(p, 4096)
        var v: UInt32 = 0
        try fx.dev.pread(f, handle: target, offset: 0, size: 4, dataPtr: userPtr) { v = $0.load(as: UInt32.self) }
        #expect(v == 0xC0DE)
        #expect(fx.dev.state.withLock { $0.gpu.stats.hangs } == 0)
    }
}

/// A range in a MAP_SHARED mapping is reached through the file behind it:
/// a store the client made just before unmapping it (IGT's igt_spin_free
/// of a userptr spinner: MI_BATCH_BUFFER_END, then munmap) still ends the
/// batch, as the kernel's munmap would have waited for the request.
extension UserptrTests {
    @Test func sharedRangeKeepsItsPagesAfterUnmap() throws {
        let f = fx.open(inode: 1)
        let p = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)!
        #expect(p != MAP_FAILED)
        let base = UInt32(0x10000)
        let spin: [UInt32] = [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, base, 0, 0x0A << 23]
        for (i, w) in spin.enumerated() { p.storeBytes(of: w, toByteOffset: 4 * i, as: UInt32.self) }
        let batch = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 4096, flags: 0)
        let cork = Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                           batchIndex: 0, targets: [], dependencies: [], softwareTimeline: "cork")
        var entries = [drm_i915_gem_exec_object2()]
        entries[0].handle = batch.rawValue
        entries[0].offset = UInt64(base)
        entries[0].flags = UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = 1
        args.flags = UInt64(I915_EXEC_RENDER | I915_EXEC_NO_RELOC)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        let fence = ExecFence(syncobj: Syncobj(), flags: UInt32(I915_EXEC_FENCE_WAIT), point: 0, awaited: DmaFence(cork), chain: false)
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, pid: me, fences: { [fence] }, readRelocations: { _ in [] })
        // The copy taken at execbuf still spins; the client ends it, unmaps.
        p.storeBytes(of: 0x0A << 23, toByteOffset: 0, as: UInt32.self)
        munmap(p, 4096)
        cork.signal()
        var t: Int64 = 3_000_000_000
        try fx.dev.gemWait(f, handle: batch, flags: 0, timeoutNs: &t)
        #expect(fx.dev.state.withLock { $0.gpu.stats.hangs } == 0)
    }
}

/// A running batch's stores to a userptr reach the client at its poll
/// points, not only when it completes: IGT waits for a userptr spinner's
/// start flag (igt_spin_busywait_until_started) while it spins.
extension UserptrTests {
    @Test func runningBatchStoresReachTheClient() throws {
        let f = fx.open(inode: 1)
        let p = pages(1)
        defer { munmap(p, 4096) }
        let flag = p.assumingMemoryBound(to: UInt32.self)
        let poll = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 4096, flags: 0)
        // Store 1 to the flag, then spin (MI_ARB_CHECK, jump back) until ended.
        let spin = try fx.dev.gemCreate(f, size: 4096).handle
        let words: [UInt32] = [0x20 << 23 | 2, 0x40000, 0, 1, 0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10010, 0]
        try fx.dev.pwrite(f, handle: spin, offset: 0, size: UInt64(words.count * 4), dataPtr: userPtr) { dst in
            words.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        var entries = pinnedEntries([(poll, UInt64(0x40000), UInt64(EXEC_OBJECT_WRITE)), (spin, UInt64(0x10000), UInt64(0))])
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = 2
        args.flags = UInt64(I915_EXEC_RENDER | I915_EXEC_NO_RELOC)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, pid: me, fences: { [] }, readRelocations: { _ in [] })
        var waited = 0
        while flag[0] != 1, waited < 2000 {
            usleep(1000)
            waited += 1
        }
        #expect(flag[0] == 1)
        try fx.dev.withFile(f) { (s, file) throws(DrmError) in
            try s.lookup(spin, in: file).backing.base.storeBytes(of: UInt32(0x0A << 23), toByteOffset: 16, as: UInt32.self)
        }
        var t: Int64 = 5_000_000_000
        try fx.dev.gemWait(f, handle: spin, flags: 0, timeoutNs: &t)
        #expect(flag[0] == 1)
    }
}

/// A store through the VM to a userptr the execbuf did not list reaches
/// the client's memory (gem_exec_schedule@u-submit-*-slice ends a userptr
/// spinner of another context so).
extension UserptrTests {
    @Test func unlistedUserptrStoreReachesTheClient() throws {
        let f = fx.open(inode: 1)
        let p = pages(1)
        defer { munmap(p, 4096) }
        let up = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 4096, flags: 0)
        let batch = try storeBatch(f, value: 0x1234)          // stores to 0x10008
        let other = try fx.dev.gemCreate(f, size: 4096).handle
        try exec(f, [(up, 0x10000, 0), (try storeBatch(f, value: 0), 0x20000, 0)])
        try exec(f, [(other, 0x30000, 0), (batch, 0x40000, 0)])
        #expect(p.load(fromByteOffset: 8, as: UInt32.self) == 0x1234)
    }
}
