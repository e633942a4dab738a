import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// VERSION's drm_copy_field and GETPARAM's put_user through user memory.
@Suite struct VersionParamTests {
    let c = Client(minor: .render)

    @Test func versionCopiesFieldsWithoutNUL() {
        let name = c.mem.alloc(16), date = c.mem.alloc(16), desc = c.mem.alloc(32)
        c.mem.fill(name, [UInt8](repeating: 0xAA, count: 16))
        var v = drm_version()
        v.name = uptr(name); v.name_len = 16
        v.date = uptr(date); v.date_len = 16
        v.desc = uptr(desc); v.desc_len = 32
        #expect(c.ioctl(drmCmd(0x00), &v) == .init(errno: 0, outBytes: 64))
        #expect((v.version_major, v.version_minor, v.version_patchlevel) == (1, 6, 0))
        #expect(v.name_len == 4 && v.date_len == 8 && v.desc_len == 14)
        #expect(c.mem.slice(name, 5) == Array("i915".utf8) + [0xAA]) // no NUL
        #expect(c.mem.slice(desc, 14) == Array("Intel Graphics".utf8))
    }

    @Test func versionWithNullPointersReportsLengths() {
        let before = c.mem.bytes
        var v = drm_version()
        #expect(c.ioctl(drmCmd(0x00), &v).errno == 0)
        #expect(v.name_len == 4 && v.date_len == 8 && v.desc_len == 14)
        #expect(c.mem.bytes == before)
    }

    @Test func versionShortBufferGetsPrefixAndFullLength() {
        let name = c.mem.alloc(4)
        var v = drm_version()
        v.name = uptr(name); v.name_len = 2
        #expect(c.ioctl(drmCmd(0x00), &v).errno == 0)
        #expect(v.name_len == 4)
        #expect(c.mem.slice(name, 4) == [UInt8(ascii: "i"), UInt8(ascii: "9"), 0, 0])
    }

    @Test func versionBadPointerIsEFAULT() {
        var v = drm_version()
        v.name = uptr(0x1000); v.name_len = 4
        #expect(c.ioctl(drmCmd(0x00), &v) == .init(errno: DrmError.EFAULT.errno, outBytes: 64))
    }

    @Test func getparamWritesThroughPointer() {
        let at = c.mem.put(Int32(-1))
        var p = drm_i915_getparam(param: I915_PARAM_CHIPSET_ID, value: uptr(at))
        #expect(c.ioctl(i915Cmd(DRM_I915_GETPARAM), &p) == .init(errno: 0, outBytes: 16))
        #expect(c.mem.get(Int32.self, at: at) == 0x9A49)
        p.param = I915_PARAM_MMAP_GTT_VERSION
        #expect(c.ioctl(i915Cmd(DRM_I915_GETPARAM), &p).errno == 0)
        #expect(c.mem.get(Int32.self, at: at) == 4)
    }

    @Test func getparamErrors() {
        let at = c.mem.put(Int32(-1))
        var p = drm_i915_getparam(param: I915_PARAM_CHIPSET_ID, value: uptr(0x10))
        #expect(c.ioctl(i915Cmd(DRM_I915_GETPARAM), &p).errno == DrmError.EFAULT.errno)
        p.value = nil
        #expect(c.ioctl(i915Cmd(DRM_I915_GETPARAM), &p).errno == DrmError.EFAULT.errno)
        p = drm_i915_getparam(param: 9999, value: uptr(at))
        #expect(c.ioctl(i915Cmd(DRM_I915_GETPARAM), &p).errno == errnoEINVAL)
        p.param = I915_PARAM_IRQ_ACTIVE
        #expect(c.ioctl(i915Cmd(DRM_I915_GETPARAM), &p).errno == DrmError.ENODEV.errno)
        #expect(c.mem.get(Int32.self, at: at) == -1)
    }

    @Test func getCapThroughDispatch() {
        var cap = drm_get_cap(capability: UInt64(DRM_CAP_TIMESTAMP_MONOTONIC), value: 0)
        #expect(c.ioctl(drmCmd(0x0c), &cap) == .init(errno: 0, outBytes: 16))
        #expect(cap.value == 1)
    }
}
