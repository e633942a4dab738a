/* igt_lite.h - tiny IGT-style helpers shared by the FakeDRM examples (header only, include first). */
#ifndef IGT_LITE_H
#define IGT_LITE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>
#include "fakedrm.h"

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PAGE_SZ 4096ull
/* drm_vma_offset_manager: fake offsets start at 4 GiB on 64-bit. */
#define FAKE_OFFSET_START (4ull * GiB)

/* ---------------------------------------------------------------- reporting */

static const char *igt_test_name = "test";

static inline const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* "0", "5" or "-ENOENT" for a wrapper's return value (>= 0 or -errno). */
static inline const char *igt_strret(long r, char *buf, size_t n)
{
	if (r < 0)
		snprintf(buf, n, "-%s", errname((int)-r));
	else
		snprintf(buf, n, "%ld", r);
	return buf;
}

__attribute__((format(printf, 1, 2), noreturn))
static inline void fail(const char *fmt, ...)
{
	va_list ap;
	flockfile(stdout);
	printf("FAIL %s: ", igt_test_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	funlockfile(stdout);
	exit(1);
}

__attribute__((format(printf, 2, 3), noreturn))
static inline void pass(const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("PASS %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(0);
}

__attribute__((format(printf, 2, 3), noreturn))
static inline void skip(const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("SKIP %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(77);
}

/* Informational line; never the last line a program prints. */
__attribute__((format(printf, 1, 2)))
static inline void info(const char *fmt, ...)
{
	va_list ap;
	flockfile(stdout);
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	funlockfile(stdout);
}

/* Where the test called a die-on-error helper (gem_create(), ...), for its messages. */
static __thread const char *igt_at_file = "?";
static __thread int igt_at_line;
#define IGT_AT(call) (igt_at_file = __FILE__, igt_at_line = __LINE__, (call))

#define IGT_CHECK_AT(file, line, expr, str) do { \
	if (!(expr)) \
		fail("%s:%d: CHECK(%s) failed", file, line, str); \
} while (0)

/* expr returns 0/positive or -errno; expect exactly -err (err = 0 for success). */
#define IGT_CHECK_ERRNO_AT(file, line, expr, str, err) do { \
	long r_ = (long)(expr); \
	if (r_ != -(long)(err)) { \
		char g_[32], w_[32]; \
		fail("%s:%d: %s returned %s, expected %s", file, line, str, \
		     igt_strret(r_, g_, sizeof(g_)), igt_strret(-(long)(err), w_, sizeof(w_))); \
	} \
} while (0)

#define CHECK(expr) IGT_CHECK_AT(__FILE__, __LINE__, expr, #expr)
#define CHECK_MSG(expr, fmt, ...) do { \
	if (!(expr)) \
		fail("%s:%d: CHECK(%s) failed: " fmt, __FILE__, __LINE__, #expr, ##__VA_ARGS__); \
} while (0)
#define CHECK_ERRNO(expr, err) IGT_CHECK_ERRNO_AT(__FILE__, __LINE__, expr, #expr, err)
#define CHECK_OK(expr) IGT_CHECK_ERRNO_AT(__FILE__, __LINE__, expr, #expr, 0)

/* Inside helpers: report the test's call site recorded by IGT_AT(). */
#define HCHECK(expr) IGT_CHECK_AT(igt_at_file, igt_at_line, expr, #expr)
#define HCHECK_OK(expr) IGT_CHECK_ERRNO_AT(igt_at_file, igt_at_line, expr, #expr, 0)

/* ------------------------------------------------------- SIGBUS-safe probes */

static __thread sigjmp_buf igt_probe_env;
static __thread volatile sig_atomic_t igt_probe_active;

static inline void igt_write_str(const char *s)
{
	ssize_t r = write(1, s, strlen(s));
	(void)r;
}

static void igt_fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (igt_probe_active) {
		igt_probe_active = 0;
		siglongjmp(igt_probe_env, 1);
	}
	/* A fault outside a probe: report it as this test's failure line. */
	char hex[19] = "0x";
	uintptr_t a = (uintptr_t)si->si_addr;
	for (int i = 0; i < 16; i++)
		hex[2 + i] = "0123456789abcdef"[(a >> (60 - 4 * i)) & 0xf];
	hex[18] = 0;
	igt_write_str("FAIL ");
	igt_write_str(igt_test_name);
	igt_write_str(sig == SIGBUS ? ": unexpected SIGBUS at " : ": unexpected SIGSEGV at ");
	igt_write_str(hex);
	igt_write_str("\n");
	_exit(1);
}

