import Testing
@testable import FakeDRMDevice

/// PREAD/PWRITE, SET_DOMAIN, SW_FINISH, MADVISE, SET/GET_CACHING errnos
/// and their order (SEMANTICS §4).
@Suite struct DataErrnoTests {
    let fx = Fixture()
    let f: FileID
    let h: Handle

    init() throws {
        f = fx.dev.open(minor: .render, inode: 1, pid: 1, privileged: false)
        h = try fx.dev.gemCreate(f, size: 8192).handle
    }

    func pread(handle: Handle, offset: UInt64 = 0, size: UInt64, ptr: UInt64 = userPtr) throws(DrmError) {
        try fx.dev.pread(f, handle: handle, offset: offset, size: size, dataPtr: ptr) { _ in }
    }

    func pwrite(handle: Handle, offset: UInt64 = 0, size: UInt64, ptr: UInt64 = userPtr) throws(DrmError) {
        try fx.dev.pwrite(f, handle: handle, offset: offset, size: size, dataPtr: ptr) { _ in }
    }

    @Test func zeroSizeSucceedsEvenWithBadHandle() throws {
        try pread(handle: 99, size: 0, ptr: .max)
        try pwrite(handle: 99, size: 0, ptr: .max)
    }

    @Test func badPointerIsEFAULTBeforeENOENT() {
        // access_ok: below TASK_SIZE_MAX (0x7FFF_FFFF_F000) without wrapping.
        #expect(DrmDevice.accessOK(0x1000, 0x1000))
        #expect(DrmDevice.accessOK(0x7FFF_FFFF_E000, 0x1000))
        #expect(!DrmDevice.accessOK(0x7FFF_FFFF_E000, 0x1001))
        #expect(!DrmDevice.accessOK(0x7FFF_FFFF_F000, 1))
        #expect(!DrmDevice.accessOK(.max - 1, 4))
        #expect(!DrmDevice.accessOK(0x1000, .max))
        #expect(throws: DrmError.EFAULT) { try pread(handle: 99, size: 4, ptr: .max - 1) }
        #expect(throws: DrmError.EFAULT) { try pwrite(handle: 99, size: 4, ptr: .max - 1) }
        #expect(throws: DrmError.EFAULT) { try pread(handle: h, size: 1, ptr: 0x7FFF_FFFF_F000) }
        #expect(throws: DrmError.EFAULT) { try pwrite(handle: h, size: 4, ptr: 0x7FFF_FFFF_EFFE) }
        #expect(throws: DrmError.ENOENT) { try pread(handle: 99, size: 4) }
        #expect(throws: DrmError.ENOENT) { try pwrite(handle: 0, size: 4) }
    }

    @Test func rangeBeyondObjectIsEINVAL() throws {
        try pread(handle: h, offset: 8191, size: 1)
        try pwrite(handle: h, offset: 0, size: 8192)
        #expect(throws: DrmError.EINVAL) { try pread(handle: h, offset: 8191, size: 2) }
        #expect(throws: DrmError.EINVAL) { try pwrite(handle: h, offset: 0, size: 8193) }
        #expect(throws: DrmError.EINVAL) { try pread(handle: h, offset: 8192, size: 1) }
        // offset + size wraps: still EINVAL, no trap.
        #expect(throws: DrmError.EINVAL) { try pread(handle: h, offset: .max - 1, size: 4) }
        #expect(throws: DrmError.EINVAL) { try pwrite(handle: h, offset: .max, size: 1) }
    }

    @Test func pwriteToReadonlyIsEINVAL() throws {
        try fx.dev.write(f, handle: h, [3])
        try fx.dev.setReadonly(f, handle: h, flags: 0)
        #expect(throws: DrmError.EINVAL) { try pwrite(handle: h, size: 1) }
        #expect(try fx.dev.read(f, handle: h, count: 1) == [3])
        #expect(throws: DrmError.ENOENT) { try fx.dev.setReadonly(f, handle: 99, flags: 0) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.setReadonly(f, handle: h, flags: 1) }
    }

