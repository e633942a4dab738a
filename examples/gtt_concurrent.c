/* gtt_concurrent: 4 threads and 2 forked processes fault the same X-tiled and untiled objects through GTT maps in different orders; disjoint stores become visible everywhere after SET_DOMAIN. */
#include "igt_lite.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define NAME "gtt_concurrent"

/* ------------------------------------------------ GTT helpers (copied in each gtt_*.c) */

struct tiling {
	uint32_t mode, stride, swizzle;
};

static inline const char *tiling_name(uint32_t mode)
{
	return mode == I915_TILING_NONE ? "NONE" : mode == I915_TILING_X ? "X" : mode == I915_TILING_Y ? "Y" : "?";
}

/* Bijective in i for a fixed seed: every dword of an object is distinct. */
static inline uint32_t hash32(uint32_t seed, uint64_t i)
{
	uint32_t x = ((uint32_t)i * 0x9e3779b1u) ^ seed;
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static inline uint64_t swizzle_bit6(uint32_t swizzle, uint64_t t)
{
	uint64_t b;
	switch (swizzle) {
	case I915_BIT_6_SWIZZLE_NONE: return t;
	case I915_BIT_6_SWIZZLE_9: b = t >> 9; break;
	case I915_BIT_6_SWIZZLE_9_10: b = (t >> 9) ^ (t >> 10); break;
	case I915_BIT_6_SWIZZLE_9_11: b = (t >> 9) ^ (t >> 11); break;
	case I915_BIT_6_SWIZZLE_9_10_11: b = (t >> 9) ^ (t >> 10) ^ (t >> 11); break;
	default: fail("swizzle mode %u cannot be emulated", swizzle);
	}
	return t ^ ((b & 1) << 6);
}

/* SEMANTICS §5.2: where linear (GTT view) byte l lives in the raw object. */
static inline uint64_t tiled_offset(const struct tiling *t, uint64_t l)
{
	if (t->mode == I915_TILING_NONE)
		return l;
	uint64_t s = t->stride, y = l / s, x = l % s, o;
	if (t->mode == I915_TILING_X)
		o = (y / 8) * (s * 8) + (x / 512) * 4096 + (y % 8) * 512 + (x % 512);
	else
		o = (y / 32) * (s * 32) + (x / 128) * 4096 + ((x % 128) / 16) * 512 + (y % 32) * 16 + (x % 16);
	return swizzle_bit6(t->swizzle, o);
}

static inline uint64_t tile_row_bytes(const struct tiling *t)
{
	return t->mode == I915_TILING_NONE ? PAGE_SZ : (uint64_t)t->stride * (t->mode == I915_TILING_X ? 8 : 32);
}

/* raw = the layout the device stores when linear content lin is seen through the fence. */
static inline void tile_buf(const struct tiling *t, const uint32_t *lin, uint32_t *raw, uint64_t size)
{
	for (uint64_t i = 0; i < size / 4; i++)
		raw[tiled_offset(t, 4 * i) / 4] = lin[i];
}

/* lin = what the fenced GTT view shows for raw content raw. */
static inline void detile_buf(const struct tiling *t, const uint32_t *raw, uint32_t *lin, uint64_t size)
{
	for (uint64_t i = 0; i < size / 4; i++)
		lin[i] = raw[tiled_offset(t, 4 * i) / 4];
}

static inline void fill_hash(uint32_t *buf, uint64_t size, uint32_t seed)
{
	for (uint64_t i = 0; i < size / 4; i++)
		buf[i] = hash32(seed, i);
}

/* Compare got (a map or a buffer) with exp; report the first mismatch, where its value belongs, and the count. */
__attribute__((format(printf, 6, 7)))
static inline void check_buf_at(const char *file, int line, const volatile uint32_t *got, const uint32_t *exp,
			 uint64_t size, const char *fmt, ...)
{
	uint64_t ndw = size / 4, first = UINT64_MAX, bad = 0;
	for (uint64_t i = 0; i < ndw; i++) {
		if (got[i] != exp[i]) {
			if (first == UINT64_MAX)
				first = i;
			bad++;
		}
	}
	if (!bad)
		return;
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	uint32_t g = got[first];
	char where[64] = "";
	for (uint64_t j = 0; g != 0 && j < ndw; j++) {
		if (exp[j] == g) {
			snprintf(where, sizeof(where), " (that value is expected at byte 0x%llx)", (unsigned long long)(4 * j));
			break;
		}
	}
	fail("%s:%d: %s: byte 0x%llx = 0x%08x, expected 0x%08x%s; %llu of %llu dwords differ", file, line, what,
	     (unsigned long long)(4 * first), g, exp[first], where, (unsigned long long)bad, (unsigned long long)ndw);
}
#define CHECK_BUF(got, exp, size, ...) check_buf_at(__FILE__, __LINE__, got, exp, size, __VA_ARGS__)

static inline int __set_tiling(int fd, uint32_t handle, uint32_t mode, uint32_t stride, struct drm_i915_gem_set_tiling *st)
{
	memset(st, 0, sizeof(*st));
	st->handle = handle;
	st->tiling_mode = mode;
	st->stride = stride;
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_TILING, st);
}