static void igt_alarm_handler(int sig)
{
	(void)sig;
	igt_write_str("FAIL ");
	igt_write_str(igt_test_name);
	igt_write_str(": timeout (alarm fired, test hung)\n");
	_exit(1);
}

static inline void igt_install_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = igt_fault_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = igt_alarm_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

/* Read one dword; -1 if the access raised SIGBUS/SIGSEGV, else 0. */
static inline int try_read32(volatile uint32_t *p, uint32_t *out)
{
	if (sigsetjmp(igt_probe_env, 1))
		return -1;
	igt_probe_active = 1;
	uint32_t v = *p;
	igt_probe_active = 0;
	*out = v;
	return 0;
}

/* Write one dword; -1 if the access raised SIGBUS/SIGSEGV, else 0. */
static inline int try_write32(volatile uint32_t *p, uint32_t v)
{
	if (sigsetjmp(igt_probe_env, 1))
		return -1;
	igt_probe_active = 1;
	*p = v;
	igt_probe_active = 0;
	return 0;
}

/* Common start of every main(): name, line-buffered stdout, handlers, argv[1]. */
static inline const char *igt_init(int argc, char **argv, const char *name)
{
	igt_test_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
	igt_install_handlers();
	if (argc != 2)
		fail("usage: %s <path-to-card0>", argv[0]);
	return argv[1];
}

/* ------------------------------------------------------------------ device */

static inline int drm_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open(%s): %s", path, strerror(errno));
	return fd;
}

/* <dir of card0>/renderD128, in a static buffer. */
static inline const char *render_path(const char *card0)
{
	static char buf[PATH_MAX];
	const char *slash = strrchr(card0, '/');
	if (!slash)
		snprintf(buf, sizeof(buf), "renderD128");
	else
		snprintf(buf, sizeof(buf), "%.*s/renderD128", (int)(slash - card0), card0);
	return buf;
}

/* drmIoctl-style: retry EINTR/EAGAIN; returns >= 0 or -errno. */
static inline int drm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do
		r = ioctl(fd, req, arg);
	while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r == -1 ? -errno : r;
}

/* DRM_IOCTL_VERSION with the two-call length protocol; strings NUL-terminated, caller frees. */
static inline int drm_get_version(int fd, struct drm_version *v)
{
	memset(v, 0, sizeof(*v));
	int r = drm_ioctl(fd, DRM_IOCTL_VERSION, v);
	if (r)
		return r;
	v->name = calloc(1, v->name_len + 1);
	v->date = calloc(1, v->date_len + 1);
	v->desc = calloc(1, v->desc_len + 1);
	if (!v->name || !v->date || !v->desc)
		fail("out of memory");
	return drm_ioctl(fd, DRM_IOCTL_VERSION, v);
}

static inline int __getparam(int fd, int param, int *value)
{
	struct drm_i915_getparam gp = { .param = param, .value = value };
	return drm_ioctl(fd, DRM_IOCTL_I915_GETPARAM, &gp);
}

static inline int igt_getparam(int fd, int param)
{
	int v = 0;
	HCHECK_OK(__getparam(fd, param, &v));
	return v;
}

/* -------------------------------------------------------------------- GEM */

static inline int __gem_create(int fd, uint64_t *size, uint32_t *handle)
{
	struct drm_i915_gem_create c = { .size = *size };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &c);
	if (r == 0) {
		*size = c.size;
		*handle = c.handle;
	}
	return r;
}

