import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// drm_ioctl(): type and number checks, size/direction rules, copy-out on
/// error, drm_ioctl_permit (SEMANTICS §4).
@Suite struct DispatchTests {
    let c = Client()

    @Test func foreignTypeIsENOTTY() {
        var buf = (UInt64(0), UInt64(0))
        let r = c.ioctl(ioc(iocRead | iocWrite, UInt32(UInt8(ascii: "e")), 0x1b + 0x40, 16), &buf)
        #expect(r == .init(errno: DrmError.ENOTTY.errno, outBytes: 0))
    }

    @Test func unknownNumberIsEINVAL() {
        var buf = (UInt64(7), UInt64(7))
        let r = c.ioctl(ioc(iocRead | iocWrite, FDRM_IOCTL_BASE, UInt32(DRM_COMMAND_BASE) + 0x5e, 16), &buf)
        #expect(r == .init(errno: errnoEINVAL, outBytes: 0))
        #expect(buf == (7, 7))
        // A core number the table does not have.
        var core = UInt64(0)
        #expect(c.ioctl(ioc(iocRead | iocWrite, FDRM_IOCTL_BASE, 0x0f, 8), &core) == .init(errno: errnoEINVAL, outBytes: 0))
    }

    @Test func mmapGttShortStructIsZeroExtended() throws {
        let h = c.create(4096)
        // DRM_IOCTL_I915_GEM_MMAP_GTT: _IOWR('d', 0x64, struct drm_i915_gem_mmap_gtt), 16 bytes.
        #expect(MemoryLayout<drm_i915_gem_mmap_gtt>.size == 16)
        var gtt = drm_i915_gem_mmap_gtt(handle: h, pad: 0, offset: 0)
        let r = c.ioctl(ioc(iocRead | iocWrite, FDRM_IOCTL_BASE, UInt32(DRM_COMMAND_BASE + DRM_I915_GEM_MMAP_GTT), 16), &gtt)
        #expect(r == .init(errno: 0, outBytes: 16))
        #expect(gtt.offset == 1 << 32)
        #expect(gtt.handle == h)
        // flags read as 0: the node is the GTT one.
        #expect(try c.dev.mmapOffset(c.file, handle: Handle(rawValue: h), flags: MmapType.gtt.rawValue) == gtt.offset)
    }

    @Test func copyOutHappensOnError() {
        var m = drm_i915_gem_mmap_offset(handle: 77, pad: 0, offset: 0xdead, flags: 0, extensions: 0)
        let r = c.ioctl(i915Cmd(DRM_I915_GEM_MMAP_GTT) /* = MMAP_OFFSET */, &m)
        #expect(r == .init(errno: DrmError.ENOENT.errno, outBytes: 32))
        #expect(m.offset == 0xdead && m.handle == 77)

        var p = drm_i915_getparam(param: 9999, value: nil)
        #expect(c.ioctl(i915Cmd(DRM_I915_GETPARAM), &p) == .init(errno: errnoEINVAL, outBytes: 16))
    }

    @Test func writeOnlyTableEntryCopiesNothingOut() throws {
        let h = c.create(4096)
        var close = drm_gem_close(handle: h, pad: 0)
        // The caller says _IOWR, the table says _IOW: nothing goes back.
        let r = c.ioctl(ioc(iocRead | iocWrite, FDRM_IOCTL_BASE, 0x09, 8), &close)
        #expect(r == .init(errno: 0, outBytes: 0))
        #expect(throws: DrmError.ENOENT) { try c.dev.gemFlink(c.file, handle: Handle(rawValue: h)) }
    }

    @Test func callerWithoutInDirectionPassesZeros() {
        var create = drm_i915_gem_create(size: 4096, handle: 0, pad: 0)
        // _IOR only: the kernel does not read the struct, so size reads as 0.
        let r = c.ioctl(ioc(iocRead, FDRM_IOCTL_BASE, UInt32(DRM_COMMAND_BASE + DRM_I915_GEM_CREATE), 16), &create)
        #expect(r == .init(errno: errnoEINVAL, outBytes: 16))
        #expect(create.size == 0)
    }

    @Test func createCopiesBackHandleAndRoundedSize() {
        var create = drm_i915_gem_create(size: 5000, handle: 0, pad: 0)
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_CREATE), &create) == .init(errno: 0, outBytes: 16))
        #expect(create.handle == 1 && create.size == 8192)
    }

    @Test func renderNodeIsRefusedAuthOnlyIoctls() {
        let r = c.peer(minor: .render, inode: 2)
        let h = r.create(4096)
        var flink = drm_gem_flink(handle: h, name: 0)
        #expect(r.ioctl(drmCmd(0x0a), &flink).errno == DrmError.EACCES.errno)
        var open = drm_gem_open(name: 1, handle: 0, size: 0)
        #expect(r.ioctl(drmCmd(0x0b), &open).errno == DrmError.EACCES.errno)
        var master = UInt64(0)
        #expect(r.ioctl(ioc(0, FDRM_IOCTL_BASE, 0x1e, 0), &master).errno == DrmError.EACCES.errno) // SET_MASTER
        var close = drm_gem_close(handle: h, pad: 0)
        #expect(r.ioctl(drmCmd(0x09), &close).errno == 0)
    }

    @Test func unauthenticatedPrimaryIsRefusedFlink() {
        _ = c // the master
        let other = c.peer(minor: .primary, inode: 2)
        let h = other.create(4096)
        var flink = drm_gem_flink(handle: h, name: 0)
        #expect(other.ioctl(drmCmd(0x0a), &flink).errno == DrmError.EACCES.errno)
        let root = c.peer(minor: .primary, inode: 3, privileged: true)
        let hr = root.create(4096)
        var flink2 = drm_gem_flink(handle: hr, name: 0)
        #expect(root.ioctl(drmCmd(0x0a), &flink2) == .init(errno: 0, outBytes: 8))
        #expect(flink2.name == 1)
    }

    @Test func flinkAndOpenAcrossFiles() {
        let h = c.create(12288)
        var flink = drm_gem_flink(handle: h, name: 0)
        #expect(c.ioctl(drmCmd(0x0a), &flink).errno == 0)
        let root = c.peer(minor: .primary, inode: 2, privileged: true)
        var open = drm_gem_open(name: flink.name, handle: 0, size: 0)
        #expect(root.ioctl(drmCmd(0x0b), &open) == .init(errno: 0, outBytes: 16))
        #expect(open.handle == 1 && open.size == 12288)
    }

    @Test func ioctlNames() {
        #expect(IoctlDispatcher.name(of: i915Cmd(DRM_I915_GEM_CREATE)) == "DRM_IOCTL_I915_GEM_CREATE")
        #expect(IoctlDispatcher.name(of: 0x1234).hasPrefix("ioctl("))
    }
}