static inline int __get_tiling(int fd, uint32_t handle, struct drm_i915_gem_get_tiling *gt)
{
	memset(gt, 0, sizeof(*gt));
	gt->handle = handle;
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_GET_TILING, gt);
}

static inline int swizzle_ok(uint32_t s)
{
	return s <= I915_BIT_6_SWIZZLE_9_10_11;
}

/* GET_TILING must report exactly t (swizzle and phys_swizzle included). */
static inline void check_get_tiling_at(const char *file, int line, int fd, uint32_t handle, const struct tiling *t)
{
	struct drm_i915_gem_get_tiling gt;
	IGT_CHECK_ERRNO_AT(file, line, __get_tiling(fd, handle, &gt), "GET_TILING", 0);
	if (gt.tiling_mode != t->mode || gt.swizzle_mode != t->swizzle || gt.phys_swizzle_mode != t->swizzle)
		fail("%s:%d: GET_TILING = {tiling %u, swizzle %u, phys_swizzle %u}, expected {%u, %u, %u}", file, line,
		     gt.tiling_mode, gt.swizzle_mode, gt.phys_swizzle_mode, t->mode, t->swizzle, t->swizzle);
}
#define check_get_tiling(fd, h, t) check_get_tiling_at(__FILE__, __LINE__, fd, h, t)

/* SET_TILING that must succeed; checks the write-back and GET_TILING; returns the layout to apply. */
static inline struct tiling set_tiling_at(const char *file, int line, int fd, uint32_t handle, uint32_t mode, uint32_t stride)
{
	struct drm_i915_gem_set_tiling st;
	IGT_CHECK_ERRNO_AT(file, line, __set_tiling(fd, handle, mode, stride, &st), "SET_TILING", 0);
	uint32_t want_stride = mode == I915_TILING_NONE ? 0 : stride;
	if (st.tiling_mode != mode || st.stride != want_stride)
		fail("%s:%d: SET_TILING(%s, %u) wrote back tiling %u stride %u", file, line, tiling_name(mode), stride,
		     st.tiling_mode, st.stride);
	if (!swizzle_ok(st.swizzle_mode) || (mode == I915_TILING_NONE && st.swizzle_mode != I915_BIT_6_SWIZZLE_NONE))
		fail("%s:%d: SET_TILING(%s, %u) wrote back swizzle %u", file, line, tiling_name(mode), stride,
		     st.swizzle_mode);
	struct tiling t = { mode, want_stride, st.swizzle_mode };
	check_get_tiling_at(file, line, fd, handle, &t);
	return t;
}
#define set_tiling(fd, h, mode, stride) set_tiling_at(__FILE__, __LINE__, fd, h, mode, stride)

/* GTT offset via the legacy MMAP_GTT ioctl or MMAP_OFFSET(GTT); both name the same node. */
static inline uint64_t gtt_offset_at(const char *file, int line, int fd, uint32_t handle, int legacy)
{
	uint64_t off = 0;
	if (legacy)
		IGT_CHECK_ERRNO_AT(file, line, __gem_mmap_gtt(fd, handle, &off), "MMAP_GTT", 0);
	else
		IGT_CHECK_ERRNO_AT(file, line, __mmap_offset(fd, handle, I915_MMAP_OFFSET_GTT, &off),
				   "MMAP_OFFSET(GTT)", 0);
	if (off < FAKE_OFFSET_START || off % PAGE_SZ)
		fail("%s:%d: GTT offset 0x%llx not page aligned or below 4 GiB", file, line, (unsigned long long)off);
	return off;
}

