/* mmap(2) of a device file, the kernel's way, and the mappings that follow.
 *
 * The real mmap runs first, so every check the kernel makes before the
 * driver's (length, alignment, flags, the file's open mode, address space)
 * reports exactly as it would. Then the daemon applies i915_gem_mmap's
 * checks for this open and registers the mapping; if it refuses, the fresh
 * mapping goes again and mmap fails with the driver's errno.
 *
 * Each mapping is remembered here, piece by piece (a partial munmap or
 * mremap splits it, as it splits a VMA), with the cookie the daemon gave
 * it. When the last piece of a mapping goes, the daemon hears VMA_CLOSE;
 * a fork's child holds copies, so VMA_OPEN is sent for each before it. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct piece {
	uintptr_t start, end;
	uint64_t cookie;
	dev_t dev;
	int readonly; /* VM_MAYWRITE clear: no mprotect(PROT_WRITE) */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct piece *tab; /* sorted by start, disjoint; raw anonymous memory */
static size_t n, cap;
static atomic_size_t count;

int fdrm_map_any(void) { return atomic_load_explicit(&count, memory_order_relaxed) != 0; }
void fdrm_map_lock(void) { pthread_mutex_lock(&lock); }
void fdrm_map_unlock(void) { pthread_mutex_unlock(&lock); }