    @Test func purgedObjectIsEFAULT() throws {
        _ = try fx.dev.madvise(f, handle: h, madv: 1)
        #expect(throws: DrmError.EFAULT) { try pread(handle: h, size: 1) }
        #expect(throws: DrmError.EFAULT) { try pwrite(handle: h, size: 1) }
        let off = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.wb.rawValue)
        #expect(throws: DrmError.EFAULT) { try fx.dev.faultBytes(f, inode: 1, offset: off) }
        #expect(throws: DrmError.EFAULT) { try fx.dev.setDomain(f, handle: h, readDomains: 1, writeDomain: 1) }
    }

    @Test func setDomainRules() throws {
        let render: UInt32 = 0x2, cpu: UInt32 = 0x1, gtt: UInt32 = 0x40, wc: UInt32 = 0x80
        #expect(throws: DrmError.EINVAL) { try fx.dev.setDomain(f, handle: 99, readDomains: render, writeDomain: 0) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.setDomain(f, handle: h, readDomains: cpu, writeDomain: render) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.setDomain(f, handle: 99, readDomains: gtt, writeDomain: cpu) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.setDomain(f, handle: h, readDomains: cpu | gtt, writeDomain: gtt) }
        try fx.dev.setDomain(f, handle: 99, readDomains: 0, writeDomain: 0) // no lookup
        #expect(throws: DrmError.ENOENT) { try fx.dev.setDomain(f, handle: 99, readDomains: cpu, writeDomain: 0) }
        try fx.dev.setDomain(f, handle: h, readDomains: gtt, writeDomain: 0)
        try fx.dev.setDomain(f, handle: h, readDomains: wc, writeDomain: wc)
        try fx.dev.setDomain(f, handle: h, readDomains: cpu, writeDomain: cpu)
    }

    @Test func madviseRules() throws {
        #expect(throws: DrmError.EINVAL) { try fx.dev.madvise(f, handle: 99, madv: 7) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.madvise(f, handle: h, madv: 2) } // PURGED is not a request
        #expect(throws: DrmError.ENOENT) { try fx.dev.madvise(f, handle: 99, madv: 0) }
        #expect(try fx.dev.madvise(f, handle: h, madv: 0) == true)
        #expect(try fx.dev.madvise(f, handle: h, madv: 1) == false) // no pages yet: truncated
        #expect(try fx.dev.madvise(f, handle: h, madv: 0) == false) // purged stays purged
        #expect(try fx.dev.madvise(f, handle: h, madv: 1) == false)
    }

    @Test func setCachingLevels() throws {
        #expect(throws: DrmError.EINVAL) { try fx.dev.setCaching(f, handle: 99, caching: 99) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.setCaching(f, handle: 99, caching: 0) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.getCaching(f, handle: 99) }
        #expect(try fx.dev.getCaching(f, handle: h) == 0) // !HAS_LLC: NONE
        try fx.dev.setCaching(f, handle: h, caching: 1)  // CACHED: snooping
        #expect(try fx.dev.getCaching(f, handle: h) == 1)
        try fx.dev.setCaching(f, handle: h, caching: 2)  // DISPLAY without WT: NONE
        #expect(try fx.dev.getCaching(f, handle: h) == 0)
    }

    @Test func cachedWithoutLLCOrSnoopIsENODEV() throws {
        var p = DeviceProfile()
        p.hasLLC = false
        p.hasSnoop = false
        let fx = Fixture(profile: p)
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        #expect(throws: DrmError.ENODEV) { try fx.dev.setCaching(f, handle: h, caching: 1) }
        #expect(throws: DrmError.ENODEV) { try fx.dev.setCaching(f, handle: 99, caching: 1) }
        try fx.dev.setCaching(f, handle: h, caching: 0)
    }

    @Test func plainLookupsAreENOENT() throws {
        #expect(throws: DrmError.ENOENT) { try fx.dev.swFinish(f, handle: 99) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.checkIdle(f, handle: 99) }
        try fx.dev.swFinish(f, handle: h)
        try fx.dev.checkIdle(f, handle: h)
    }
}
