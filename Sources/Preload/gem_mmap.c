/* Legacy DRM_IOCTL_I915_GEM_MMAP, done in the caller as i915 does in its
 * process: the daemon makes i915_gem_mmap_ioctl's checks and registers the
 * mapping (DRM_IOCTL_FAKEDRM_GEM_MMAP), then this maps the object's CPU
 * node here, like the kernel's vm_mmap of the object's shmem file, and
 * writes the address to addr_ptr. Every other ioctl passes straight on. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

/* copy_from_user / copy_to_user on our own memory: EFAULT, not SIGSEGV. */
int fdrm_copy(void *dst, const void *src, size_t len, int to_user)
{
	struct iovec local = { to_user ? (void *)src : dst, len }, remote = { to_user ? dst : (void *)src, len };
	ssize_t r = to_user ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
			    : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return r == (ssize_t)len ? 0 : -EFAULT;
}

static int gem_mmap(int fd, void *arg)
{
	int saved = errno;
	struct stat st;
	if (fdrm_sys_fstatat(fd, "", &st, AT_EMPTY_PATH) != 0 || fdrm_fd_minor(fd, &st) < 0)
		return fdrm_real_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP, arg);
	struct drm_fakedrm_gem_mmap g = { 0 };
	int r = fdrm_copy(&g.args, arg, sizeof(g.args), 0);
	if (r == 0)
		r = fdrm_sys_ioctl(fd, DRM_IOCTL_FAKEDRM_GEM_MMAP, &g);
	if (r != 0) {
		errno = -r;
		return -1;
	}
	fdrm_note_mount(fd, st.st_dev);
	/* The object's shared CPU file (as i915 maps its shmem file), else the
	 * CPU node through this open. */
	void *p = MAP_FAILED;
	if (g.token) {
		int efd = fdrm_open_export(st.st_dev, g.token, O_RDWR | O_CLOEXEC);
		if (efd >= 0) {
			p = fdrm_real_mmap(NULL, g.args.size, PROT_READ | PROT_WRITE, MAP_SHARED, efd, (off_t)g.args.offset);
			close(efd);
		}
	}
	if (p == MAP_FAILED)
		p = fdrm_real_mmap(NULL, g.args.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)g.map_offset);
	fdrm_map_lock();
	if (p == MAP_FAILED) {
		int e = errno;
		struct drm_fakedrm_vma v = { .cookie = g.cookie };
		fdrm_sys_ioctl(fd, DRM_IOCTL_FAKEDRM_VMA_CLOSE, &v);
		fdrm_map_unlock();
		errno = e;
		return -1;
	}
	fdrm_map_insert((uintptr_t)p, g.args.size, g.cookie, st.st_dev, 0);
	fdrm_map_unlock();
	/* As the kernel: a failed copy-out leaves the mapping in place. */
	uint64_t addr = (uintptr_t)p;
	if (fdrm_copy((char *)arg + offsetof(struct drm_i915_gem_mmap, addr_ptr), &addr, sizeof(addr), 1) != 0) {
		errno = EFAULT;
		return -1;
	}
	errno = saved;
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (req == DRM_IOCTL_I915_GEM_MMAP)
		return gem_mmap(fd, arg);
	int handled = 0;
	int r = fdrm_export_ioctl(fd, req, arg, &handled);
	if (handled)
		return r;
	return fdrm_real_ioctl(fd, req, arg);
}
