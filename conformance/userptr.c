/* userptr: DRM_IOCTL_I915_GEM_USERPTR (i915_gem_userptr.c, 6.11+): objects
 * whose pages are the caller's own memory.
 *  - the errno table in the kernel's order (flags, size, alignment, access_ok,
 *    UNSYNCHRONIZED ENODEV, PROBE on a hole and on a device mapping EFAULT),
 *    HAS_USERPTR_PROBE, and the refusals of a proxy object: MMAP_OFFSET (every
 *    type) and MMAP_GTT ENODEV, PREAD/PWRITE EINVAL, SET_TILING ENXIO,
 *    SET_CACHING ENXIO except CACHED, FLINK allowed;
 *  - a READ_ONLY userptr stored to by the GPU (MI_STORE_DWORD_IMM, XY_COLOR_BLT)
 *    stays unchanged, and so does the client's memory;
 *  - a writable userptr: GPU stores land in the client's memory, the bytes the
 *    GPU left alone keep what the CPU wrote meanwhile;
 *  - a userptr read by a blit into a GTT-mapped object: the GPU reads the
 *    client's bytes at execution time, checked through the map and PREAD;
 *  - a spinning batch in a userptr ends when the CPU stores
 *    MI_BATCH_BUFFER_END into the client's memory;
 *  - after munmap of its range: EXECBUFFER2 and SET_DOMAIN EFAULT;
 *  - use by another process (a fork child; a parent after its creating child
 *    exited, by the shared handle and by flink; the creator after exec, at
 *    the same address mapped again): EFAULT, nothing else breaks;
 *  - a writable userptr over read-only memory cannot be pinned (EFAULT), a
 *    READ_ONLY one can. */
#include "igt_lite.h"
#include "gtt_lite.h"
#include "gpu_lite.h"
#include <sys/wait.h>

#define NAME "userptr"
#define BATCH 0x100000ull
#define UPTR 0x200000ull
#define DST 0x400000ull

static int __userptr(int fd, void *ptr, uint64_t size, uint32_t flags, uint32_t *handle)
{
	struct drm_i915_gem_userptr u = { .user_ptr = (uintptr_t)ptr, .user_size = size, .flags = flags };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_USERPTR, &u);
	*handle = u.handle;
	return r;
}

static uint32_t userptr(int fd, void *ptr, uint64_t size, uint32_t flags)
{
	uint32_t h = 0;
	CHECK_OK(__userptr(fd, ptr, size, flags, &h));
	CHECK(h != 0);
	return h;
}

