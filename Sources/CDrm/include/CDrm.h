/* The real DRM / i915 uapi for Swift: libdrm's headers, our private
 * fakedrm.h, and every ioctl number they define. */
#ifndef CDRM_H
#define CDRM_H

#include <stdint.h>
#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>
#include "../../../include/fakedrm.h"
#include <linux/sync_file.h>
#include <linux/dma-buf.h>
#include "fdrm_process_vm.h"
#include "fdrm_eventfd.h"

/* Every ioctl number libdrm (and fakedrm.h) defines, as a constant Swift
 * can read: FDRM_IOCTL_I915_GEM_CREATE is DRM_IOCTL_I915_GEM_CREATE. The
 * device's own table (Sources/UAPI/IoctlTable.swift) is built from these. */
#define X(n) static const uint32_t FDRM_IOCTL_##n = DRM_IOCTL_##n;
#include "../ioctl_list.def"
#undef X
/* Newer than some libdrm: 0 (the table leaves out an entry numbered 0). */
#ifndef DRM_IOCTL_MODE_CLOSEFB
static const uint32_t FDRM_IOCTL_MODE_CLOSEFB = 0;
#endif
/* SYNCOBJ_EVENTFD (6.6): libdrm 2.4.114's drm.h predates it. Then the
 * kernel's struct drm_syncobj_eventfd (include/uapi/drm/drm.h) and number. */
#ifdef DRM_IOCTL_SYNCOBJ_EVENTFD
typedef struct drm_syncobj_eventfd fdrm_syncobj_eventfd;
static const uint32_t FDRM_IOCTL_SYNCOBJ_EVENTFD = DRM_IOCTL_SYNCOBJ_EVENTFD;
#else
typedef struct fdrm_syncobj_eventfd {
	__u32 handle;
	__u32 flags;
	__u64 point;
	__s32 fd;
	__u32 pad;
} fdrm_syncobj_eventfd;
static const uint32_t FDRM_IOCTL_SYNCOBJ_EVENTFD = DRM_IOWR(0xCF, fdrm_syncobj_eventfd);
#endif

/* drm_syncobj_handle as the kernel has it since 6.16: libdrm's struct with
 * `__u64 point` appended (the DRM_SYNCOBJ_*_FLAGS_TIMELINE flags). Older
 * libdrm headers end at pad; then the point is added here, after their
 * struct, where the kernel's sits. The device's HANDLE_TO_FD / FD_TO_HANDLE
 * take this size; a caller's 16-byte struct is zero-extended (point 0). */
struct fdrm_syncobj_handle {
	struct drm_syncobj_handle args;
#ifndef DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE
	__u64 point;
#endif
};
static inline uint64_t fdrm_syncobj_handle_point(const struct fdrm_syncobj_handle *h)
{
#ifdef DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE
	return h->args.point;
#else
	return h->point;
#endif
}
static inline void fdrm_syncobj_handle_set_point(struct fdrm_syncobj_handle *h, uint64_t point)
{
#ifdef DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE
	h->args.point = point;
#else
	h->point = point;
#endif
}
#define FDRM_RESIZED(cmd, type) _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), sizeof(type))
static const uint32_t FDRM_IOCTL_SYNCOBJ_HANDLE_TO_FD_POINT =
	FDRM_RESIZED(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, struct fdrm_syncobj_handle);
static const uint32_t FDRM_IOCTL_SYNCOBJ_FD_TO_HANDLE_POINT =
	FDRM_RESIZED(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, struct fdrm_syncobj_handle);

/* The sync_file and dma-buf ioctls the daemon's export files answer. */
static const uint32_t FDRM_SYNC_IOC_FILE_INFO = SYNC_IOC_FILE_INFO;
static const uint32_t FDRM_SYNC_IOC_MERGE = SYNC_IOC_MERGE;
static const uint32_t FDRM_DMA_BUF_IOCTL_SYNC = DMA_BUF_IOCTL_SYNC;
/* A sw_sync timeline's (fakedrm.h). */
static const uint32_t FDRM_SW_SYNC_IOC_CREATE_FENCE = FAKEDRM_SW_SYNC_IOC_CREATE_FENCE;
static const uint32_t FDRM_SW_SYNC_IOC_INC = FAKEDRM_SW_SYNC_IOC_INC;
static const uint64_t FDRM_SW_SYNC_INO = FAKEDRM_SW_SYNC_INO;

/* The libdrm name of an ioctl value ("DRM_IOCTL_MODE_GETRESOURCES"), for
 * every ioctl of ioctl_list.def, implemented or not: the exact value
 * first, else the first of the same number; NULL for none (ioctl_names.c). */
const char *fdrm_libdrm_ioctl_name(uint32_t cmd);

/* The list itself, by index (0 ..< fdrm_libdrm_ioctl_count()). */
uint32_t fdrm_libdrm_ioctl_count(void);
uint32_t fdrm_libdrm_ioctl_cmd(uint32_t index);
const char *fdrm_libdrm_ioctl_name_at(uint32_t index);

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