static inline uint32_t igt_gem_create(int fd, uint64_t size)
{
	uint32_t h = 0;
	HCHECK_OK(__gem_create(fd, &size, &h));
	HCHECK(h != 0);
	return h;
}

static inline int __gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };
	return drm_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static inline void igt_gem_close(int fd, uint32_t handle)
{
	HCHECK_OK(__gem_close(fd, handle));
}

static inline int __gem_flink(int fd, uint32_t handle, uint32_t *name)
{
	struct drm_gem_flink f = { .handle = handle };
	int r = drm_ioctl(fd, DRM_IOCTL_GEM_FLINK, &f);
	if (r == 0)
		*name = f.name;
	return r;
}

static inline uint32_t igt_gem_flink(int fd, uint32_t handle)
{
	uint32_t name = 0;
	HCHECK_OK(__gem_flink(fd, handle, &name));
	HCHECK(name != 0);
	return name;
}

static inline int __gem_open(int fd, uint32_t name, uint32_t *handle, uint64_t *size)
{
	struct drm_gem_open o = { .name = name };
	int r = drm_ioctl(fd, DRM_IOCTL_GEM_OPEN, &o);
	if (r == 0) {
		*handle = o.handle;
		if (size)
			*size = o.size;
	}
	return r;
}

static inline uint32_t igt_gem_open(int fd, uint32_t name, uint64_t *size)
{
	uint32_t h = 0;
	HCHECK_OK(__gem_open(fd, name, &h, size));
	HCHECK(h != 0);
	return h;
}

static inline int __mmap_offset(int fd, uint32_t handle, uint64_t flags, uint64_t *offset)
{
	struct drm_i915_gem_mmap_offset mo = { .handle = handle, .flags = flags };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &mo);
	if (r == 0)
		*offset = mo.offset;
	return r;
}

static inline uint64_t igt_mmap_offset(int fd, uint32_t handle, uint64_t flags)
{
	uint64_t off = 0;
	HCHECK_OK(__mmap_offset(fd, handle, flags, &off));
	if (off < FAKE_OFFSET_START || off % PAGE_SZ)
		fail("%s:%d: MMAP_OFFSET returned offset 0x%llx (not page aligned or below 4 GiB)",
		     igt_at_file, igt_at_line, (unsigned long long)off);
	return off;
}

static inline int __gem_mmap_gtt(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_i915_gem_mmap_gtt mg = { .handle = handle };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_GTT, &mg);
	if (r == 0)
		*offset = mg.offset;
	return r;
}

static inline int __gem_pread(int fd, uint32_t handle, uint64_t offset, void *buf, uint64_t size)
{
	struct drm_i915_gem_pread p = {
		.handle = handle, .offset = offset, .size = size, .data_ptr = (uintptr_t)buf,
	};
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_PREAD, &p);
}

static inline void igt_gem_pread(int fd, uint32_t handle, uint64_t offset, void *buf, uint64_t size)
{
	HCHECK_OK(__gem_pread(fd, handle, offset, buf, size));
}

static inline int __gem_pwrite(int fd, uint32_t handle, uint64_t offset, const void *buf, uint64_t size)
{
	struct drm_i915_gem_pwrite p = {
		.handle = handle, .offset = offset, .size = size, .data_ptr = (uintptr_t)buf,
	};
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_PWRITE, &p);
}

static inline void igt_gem_pwrite(int fd, uint32_t handle, uint64_t offset, const void *buf, uint64_t size)
{
	HCHECK_OK(__gem_pwrite(fd, handle, offset, buf, size));
}

static inline int __gem_set_domain(int fd, uint32_t handle, uint32_t read, uint32_t write)
{
	struct drm_i915_gem_set_domain sd = {
		.handle = handle, .read_domains = read, .write_domain = write,
	};
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_DOMAIN, &sd);
}

static inline void igt_gem_set_domain(int fd, uint32_t handle, uint32_t read, uint32_t write)
{
	HCHECK_OK(__gem_set_domain(fd, handle, read, write));
}