static inline uint32_t *gtt_map_at(const char *file, int line, int fd, uint32_t handle, uint64_t size, int legacy)
{
	void *p = NULL;
	uint64_t off = gtt_offset_at(file, line, fd, handle, legacy);
	IGT_CHECK_ERRNO_AT(file, line, __gem_mmap(fd, off, size, PROT_READ | PROT_WRITE, &p), "mmap(GTT)", 0);
	return p;
}
#define gtt_map(fd, h, size, legacy) gtt_map_at(__FILE__, __LINE__, fd, h, size, legacy)

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		fail("out of memory (%zu bytes)", n);
	return p;
}

/* FakeDRM's debugfs-like counters (<mount>/debug/i915_gem_gtt: "evictions N", ...); -1 if absent. */
static inline long long gtt_counter(const char *card0, const char *key)
{
	char path[PATH_MAX], line[512];
	const char *slash = strrchr(card0, '/');
	snprintf(path, sizeof(path), "%.*sdebug/i915_gem_gtt", slash ? (int)(slash - card0 + 1) : 0, card0);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long long v = -1;
	if (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);
		if (p)
			v = strtoll(p + strlen(key), NULL, 10);
	}
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------------- test */

#define OBJ_SIZE (6 * MiB) /* X 4096: 192 tile rows; both objects together exceed an 8 MiB aperture */
#define NPAGES (OBJ_SIZE / PAGE_SZ)
#define DWPP (PAGE_SZ / 4)
#define NTHREADS 4
#define NCHILDREN 2
#define NWORKERS (NTHREADS + NCHILDREN)

enum { OT, OU, NOBJ }; /* X-tiled, untiled */
static const char *const obj_name[NOBJ] = { "X-tiled", "untiled" };

/* Linear content per phase: A = PWRITE-initialised, B = quarters by the threads, C = halves by the children. */
enum { PH_A, PH_B, PH_C };
static uint32_t seed_of(int phase, int o)
{
	return 0xc0c00000u + (uint32_t)phase * 0x100 + (uint32_t)o;
}

/*
 * Process-shared control block (MAP_SHARED | MAP_ANONYMOUS). Only the parent
 * prints: a worker that fails records its message in its slot and raises
 * abort; the parent lists every recorded failure and ends with one FAIL line.
 */
#define MAIN_SLOT NWORKERS /* the parent's main thread (child exit status) */
struct shared {
	atomic_int abort;
	atomic_int first; /* slot of the first failure, -1 if none */
	atomic_uint count, gen;
	char msg[NWORKERS + 1][480];
};
static struct shared *sh;
static atomic_int failing;
static pid_t parent_pid;
static int is_child;
static __thread int wid = MAIN_SLOT;

/* Parent's objects and maps. */
static int pfd;
static uint32_t handle[NOBJ];
static uint32_t *pmap[NOBJ];
static struct tiling ptiling;

static void record_failure(void)
{
	int none = -1;
	atomic_compare_exchange_strong(&sh->first, &none, wid);
	atomic_store(&sh->abort, 1);
}

/* Parent only: report every recorded failure, the first one as the FAIL line. */
__attribute__((noreturn))
static void parent_report(void)
{
	if (atomic_exchange(&failing, 1))
		for (;;)
			pause();
	usleep(300 * 1000); /* let other failing workers record theirs */
	int first = atomic_load(&sh->first);
	for (int s = 0; s <= MAIN_SLOT; s++)
		if (s != first && sh->msg[s][0])
			info("also: %s", sh->msg[s]);
	fail("%s", first >= 0 ? sh->msg[first] : "a worker failed without a message");
}

__attribute__((format(printf, 1, 2), noreturn))
static void wfail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sh->msg[wid], sizeof(sh->msg[wid]), fmt, ap);
	va_end(ap);
	record_failure();
	if (is_child)
		_exit(1);
	parent_report();
}

