import CDrm
import Testing
@testable import FakeDRMDevice
#if canImport(Glibc)
import Glibc
#endif

/// USERPTR on the test process's own memory: the kernel's errnos, the
/// proxy-object refusals, pinning (owner, holes, protection), and the GPU
/// copy (loaded at execution, stores written back, readonly never).
@Suite struct UserptrTests {
    let fx = Fixture()
    let me = getpid()

    /// `n` fresh anonymous pages.
    func pages(_ n: Int, prot: Int32 = PROT_READ | PROT_WRITE) -> UnsafeMutableRawPointer {
        let p = mmap(nil, n * 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        precondition(p != MAP_FAILED)
        return p
    }

    func addr(_ p: UnsafeMutableRawPointer) -> UInt64 { UInt64(UInt(bitPattern: p)) }

    @Test func errnoTable() throws {
        let f = fx.open(inode: 1)
        let p = pages(4)
        defer { munmap(p, 4 * 4096) }
        let a = addr(p)
        func up(_ ptr: UInt64, _ size: UInt64, _ flags: UInt32 = 0) throws(DrmError) -> Handle {
            try fx.dev.gemUserptr(f, pid: me, address: ptr, size: size, flags: flags)
        }
        #expect(throws: DrmError.EINVAL) { try up(a, 4096, ~0) }
        #expect(throws: DrmError.EINVAL) { try up(a, 4096, 1 << 2) }      // bit 2 is unknown
        #expect(throws: DrmError.EINVAL) { try up(0, ~0, ~0) }
        #expect(throws: DrmError.EINVAL) { try up(a, 0) }
        #expect(throws: DrmError.EINVAL) { try up(a + 1, 4096) }
        #expect(throws: DrmError.EINVAL) { try up(a, 4097) }
        #expect(throws: DrmError.EINVAL) { try up(0, ~0) }
        #expect(throws: DrmError.EFAULT) { try up(0x7FFF_FFFF_F000, 8192) }
        #expect(throws: DrmError.ENODEV) { try up(a, 4096, UInt32(I915_USERPTR_UNSYNCHRONIZED)) }
        #expect(throws: DrmError.EINVAL) { try up(a + 1, 4096, UInt32(I915_USERPTR_UNSYNCHRONIZED)) }
        munmap(p + 4096, 4096)
        #expect(throws: DrmError.EFAULT) { try up(a, 3 * 4096, UInt32(I915_USERPTR_PROBE)) }
        #expect(throws: DrmError.EFAULT) { try up(a + 4096, 4096, UInt32(I915_USERPTR_PROBE)) }
        let h = try up(a + 2 * 4096, 2 * 4096, UInt32(I915_USERPTR_PROBE | I915_USERPTR_READ_ONLY))
        #expect(h != 0)
        // Without PROBE, the hole is found where the pages are needed.
        let holey = try up(a, 3 * 4096)
        #expect(throws: DrmError.EFAULT) { try fx.dev.setDomain(f, handle: holey, readDomains: 1, writeDomain: 0, pid: me) }
        #expect(try fx.dev.getParam(I915_PARAM_HAS_USERPTR_PROBE) == 1)
    }

    @Test func proxyObjectRefusals() throws {
        let f = fx.open(inode: 1)
        let p = pages(2)
        defer { munmap(p, 2 * 4096) }
        let h = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 8192, flags: 0)
        for flags in [I915_MMAP_OFFSET_GTT, I915_MMAP_OFFSET_WC, I915_MMAP_OFFSET_WB, I915_MMAP_OFFSET_UC] {
            #expect(throws: DrmError.ENODEV) { try fx.dev.mmapOffset(f, handle: h, flags: UInt64(flags)) }
        }
        #expect(throws: DrmError.EINVAL) { try fx.dev.pread(f, handle: h, offset: 0, size: 4, dataPtr: userPtr) { _ in } }
        #expect(throws: DrmError.EINVAL) { try fx.dev.pwrite(f, handle: h, offset: 0, size: 4, dataPtr: userPtr) { _ in } }
        #expect(throws: DrmError.ENXIO) { try fx.dev.setTiling(f, handle: h, mode: UInt32(I915_TILING_X), stride: 512) }
        #expect(throws: DrmError.ENXIO) { try fx.dev.setCaching(f, handle: h, caching: UInt32(I915_CACHING_NONE)) }
        try fx.dev.setCaching(f, handle: h, caching: UInt32(I915_CACHING_CACHED))
        #expect(try fx.dev.getCaching(f, handle: h) == UInt32(I915_CACHING_CACHED))
        #expect(throws: DrmError.ENXIO) { try fx.dev.legacyMmap(f, handle: h, offset: 0, size: 4096, flags: 0) }
        #expect(try fx.dev.gemFlink(f, handle: h).rawValue != 0)
        // DONTNEED is recorded, the object retained, and its pages cannot be pinned.
        #expect(try fx.dev.madvise(f, handle: h, madv: UInt32(I915_MADV_DONTNEED)))
        #expect(throws: DrmError.EFAULT) { try fx.dev.setDomain(f, handle: h, readDomains: 1, writeDomain: 0, pid: me) }
        #expect(fx.dev.debugText(.objects).contains("1 userptr objects"))
        try fx.dev.gemClose(f, handle: h)
        #expect(!fx.dev.debugText(.objects).contains("userptr"))
    }