static inline int __gem_sw_finish(int fd, uint32_t handle)
{
	struct drm_i915_gem_sw_finish sf = { .handle = handle };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_SW_FINISH, &sf);
}

static inline int __gem_madvise(int fd, uint32_t handle, uint32_t madv, uint32_t *retained)
{
	struct drm_i915_gem_madvise m = { .handle = handle, .madv = madv };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_MADVISE, &m);
	if (r == 0 && retained)
		*retained = m.retained;
	return r;
}

/* ---------------------------------------------------------------- mapping */

/* mmap a fake offset; 0 or -errno. */
static inline int __gem_mmap(int fd, uint64_t offset, size_t size, int prot, void **ptr)
{
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, (off_t)offset);
	if (p == MAP_FAILED)
		return -errno;
	*ptr = p;
	return 0;
}

static inline uint32_t *igt_gem_mmap(int fd, uint64_t offset, size_t size, int prot)
{
	void *p = NULL;
	HCHECK_OK(__gem_mmap(fd, offset, size, prot, &p));
	return p;
}

/* Die-on-error helpers; failures name the test's line. */
#define getparam(...) IGT_AT(igt_getparam(__VA_ARGS__))
#define gem_create(...) IGT_AT(igt_gem_create(__VA_ARGS__))
#define gem_close(...) IGT_AT(igt_gem_close(__VA_ARGS__))
#define gem_flink(...) IGT_AT(igt_gem_flink(__VA_ARGS__))
#define gem_open(...) IGT_AT(igt_gem_open(__VA_ARGS__))
#define mmap_offset(...) IGT_AT(igt_mmap_offset(__VA_ARGS__))
#define gem_pread(...) IGT_AT(igt_gem_pread(__VA_ARGS__))
#define gem_pwrite(...) IGT_AT(igt_gem_pwrite(__VA_ARGS__))
#define gem_set_domain(...) IGT_AT(igt_gem_set_domain(__VA_ARGS__))
#define gem_mmap(...) IGT_AT(igt_gem_mmap(__VA_ARGS__))

enum igt_access {
	IGT_ACCESS_OK,          /* mapped and the first dword could be touched */
	IGT_ACCESS_MMAP_FAILED, /* mmap itself failed (strict mode), *err = errno */
	IGT_ACCESS_FAULT,       /* mmap succeeded, the first touch faulted (plain mode) */
};

/* Map [offset, offset+size), read the first dword (and write it back if PROT_WRITE), unmap. */
static inline enum igt_access probe_access(int fd, uint64_t offset, size_t size, int prot, int *err)
{
	void *p = NULL;
	uint32_t v = 0;
	enum igt_access res = IGT_ACCESS_OK;
	int r = __gem_mmap(fd, offset, size, prot, &p);
	if (r) {
		*err = -r;
		return IGT_ACCESS_MMAP_FAILED;
	}
	if (try_read32(p, &v) || ((prot & PROT_WRITE) && try_write32(p, v)))
		res = IGT_ACCESS_FAULT;
	munmap(p, size);
	return res;
}

/*
 * Strict mode: libfakedrm-preload.so is loaded (LD_PRELOAD), so mmap gives the
 * kernel's errnos. FAKEDRM_EXPECT_STRICT=1/0 in the environment makes a test
 * insist on one mode (the integration tests run examples both ways).
 */
static inline int strict_mode(void)
{
	int active = dlsym(RTLD_DEFAULT, "fakedrm_strict_active") != NULL;
	const char *want = getenv("FAKEDRM_EXPECT_STRICT");
	if (want && *want && (*want == '1') != active)
		fail("FAKEDRM_EXPECT_STRICT=%s but the preload library is %s", want, active ? "loaded" : "not loaded");
	return active;
}

/*
 * The kernel refuses this mmap with kernel_errno. Strict mode must fail the mmap
 * with it; plain mode maps and raises SIGBUS on the first touch (the daemon never
 * sees mmap). Returns which happened: "strict: mmap failed" or "plain: SIGBUS on touch".
 */