static void *pages(size_t n, int prot)
{
	void *p = mmap(NULL, n * PAGE_SZ, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

/* One blitter batch: MI_STORE_DWORD_IMM of `value` at dword 4 of the
 * target, then XY_COLOR_BLT of its second 1 KiB row (dwords 256-511). */
static int store_and_fill(int fd, uint32_t batch, uint32_t target, uint32_t value, uint32_t color)
{
	uint32_t b[32], n = 0;
	b[n++] = MI_STORE_DWORD_IMM; b[n++] = (uint32_t)UPTR + 16; b[n++] = 0; b[n++] = value;
	b[n++] = XY_COLOR_BLT; b[n++] = (3 << 24) | (0xf0 << 16) | 1024;
	b[n++] = 1 << 16;             /* y1 = 1, x1 = 0 */
	b[n++] = (2 << 16) | 256;     /* y2 = 2, x2 = 256 */
	b[n++] = (uint32_t)UPTR; b[n++] = 0; b[n++] = color;
	b[n++] = MI_BATCH_BUFFER_END;
	gem_pwrite(fd, batch, 0, b, n * 4);
	struct drm_i915_gem_exec_object2 obj[2] = {
		pinned(target, UPTR, EXEC_OBJECT_WRITE), pinned(batch, BATCH, 0),
	};
	int r = __exec(fd, 0, obj, 2, I915_EXEC_BLT | I915_EXEC_NO_RELOC);
	if (r == 0)
		gem_sync(fd, batch);
	return r;
}

static void errno_table(int fd)
{
	uint32_t h;
	char *p = pages(4, PROT_READ | PROT_WRITE);
	CHECK_ERRNO(__userptr(fd, p, PAGE_SZ, ~0u, &h), EINVAL);
	CHECK_ERRNO(__userptr(fd, NULL, ~0ull, ~0u, &h), EINVAL);
	CHECK_ERRNO(__userptr(fd, p, 0, 0, &h), EINVAL);
	CHECK_ERRNO(__userptr(fd, NULL, ~0ull, 0, &h), EINVAL);        /* not page-aligned */
	CHECK_ERRNO(__userptr(fd, p + 1, PAGE_SZ, 0, &h), EINVAL);
	CHECK_ERRNO(__userptr(fd, p, PAGE_SZ + 1, 0, &h), EINVAL);
	CHECK_ERRNO(__userptr(fd, (void *)0x7ffffffff000ull, 2 * PAGE_SZ, 0, &h), EFAULT); /* access_ok */
	CHECK_ERRNO(__userptr(fd, (void *)~0xfffull, PAGE_SZ, 0, &h), EFAULT);
	CHECK_ERRNO(__userptr(fd, p, PAGE_SZ, I915_USERPTR_UNSYNCHRONIZED, &h), ENODEV);
	CHECK_ERRNO(__userptr(fd, p + 1, PAGE_SZ, I915_USERPTR_UNSYNCHRONIZED, &h), EINVAL); /* alignment first */
	CHECK(getparam(fd, I915_PARAM_HAS_USERPTR_PROBE) == 1);

	/* PROBE: a hole, then a device mapping (a GTT mmap of another object). */
	CHECK_OK(munmap(p + PAGE_SZ, PAGE_SZ));
	CHECK_ERRNO(__userptr(fd, p, 3 * PAGE_SZ, I915_USERPTR_PROBE, &h), EFAULT);
	CHECK_ERRNO(__userptr(fd, p + PAGE_SZ, PAGE_SZ, I915_USERPTR_PROBE, &h), EFAULT);
	gem_close(fd, userptr(fd, p, PAGE_SZ, I915_USERPTR_PROBE));
	gem_close(fd, userptr(fd, p + 2 * PAGE_SZ, 2 * PAGE_SZ, I915_USERPTR_PROBE | I915_USERPTR_READ_ONLY));
	/* Without PROBE a hole is found only when the pages are needed. */
	h = userptr(fd, p, 3 * PAGE_SZ, 0);
	CHECK_ERRNO(__gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, 0), EFAULT);
	gem_close(fd, h);

	uint32_t bo = gem_create(fd, 2 * PAGE_SZ);
	uint64_t off = 0;
	CHECK_OK(__gem_mmap_gtt(fd, bo, &off));
	void *gtt = gem_mmap(fd, off, 2 * PAGE_SZ, PROT_READ | PROT_WRITE);
	CHECK_ERRNO(__userptr(fd, gtt, 2 * PAGE_SZ, I915_USERPTR_PROBE, &h), EFAULT);
	/* Made without PROBE, it cannot be pinned (the kernel's gup of VM_PFNMAP). */
	h = userptr(fd, gtt, 2 * PAGE_SZ, 0);
	CHECK_ERRNO(__gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, 0), EFAULT);
	gem_close(fd, h);
	munmap(gtt, 2 * PAGE_SZ);
	gem_close(fd, bo);

	/* A proxy object: no mmap, no pread/pwrite, no tiling, caching CACHED only. */
	char *q = pages(2, PROT_READ | PROT_WRITE);
	h = userptr(fd, q, 2 * PAGE_SZ, 0);
	uint64_t types[] = { I915_MMAP_OFFSET_GTT, I915_MMAP_OFFSET_WC, I915_MMAP_OFFSET_WB, I915_MMAP_OFFSET_UC };
	for (unsigned i = 0; i < 4; i++)
		CHECK_ERRNO(__mmap_offset(fd, h, types[i], &off), ENODEV);
	CHECK_ERRNO(__gem_mmap_gtt(fd, h, &off), ENODEV);
	char buf[64];
	CHECK_ERRNO(__gem_pread(fd, h, 0, buf, sizeof buf), EINVAL);
	CHECK_ERRNO(__gem_pwrite(fd, h, 0, buf, sizeof buf), EINVAL);
	CHECK_ERRNO(__gem_pread(fd, h, 2 * PAGE_SZ, buf, sizeof buf), EINVAL);  /* bounds first: same errno */
	CHECK_ERRNO(__gem_pread(fd, h + 100, 0, buf, sizeof buf), ENOENT);
	struct drm_i915_gem_set_tiling st;
	CHECK_ERRNO(__set_tiling(fd, h, I915_TILING_X, 512, &st), ENXIO);
	CHECK_ERRNO(__set_tiling(fd, h, I915_TILING_NONE, 0, &st), ENXIO);
	struct drm_i915_gem_caching c = { .handle = h, .caching = I915_CACHING_NONE };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_CACHING, &c), ENXIO);
	c.caching = I915_CACHING_DISPLAY;
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_CACHING, &c), ENXIO);
	c.caching = I915_CACHING_CACHED;
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_CACHING, &c));
	c.caching = 99;
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_CACHING, &c), EINVAL);   /* argument first */
	c.caching = 0;
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_GET_CACHING, &c));
	CHECK(c.caching == I915_CACHING_CACHED);
	CHECK_OK(__gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU));
	CHECK(gem_flink(fd, h) != 0);
	/* Legacy GEM_MMAP: no shmem file behind a userptr (ENXIO); without the
	 * strict library every GEM_MMAP is EOPNOTSUPP. */
	struct drm_i915_gem_mmap mm = { .handle = h, .size = PAGE_SZ };
	int strict = strict_mode();
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP, &mm), strict ? ENXIO : EOPNOTSUPP);
	info("%s: legacy GEM_MMAP of a userptr is %s", strict ? "strict" : "plain", strict ? "ENXIO" : "EOPNOTSUPP");
	gem_close(fd, h);
	munmap(q, 2 * PAGE_SZ);
	munmap(p, 4 * PAGE_SZ);
}

