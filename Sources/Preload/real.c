/* The definitions our wrappers forward to: the next object's (libc, or
 * another preload), found with dlsym(RTLD_NEXT). Until they are found (a
 * constructor running before ours, or dlsym itself mapping memory) the raw
 * syscall stands in, so nothing recurses. */
#include "internal.h"
#include "fakedrm_preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef void *mmap_fn(void *, size_t, int, int, int, off_t);
typedef int munmap_fn(void *, size_t);
typedef int mprotect_fn(void *, size_t, int);
typedef void *mremap_fn(void *, size_t, size_t, int, ...);
typedef int ioctl_fn(int, unsigned long, ...);

static _Atomic(mmap_fn *) next_mmap;
static _Atomic(munmap_fn *) next_munmap;
static _Atomic(mprotect_fn *) next_mprotect;
static _Atomic(mremap_fn *) next_mremap;
static _Atomic(ioctl_fn *) next_ioctl;
static __thread int resolving;

void *fdrm_next(const char *name)
{
	if (resolving)
		return NULL;
	resolving = 1;
	void *p = dlsym(RTLD_NEXT, name);
	resolving = 0;
	return p;
}

__attribute__((constructor)) static void resolve(void)
{
	atomic_store(&next_mmap, (mmap_fn *)fdrm_next("mmap"));
	atomic_store(&next_munmap, (munmap_fn *)fdrm_next("munmap"));
	atomic_store(&next_mprotect, (mprotect_fn *)fdrm_next("mprotect"));
	atomic_store(&next_mremap, (mremap_fn *)fdrm_next("mremap"));
	atomic_store(&next_ioctl, (ioctl_fn *)fdrm_next("ioctl"));
}

void *fdrm_real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	mmap_fn *f = atomic_load(&next_mmap);
	if (f)
		return f(addr, len, prot, flags, fd, off);
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int fdrm_real_munmap(void *addr, size_t len)
{
	munmap_fn *f = atomic_load(&next_munmap);
	return f ? f(addr, len) : (int)syscall(SYS_munmap, addr, len);
}

int fdrm_real_mprotect(void *addr, size_t len, int prot)
{
	mprotect_fn *f = atomic_load(&next_mprotect);
	return f ? f(addr, len, prot) : (int)syscall(SYS_mprotect, addr, len, prot);
}

void *fdrm_real_mremap(void *old, size_t oldlen, size_t newlen, int flags, void *new_addr)
{
	mremap_fn *f = atomic_load(&next_mremap);
	if (f)
		return f(old, oldlen, newlen, flags, new_addr);
	return (void *)syscall(SYS_mremap, old, oldlen, newlen, flags, new_addr);
}

int fdrm_real_ioctl(int fd, unsigned long req, void *arg)
{
	ioctl_fn *f = atomic_load(&next_ioctl);
	return f ? f(fd, req, arg) : (int)syscall(SYS_ioctl, fd, req, arg);
}

int fdrm_sys_ioctl(int fd, unsigned long req, void *arg)
{
	int saved = errno;
	long r = syscall(SYS_ioctl, fd, req, arg);
	int e = r < 0 ? errno : 0;
	errno = saved;
	return -e;
}

int fdrm_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int saved = errno;
	long r = syscall(SYS_newfstatat, dirfd, path, st, flags);
	int e = r < 0 ? errno : 0;
	errno = saved;
	return -e;
}

int fakedrm_strict_active(void)
{
	return 1;
}
