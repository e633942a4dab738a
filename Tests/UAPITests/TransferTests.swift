import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// PWRITE/PREAD move bytes between the object and the caller's memory.
@Suite struct TransferTests {
    let c = Client(minor: .render)

    func pwrite(_ h: UInt32, offset: UInt64, size: UInt64, ptr: UInt64) -> IoctlDispatcher.Result {
        var p = drm_i915_gem_pwrite(handle: h, pad: 0, offset: offset, size: size, data_ptr: ptr)
        return c.ioctl(i915Cmd(DRM_I915_GEM_PWRITE), &p)
    }

    func pread(_ h: UInt32, offset: UInt64, size: UInt64, ptr: UInt64) -> IoctlDispatcher.Result {
        var p = drm_i915_gem_pread(handle: h, pad: 0, offset: offset, size: size, data_ptr: ptr)
        return c.ioctl(i915Cmd(DRM_I915_GEM_PREAD), &p)
    }

    @Test func roundTripThroughUserMemory() {
        let h = c.create(8192)
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 13 + 5) }
        let src = c.mem.alloc(5000), dst = c.mem.alloc(5002)
        c.mem.fill(src, data)
        #expect(pwrite(h, offset: 100, size: 5000, ptr: src) == .init(errno: 0, outBytes: 0))
        #expect(pread(h, offset: 99, size: 5002, ptr: dst) == .init(errno: 0, outBytes: 0))
        #expect(c.mem.slice(dst, 5002) == [0] + data + [0])
    }

    @Test func unreadableOrUnwritableUserMemoryIsEFAULT() {
        let h = c.create(8192)
        // Passes access_ok but is not mapped in the caller.
        #expect(pwrite(h, offset: 0, size: 16, ptr: 0x1000).errno == DrmError.EFAULT.errno)
        #expect(pread(h, offset: 0, size: 16, ptr: 0x1000).errno == DrmError.EFAULT.errno)
        // Straddles the end of the caller's memory.
        #expect(pread(h, offset: 0, size: 32, ptr: c.mem.end - 16).errno == DrmError.EFAULT.errno)
    }

    @Test func errnoOrder() {
        #expect(pwrite(99, offset: 0, size: 0, ptr: .max).errno == 0)
        #expect(pwrite(99, offset: 0, size: 4, ptr: .max - 1).errno == DrmError.EFAULT.errno)
        #expect(pread(99, offset: 0, size: 4, ptr: c.mem.base).errno == DrmError.ENOENT.errno)
        let h = c.create(4096)
        #expect(pread(h, offset: 4093, size: 4, ptr: c.mem.base).errno == errnoEINVAL)
    }
}
