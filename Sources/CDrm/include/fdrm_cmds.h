/* The full ioctl numbers a client issues (`fakedrm ioctl`), from libdrm's
 * and fakedrm.h's macros: Swift does not import function-like macros. */
#ifndef FDRM_CMDS_H
#define FDRM_CMDS_H

#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>
#include "../../../include/fakedrm.h"
#include <linux/sync_file.h>
#include <linux/dma-buf.h>

static const unsigned long FDRM_CMD_VERSION = DRM_IOCTL_VERSION;
static const unsigned long FDRM_CMD_GEM_CLOSE = DRM_IOCTL_GEM_CLOSE;
static const unsigned long FDRM_CMD_GEM_FLINK = DRM_IOCTL_GEM_FLINK;
static const unsigned long FDRM_CMD_GEM_OPEN = DRM_IOCTL_GEM_OPEN;
static const unsigned long FDRM_CMD_I915_GETPARAM = DRM_IOCTL_I915_GETPARAM;
static const unsigned long FDRM_CMD_I915_GEM_CREATE = DRM_IOCTL_I915_GEM_CREATE;
static const unsigned long FDRM_CMD_I915_GEM_PREAD = DRM_IOCTL_I915_GEM_PREAD;
static const unsigned long FDRM_CMD_I915_GEM_PWRITE = DRM_IOCTL_I915_GEM_PWRITE;
static const unsigned long FDRM_CMD_I915_GEM_MMAP_GTT = DRM_IOCTL_I915_GEM_MMAP_GTT;
static const unsigned long FDRM_CMD_I915_GEM_MMAP_OFFSET = DRM_IOCTL_I915_GEM_MMAP_OFFSET;
static const unsigned long FDRM_CMD_I915_GEM_SET_DOMAIN = DRM_IOCTL_I915_GEM_SET_DOMAIN;
static const unsigned long FDRM_CMD_I915_GEM_SET_TILING = DRM_IOCTL_I915_GEM_SET_TILING;
static const unsigned long FDRM_CMD_I915_GEM_GET_TILING = DRM_IOCTL_I915_GEM_GET_TILING;
static const unsigned long FDRM_CMD_FAKEDRM_GEM_SET_READONLY = DRM_IOCTL_FAKEDRM_GEM_SET_READONLY;
static const unsigned long FDRM_CMD_FAKEDRM_GPU_RESET = DRM_IOCTL_FAKEDRM_GPU_RESET;

/* The sync_file and dma-buf ioctls the daemon's export files answer. */
static const unsigned long FDRM_SYNC_IOC_FILE_INFO = SYNC_IOC_FILE_INFO;
static const unsigned long FDRM_SYNC_IOC_MERGE = SYNC_IOC_MERGE;
static const unsigned long FDRM_DMA_BUF_IOCTL_SYNC = DMA_BUF_IOCTL_SYNC;

#endif
