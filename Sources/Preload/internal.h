/* Shared by the strict-mode library's parts. Everything here runs inside
 * an arbitrary program: no allocation on paths malloc may reach (mmap,
 * munmap, mremap), errno untouched on success, and calls of our own to
 * the kernel go around our own hooks. */
#ifndef FDRM_INTERNAL_H
#define FDRM_INTERNAL_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>
#include "../../include/fakedrm.h"

#define FDRM_HIDDEN __attribute__((visibility("hidden")))

/* Device files report this size (FuseServer.deviceFileSize): a cheap first
 * test before anything costs a syscall. */
#define FDRM_DEVICE_SIZE (1ll << 46)
#define FDRM_PAGE_ALIGN(x) (((x) + 4095ul) & ~4095ul)

/* The next definitions of the calls we wrap (dlsym RTLD_NEXT), falling back
 * to the raw syscall while they are not resolved yet. */
FDRM_HIDDEN void *fdrm_real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
FDRM_HIDDEN int fdrm_real_munmap(void *addr, size_t len);
FDRM_HIDDEN int fdrm_real_mprotect(void *addr, size_t len, int prot);
FDRM_HIDDEN void *fdrm_real_mremap(void *old, size_t oldlen, size_t newlen, int flags, void *new_addr);
FDRM_HIDDEN int fdrm_real_ioctl(int fd, unsigned long req, void *arg);
FDRM_HIDDEN void *fdrm_next(const char *name);

/* Our own ioctls and stats: raw syscalls, never our hooks. 0 or -errno. */
FDRM_HIDDEN int fdrm_sys_ioctl(int fd, unsigned long req, void *arg);
FDRM_HIDDEN int fdrm_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags);

/* Whether a stat result can be a device file at all (no syscall). */
static inline int fdrm_candidate(mode_t mode, long long size)
{
	return S_ISREG(mode) && size == FDRM_DEVICE_SIZE;
}

/* memcpy to (to_user) or from the caller's memory: 0 or -EFAULT. */
FDRM_HIDDEN int fdrm_copy(void *dst, const void *src, size_t len, int to_user);

/* Which node an open fd is: 0 (card0), 128 (renderD128) or -1 (not a
 * FakeDRM device). `st` is its fstat. Cached per (st_dev, st_ino). */
FDRM_HIDDEN int fdrm_fd_minor(int fd, const struct stat *st);
/* The same for a stat'ed path (relative to dirfd, as fstatat takes it). */
FDRM_HIDDEN int fdrm_path_minor(int dirfd, const char *path, dev_t dev, ino_t ino);
/* Remembers the mount of a device fd, so mappings made through it can be
 * released after every fd is gone (the control channel is the mount's root
 * directory). 0, or -1 when the mount cannot be reached. */
FDRM_HIDDEN int fdrm_note_mount(int fd, dev_t dev);
/* The same for a file whose path may not lead to the mount's root (a
 * bind of one file, as run's sw_sync): the root from /proc/self/mountinfo. */
FDRM_HIDDEN int fdrm_note_mount_dev(dev_t dev);
/* An ioctl on the root directory of the mount `dev`. 0 or -errno. */
FDRM_HIDDEN int fdrm_ctl_ioctl(dev_t dev, unsigned long req, void *arg);

/* Opens the export `token` of mount `dev` (its hidden file on the root,
 * include/fakedrm.h): the fd the kernel's ioctl would have made. fd or -errno. */
FDRM_HIDDEN int fdrm_open_export(dev_t dev, uint32_t token, int flags);
/* ioctls that make or take fds (exports.c); *handled = 0 passes it on. */
/* The errno mmap of an export file gets from the kernel's dma-buf or
 * sync_file (past the dma-buf's end EINVAL, a sync_file ENODEV), or 0. */
FDRM_HIDDEN int fdrm_export_mmap_refused(int fd, const struct stat *st, size_t len, off_t off);
FDRM_HIDDEN int fdrm_export_ioctl(int fd, unsigned long req, void *arg, int *handled);

FDRM_HIDDEN void fdrm_id_lock(void);
FDRM_HIDDEN void fdrm_id_unlock(void);

/* The mapping table: device mappings of this process. */
FDRM_HIDDEN void fdrm_map_insert(uintptr_t start, size_t len, uint64_t cookie, dev_t dev, int readonly);
/* Forget [start, start+len) after it was unmapped or replaced. */
FDRM_HIDDEN void fdrm_map_forget(uintptr_t start, size_t len);
FDRM_HIDDEN void fdrm_map_lock(void);
FDRM_HIDDEN void fdrm_map_unlock(void);
/* Any device mapping at all: the cheap test every wrapper makes first. */
FDRM_HIDDEN int fdrm_map_any(void);

#endif
