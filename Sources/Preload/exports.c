/* The ioctls that make or take file descriptors, finished in the caller
 * as the kernel finishes them in its process (include/fakedrm.h,
 * "Daemon-made file descriptors"):
 *
 *   EXECBUFFER2(_WR) FENCE_IN/FENCE_SUBMIT  fd in rsvd2[31:0]  -> token
 *   EXECBUFFER2_WR FENCE_OUT                token in rsvd2[63:32] -> fd
 *   PRIME_HANDLE_TO_FD                      token -> fd (DRM_CLOEXEC, DRM_RDWR)
 *   PRIME_FD_TO_HANDLE                      fd -> token
 *   SYNCOBJ_HANDLE_TO_FD                    token -> fd (O_CLOEXEC)
 *   SYNCOBJ_FD_TO_HANDLE                    fd -> token
 *   SYNC_IOC_MERGE (on an export fd)        fd2 -> token, token -> fd
 *   SW_SYNC_IOC_CREATE_FENCE (sw_sync file) token -> fd
 *
 * The daemon answers these so only for opens the library probed; GETPARAM
 * and GET_CAP probe first, so the fence params and DRM_CAP_PRIME say what
 * this mode supports. An fd is an export when fstat shows the device's
 * mount and an inode in the export range: never a guess. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sync_file.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FUSE_SUPER_MAGIC 0x65735546

/* A device fd: its fstat in *st. */
static int device_fd(int fd, struct stat *st)
{
	return fdrm_sys_fstatat(fd, "", st, AT_EMPTY_PATH) == 0 && fdrm_fd_minor(fd, st) >= 0;
}

/* The token of the export `fd` opens on mount `dev`. */
static uint32_t token_of(int fd, dev_t dev)
{
	struct stat st;
	if (fd < 0 || fdrm_sys_fstatat(fd, "", &st, AT_EMPTY_PATH) != 0)
		return FAKEDRM_TOKEN_BADF;
	if (st.st_dev != dev || !S_ISREG(st.st_mode) || st.st_ino <= FAKEDRM_EXPORT_INO_BASE ||
	    st.st_ino - FAKEDRM_EXPORT_INO_BASE >= FAKEDRM_TOKEN_BADF)
		return FAKEDRM_TOKEN_NONE;
	return (uint32_t)(st.st_ino - FAKEDRM_EXPORT_INO_BASE);
}