static void readonly_and_writable(int fd, uint32_t batch)
{
	uint32_t *mem = pages(2, PROT_READ | PROT_WRITE);
	for (unsigned i = 0; i < 2 * PAGE_SZ / 4; i++)
		mem[i] = 0x5eed0000 + i;

	/* READ_ONLY: the store and the fill are dropped; memory untouched. */
	uint32_t ro = userptr(fd, mem, 2 * PAGE_SZ, I915_USERPTR_READ_ONLY);
	CHECK_OK(store_and_fill(fd, batch, ro, 0xdeadbeef, 0xc0c0c0c0));
	for (unsigned i = 0; i < 2 * PAGE_SZ / 4; i++)
		CHECK_MSG(mem[i] == 0x5eed0000 + i, "readonly userptr dword %u changed: %#x", i, mem[i]);
	CHECK_ERRNO(__gem_pwrite(fd, ro, 0, mem, 4), EINVAL);
	gem_close(fd, ro);

	/* Writable: the GPU's stores land; the CPU's bytes elsewhere stay. */
	uint32_t rw = userptr(fd, mem, 2 * PAGE_SZ, 0);
	mem[0] = 0x11111111;      /* after creation: the GPU copy is taken at execution */
	CHECK_OK(store_and_fill(fd, batch, rw, 0xdeadbeef, 0xc0c0c0c0));
	CHECK(mem[0] == 0x11111111);
	CHECK_MSG(mem[4] == 0xdeadbeef, "store: %#x", mem[4]);
	for (unsigned i = 256; i < 512; i++)
		CHECK_MSG(mem[i] == 0xc0c0c0c0, "fill dword %u: %#x", i, mem[i]);
	CHECK(mem[5] == 0x5eed0005 && mem[255] == 0x5eed00ff && mem[512] == 0x5eed0200);
	gem_close(fd, rw);

	/* Read-only memory: a writable userptr cannot be pinned (FOLL_WRITE),
	 * a READ_ONLY one can, and still nothing is written. */
	CHECK_OK(mprotect(mem, 2 * PAGE_SZ, PROT_READ));
	rw = userptr(fd, mem, 2 * PAGE_SZ, 0);
	CHECK_ERRNO(store_and_fill(fd, batch, rw, 1, 2), EFAULT);
	CHECK_ERRNO(__gem_set_domain(fd, rw, I915_GEM_DOMAIN_CPU, 0), EFAULT);
	gem_close(fd, rw);
	ro = userptr(fd, mem, 2 * PAGE_SZ, I915_USERPTR_READ_ONLY);
	CHECK_OK(store_and_fill(fd, batch, ro, 1, 2));
	CHECK(mem[4] == 0xdeadbeef && mem[256] == 0xc0c0c0c0);
	gem_close(fd, ro);
	munmap(mem, 2 * PAGE_SZ);
}