static inline const char *igt_expect_denied(const char *file, int line, int fd, uint64_t offset,
					    size_t size, int prot, int kernel_errno, const char *what)
{
	int err = 0;
	int strict = strict_mode();
	switch (probe_access(fd, offset, size, prot, &err)) {
	case IGT_ACCESS_OK:
		fail("%s:%d: %s: offset 0x%llx was accessible, expected %s", file, line, what,
		     (unsigned long long)offset, errname(kernel_errno));
	case IGT_ACCESS_MMAP_FAILED:
		if (!strict)
			fail("%s:%d: %s: plain mode: mmap failed with %s, expected it to map and SIGBUS on touch",
			     file, line, what, errname(err));
		if (err != kernel_errno)
			fail("%s:%d: %s: mmap failed with %s, expected %s", file, line, what,
			     errname(err), errname(kernel_errno));
		info("%s: denied (strict: mmap %s)", what, errname(err));
		return "strict: mmap failed";
	case IGT_ACCESS_FAULT:
		if (strict)
			fail("%s:%d: %s: strict mode: mmap succeeded (then SIGBUS), expected %s", file, line, what,
			     errname(kernel_errno));
		break;
	}
	info("%s: denied (plain: SIGBUS on touch)", what);
	return "plain: SIGBUS on touch";
}

#define EXPECT_DENIED(fd, offset, size, prot, kernel_errno, what) \
	igt_expect_denied(__FILE__, __LINE__, fd, offset, size, prot, kernel_errno, what)

/* ---------------------------------------------------------------- patterns */

static inline uint32_t pattern_dw(uint32_t seed, size_t i)
{
	return seed + (uint32_t)i * 0x01000193u;
}

static inline void fill_pattern(volatile uint32_t *p, size_t ndw, uint32_t seed)
{
	for (size_t i = 0; i < ndw; i++)
		p[i] = pattern_dw(seed, i);
}

/* Index of the first dword not matching the pattern (seed 0 = all zeros), or -1. */
static inline long find_mismatch(const volatile uint32_t *p, size_t ndw, uint32_t seed)
{
	for (size_t i = 0; i < ndw; i++)
		if (p[i] != (seed ? pattern_dw(seed, i) : 0))
			return (long)i;
	return -1;
}

#define CHECK_PATTERN(p, ndw, seed, what) do { \
	const volatile uint32_t *cp_ = (p); \
	uint32_t s_ = (seed); \
	long i_ = find_mismatch(cp_, (ndw), s_); \
	if (i_ >= 0) \
		fail("%s:%d: %s: dword %ld = 0x%08x, expected 0x%08x", __FILE__, __LINE__, what, \
		     i_, cp_[i_], s_ ? pattern_dw(s_, (size_t)i_) : 0); \
} while (0)

#define CHECK_ZERO(p, ndw, what) CHECK_PATTERN(p, ndw, 0, what)

/* CLOCK_MONOTONIC in nanoseconds, for run-for-a-while loops. */
static inline int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Failures counted across threads and processes (put it in MAP_SHARED
 * memory): every one counts, the first one's message is kept. */
struct igt_bad {
	atomic_ulong count;
	char first[200];
};

__attribute__((format(printf, 2, 3)))
static inline void igt_bad_note(struct igt_bad *b, const char *fmt, ...)
{
	if (atomic_fetch_add(&b->count, 1) == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->first, sizeof b->first, fmt, ap);
		va_end(ap);
	}
}

/* MOUNT/debug/NAME beside the device file MOUNT/card0, opened for reading. */
static inline FILE *debug_file(const char *device, const char *name)
{
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s", device);
	snprintf(path, sizeof path, "%s/debug/%s", dirname(dir), name);
	return fopen(path, "r");
}

/* The object count the daemon reports in MOUNT/debug/i915_gem_objects, or -1. */
static inline long live_objects(const char *device)
{
	FILE *f = debug_file(device, "i915_gem_objects");
	if (!f)
		return -1;
	long n = -1;
	if (fscanf(f, "%ld objects", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

#endif /* IGT_LITE_H */
