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
#include <libdrm/i915_drm.h>

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

/*
 * Strict mode (libfakedrm-preload.so, an LD_PRELOAD library) asks the device
 * what the kernel decides inside mmap(2), which FUSE never forwards. These
 * ioctls are for that library; nothing else needs them.
 *
 * A "mapping" is the library's record of one mmap of a node in one process:
 * it holds the object alive as a VMA holds its object reference in i915
 * (vm_open / vm_close), so an object whose last handle is closed is freed
 * when its last mapping goes, not when the file is released.
 */

/*
 * Identify a FakeDRM file. On a device file (ino = 0): which node it is.
 * On the mount's root directory: what inode `ino` (a st_ino from stat) is.
 * minor is 0 for card0, 128 for renderD128, -1 for anything else; instance
 * names the daemon, so two mounts are never confused.
 */
#define DRM_FAKEDRM_PROBE 0x52
#define FAKEDRM_PROBE_VERSION 1
struct drm_fakedrm_probe {
	__u64 ino;      /* in: an inode of this mount, or 0 for this file */
	__u32 version;  /* out: FAKEDRM_PROBE_VERSION */
	__s32 minor;    /* out */
	__u64 instance; /* out */
};
#define DRM_IOCTL_FAKEDRM_PROBE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_FAKEDRM_PROBE, struct drm_fakedrm_probe)

/*
 * i915_gem_mmap for this open, then register the mapping. Errors, in the
 * kernel's order: EINVAL no node starts at offset or the range runs past
 * its end; EACCES this open is not allowed on the node (or the object is
 * being freed); EINVAL PROT_WRITE on a readonly object. readonly = 1 tells
 * the caller VM_MAYWRITE is clear: a later mprotect(PROT_WRITE) is EACCES.
 */
#define DRM_FAKEDRM_MMAP 0x53
struct drm_fakedrm_mmap {
	__u64 offset;   /* in: mmap offset, bytes, page aligned */
	__u64 size;     /* in: mapping length, bytes */
	__u32 prot;     /* in: PROT_* of the mapping */
	__u32 readonly; /* out */
	__u64 cookie;   /* out: names the registered mapping */
};
#define DRM_IOCTL_FAKEDRM_MMAP \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_FAKEDRM_MMAP, struct drm_fakedrm_mmap)

/*
 * vm_open / vm_close of a registered mapping: another process holds a copy
 * (fork), or one holder let go (munmap, mremap). The mapping goes with its
 * last holder. Accepted on a device file or on the mount's root directory
 * (the mapping may outlive every fd of its open). ENOENT: unknown cookie.
 */
#define DRM_FAKEDRM_VMA_OPEN 0x54
#define DRM_FAKEDRM_VMA_CLOSE 0x55
struct drm_fakedrm_vma {
	__u64 cookie;
};
#define DRM_IOCTL_FAKEDRM_VMA_OPEN \
	DRM_IOW(DRM_COMMAND_BASE + DRM_FAKEDRM_VMA_OPEN, struct drm_fakedrm_vma)
#define DRM_IOCTL_FAKEDRM_VMA_CLOSE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_FAKEDRM_VMA_CLOSE, struct drm_fakedrm_vma)

/*
 * The checks of i915_gem_mmap_ioctl (legacy DRM_IOCTL_I915_GEM_MMAP), whose
 * mapping the library then makes in the caller: EOPNOTSUPP past gen 12.0;
 * EINVAL flags other than I915_MMAP_WC; ENOENT unknown handle; ENXIO no
 * shmem file (readonly objects stand for userptr); EINVAL range past the
 * object, unaligned offset or size 0. On success the mapping is registered
 * and map_offset is where to mmap the device: the CPU (WB, or WC) node of
 * the object plus args.offset.
 */
#define DRM_FAKEDRM_GEM_MMAP 0x56
struct drm_fakedrm_gem_mmap {
	struct drm_i915_gem_mmap args; /* in: handle, offset, size, flags */
	__u64 map_offset;              /* out */
	__u64 cookie;                  /* out */
	/* out: the object's shared CPU file, an export like a dma-buf (see
	 * "Daemon-made file descriptors" below): mapped at args.offset, every
	 * open's legacy mapping of the object shares one page cache, as i915's
	 * map the object's one shmem file. 0: map the device at map_offset. */
	__u32 token;
	__u32 pad;
};
#define DRM_IOCTL_FAKEDRM_GEM_MMAP \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_FAKEDRM_GEM_MMAP, struct drm_fakedrm_gem_mmap)


/*
 * Daemon-made file descriptors (strict mode): sync_file out-fences and PRIME
 * dma-bufs. A FUSE ioctl cannot install an fd in its caller, so the daemon
 * serves one hidden file per export on the mount's root, named
 * FAKEDRM_EXPORT_PREFIX followed by a decimal token, with inode
 * FAKEDRM_EXPORT_INO_BASE + token. Where the kernel's ioctl returns an fd
 * (EXECBUFFER2_WR's rsvd2 upper half, PRIME_HANDLE_TO_FD's fd,
 * SYNC_IOC_MERGE's fence) the daemon returns the token of a new export; the
 * library opens that file (the one open it may have, by the same thread),
 * and writes the fd in the token's place. Where the kernel takes an fd
 * (FENCE_IN/FENCE_SUBMIT's rsvd2 lower half, PRIME_FD_TO_HANDLE's fd,
 * SYNC_IOC_MERGE's fd2) the library passes the token of the export that fd
 * opens (fstat: the mount's st_dev and an inode in the export range), or
 * FAKEDRM_TOKEN_NONE (an open fd that is no export of this mount) or
 * FAKEDRM_TOKEN_BADF (no open fd). The daemon does this only for opens the
 * library has probed (DRM_IOCTL_FAKEDRM_PROBE on the device fd): plain
 * opens keep the answers of a kernel without the feature.
 */
/* A dma-buf export whose object has no shmem file (USERPTR) has S_ISVTX in
 * its mode: the library fails mmap of it with ENODEV (i915_gem_dmabuf_mmap). */
#define FAKEDRM_EXPORT_PREFIX ".fakedrm-export-"
#define FAKEDRM_EXPORT_INO_BASE (1ull << 40)
#define FAKEDRM_TOKEN_NONE 0u
#define FAKEDRM_TOKEN_BADF 0xffffffffu

/*
 * sw_sync (drivers/dma-buf/sw_sync.c), strict mode: the mount's root has a
 * hidden file FAKEDRM_SW_SYNC_NAME (inode FAKEDRM_SW_SYNC_INO) that
 * `fakedrm run` binds at /sys/kernel/debug/sync/sw_sync. Each open is a new
 * timeline (an export of its own); SW_SYNC_IOC_CREATE_FENCE returns in
 * `fence` the token of a sync_file export, which the library opens as the
 * fd; SW_SYNC_IOC_INC advances the timeline.
 */
#define FAKEDRM_SW_SYNC_NAME ".fakedrm-sw_sync"
#define FAKEDRM_SW_SYNC_INO (FAKEDRM_EXPORT_INO_BASE - 1)
/* sw_sync's own uapi (not exported by the kernel's headers; IGT copies it too). */
struct fakedrm_sw_sync_create_fence_data {
	__u32 value;
	char name[32];
	__s32 fence;
};
#define FAKEDRM_SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct fakedrm_sw_sync_create_fence_data)
#define FAKEDRM_SW_SYNC_IOC_INC _IOW('W', 1, __u32)


#endif /* FAKEDRM_H */