/* XY_SRC_COPY_BLT from a userptr into a GTT-mapped object. */
static void blit_from_userptr(int fd, uint32_t batch)
{
	const uint64_t size = 4 * PAGE_SZ;
	uint32_t *mem = pages(4, PROT_READ | PROT_WRITE);
	uint32_t src = userptr(fd, mem, size, I915_USERPTR_READ_ONLY);
	uint32_t dst = gem_create(fd, size);
	uint64_t off = 0;
	CHECK_OK(__gem_mmap_gtt(fd, dst, &off));
	volatile uint32_t *gtt = gem_mmap(fd, off, size, PROT_READ | PROT_WRITE);
	CHECK(gtt[0] == 0);
	/* Written after the userptr was made: the GPU reads what is there now. */
	for (unsigned i = 0; i < size / 4; i++)
		mem[i] = 0xb1000000 + i;

	uint32_t b[16], n = 0;
	b[n++] = XY_SRC_COPY_BLT; b[n++] = (3 << 24) | (0xcc << 16) | 1024;
	b[n++] = 0; b[n++] = (16 << 16) | 256;
	b[n++] = (uint32_t)DST; b[n++] = 0;
	b[n++] = 0; b[n++] = 1024;
	b[n++] = (uint32_t)UPTR; b[n++] = 0;
	b[n++] = MI_BATCH_BUFFER_END;
	gem_pwrite(fd, batch, 0, b, n * 4);
	struct drm_i915_gem_exec_object2 obj[3] = {
		pinned(src, UPTR, 0), pinned(dst, DST, EXEC_OBJECT_WRITE), pinned(batch, BATCH, 0),
	};
	CHECK_OK(__exec(fd, 0, obj, 3, I915_EXEC_BLT | I915_EXEC_NO_RELOC));
	gem_sync(fd, dst);
	gem_set_domain(fd, dst, I915_GEM_DOMAIN_GTT, 0);
	uint32_t *back = xmalloc(size);
	gem_pread(fd, dst, 0, back, size);
	for (unsigned i = 0; i < size / 4; i++) {
		CHECK_MSG(gtt[i] == 0xb1000000 + i, "GTT map dword %u: %#x", i, gtt[i]);
		CHECK_MSG(back[i] == 0xb1000000 + i, "PREAD dword %u: %#x", i, back[i]);
	}
	free(back);
	munmap((void *)gtt, size);
	gem_close(fd, dst);
	gem_close(fd, src);
	munmap(mem, size);
}

/* A spinner whose batch is a userptr: the CPU's store of
 * MI_BATCH_BUFFER_END into the client's memory ends it. */
