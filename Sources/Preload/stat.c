/* The stat family reports a device file as the kernel reports a DRM node:
 * a character device, major 226, minor 0 (card0) or 128 (renderD128),
 * size 0. Each wrapper calls the next definition and touches only results
 * that can be a device file (a regular file of FDRM_DEVICE_SIZE bytes). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/sysmacros.h>

#define DRM_MAJOR 226

#define PATCH(st, minor) do { \
	(st)->st_mode = S_IFCHR | ((st)->st_mode & 07777); \
	(st)->st_rdev = makedev(DRM_MAJOR, (minor)); \
	(st)->st_size = 0; \
	(st)->st_blocks = 0; \
} while (0)

/* A stat of dirfd/path (or of dirfd itself with AT_EMPTY_PATH and ""). */
#define FIX_AT(r, dirfd, path, flags, st) do { \
	if ((r) == 0 && fdrm_candidate((st)->st_mode, (st)->st_size)) { \
		int m_ = ((flags) & AT_EMPTY_PATH) && (path)[0] == 0 \
			? fdrm_fd_minor((dirfd), (const struct stat *)(st)) \
			: fdrm_path_minor((dirfd), (path), (st)->st_dev, (st)->st_ino); \
		if (m_ >= 0) \
			PATCH((st), m_); \
	} \
} while (0)

#define FIX_FD(r, fd, st) do { \
	if ((r) == 0 && fdrm_candidate((st)->st_mode, (st)->st_size)) { \
		int m_ = fdrm_fd_minor((fd), (const struct stat *)(st)); \
		if (m_ >= 0) \
			PATCH((st), m_); \
	} \
} while (0)

/* The next definition of `name`, kept in the caller's own slot. */
#define NEXT(type, slot, name) \
	type *next_ = atomic_load(slot); \
	if (!next_) { \
		next_ = (type *)fdrm_next(name); \
		atomic_store(slot, next_); \
	}

typedef int path_fn(const char *, struct stat *);
typedef int fd_fn(int, struct stat *);
typedef int at_fn(int, const char *, struct stat *, int);
typedef int xpath_fn(int, const char *, struct stat *);
typedef int xfd_fn(int, int, struct stat *);
typedef int xat_fn(int, int, const char *, struct stat *, int);
typedef int statx_fn(int, const char *, int, unsigned int, struct statx *);

/* The raw syscall when no next definition was found; sets errno. */
static int raw_stat(int dirfd, const char *path, struct stat *st, int flags)
{
	int r = fdrm_sys_fstatat(dirfd, path, st, flags);
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* struct stat64 is struct stat on the 64-bit ABIs this runs on. */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "64-bit stat layout");

static int do_stat(_Atomic(path_fn *) *slot, const char *name, const char *path, struct stat *st, int flags)
{
	NEXT(path_fn, slot, name);
	int r = next_ ? next_(path, st) : raw_stat(AT_FDCWD, path, st, flags);
	FIX_AT(r, AT_FDCWD, path, 0, st);
	return r;
}

static _Atomic(path_fn *) n_stat, n_stat64, n_lstat, n_lstat64;
int stat(const char *path, struct stat *st) { return do_stat(&n_stat, "stat", path, st, 0); }
int stat64(const char *path, struct stat64 *st) { return do_stat(&n_stat64, "stat64", path, (struct stat *)st, 0); }
int lstat(const char *path, struct stat *st) { return do_stat(&n_lstat, "lstat", path, st, AT_SYMLINK_NOFOLLOW); }
int lstat64(const char *path, struct stat64 *st)
{
	return do_stat(&n_lstat64, "lstat64", path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

static int do_fstat(_Atomic(fd_fn *) *slot, const char *name, int fd, struct stat *st)
{
	NEXT(fd_fn, slot, name);
	int r = next_ ? next_(fd, st) : raw_stat(fd, "", st, AT_EMPTY_PATH);
	FIX_FD(r, fd, st);
	return r;
}

static _Atomic(fd_fn *) n_fstat, n_fstat64;
int fstat(int fd, struct stat *st) { return do_fstat(&n_fstat, "fstat", fd, st); }
int fstat64(int fd, struct stat64 *st) { return do_fstat(&n_fstat64, "fstat64", fd, (struct stat *)st); }

static int do_fstatat(_Atomic(at_fn *) *slot, const char *name, int dirfd, const char *path, struct stat *st, int flags)
{
	NEXT(at_fn, slot, name);
	int r = next_ ? next_(dirfd, path, st, flags) : raw_stat(dirfd, path, st, flags);
	FIX_AT(r, dirfd, path, flags, st);
	return r;
}

static _Atomic(at_fn *) n_fstatat, n_fstatat64;
int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return do_fstatat(&n_fstatat, "fstatat", dirfd, path, st, flags);
}
int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return do_fstatat(&n_fstatat64, "fstatat64", dirfd, path, (struct stat *)st, flags);
}