/* Grows the table with raw mappings: malloc could come back through us. */
static int reserve(size_t want)
{
	if (want <= cap)
		return 0;
	size_t ncap = cap ? cap * 2 : 256;
	while (ncap < want)
		ncap *= 2;
	struct piece *t = fdrm_real_mmap(NULL, ncap * sizeof(*t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return -1;
	if (tab) {
		memcpy(t, tab, n * sizeof(*t));
		fdrm_real_munmap(tab, cap * sizeof(*t));
	}
	tab = t;
	cap = ncap;
	return 0;
}

static void put(size_t i, struct piece p)
{
	memmove(&tab[i + 1], &tab[i], (n - i) * sizeof(*tab));
	tab[i] = p;
	n++;
}

static void drop(size_t i)
{
	memmove(&tab[i], &tab[i + 1], (n - i - 1) * sizeof(*tab));
	n--;
}

/* First piece ending after addr. */
static size_t first_after(uintptr_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (tab[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int has_cookie(uint64_t cookie)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].cookie == cookie)
			return 1;
	return 0;
}

static void vma_close(const struct piece *p)
{
	struct drm_fakedrm_vma v = { .cookie = p->cookie };
	fdrm_ctl_ioctl(p->dev, DRM_IOCTL_FAKEDRM_VMA_CLOSE, &v);
}

/* Cuts [lo, hi) out of the table (lock held). Mappings left with no piece
 * are closed, unless `keep` names the one being moved by mremap. */
static void cut(uintptr_t lo, uintptr_t hi, uint64_t keep)
{
	size_t i = first_after(lo);
	while (i < n && tab[i].start < hi) {
		struct piece p = tab[i];
		if (p.start < lo && p.end > hi) { /* a hole in the middle: split */
			if (reserve(n + 1) != 0)
				return;
			tab[i].end = lo;
			p.start = hi;
			put(i + 1, p);
			return;
		}
		if (p.start < lo) {
			tab[i++].end = lo;
			continue;
		}
		if (p.end > hi) {
			tab[i].start = hi;
			return;
		}
		drop(i);
		if (p.cookie != keep && !has_cookie(p.cookie))
			vma_close(&p);
	}
}

void fdrm_map_forget(uintptr_t start, size_t len)
{
	cut(start, start + FDRM_PAGE_ALIGN(len), 0);
	atomic_store(&count, n);
}

void fdrm_map_insert(uintptr_t start, size_t len, uint64_t cookie, dev_t dev, int readonly)
{
	uintptr_t end = start + FDRM_PAGE_ALIGN(len);
	cut(start, end, 0);
	if (reserve(n + 1) == 0)
		put(first_after(start), (struct piece){ start, end, cookie, dev, readonly });
	atomic_store(&count, n);
}

static void *map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	int saved = errno;
	void *p = fdrm_real_mmap(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED)
		return p;
	struct stat st;
	int statted = !(flags & MAP_ANONYMOUS) && fd >= 0 && fdrm_sys_fstatat(fd, "", &st, AT_EMPTY_PATH) == 0;
	int device = statted && fdrm_fd_minor(fd, &st) >= 0;
	int refused = statted && !device ? fdrm_export_mmap_refused(fd, &st, len, off) : 0;
	if (refused) {
		/* dma_buf_mmap_internal's range check, or a sync_file (no mmap). */
		fdrm_real_munmap(p, len);
		errno = refused;
		return MAP_FAILED;
	}
	if (!device) {
		/* It may have replaced (MAP_FIXED) or reused a device range. */
		if (fdrm_map_any()) {
			pthread_mutex_lock(&lock);
			fdrm_map_forget((uintptr_t)p, len);
			pthread_mutex_unlock(&lock);
		}
		errno = saved;
		return p;
	}
	fdrm_note_mount(fd, st.st_dev);
	struct drm_fakedrm_mmap q = { .offset = (uint64_t)off, .size = len, .prot = (uint32_t)prot };
	int r = fdrm_sys_ioctl(fd, DRM_IOCTL_FAKEDRM_MMAP, &q);
	pthread_mutex_lock(&lock);
	if (r == -EINVAL || r == -EACCES || r == -ENOMEM) {
		/* i915_gem_mmap refused (or the open holds too many mappings, as
		 * past vm.max_map_count): the mapping never was. */
		fdrm_real_munmap(p, len);
		fdrm_map_forget((uintptr_t)p, len);
		pthread_mutex_unlock(&lock);
		errno = -r;
		return MAP_FAILED;
	}
	if (r == 0)
		fdrm_map_insert((uintptr_t)p, len, q.cookie, st.st_dev, q.readonly);
	else /* a daemon without strict mode: plain behaviour */
		fdrm_map_forget((uintptr_t)p, len);
	pthread_mutex_unlock(&lock);
	errno = saved;
	return p;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return map(addr, len, prot, flags, fd, off);
}

/* Whether [lo, lo+len) holds any piece (lock held). */
static int overlaps(uintptr_t lo, size_t len)
{
	size_t i = first_after(lo);
	return i < n && tab[i].start < lo + FDRM_PAGE_ALIGN(len);
}

int munmap(void *addr, size_t len)
{
	if (!fdrm_map_any())
		return fdrm_real_munmap(addr, len);
	pthread_mutex_lock(&lock);
	if (!overlaps((uintptr_t)addr, len)) {
		/* Not ours (free() of a big block): no need to hold others up. */
		pthread_mutex_unlock(&lock);
		return fdrm_real_munmap(addr, len);
	}
	int r = fdrm_real_munmap(addr, len);
	if (r == 0) {
		int saved = errno;
		fdrm_map_forget((uintptr_t)addr, len);
		errno = saved;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* The piece holding addr (lock held), or NULL. */
static struct piece *at(uintptr_t addr)
{
	size_t i = first_after(addr);
	return i < n && tab[i].start <= addr ? &tab[i] : NULL;
}

void *mremap(void *old, size_t oldlen, size_t newlen, int flags, ...)
{
	void *new_addr = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (!fdrm_map_any())
		return fdrm_real_mremap(old, oldlen, newlen, flags, new_addr);
	pthread_mutex_lock(&lock);
	struct piece *pc = at((uintptr_t)old);
	int valid = !(flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) && !((uintptr_t)old & 4095) && newlen &&
		    (!(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) || (flags & MREMAP_MAYMOVE));
	size_t ol = FDRM_PAGE_ALIGN(oldlen), nl = FDRM_PAGE_ALIGN(newlen);
	int err = 0;
	/* i915 mappings are VM_DONTEXPAND | VM_PFNMAP (mm/mremap.c). */
	if (valid && pc && (flags & MREMAP_DONTUNMAP))
		err = EINVAL;
	else if (valid && pc && ((uintptr_t)old + ol > pc->end || nl > ol))
		err = EFAULT;
	if (err) {
		pthread_mutex_unlock(&lock);
		errno = err;
		return MAP_FAILED;
	}
	void *r = fdrm_real_mremap(old, oldlen, newlen, flags, new_addr);
	if (r != MAP_FAILED) {
		int saved = errno;
		if (pc) {
			struct piece p = *pc;
			cut((uintptr_t)old, (uintptr_t)old + ol, p.cookie);
			fdrm_map_insert((uintptr_t)r, nl, p.cookie, p.dev, p.readonly);
		} else {
			fdrm_map_forget((uintptr_t)r, nl);
		}
		errno = saved;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* mprotect adding write to a readonly object's mapping: the kernel applies
 * the change VMA by VMA and stops with EACCES at the first without
 * VM_MAYWRITE. 0 when nothing of ours is in the way. */
static int readonly_in(void *addr, size_t len, int prot, uintptr_t *stop)
{
	if (!(prot & PROT_WRITE) || !fdrm_map_any() || ((uintptr_t)addr & 4095))
		return 0;
	uintptr_t lo = (uintptr_t)addr, hi = lo + FDRM_PAGE_ALIGN(len);
	int found = 0;
	pthread_mutex_lock(&lock);
	for (size_t i = first_after(lo); i < n && tab[i].start < hi; i++) {
		if (tab[i].readonly) {
			*stop = tab[i].start > lo ? tab[i].start : lo;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

int mprotect(void *addr, size_t len, int prot)
{
	uintptr_t stop;
	if (!readonly_in(addr, len, prot, &stop))
		return fdrm_real_mprotect(addr, len, prot);
	if (stop > (uintptr_t)addr && fdrm_real_mprotect(addr, stop - (uintptr_t)addr, prot) != 0)
		return -1;
	errno = EACCES;
	return -1;
}

int pkey_mprotect(void *addr, size_t len, int prot, int pkey)
{
	static int (*next)(void *, size_t, int, int);
	if (!next)
		next = (int (*)(void *, size_t, int, int))fdrm_next("pkey_mprotect");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	uintptr_t stop;
	if (!readonly_in(addr, len, prot, &stop))
		return next(addr, len, prot, pkey);
	if (stop > (uintptr_t)addr && next(addr, stop - (uintptr_t)addr, prot, pkey) != 0)
		return -1;
	errno = EACCES;
	return -1;
}

/* fork: the child will hold a copy of every mapping (vm_open). The holds
 * are taken in the parent before the fork: taken in the child, they raced
 * the parent's munmap of its own copy, which could free an object the
 * child still maps. A fork that fails leaves its holds to the file's
 * release (an object kept too long, never one freed early). */
static void prepare(void)
{
	pthread_mutex_lock(&lock);
	int saved = errno;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < i && tab[j].cookie != tab[i].cookie)
			j++;
		if (j < i)
			continue; /* held with an earlier piece */
		struct drm_fakedrm_vma v = { .cookie = tab[i].cookie };
		if (fdrm_ctl_ioctl(tab[i].dev, DRM_IOCTL_FAKEDRM_VMA_OPEN, &v) != 0)
			tab[i].cookie = 0; /* the daemon forgot it (file released): untracked */
	}
	for (size_t i = n; i-- > 0;)
		if (tab[i].cookie == 0)
			drop(i);
	atomic_store(&count, n);
	errno = saved;
	fdrm_id_lock();
}

static void parent(void)
{
	fdrm_id_unlock();
	pthread_mutex_unlock(&lock);
}

static void child(void)
{
	fdrm_id_unlock();
	pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void init(void)
{
	pthread_atfork(prepare, parent, child);
}