/* An export fd of a FakeDRM mount: its mount is noted for later opens. */
static int export_fd(int fd, struct stat *st)
{
	struct statfs sf;
	int saved = errno;
	int ok = fdrm_sys_fstatat(fd, "", st, AT_EMPTY_PATH) == 0 && S_ISREG(st->st_mode) &&
		 st->st_ino > FAKEDRM_EXPORT_INO_BASE && fstatfs(fd, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC &&
		 fdrm_note_mount(fd, st->st_dev) == 0;
	errno = saved;
	return ok;
}

static int fail(int e)
{
	errno = e;
	return -1;
}

static int execbuf(int fd, unsigned long req, void *arg, const struct stat *st)
{
	struct drm_i915_gem_execbuffer2 e;
	if (fdrm_copy(&e, arg, sizeof(e), 0) != 0)
		return fdrm_real_ioctl(fd, req, arg);
	uint64_t fences = I915_EXEC_FENCE_IN | I915_EXEC_FENCE_SUBMIT | I915_EXEC_FENCE_OUT;
	if (!(e.flags & fences))
		return fdrm_real_ioctl(fd, req, arg);
	fdrm_note_mount(fd, st->st_dev);
	uint64_t rsvd2 = e.rsvd2;
	if (e.flags & (I915_EXEC_FENCE_IN | I915_EXEC_FENCE_SUBMIT))
		e.rsvd2 = (e.rsvd2 & ~0xffffffffull) | token_of((int)(uint32_t)rsvd2, st->st_dev);
	int r = fdrm_real_ioctl(fd, req, &e);
	int err = errno;
	int wr = req == DRM_IOCTL_I915_GEM_EXECBUFFER2_WR;
	uint32_t token = (uint32_t)(e.rsvd2 >> 32);
	e.rsvd2 = rsvd2;
	if (r == 0 && wr && (e.flags & I915_EXEC_FENCE_OUT)) {
		/* get_unused_fd_flags(O_CLOEXEC), as i915 makes the out-fence. */
		int out = fdrm_open_export(st->st_dev, token, O_RDONLY | O_CLOEXEC);
		if (out < 0)
			return fail(-out);
		e.rsvd2 = (rsvd2 & 0xffffffffull) | (uint64_t)out << 32;
	}
	if (wr && fdrm_copy(arg, &e, sizeof(e), 1) != 0 && r == 0)
		return fail(EFAULT);
	errno = r == 0 ? errno : err;
	return r;
}

static int prime(int fd, unsigned long req, void *arg, const struct stat *st)
{
	struct drm_prime_handle p;
	if (fdrm_copy(&p, arg, sizeof(p), 0) != 0)
		return fdrm_real_ioctl(fd, req, arg);
	fdrm_note_mount(fd, st->st_dev);
	int32_t user_fd = p.fd;
	if (req == DRM_IOCTL_PRIME_FD_TO_HANDLE)
		p.fd = (int32_t)token_of(p.fd, st->st_dev);
	int r = fdrm_real_ioctl(fd, req, &p);
	if (r != 0) {
		int e = errno;
		p.fd = user_fd;
		fdrm_copy(arg, &p, sizeof(p), 1);
		return fail(e);
	}
	if (req == DRM_IOCTL_PRIME_HANDLE_TO_FD) {
		/* dma_buf_fd: the flags are open flags (DRM_CLOEXEC, DRM_RDWR). */
		int flags = (p.flags & DRM_RDWR ? O_RDWR : O_RDONLY) | (p.flags & DRM_CLOEXEC ? O_CLOEXEC : 0);
		int out = fdrm_open_export(st->st_dev, (uint32_t)p.fd, flags);
		if (out < 0)
			return fail(-out);
		p.fd = out;
	} else {
		p.fd = user_fd;
	}
	if (fdrm_copy(arg, &p, sizeof(p), 1) != 0)
		return fail(EFAULT);
	return 0;
}

/* The syncobj fd ioctls at any struct size: 6.16 appended `u64 point` to
 * drm_syncobj_handle, so a client built against newer headers sends a
 * larger number. The struct is passed on whole; only fd is swapped. */
#define FDRM_IOC_SIZELESS(req) ((unsigned long)(req) & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT))
#define FDRM_SYNCOBJ_MAX 64

static int syncobj_fd(int fd, unsigned long req, void *arg, const struct stat *st)
{
	union {
		struct drm_syncobj_handle h;
		unsigned char bytes[FDRM_SYNCOBJ_MAX];
	} k;
	size_t size = _IOC_SIZE(req);
	if (size < sizeof(k.h) || size > sizeof(k) || fdrm_copy(&k, arg, size, 0) != 0)
		return fdrm_real_ioctl(fd, req, arg);
	fdrm_note_mount(fd, st->st_dev);
	int to_fd = FDRM_IOC_SIZELESS(req) == FDRM_IOC_SIZELESS(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD);
	int32_t user_fd = k.h.fd;
	if (!to_fd)
		k.h.fd = (int32_t)token_of(user_fd, st->st_dev);
	int r = fdrm_real_ioctl(fd, req, &k);
	if (r != 0) {
		int e = errno;
		k.h.fd = user_fd;
		fdrm_copy(arg, &k, size, 1);
		return fail(e);
	}
	if (to_fd) {
		/* drm_syncobj_get_fd and drm_syncobj_export_sync_file: O_CLOEXEC. */
		int out = fdrm_open_export(st->st_dev, (uint32_t)k.h.fd, O_RDONLY | O_CLOEXEC);
		if (out < 0)
			return fail(-out);
		k.h.fd = out;
	} else {
		k.h.fd = user_fd;
	}
	if (fdrm_copy(arg, &k, size, 1) != 0) {
		if (to_fd)
			close(k.h.fd);
		return fail(EFAULT);
	}
	return 0;
}

/* The sw_sync file of a FakeDRM mount (include/fakedrm.h): its fstat in *st. */
static int sw_sync_fd(int fd, struct stat *st)
{
	struct statfs sf;
	int saved = errno;
	int ok = fdrm_sys_fstatat(fd, "", st, AT_EMPTY_PATH) == 0 && S_ISREG(st->st_mode) &&
		 st->st_ino == FAKEDRM_SW_SYNC_INO && fstatfs(fd, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
	errno = saved;
	return ok;
}

/* SW_SYNC_IOC_CREATE_FENCE: the token in `fence` becomes the sync_file fd
 * (sw_sync_ioctl_create_fence: O_CLOEXEC). The file may be a bind outside
 * the mount (run's /sys/kernel/debug/sync/sw_sync): the root comes from
 * mountinfo. */
static int sw_sync_create_fence(int fd, void *arg, const struct stat *st)
{
	struct fakedrm_sw_sync_create_fence_data d;
	if (fdrm_copy(&d, arg, sizeof(d), 0) != 0)
		return fail(EFAULT);
	fdrm_note_mount_dev(st->st_dev);
	int r = fdrm_real_ioctl(fd, FAKEDRM_SW_SYNC_IOC_CREATE_FENCE, &d);
	if (r != 0)
		return r;
	int out = fdrm_open_export(st->st_dev, (uint32_t)d.fence, O_RDONLY | O_CLOEXEC);
	if (out < 0)
		return fail(-out);
	d.fence = out;
	if (fdrm_copy(arg, &d, sizeof(d), 1) != 0) {
		close(out);
		return fail(EFAULT);
	}
	return 0;
}

static int merge(int fd, void *arg, const struct stat *st)
{
	struct sync_merge_data m;
	if (fdrm_copy(&m, arg, sizeof(m), 0) != 0)
		return fail(EFAULT);
	int32_t fd2 = m.fd2;
	m.fd2 = (int32_t)token_of(fd2, st->st_dev);
	int r = fdrm_real_ioctl(fd, SYNC_IOC_MERGE, &m);
	if (r != 0)
		return r;
	/* sync_file_ioctl_merge: get_unused_fd_flags(O_CLOEXEC). */
	int out = fdrm_open_export(st->st_dev, (uint32_t)m.fence, O_RDONLY | O_CLOEXEC);
	if (out < 0)
		return fail(-out);
	m.fd2 = fd2;
	m.fence = out;
	if (fdrm_copy(arg, &m, sizeof(m), 1) != 0) {
		close(out);
		return fail(EFAULT);
	}
	return 0;
}

int fdrm_export_ioctl(int fd, unsigned long req, void *arg, int *handled)
{
	struct stat st;
	int saved = errno;
	switch (req) {
	case DRM_IOCTL_I915_GETPARAM:
	case DRM_IOCTL_GET_CAP:
		/* Probing marks the open strict before it is asked. */
		device_fd(fd, &st);
		errno = saved;
		return 0;
	case DRM_IOCTL_I915_GEM_EXECBUFFER2:
	case DRM_IOCTL_I915_GEM_EXECBUFFER2_WR:
		if (!device_fd(fd, &st))
			break;
		*handled = 1;
		errno = saved;
		return execbuf(fd, req, arg, &st);
	case DRM_IOCTL_PRIME_HANDLE_TO_FD:
	case DRM_IOCTL_PRIME_FD_TO_HANDLE:
		if (!device_fd(fd, &st))
			break;
		*handled = 1;
		errno = saved;
		return prime(fd, req, arg, &st);
	case SYNC_IOC_MERGE:
		if (!export_fd(fd, &st))
			break;
		*handled = 1;
		errno = saved;
		return merge(fd, arg, &st);
	case FAKEDRM_SW_SYNC_IOC_CREATE_FENCE:
		if (!sw_sync_fd(fd, &st))
			break;
		*handled = 1;
		errno = saved;
		return sw_sync_create_fence(fd, arg, &st);
	}
	if (FDRM_IOC_SIZELESS(req) == FDRM_IOC_SIZELESS(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD) ||
	    FDRM_IOC_SIZELESS(req) == FDRM_IOC_SIZELESS(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE)) {
		if (device_fd(fd, &st)) {
			*handled = 1;
			errno = saved;
			return syncobj_fd(fd, req, arg, &st);
		}
	}
	errno = saved;
	return 0;
}

/* dma_buf_llseek: only SEEK_SET 0 and SEEK_END 0 (the size); anything else
 * EINVAL. FUSE would seek a regular file anywhere. Other files: the syscall. */
static off_t llseek(int fd, off_t off, int whence)
{
	struct stat st;
	if (export_fd(fd, &st) && st.st_size > 0) {
		if (off != 0 || (whence != SEEK_SET && whence != SEEK_END)) {
			errno = EINVAL;
			return -1;
		}
	}
	return (off_t)syscall(SYS_lseek, fd, off, whence);
}

off_t lseek(int fd, off_t off, int whence)
{
	return llseek(fd, off, whence);
}

off_t lseek64(int fd, off_t off, int whence)
{
	return llseek(fd, off, whence);
}

int fdrm_export_mmap_refused(int fd, const struct stat *st, size_t len, off_t off)
{
	if (!S_ISREG(st->st_mode) || st->st_ino <= FAKEDRM_EXPORT_INO_BASE)
		return 0;
	struct stat again;
	if (!export_fd(fd, &again))
		return 0;
	if (st->st_size == 0)
		return ENODEV;
	uint64_t pages = ((uint64_t)st->st_size + 4095) >> 12;
	uint64_t first = (uint64_t)off >> 12, count = ((uint64_t)len + 4095) >> 12;
	if (first + count > pages)
		return EINVAL;
	/* i915_gem_dmabuf_mmap: no shmem file behind it (USERPTR). */
	return st->st_mode & S_ISVTX ? ENODEV : 0;
}