/* glibc before 2.33 exported only these (binaries built then still call them). */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

static int do_xstat(_Atomic(xpath_fn *) *slot, const char *name, int ver, const char *path, struct stat *st)
{
	NEXT(xpath_fn, slot, name);
	if (!next_)
		return -1;
	int r = next_(ver, path, st);
	FIX_AT(r, AT_FDCWD, path, 0, st);
	return r;
}

static _Atomic(xpath_fn *) n_xstat, n_xstat64, n_lxstat, n_lxstat64;
int __xstat(int ver, const char *path, struct stat *st) { return do_xstat(&n_xstat, "__xstat", ver, path, st); }
int __xstat64(int ver, const char *path, struct stat64 *st)
{
	return do_xstat(&n_xstat64, "__xstat64", ver, path, (struct stat *)st);
}
int __lxstat(int ver, const char *path, struct stat *st) { return do_xstat(&n_lxstat, "__lxstat", ver, path, st); }
int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	return do_xstat(&n_lxstat64, "__lxstat64", ver, path, (struct stat *)st);
}

static int do_fxstat(_Atomic(xfd_fn *) *slot, const char *name, int ver, int fd, struct stat *st)
{
	NEXT(xfd_fn, slot, name);
	if (!next_)
		return -1;
	int r = next_(ver, fd, st);
	FIX_FD(r, fd, st);
	return r;
}

static _Atomic(xfd_fn *) n_fxstat, n_fxstat64;
int __fxstat(int ver, int fd, struct stat *st) { return do_fxstat(&n_fxstat, "__fxstat", ver, fd, st); }
int __fxstat64(int ver, int fd, struct stat64 *st)
{
	return do_fxstat(&n_fxstat64, "__fxstat64", ver, fd, (struct stat *)st);
}

static int do_fxstatat(_Atomic(xat_fn *) *slot, const char *name, int ver, int dirfd, const char *path,
		       struct stat *st, int flags)
{
	NEXT(xat_fn, slot, name);
	if (!next_)
		return -1;
	int r = next_(ver, dirfd, path, st, flags);
	FIX_AT(r, dirfd, path, flags, st);
	return r;
}

static _Atomic(xat_fn *) n_fxstatat, n_fxstatat64;
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	return do_fxstatat(&n_fxstatat, "__fxstatat", ver, dirfd, path, st, flags);
}
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	return do_fxstatat(&n_fxstatat64, "__fxstatat64", ver, dirfd, path, (struct stat *)st, flags);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	static _Atomic(statx_fn *) n_statx;
	NEXT(statx_fn, &n_statx, "statx");
	if (!next_)
		return -1;
	int r = next_(dirfd, path, flags, mask, stx);
	if (r == 0 && (stx->stx_mask & STATX_TYPE) && (stx->stx_mask & STATX_SIZE) &&
	    fdrm_candidate(stx->stx_mode, (long long)stx->stx_size)) {
		dev_t dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
		struct stat st = { .st_dev = dev, .st_ino = stx->stx_ino, .st_mode = stx->stx_mode,
				   .st_size = (off_t)stx->stx_size };
		int m = (flags & AT_EMPTY_PATH) && path[0] == 0 ? fdrm_fd_minor(dirfd, &st)
							       : fdrm_path_minor(dirfd, path, dev, stx->stx_ino);
		if (m >= 0) {
			stx->stx_mode = S_IFCHR | (stx->stx_mode & 07777);
			stx->stx_rdev_major = DRM_MAJOR;
			stx->stx_rdev_minor = (unsigned)m;
			stx->stx_size = 0;
			stx->stx_blocks = 0;
		}
	}
	return r;
}
