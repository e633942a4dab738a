/*
 * fakedrm.h - FakeDRM's private uapi, beside libdrm's drm.h / i915_drm.h.
 *
 * FakeDRM emulates an i915 device over FUSE. These ioctls exist only on a
 * FakeDRM device; a real i915 answers them with EINVAL (unknown driver ioctl).
 * Numbers sit at the top of the driver range (DRM_COMMAND_BASE + 0x50..),
 * well clear of every DRM_I915_* number.
 */
#ifndef FAKEDRM_H
#define FAKEDRM_H

#include <libdrm/drm.h>

#define DRM_FAKEDRM_GEM_SET_READONLY 0x50

/*
 * Mark a GEM object readonly, as the kernel does for read-only userptr and
 * internal objects (I915_BO_READONLY). One-way: a readonly object never
 * becomes writable again. From then on no path may change its contents:
 * PWRITE fails with EINVAL, and a store through any mapping is refused when
 * it is written back (msync reports EACCES) and the page is invalidated, so the
 * next access shows the object's true contents.
 *
 * Errors: ENOENT unknown handle; EINVAL flags != 0.
 */
struct drm_fakedrm_gem_set_readonly {
	__u32 handle;
	__u32 flags; /* must be zero */
};

#define DRM_IOCTL_FAKEDRM_GEM_SET_READONLY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_FAKEDRM_GEM_SET_READONLY, struct drm_fakedrm_gem_set_readonly)

/*
 * Simulate a full GPU reset. As i915's revoke_mmaps() does, every GTT mmap
 * whose binding holds a fence register is revoked: dirty pages are written
 * back first (nothing is lost) and the next access faults again through the
 * re-programmed fence. No argument.
 */
#define DRM_FAKEDRM_GPU_RESET 0x51
#define DRM_IOCTL_FAKEDRM_GPU_RESET DRM_IO(DRM_COMMAND_BASE + DRM_FAKEDRM_GPU_RESET)

#endif /* FAKEDRM_H */
