/* gtt_concurrent: 4 threads and 2 forked processes fault the same X-tiled and untiled objects through GTT maps in different orders; disjoint stores become visible everywhere after SET_DOMAIN. */
#include "igt_lite.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define NAME "gtt_concurrent"

#include "gtt_lite.h"

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