    @Test func pinning() throws {
        let f = fx.open(inode: 1)
        let p = pages(2)
        let h = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 8192, flags: 0)
        try fx.dev.setDomain(f, handle: h, readDomains: 1, writeDomain: 1, pid: me)
        // Another process (pid 1) is not the creator's mm; an unknown caller neither.
        #expect(throws: DrmError.EFAULT) { try fx.dev.setDomain(f, handle: h, readDomains: 1, writeDomain: 0, pid: 1) }
        #expect(throws: DrmError.EFAULT) { try fx.dev.setDomain(f, handle: h, readDomains: 1, writeDomain: 0, pid: 0) }
        // Read-only memory: a writable userptr cannot be pinned, a READ_ONLY one can.
        mprotect(p, 8192, PROT_READ)
        #expect(throws: DrmError.EFAULT) { try fx.dev.setDomain(f, handle: h, readDomains: 1, writeDomain: 0, pid: me) }
        let ro = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 8192, flags: UInt32(I915_USERPTR_READ_ONLY))
        try fx.dev.setDomain(f, handle: ro, readDomains: 1, writeDomain: 0, pid: me)
        munmap(p, 8192)
        #expect(throws: DrmError.EFAULT) { try fx.dev.setDomain(f, handle: ro, readDomains: 1, writeDomain: 0, pid: me) }
    }

    /// MI_STORE_DWORD_IMM into a userptr at 0x10000 from a batch at 0x20000.
    func storeBatch(_ f: FileID, value: UInt32) throws -> Handle {
        let b = try fx.dev.gemCreate(f, size: 4096).handle
        let words: [UInt32] = [0x20 << 23 | 2, 0x10000 + 8, 0, value, 0x0A << 23]
        try fx.dev.pwrite(f, handle: b, offset: 0, size: UInt64(words.count * 4), dataPtr: userPtr) { dst in
            words.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        return b
    }

    func exec(_ f: FileID, _ objs: [(Handle, UInt64, UInt64)]) throws {
        var entries = objs.map { h, at, flags in
            var e = drm_i915_gem_exec_object2()
            e.handle = h.rawValue
            e.offset = at
            e.flags = flags | UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
            return e
        }
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = UInt32(entries.count)
        args.flags = UInt64(I915_EXEC_RENDER | I915_EXEC_NO_RELOC)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, pid: me, fences: { [] }, readRelocations: { _ in [] })
        var t: Int64 = 5_000_000_000
        try fx.dev.gemWait(f, handle: objs.last!.0, flags: 0, timeoutNs: &t)
    }

    @Test func gpuStores() throws {
        let f = fx.open(inode: 1)
        let p = pages(1)
        defer { munmap(p, 4096) }
        let mem = p.assumingMemoryBound(to: UInt32.self)
        mem[0] = 0x1111
        mem[2] = 0x2222
        let ro = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 4096, flags: UInt32(I915_USERPTR_READ_ONLY))
        let rw = try fx.dev.gemUserptr(f, pid: me, address: addr(p), size: 4096, flags: 0)
        let batch = try storeBatch(f, value: 0xBEEF)
        try exec(f, [(ro, 0x10000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x20000, 0)])
        #expect(mem[2] == 0x2222)
        mem[3] = 0x3333 // after creation: the copy is taken at execution
        try exec(f, [(rw, 0x10000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x20000, 0)])
        #expect(mem[2] == 0xBEEF)
        #expect(mem[0] == 0x1111 && mem[3] == 0x3333)
        // Another caller cannot submit it.
        var entries = [drm_i915_gem_exec_object2(), drm_i915_gem_exec_object2()]
        entries[0].handle = rw.rawValue
        entries[1].handle = batch.rawValue
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = 2
        var out = DrmDevice.ExecbufOutput()
        #expect(throws: DrmError.EFAULT) {
            try fx.dev.execbuffer(f, args, objects: &entries, output: &out, pid: 1, fences: { [] }, readRelocations: { _ in [] })
        }
    }

    @Test func rangeChecks() {
        let maps = [ProcMapping("1000-3000 rw-p 00000000 00:00 0")!, ProcMapping("3000-4000 r--p 00000000 00:2a 5 /x")!,
                    ProcMapping("5000-6000 rw-s 00000000 00:33 7 /dri/card0")!]
        #expect(ProcMapping.check(maps, address: 0x1000, length: 0x2000, device: (0, 0x33), needWrite: true, needRead: true) == nil)
        #expect(ProcMapping.check(maps, address: 0x1000, length: 0x3000, device: nil, needWrite: true, needRead: true) == .protection)
        #expect(ProcMapping.check(maps, address: 0x1000, length: 0x3000, device: nil, needWrite: false, needRead: true) == nil)
        #expect(ProcMapping.check(maps, address: 0x1000, length: 0x4000, device: nil, needWrite: false, needRead: true) == .hole)
        #expect(ProcMapping.check(maps, address: 0x5000, length: 0x1000, device: (0, 0x33), needWrite: false, needRead: true) == .device)
        #expect(ProcMapping.check(maps, address: 0x7000, length: 0x1000, device: nil, needWrite: false, needRead: true) == .hole)
    }
}