static void spinning_batch(int fd)
{
	uint32_t *mem = pages(1, PROT_READ | PROT_WRITE);
	mem[0] = MI_ARB_CHECK;
	mem[1] = MI_BATCH_BUFFER_START;
	mem[2] = (uint32_t)BATCH;
	mem[3] = 0;
	uint32_t h = userptr(fd, mem, PAGE_SZ, I915_USERPTR_READ_ONLY);
	struct drm_i915_gem_exec_object2 obj[1] = { pinned(h, BATCH, 0) };
	CHECK_OK(__exec(fd, 0, obj, 1, I915_EXEC_RENDER | I915_EXEC_NO_RELOC));
	usleep(20000);
	uint32_t busy = 0;
	CHECK_OK(__gem_busy(fd, h, &busy));
	CHECK_MSG(busy != 0, "the spinner is not running");
	__atomic_store_n(&mem[0], MI_BATCH_BUFFER_END, __ATOMIC_SEQ_CST);
	int64_t t = 1000000000;     /* well before the 5.6 s heartbeat reset */
	CHECK_OK(__gem_wait(fd, h, &t));
	struct drm_i915_reset_stats rs;
	CHECK_OK(__reset_stats(fd, 0, &rs));
	CHECK_MSG(rs.batch_active == 0, "the spinner hung instead of ending");
	gem_close(fd, h);
	munmap(mem, PAGE_SZ);
}

/* munmap of the range: the pages are gone (the mmu notifier's invalidation). */
static void after_munmap(int fd, uint32_t batch)
{
	uint32_t *mem = pages(2, PROT_READ | PROT_WRITE);
	uint32_t h = userptr(fd, mem, 2 * PAGE_SZ, 0);
	CHECK_OK(store_and_fill(fd, batch, h, 7, 8));
	CHECK(mem[4] == 7);
	CHECK_OK(munmap(mem, 2 * PAGE_SZ));
	CHECK_ERRNO(store_and_fill(fd, batch, h, 7, 8), EFAULT);
	CHECK_ERRNO(__gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, 0), EFAULT);
	/* Mapped again at the same address: usable again, with the new pages. */
	uint32_t *again = mmap(mem, 2 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(again == mem);
	CHECK_OK(store_and_fill(fd, batch, h, 9, 10));
	CHECK(mem[4] == 9 && mem[0] == 0);
	gem_close(fd, h);
	munmap(mem, 2 * PAGE_SZ);
}

/* Another process's use: the pages are pinned only in the creator's mm. */
static void other_process(int fd, uint32_t batch)
{
	uint32_t *mem = pages(2, PROT_READ | PROT_WRITE);
	uint32_t h = userptr(fd, mem, 2 * PAGE_SZ, 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The fork child shares the open and the handle, not the mm. */
		int e = store_and_fill(fd, batch, h, 1, 2) == -EFAULT && __gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, 0) == -EFAULT;
		_exit(e ? 0 : 1);
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child could use the parent's userptr");
	CHECK(mem[4] == 0);
	CHECK_OK(store_and_fill(fd, batch, h, 3, 4));
	CHECK(mem[4] == 3);
	gem_close(fd, h);

	/* A child creates one, names it by flink, and exits. */
	int pipefd[2];
	CHECK_OK(pipe(pipefd));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint32_t c[2] = { 0, 0 };
		void *own = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct drm_i915_gem_userptr u = { .user_ptr = (uintptr_t)own, .user_size = 2 * PAGE_SZ };
		struct drm_gem_flink fl = { 0 };
		if (own != MAP_FAILED && drm_ioctl(fd, DRM_IOCTL_I915_GEM_USERPTR, &u) == 0) {
			fl.handle = u.handle;
			if (drm_ioctl(fd, DRM_IOCTL_GEM_FLINK, &fl) == 0)
				c[0] = u.handle, c[1] = fl.name;
		}
		_exit(write(pipefd[1], c, sizeof c) == sizeof c ? 0 : 1);
	}
	uint32_t got[2];
	CHECK(read(pipefd[0], got, sizeof got) == sizeof got);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(got[0] != 0 && got[1] != 0);
	close(pipefd[0]);
	close(pipefd[1]);
	uint32_t named = gem_open(fd, got[1], NULL);
	CHECK_ERRNO(store_and_fill(fd, batch, got[0], 5, 6), EFAULT);
	CHECK_ERRNO(store_and_fill(fd, batch, named, 5, 6), EFAULT);
	CHECK_ERRNO(__gem_set_domain(fd, named, I915_GEM_DOMAIN_CPU, 0), EFAULT);
	gem_close(fd, named);
	gem_close(fd, got[0]);

	/* Nothing else broke: a fresh one works. */
	h = userptr(fd, mem, 2 * PAGE_SZ, 0);
	CHECK_OK(store_and_fill(fd, batch, h, 11, 12));
	CHECK(mem[4] == 11);
	gem_close(fd, h);
	munmap(mem, 2 * PAGE_SZ);
}

