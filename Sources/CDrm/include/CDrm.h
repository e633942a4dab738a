/* The real DRM / i915 uapi for Swift: libdrm's headers, our private
 * fakedrm.h, and the kernel-style ioctl descriptor table. */
#ifndef CDRM_H
#define CDRM_H

#include <stdint.h>
#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>
#include "../../../include/fakedrm.h"
#include "fdrm_cmds.h"
#include "fdrm_process_vm.h"

/* Which handler serves an ioctl; the Swift side switches on this. */
enum fdrm_op {
	FDRM_OP_VERSION = 1,
	FDRM_OP_GET_UNIQUE,
	FDRM_OP_GET_MAGIC,
	FDRM_OP_AUTH_MAGIC,
	FDRM_OP_GET_CAP,
	FDRM_OP_SET_CLIENT_CAP,
	FDRM_OP_SET_MASTER,
	FDRM_OP_DROP_MASTER,
	FDRM_OP_GEM_CLOSE,
	FDRM_OP_GEM_FLINK,
	FDRM_OP_GEM_OPEN,
	FDRM_OP_PRIME_HANDLE_TO_FD,
	FDRM_OP_PRIME_FD_TO_HANDLE,
	/* DRM core ioctls a client meets first (CoreIoctls.swift). */
	FDRM_OP_GET_CLIENT,
	FDRM_OP_GET_STATS,
	FDRM_OP_SET_VERSION,
	FDRM_OP_NOOP,        /* drm_noop: 0 once permitted */
	FDRM_OP_INVALID,     /* drm_invalid_op: EINVAL once permitted */
	FDRM_OP_NO_MODESET,  /* KMS without DRIVER_MODESET: EOPNOTSUPP */
	FDRM_OP_NO_SYNCOBJ,  /* syncobjs without DRIVER_SYNCOBJ: EOPNOTSUPP */
	FDRM_OP_MODE_CREATE_DUMB,
	FDRM_OP_MODE_MAP_DUMB,
	FDRM_OP_MODE_DESTROY_DUMB,
	FDRM_OP_I915_GETPARAM,
	FDRM_OP_I915_GEM_CREATE,
	FDRM_OP_I915_GEM_CREATE_EXT,
	FDRM_OP_I915_GEM_PREAD,
	FDRM_OP_I915_GEM_PWRITE,
	FDRM_OP_I915_GEM_MMAP,
	FDRM_OP_I915_GEM_MMAP_OFFSET,
	FDRM_OP_I915_GEM_SET_DOMAIN,
	FDRM_OP_I915_GEM_SW_FINISH,
	FDRM_OP_I915_GEM_SET_TILING,
	FDRM_OP_I915_GEM_GET_TILING,
	FDRM_OP_I915_GEM_GET_APERTURE,
	FDRM_OP_I915_GEM_MADVISE,
	FDRM_OP_I915_GEM_SET_CACHING,
	FDRM_OP_I915_GEM_GET_CACHING,
	FDRM_OP_I915_GEM_BUSY,
	FDRM_OP_I915_GEM_WAIT,
	FDRM_OP_I915_GEM_THROTTLE,
	FDRM_OP_I915_QUERY,
	FDRM_OP_I915_GEM_CONTEXT_GETPARAM,
	FDRM_OP_FAKEDRM_GEM_SET_READONLY,
	FDRM_OP_FAKEDRM_GPU_RESET,
	FDRM_OP_FAKEDRM_PROBE,
	FDRM_OP_FAKEDRM_MMAP,
	FDRM_OP_FAKEDRM_VMA_OPEN,
	FDRM_OP_FAKEDRM_VMA_CLOSE,
	FDRM_OP_FAKEDRM_GEM_MMAP,
	/* The GPU (Sources/Device/GPU). */
	FDRM_OP_I915_GEM_EXECBUFFER2,
	FDRM_OP_I915_GEM_CONTEXT_CREATE,
	FDRM_OP_I915_GEM_CONTEXT_DESTROY,
	FDRM_OP_I915_GEM_CONTEXT_SETPARAM,
	FDRM_OP_I915_GET_RESET_STATS,
	FDRM_OP_I915_GEM_VM_CREATE,
	FDRM_OP_I915_GEM_VM_DESTROY,
	FDRM_OP_I915_REG_READ,
	FDRM_OP_I915_GEM_USERPTR,
};

/* drm_ioctl_desc flags, as the kernel's enum drm_ioctl_flags. */
enum fdrm_ioctl_flags {
	FDRM_AUTH = 1 << 0,
	FDRM_MASTER = 1 << 1,
	FDRM_ROOT_ONLY = 1 << 2,
	FDRM_RENDER_ALLOW = 1 << 5,
};

struct fdrm_ioctl_desc {
	uint32_t cmd;   /* the kernel's full ioctl number: size and direction */
	uint32_t op;    /* enum fdrm_op */
	uint32_t flags; /* enum fdrm_ioctl_flags */
	const char *name;
};

/* The descriptor for ioctl number `nr` (core 0x00..0x3f and 0xa0..0xff, driver 0x40..0x9f),
 * or NULL when the device has no such ioctl. */
const struct fdrm_ioctl_desc *fdrm_ioctl_lookup(uint32_t nr);

/* The libdrm name of an ioctl value ("DRM_IOCTL_MODE_GETRESOURCES"), for
 * every ioctl drm.h and i915_drm.h define, implemented or not; NULL for
 * one they do not (ioctl_names.c). */
const char *fdrm_libdrm_ioctl_name(uint32_t cmd);

/* DRM_IOCTL_BASE is a character literal, which Swift does not import. */
static const uint32_t FDRM_IOCTL_BASE = DRM_IOCTL_BASE;

/* The kernel-internal I915_GEM_GPU_DOMAINS (i915_gem.h), from uapi bits:
 * SET_DOMAIN rejects any of them. */
static const uint32_t FDRM_GEM_GPU_DOMAINS = I915_GEM_DOMAIN_RENDER | I915_GEM_DOMAIN_SAMPLER |
	I915_GEM_DOMAIN_COMMAND | I915_GEM_DOMAIN_INSTRUCTION | I915_GEM_DOMAIN_VERTEX;

/* ioctl(2) number fields, as <asm-generic/ioctl.h> decodes them. */
static inline uint32_t fdrm_ioc_dir(uint32_t cmd) { return _IOC_DIR(cmd); }
static inline uint32_t fdrm_ioc_type(uint32_t cmd) { return _IOC_TYPE(cmd); }
static inline uint32_t fdrm_ioc_nr(uint32_t cmd) { return _IOC_NR(cmd); }
static inline uint32_t fdrm_ioc_size(uint32_t cmd) { return _IOC_SIZE(cmd); }
static inline int fdrm_ioc_in(uint32_t cmd) { return (_IOC_DIR(cmd) & _IOC_WRITE) != 0; }
static inline int fdrm_ioc_out(uint32_t cmd) { return (_IOC_DIR(cmd) & _IOC_READ) != 0; }

#endif