/* A child's SIGBUS/SIGSEGV/SIGALRM: record it (async-signal-safe), leave the reporting to the parent. */
static void child_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	static const char hexd[] = "0123456789abcdef";
	const char *what = sig == SIGALRM ? "timeout (alarm fired)" : sig == SIGBUS ? "unexpected SIGBUS at 0x" : "unexpected SIGSEGV at 0x";
	char *m = sh->msg[wid];
	size_t n = 0;
	for (const char *p = "child worker: "; *p; p++)
		m[n++] = *p;
	for (const char *p = what; *p; p++)
		m[n++] = *p;
	if (sig != SIGALRM) {
		uintptr_t a = (uintptr_t)si->si_addr;
		for (int i = 0; i < 16; i++)
			m[n++] = hexd[(a >> (60 - 4 * i)) & 0xf];
	}
	m[n] = 0;
	record_failure();
	_exit(1);
}

static void barrier(void)
{
	unsigned g = atomic_load(&sh->gen);
	if (atomic_fetch_add(&sh->count, 1) + 1 == NWORKERS) {
		atomic_store(&sh->count, 0);
		atomic_fetch_add(&sh->gen, 1);
		return;
	}
	while (atomic_load(&sh->gen) == g) {
		if (atomic_load(&sh->abort)) {
			if (is_child)
				_exit(1);
			parent_report();
		}
		if (is_child && getppid() != parent_pid)
			_exit(1);
		usleep(200);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Worker w's page order over [0, n): forward, backward, coprime strides, random permutations. */
static uint32_t *page_order(int w, uint64_t n)
{
	uint32_t *p = xmalloc(n * sizeof(*p));
	uint64_t s = 0x1234567ull + (uint64_t)w * 0x9e3779b97f4a7c15ull;
	for (uint64_t i = 0; i < n; i++) {
		switch (w) {
		case 0: p[i] = (uint32_t)i; break;
		case 1: p[i] = (uint32_t)(n - 1 - i); break;
		case 2: p[i] = (uint32_t)(i * 7 % n); break;
		case 4: p[i] = (uint32_t)((n - 1) - i * 13 % n); break;
		default: p[i] = (uint32_t)i; break;
		}
	}
	if (w == 3 || w == 5) {
		for (uint64_t i = n - 1; i > 0; i--) {
			uint64_t j = xorshift(&s) % (i + 1);
			uint32_t x = p[i];
			p[i] = p[j];
			p[j] = x;
		}
	}
	return p;
}

/* Expected linear dword i of object o after the phases so far. */
static uint32_t expect(int o, int phase, uint64_t i)
{
	return hash32(seed_of(phase, o), i);
}

/* The worker's fd and handles, to say what the object itself holds when a map disagrees. */
static __thread int wfd;
static __thread const uint32_t *whandle;

/* Name which phase's value a dword holds (the patterns are distinct per phase). */
static const char *which_phase(int o, uint64_t i, uint32_t v)
{
	static const char *const names[] = { "A", "B", "C" };
	for (int p = PH_A; p <= PH_C; p++)
		if (v == expect(o, p, i))
			return names[p];
	return "none";
}

static void check_page(int w, const char *what, int o, volatile uint32_t *map, uint64_t pg, int phase)
{
	for (uint64_t i = pg * DWPP; i < (pg + 1) * DWPP; i++) {
		uint32_t g = map[i], e = expect(o, phase, i);
		if (g == e)
			continue;
		/* PREAD (a coherency point) of the dword's raw place; then the map again. */
		struct tiling t = o == OT ? ptiling : (struct tiling){ I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
		uint32_t raw = 0;
		int r = __gem_pread(wfd, whandle[o], tiled_offset(&t, 4 * i), &raw, 4);
		uint32_t again = map[i];
		wfail("worker %d (%s): %s: %s object byte 0x%llx = 0x%08x (phase %s value), expected 0x%08x (phase %s); "
		      "PREAD of it then %s 0x%08x (phase %s), map re-read 0x%08x (phase %s)", w,
		      is_child ? "child" : "thread", what, obj_name[o], (unsigned long long)(4 * i), g,
		      which_phase(o, i, g), e, which_phase(o, i, e), r ? errname(-r) : "gave", raw,
		      which_phase(o, i, raw), again, which_phase(o, i, again));
	}
}

/* Read every dword of both objects in w's order, alternating the objects page by page. */
static void verify_all(int w, uint32_t *const map[NOBJ], const uint32_t *order, const int phase_of_page[NPAGES],
		       const char *what)
{
	for (uint64_t k = 0; k < NPAGES; k++) {
		uint64_t pg = order[k];
		for (int j = 0; j < NOBJ; j++) {
			int o = (j + w) % NOBJ;
			check_page(w, what, o, map[o], pg, phase_of_page[pg]);
		}
	}
}

static void store_pages(uint32_t *const map[NOBJ], uint64_t first, uint64_t end, int phase)
{
	for (uint64_t pg = first; pg < end; pg++)
		for (int o = 0; o < NOBJ; o++) {
			volatile uint32_t *m = map[o];
			for (uint64_t i = pg * DWPP; i < (pg + 1) * DWPP; i++)
				m[i] = expect(o, phase, i);
		}
}

static int phaseB[NPAGES], phaseA[NPAGES], phaseC[NPAGES];

static void init_phases(void)
{
	for (uint64_t pg = 0; pg < NPAGES; pg++) {
		phaseA[pg] = PH_A;
		phaseB[pg] = PH_B;
		phaseC[pg] = PH_C;
	}
}

static void *thread_main(void *arg)
{
	int w = (int)(intptr_t)arg;
	wid = w;
	uint32_t *order = page_order(w, NPAGES);
	wfd = pfd;
	whandle = handle;

	barrier(); /* 1: everyone mapped */
	verify_all(w, pmap, order, phaseA, "phase A (PWRITE-initialised) read");
	barrier(); /* 2: all read A */

	/* Phase B: this thread's quarter, then SET_DOMAIN(GTT). */
	uint64_t q = NPAGES / NTHREADS;
	store_pages(pmap, w * q, (w + 1) * q, PH_B);
	for (int o = 0; o < NOBJ; o++) {
		int r = __gem_set_domain(pfd, handle[o], I915_GEM_DOMAIN_GTT, 0);
		if (r)
			wfail("thread %d: SET_DOMAIN(GTT) on %s: %s", w, obj_name[o], errname(-r));
	}
	barrier(); /* 3: quarters stored */
	verify_all(w, pmap, order, phaseB, "phase B (quarters stored by the threads) read");
	barrier(); /* 4: all read B */

	/* Phase C: children store their halves; read after SET_DOMAIN(GTT). */
	barrier(); /* 5: halves stored */
	for (int o = 0; o < NOBJ; o++) {
		int r = __gem_set_domain(pfd, handle[o], I915_GEM_DOMAIN_GTT, 0);
		if (r)
			wfail("thread %d: SET_DOMAIN(GTT) on %s: %s", w, obj_name[o], errname(-r));
	}
	verify_all(w, pmap, order, phaseC, "phase C (halves stored by the children) read");
	barrier(); /* 6: done */
	free(order);
	return NULL;
}

static void child_main(int c, const char *path, const uint32_t names[NOBJ])
{
	int w = NTHREADS + c;
	is_child = 1;
	wid = w;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = child_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	alarm(60); /* alarms are not inherited across fork */
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		wfail("child %d: open(%s): %s", c, path, strerror(errno));
	uint32_t h[NOBJ];
	uint32_t *map[NOBJ];
	for (int o = 0; o < NOBJ; o++) {
		uint64_t size = 0, off = 0;
		int r = __gem_open(fd, names[o], &h[o], &size);
		if (r || size != OBJ_SIZE)
			wfail("child %d: GEM_OPEN(%u) = %s, size %llu", c, names[o], errname(-r), (unsigned long long)size);
		r = __mmap_offset(fd, h[o], I915_MMAP_OFFSET_GTT, &off);
		if (r)
			wfail("child %d: MMAP_OFFSET(GTT) = %s", c, errname(-r));
		void *p = NULL;
		r = __gem_mmap(fd, off, OBJ_SIZE, PROT_READ | PROT_WRITE, &p);
		if (r)
			wfail("child %d: mmap(GTT) = %s", c, errname(-r));
		map[o] = p;
	}
	struct drm_i915_gem_get_tiling gt;
	int r = __get_tiling(fd, h[OT], &gt);
	if (r || gt.tiling_mode != ptiling.mode || gt.swizzle_mode != ptiling.swizzle)
		wfail("child %d: GET_TILING = %s, tiling %u swizzle %u", c, errname(-r), gt.tiling_mode, gt.swizzle_mode);
	uint32_t *order = page_order(w, NPAGES);
	wfd = fd;
	whandle = h;

	barrier(); /* 1 */
	verify_all(w, map, order, phaseA, "phase A (PWRITE-initialised) read");
	barrier(); /* 2 */
	barrier(); /* 3: the threads stored their quarters */
	for (int o = 0; o < NOBJ; o++)
		if ((r = __gem_set_domain(fd, h[o], I915_GEM_DOMAIN_GTT, 0)))
			wfail("child %d: SET_DOMAIN(GTT) on %s: %s", c, obj_name[o], errname(-r));
	verify_all(w, map, order, phaseB, "phase B (quarters stored by the threads) read");
	barrier(); /* 4 */
	uint64_t half = NPAGES / NCHILDREN;
	store_pages(map, c * half, (c + 1) * half, PH_C);
	barrier(); /* 5: halves stored */
	for (int o = 0; o < NOBJ; o++)
		if ((r = __gem_set_domain(fd, h[o], I915_GEM_DOMAIN_GTT, 0)))
			wfail("child %d: SET_DOMAIN(GTT) on %s: %s", c, obj_name[o], errname(-r));
	verify_all(w, map, order, phaseC, "phase C (halves stored by the children) read");
	barrier(); /* 6 */
	_exit(0);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	atomic_store(&sh->first, -1);
	init_phases();
	parent_pid = getpid();

	pfd = drm_open(path);
	if (getparam(pfd, I915_PARAM_NUM_FENCES_AVAIL) == 0)
		skip(NAME, "no fence registers: tiling unsupported");
	uint32_t names[NOBJ];
	uint32_t *lin = xmalloc(OBJ_SIZE), *raw = xmalloc(OBJ_SIZE);
	for (int o = 0; o < NOBJ; o++) {
		handle[o] = gem_create(pfd, OBJ_SIZE);
		struct tiling t = { I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
		if (o == OT)
			ptiling = t = set_tiling(pfd, handle[o], I915_TILING_X, 4096);
		/* PWRITE the raw layout whose GTT (linear) view is pattern A. */
		for (uint64_t i = 0; i < OBJ_SIZE / 4; i++)
			lin[i] = expect(o, PH_A, i);
		tile_buf(&t, lin, raw, OBJ_SIZE);
		gem_pwrite(pfd, handle[o], 0, raw, OBJ_SIZE);
		names[o] = gem_flink(pfd, handle[o]);
		pmap[o] = gtt_map(pfd, handle[o], OBJ_SIZE, o);
	}
	fflush(stdout);

	pid_t kids[NCHILDREN];
	for (int c = 0; c < NCHILDREN; c++) {
		kids[c] = fork();
		CHECK(kids[c] >= 0);
		if (kids[c] == 0)
			child_main(c, path, names);
	}
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		CHECK(pthread_create(&th[t], NULL, thread_main, (void *)(intptr_t)t) == 0);

	/* Main thread: watch the children (a crash must not leave the others waiting). */
	for (int c = 0; c < NCHILDREN; c++) {
		int st = 0;
		pid_t p;
		do
			p = waitpid(-1, &st, 0);
		while (p < 0 && errno == EINTR);
		CHECK(p > 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			wfail("child %d %s %d", (int)p, WIFEXITED(st) ? "exited" : "killed by signal",
			      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
	for (int t = 0; t < NTHREADS; t++)
		CHECK(pthread_join(th[t], NULL) == 0);

	/* The object holds phase C: PREAD shows it in each object's layout. */
	uint32_t *got = xmalloc(OBJ_SIZE);
	for (int o = 0; o < NOBJ; o++) {
		struct tiling t = o == OT ? ptiling : (struct tiling){ I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
		for (uint64_t i = 0; i < OBJ_SIZE / 4; i++)
			lin[i] = expect(o, PH_C, i);
		tile_buf(&t, lin, raw, OBJ_SIZE);
		gem_pread(pfd, handle[o], 0, got, OBJ_SIZE);
		CHECK_BUF(got, raw, OBJ_SIZE, "%s: PREAD at the end", obj_name[o]);
		CHECK_OK(munmap(pmap[o], OBJ_SIZE));
		gem_close(pfd, handle[o]);
	}
	close(pfd);
	pass(NAME, "%d threads + %d processes faulted a 6 MiB X-tiled and a 6 MiB untiled object in different orders: PWRITE data, per-thread quarters and per-child halves all exact after SET_DOMAIN, PREAD agrees",
	     NTHREADS, NCHILDREN);
}
