import CDrm
import FakeDRMDevice

extension IoctlDispatcher {
    /// DRM_IOCTL_I915_GEM_USERPTR: the calling thread's memory backs the
    /// object (DrmDevice+Userptr.swift decides everything).
    func userptr(_ k: UnsafeMutableRawBufferPointer, _ c: IoctlCaller) throws(DrmError) {
        try with(k, drm_i915_gem_userptr.self) { (u: inout drm_i915_gem_userptr) throws(DrmError) in
            u.handle = try device.gemUserptr(c.file, pid: c.pid, address: u.user_ptr, size: u.user_size, flags: u.flags)
        }
    }
}
