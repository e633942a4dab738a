import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// SYNCOBJ_HANDLE_TO_FD / FD_TO_HANDLE through the dispatcher (strict mode):
/// libdrm's 16-byte struct arrives zero-extended (point 0), the 6.16
/// kernel's 24-byte one brings its point to the model; tokens travel in `fd`.
@Suite struct SyncobjFdTests {
    @Test func bothStructSizes() throws {
        let c = Client(minor: .render)
        c.dev.markStrict(c.file)
        var cr = drm_syncobj_create(handle: 0, flags: 0)
        #expect(c.ioctl(FDRM_IOCTL_SYNCOBJ_CREATE, &cr).errno == 0)
        let h = cr.handle
        var ts = drm_syncobj_timeline_array(handles: c.mem.put(h), points: c.mem.put(UInt64(3)), count_handles: 1, flags: 0)
        #expect(c.ioctl(FDRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &ts).errno == 0)

        let exp = UInt32(DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE) | DrmDevice.syncobjFdTimeline
        var big = fdrm_syncobj_handle()
        big.args.handle = h
        big.args.flags = exp
        fdrm_syncobj_handle_set_point(&big, 5)
        #expect(c.ioctl(FDRM_IOCTL_SYNCOBJ_HANDLE_TO_FD_POINT, &big).errno == errnoEINVAL)
        fdrm_syncobj_handle_set_point(&big, 3)
        let r = c.ioctl(FDRM_IOCTL_SYNCOBJ_HANDLE_TO_FD_POINT, &big)
        #expect(r.errno == 0 && r.outBytes == 24 && big.args.fd > 0)

        // libdrm's size: the point is 0 (the whole timeline's fence).
        var small = drm_syncobj_handle(handle: h, flags: exp, fd: -1, pad: 0)
        let s = c.ioctl(FDRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &small)
        #expect(s.errno == 0 && s.outBytes == 16 && small.fd > 0 && small.fd != big.args.fd)

        // A syncobj file round trip at libdrm's size: the token comes back in fd.
        var file = drm_syncobj_handle(handle: h, flags: 0, fd: -1, pad: 0)
        #expect(c.ioctl(FDRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &file).errno == 0)
        #expect(c.dev.openExport(UInt32(bitPattern: file.fd), pid: c.caller.pid))
        var imp = drm_syncobj_handle(handle: 0, flags: 0, fd: file.fd, pad: 0)
        #expect(c.ioctl(FDRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &imp).errno == 0)
        #expect(imp.handle != 0 && imp.handle != h)
    }
}