/* After exec the process has another mm: the userptr it made before, at an
 * address mapped again by the new image, cannot be pinned (EFAULT). */
static int after_exec_child(int fd, uint32_t h, uint64_t address)
{
	/* Mapped again if the new image left the address free (it is randomised). */
	void *p = mmap((void *)(uintptr_t)address, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED && p != (void *)(uintptr_t)address)
		munmap(p, 2 * PAGE_SZ);
	return __gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, 0) == -EFAULT ? 0 : 1;
}

static void after_exec(const char *path)
{
	int fd = open(path, O_RDWR);    /* inherited across exec */
	CHECK(fd >= 0);
	uint32_t *mem = pages(2, PROT_READ | PROT_WRITE);
	uint32_t h = userptr(fd, mem, 2 * PAGE_SZ, 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char a[3][32];
		snprintf(a[0], sizeof a[0], "%d", fd);
		snprintf(a[1], sizeof a[1], "%u", h);
		snprintf(a[2], sizeof a[2], "%llu", (unsigned long long)(uintptr_t)mem);
		/* The child's own userptr, then exec: same pid, new mm. */
		uint32_t own = 0;
		if (__userptr(fd, mem, 2 * PAGE_SZ, 0, &own))
			_exit(3);
		snprintf(a[1], sizeof a[1], "%u", own);
		execl("/proc/self/exe", "userptr", path, "--after-exec", a[0], a[1], a[2], (char *)NULL);
		_exit(4);
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "after exec: status %#x", status);
	CHECK_OK(__gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, 0));
	gem_close(fd, h);
	munmap(mem, 2 * PAGE_SZ);
	close(fd);
}

static void debug_listing(const char *path, int fd)
{
	uint32_t *mem = pages(1, PROT_READ | PROT_WRITE);
	uint32_t h = userptr(fd, mem, PAGE_SZ, 0);
	FILE *f = debug_file(path, "i915_gem_objects");
	if (f) {
		char line[512];
		int found = 0;
		while (fgets(line, sizeof line, f))
			found |= strstr(line, "userptr@0x") != NULL;
		fclose(f);
		CHECK_MSG(found, "no userptr object in debug/i915_gem_objects");
	} else {
		info("no debug/i915_gem_objects beside the device: listing not checked");
	}
	gem_close(fd, h);
	munmap(mem, PAGE_SZ);
}

int main(int argc, char **argv)
{
	alarm(60);
	if (argc == 6 && !strcmp(argv[2], "--after-exec"))
		return after_exec_child(atoi(argv[3]), (uint32_t)atoi(argv[4]), strtoull(argv[5], NULL, 0));
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ);
	errno_table(fd);
	readonly_and_writable(fd, batch);
	blit_from_userptr(fd, batch);
	spinning_batch(fd);
	after_munmap(fd, batch);
	other_process(fd, batch);
	after_exec(path);
	debug_listing(path, fd);
	gem_close(fd, batch);
	close(fd);
	pass(NAME, "errno table, readonly and writable GPU stores, blit from userptr, munmap, other processes");
	return 0;
}
