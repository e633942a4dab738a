/*
 * ioctl_fuzz: processes storm the device with real, mutated and random ioctls (bad handles,
 * sizes, offsets, pointers, pointers into their own device mappings); the daemon must
 * survive and still serve a normal workload afterwards.
 *
 *   ioctl_fuzz DEVICE [ITERATIONS [PROCESSES]]     (defaults 120000 total, 4 processes)
 *   FUZZ_SEED=0x... reproduces a run's ioctl streams (same ITERATIONS and PROCESSES).
 *
 * Any errno is fine except ENOTCONN/ECONNABORTED (the daemon went away); an ioctl taking
 * longer than 5 s is a hang. A fault outside a probe is a bug of this program.
 */
#include "igt_lite.h"
#include "syncobj_lite.h" /* DRM_IOCTL_SYNCOBJ_EVENTFD where libdrm lacks it */

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define NAME "ioctl_fuzz"
#define DEF_ITERATIONS 120000L
#define DEF_PROCESSES 4
#define MAX_PROCESSES 64
#define MIN_TOTAL 100000L /* ioctls a pass needs (ITERATIONS if smaller) */
#define NS 1000000000ull
#define BUDGET_NS (45 * NS)
#define HANG_NS (5 * NS)
#define STUCK_NS (20 * NS) /* one operation in flight this long: give up */
#define PAYLOAD_MAX (16 * 1024) /* _IOC_SIZE is 14 bits */
#define ARENA_SIZE (256 * 1024)
#define CLEAN_SIZE (64 * 1024)
#define MAP_WINDOW (64 * 1024)
#define POOL_MAX 16
#define MAPS_MAX 4
#define NAMES_MAX 8
#define OFFSETS_MAX 16
#define RING 16
#define NERR 256
#define NOTES 4

/*
 * Everything a nested pointer may lead to (arena, payload, device mappings) lives in one
 * private 4 GiB window, 4 GiB aligned, far from the rest of the address space and PROT_NONE
 * wherever nothing is mapped. Mutations overwrite half of a pointer or flip one of its bits:
 * the low half then stays inside the window (our memory or PROT_NONE, never libc, the stack
 * or the stats slots) and a changed high half lands in empty address space. What the daemon
 * writes through any pointer thus stops at PROT_NONE and never reaches this program's state.
 */
#define WINDOW_SIZE (4 * GiB)
#define WIN_ARENA (1 * MiB)
#define WIN_PAYLOAD (2 * MiB)
#define WIN_CLEAN (3 * MiB)
#define WIN_MAPS (16 * MiB) /* device mappings from here to the last MiB */

/* Arena layout: structures that nested pointers lead to. */
#define AR_EXTS 0
#define AR_REGIONS (32 * 1024)
#define AR_ITEMS (40 * 1024)
#define AR_QDATA (48 * 1024)
#define AR_LOOP_SRC (128 * 1024)
#define AR_LOOP_CHK (192 * 1024)

/* ----------------------------------------------------------------- shared state */

struct ring_entry {
	long iter;
	uint64_t ns;
	uint32_t cmd;
	int fd; /* 0 card0, 1 renderD128, 2 clean card0 */
	int err; /* -1 in flight, 0 ok, else errno */
	unsigned arglen;
	uint8_t arg[48];
	char what[16];
};

/* One per child, in MAP_SHARED memory: the parent reads it while and after the child runs. */
struct slot {
	uint64_t seed;
	long iters;
	long iters_done;
	long ioctls, ok, err[NERR];
	long transport, hangs, budget_hit;
	long maps, map_failed, probes, probe_faults;
	long loopbacks, anomalies, reopens, creates_enomem;
	uint64_t max_ns;
	uint32_t max_cmd;
	uint64_t busy_start; /* CLOCK_MONOTONIC ns of the device operation in flight, 0 if none */
	uint32_t busy_cmd;
	long busy_iter;
	char busy_op[16];
	int done, fatal, setup_failed, crash_sig;
	uint64_t crash_addr;
	char fatal_msg[256];
	int nnotes;
	char notes[NOTES][224];
	unsigned ring_pos;
	struct ring_entry ring[RING];
};

static struct slot *slots;

/* ----------------------------------------------------------------- ioctl table */

struct ioc {
	unsigned long cmd;
	const char *name;
};

/* Every ioctl of the device's table (Sources/UAPI/IoctlTable.swift), as
 * `fakedrm ioctl-table` prints it (conformance/Makefile writes the header), then
 * the numbers it also serves with a shorter struct. */
#define FDRM_IOCTL(x, flags) { x, #x },
static const struct ioc iocs[] = {
#include "build/ioctl_table.h"
	{ DRM_IOCTL_I915_GEM_MMAP_GTT, "DRM_IOCTL_I915_GEM_MMAP_GTT" }, /* after MMAP_OFFSET: the nr's full struct */
};
#undef FDRM_IOCTL
#define NIOCS (sizeof(iocs) / sizeof(iocs[0]))
#define NR(x) _IOC_NR(x)

/* "I915_GEM_CREATE", "I915_GEM_CREATE~(dir 3 size 200)" or "_IOC(3,'x',0x01,16)". */
static const char *cmd_name(uint32_t cmd, char *buf, size_t n)
{
	for (size_t i = 0; i < NIOCS; i++)
		if ((uint32_t)iocs[i].cmd == cmd)
			return iocs[i].name + strlen("DRM_IOCTL_");
	if (_IOC_TYPE(cmd) == DRM_IOCTL_BASE)
		for (size_t i = 0; i < NIOCS; i++)
			if (_IOC_NR(iocs[i].cmd) == _IOC_NR(cmd)) {
				snprintf(buf, n, "%s~(dir %u size %u)", iocs[i].name + strlen("DRM_IOCTL_"),
					 _IOC_DIR(cmd), _IOC_SIZE(cmd));
				return buf;
			}
	unsigned t = _IOC_TYPE(cmd);
	if (t >= 0x21 && t < 0x7f)
		snprintf(buf, n, "_IOC(%u,'%c',0x%02x,%u)", _IOC_DIR(cmd), t, _IOC_NR(cmd), _IOC_SIZE(cmd));
	else
		snprintf(buf, n, "_IOC(%u,0x%02x,0x%02x,%u)", _IOC_DIR(cmd), t, _IOC_NR(cmd), _IOC_SIZE(cmd));
	return buf;
}

/* The size of the struct the device expects for a 'd' nr, or 0 if it knows none. */
static size_t nr_struct_size(unsigned nr)
{
	for (size_t i = 0; i < NIOCS; i++)
		if (_IOC_NR(iocs[i].cmd) == nr)
			return _IOC_SIZE(iocs[i].cmd);
	return 0;
}

/* Types the VFS handles itself before FUSE sees them (FIFREEZE 'X', FICLONE 0x94,
 * FIONBIO/FIOASYNC 'T', FIBMAP 0x00): never send those, they act on the mount or the fd. */
static int type_excluded(unsigned t)
{
	return t == DRM_IOCTL_BASE || t == 0x00 || t == 'T' || t == 'X' || t == 0x94;
}

/* ----------------------------------------------------------------- utilities */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rng; /* xorshift64, per process */

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t rnd32(void) { return (uint32_t)(rnd() >> 32); }
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static int chance(unsigned permille) { return below(1000) < permille; }

static void fill_random(uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = rnd();
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static uint8_t *window;

/* Reserve the window at one of a few isolated, 4 GiB aligned addresses. */
static int window_reserve(void)
{
	static const uint64_t bases[] = { 0x200000000000ull, 0x300000000000ull, 0x180000000000ull, 0x500000000000ull };
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		void *want = (void *)(uintptr_t)bases[i];
		void *p = mmap(want, WINDOW_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
			       -1, 0);
		if (p == want) {
			window = p;
			return 0;
		}
		if (p != MAP_FAILED)
			munmap(p, WINDOW_SIZE);
	}
	return -1;
}

/* Back [off, off+size) of the window with PROT_NONE again (never leave a hole). */
static void window_clear(uint64_t off, size_t size)
{
	mmap(window + off, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* size bytes of read-write memory at window + off; its neighbours stay PROT_NONE. */
static uint8_t *window_alloc(uint64_t off, size_t size)
{
	uint8_t *p = mmap(window + off, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* memcpy that survives SIGBUS/SIGSEGV (igt_lite's probe machinery); 0 or -1. */
static int probe_copy(void *dst, const void *src, size_t n)
{
	if (sigsetjmp(igt_probe_env, 1))
		return -1;
	igt_probe_active = 1;
	memcpy(dst, src, n);
	igt_probe_active = 0;
	return 0;
}

/* ----------------------------------------------------------------- per-child state */

struct obj {
	uint32_t handle;
	uint64_t size;
};

struct map {
	uint8_t *base; /* in the window, PROT_NONE on both sides */
	size_t len;
	int prot;
};

static struct slot *me;
static long iter;
static const char *paths[3];
static int fds[3]; /* card0 and renderD128 for the storm; a private card0 for loopback checks */
static struct obj pool[2][POOL_MAX];
static int npool[2];
static uint32_t names[NAMES_MAX];
static int nnames;
static uint64_t offsets[OFFSETS_MAX];
static int noffsets;
static struct map maps[MAPS_MAX];
static int nmaps;
static uint8_t *arena, *payload;
static uint64_t deadline;
/* Loopback objects on fds[2], which no fuzzed ioctl ever uses: their results are checked. */
static int clean_ok;
static uint32_t clean_c, clean_d;
static struct map cmap; /* GTT mapping of clean_c */
static uint64_t map_next = WIN_MAPS; /* where in the window the next device mapping goes */

__attribute__((format(printf, 1, 2)))
static void note(const char *fmt, ...)
{
	va_list ap;
	if (me->nnotes < NOTES) {
		va_start(ap, fmt);
		vsnprintf(me->notes[me->nnotes], sizeof(me->notes[0]), fmt, ap);
		va_end(ap);
	}
	me->nnotes++;
}

__attribute__((format(printf, 1, 2)))
static void set_fatal(const char *fmt, ...)
{
	va_list ap;
	if (me->fatal++)
		return;
	va_start(ap, fmt);
	vsnprintf(me->fatal_msg, sizeof(me->fatal_msg), fmt, ap);
	va_end(ap);
}

static void busy_begin(const char *op, uint32_t cmd)
{
	snprintf(me->busy_op, sizeof(me->busy_op), "%s", op);
	me->busy_cmd = cmd;
	me->busy_iter = iter;
	__atomic_store_n(&me->busy_start, now_ns(), __ATOMIC_RELEASE);
}

/* Ends the operation; returns how long it took and records a hang if it was > 5 s. */
static uint64_t busy_end(void)
{
	uint64_t t0 = __atomic_load_n(&me->busy_start, __ATOMIC_ACQUIRE);
	uint64_t dt = now_ns() - t0;
	__atomic_store_n(&me->busy_start, 0, __ATOMIC_RELEASE);
	if (dt > HANG_NS) {
		char nb[64];
		me->hangs++;
		note("hang: %s %s took %.1f s (iteration %ld)", me->busy_op, cmd_name(me->busy_cmd, nb, sizeof(nb)),
		     dt / 1e9, iter);
	}
	return dt;
}

/* Every ioctl of a child goes through here: timing, result classes, ring of recent calls. */
static int fz_ioctl(int k, unsigned long cmd, void *arg, const void *shown, const char *what)
{
	struct ring_entry *e = &me->ring[me->ring_pos % RING];
	char nb[64];

	e->iter = iter;
	e->cmd = (uint32_t)cmd;
	e->fd = k;
	e->err = -1;
	e->ns = 0;
	e->arglen = shown ? (_IOC_SIZE(cmd) < sizeof(e->arg) ? _IOC_SIZE(cmd) : sizeof(e->arg)) : 0;
	if (e->arglen)
		memcpy(e->arg, shown, e->arglen);
	snprintf(e->what, sizeof(e->what), "%s", what);
	__atomic_store_n(&me->ring_pos, me->ring_pos + 1, __ATOMIC_RELEASE);

	busy_begin("ioctl", (uint32_t)cmd);
	int r = ioctl(fds[k], cmd, arg);
	int err = r < 0 ? errno : 0;
	uint64_t dt = busy_end();

	e->err = err;
	e->ns = dt;
	me->ioctls++;
	if (!err)
		me->ok++;
	else
		me->err[err < NERR ? err : 0]++;
	if (dt > me->max_ns) {
		me->max_ns = dt;
		me->max_cmd = (uint32_t)cmd;
	}
	if (err == ENOTCONN || err == ECONNABORTED) {
		me->transport++;
		set_fatal("%s from %s [%s] on %s at iteration %ld", errname(err), cmd_name((uint32_t)cmd, nb, sizeof(nb)),
			  what, paths[k], iter);
	}
	return r < 0 ? -err : r;
}

/* A free spot in the window's mapping area for len bytes (plus a PROT_NONE page after). */
static uint64_t map_spot(size_t len)
{
	uint64_t at = map_next + below(16) * PAGE_SZ;
	for (int tries = 0; tries <= MAPS_MAX; tries++) {
		if (at + len + PAGE_SZ > WINDOW_SIZE - MiB)
			at = WIN_MAPS;
		int clash = 0;
		for (int i = 0; i < nmaps; i++) {
			uint64_t b = (uint64_t)(maps[i].base - window), e = b + maps[i].len + PAGE_SZ;
			if (at < e && b < at + len + PAGE_SZ) {
				at = e;
				clash = 1;
			}
		}
		if (!clash)
			break;
	}
	map_next = at + len + PAGE_SZ;
	return at;
}

/* mmap a device offset at window + at (MAP_FIXED over PROT_NONE filler). */
static int map_at(int fd, uint64_t at, uint64_t offset, size_t len, int prot, struct map *m)
{
	busy_begin("mmap", 0);
	void *p = mmap(window + at, len, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)offset);
	int err = p == MAP_FAILED ? errno : 0;
	busy_end();
	if (err) {
		window_clear(at, len); /* whatever a failed MAP_FIXED left there */
		return -err;
	}
	*m = (struct map){ .base = p, .len = len, .prot = prot };
	return 0;
}

static int map_device(int fd, uint64_t offset, size_t len, int prot, struct map *m)
{
	return map_at(fd, map_spot(len), offset, len, prot, m);
}

static void unmap_device(struct map *m)
{
	if (!m->base)
		return;
	busy_begin("munmap", 0); /* writes dirty pages back: FUSE WRITEs to the daemon */
	window_clear((uint64_t)(m->base - window), m->len);
	busy_end();
	m->base = NULL;
}

/* ----------------------------------------------------------------- pools */

static void pool_del(int k, uint32_t h)
{
	for (int i = 0; i < npool[k]; i++)
		if (pool[k][i].handle == h) {
			pool[k][i] = pool[k][--npool[k]];
			return;
		}
}

static void pool_add(int k, uint32_t h, uint64_t size)
{
	if (!h)
		return;
	for (int i = 0; i < npool[k]; i++)
		if (pool[k][i].handle == h) {
			pool[k][i].size = size;
			return;
		}
	if (npool[k] == POOL_MAX) {
		/* Keep the leak bounded: the newcomer goes straight away. */
		struct drm_gem_close c = { .handle = h };
		fz_ioctl(k, DRM_IOCTL_GEM_CLOSE, &c, &c, "pool-full");
		return;
	}
	pool[k][npool[k]++] = (struct obj){ .handle = h, .size = size };
}

static void name_add(uint32_t name)
{
	if (!name)
		return;
	if (nnames < NAMES_MAX)
		names[nnames++] = name;
	else
		names[below(NAMES_MAX)] = name;
}

static void offset_add(uint64_t off)
{
	for (int i = 0; i < noffsets; i++)
		if (offsets[i] == off)
			return;
	if (noffsets < OFFSETS_MAX)
		offsets[noffsets++] = off;
	else
		offsets[below(OFFSETS_MAX)] = off;
}

/* ----------------------------------------------------------------- value pickers */

static const uint64_t huge_sizes[] = {
	1ull << 31, 1ull << 32, (1ull << 32) + 1, 1ull << 40, 1ull << 43, (1ull << 43) + PAGE_SZ,
	1ull << 46, (1ull << 47) - PAGE_SZ, 1ull << 62, 1ull << 63, 0x7fffffffffffffffull,
	~0ull - 4094, ~0ull - 4095, ~0ull,
};
#define NHUGE (sizeof(huge_sizes) / sizeof(huge_sizes[0]))

static const uint32_t magic32[] = {
	0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, 0x1000, 0xfff, 0x10000, 0x7fffffff, 0x80000000u, 0xfffffffeu,
	0xffffffffu, 0xdeadbeefu,
};
#define NMAGIC (sizeof(magic32) / sizeof(magic32[0]))

static struct obj *pick_obj(int k)
{
	return npool[k] ? &pool[k][below(npool[k])] : NULL;
}

static uint32_t pick_handle(int k)
{
	unsigned r = (unsigned)below(100);
	if (r < 75 && npool[k])
		return pool[k][below(npool[k])].handle;
	if (r < 80 && npool[!k])
		return pool[!k][below(npool[!k])].handle; /* the other file's */
	uint32_t some = npool[k] ? pool[k][below(npool[k])].handle : 1;
	switch (below(8)) {
	case 0: return 0;
	case 1: return ~0u;
	case 2: return 0xdeadbeefu;
	case 3: return some | 1u << 16;
	case 4: return some + 1;
	case 5: return 1 + (uint32_t)below(64);
	case 6: return some | 0x80000000u;
	default: return rnd32();
	}
}

/* A user pointer for the daemon to follow. Only ever NULL/small/non-canonical/kernel junk,
 * or somewhere in guarded memory of ours (arena, live device mappings). */
static uint64_t pick_ptr(void)
{
	switch (below(16)) {
	case 0: return 0;
	case 1: return 8;
	case 2: return ~0ull;
	case 3: return (uintptr_t)arena; /* just past a PROT_NONE page */
	case 4: return (uintptr_t)arena + ARENA_SIZE - 1 - below(16); /* runs into the guard */
	case 5: return (uintptr_t)arena - PAGE_SZ + below(PAGE_SZ); /* inside the guard */
	case 6: return 0x8000000000000000ull | rnd(); /* non-canonical */
	case 7: return 0xffff888000000000ull + below(1 << 20); /* kernel */
	case 8: return rnd();
	case 9:
	case 10:
	case 11:
		if (nmaps) { /* into our own live mapping of the device */
			struct map *m = &maps[below(nmaps)];
			uint64_t o = chance(150) ? m->len - 1 - below(8) : below(m->len) & ~3ull;
			return (uintptr_t)m->base + o;
		}
		__attribute__((fallthrough));
	default:
		return ((uintptr_t)arena + below(ARENA_SIZE)) & (chance(800) ? ~7ull : ~0ull);
	}
}

static uint64_t pick_size(uint64_t objsize)
{
	switch (below(11)) {
	case 0: return 0;
	case 1: return 1 + below(7);
	case 2: return PAGE_SZ;
	case 3: return objsize ? objsize : PAGE_SZ;
	case 4: return objsize ? 1 + below(objsize) : 1 + below(64 * KiB);
	case 5: return PAGE_SZ * (1 + below(16)) + (chance(500) ? below(PAGE_SZ) : 0);
	case 6: return huge_sizes[below(NHUGE)];
	case 7: return rnd();
	case 8: return objsize + 1 + below(8);
	case 9: return rnd32();
	default: return 1 + below(64 * KiB);
	}
}

static uint64_t pick_create_size(void)
{
	unsigned r = (unsigned)below(100);
	if (r < 5)
		return huge_sizes[below(NHUGE)];
	if (r < 10)
		return pick_size(0);
	if (r < 20)
		return 1 + below(256 * KiB); /* odd sizes, rounded up by the device */
	return PAGE_SZ * (1 + below(32));
}

static uint64_t pick_offset(uint64_t objsize)
{
	switch (below(10)) {
	case 0: return 0;
	case 1: return objsize ? below(objsize) : below(64 * KiB);
	case 2: return objsize >= 8 ? objsize - below(8) : 4092;
	case 3: return FAKE_OFFSET_START - 4 + below(8); /* near 4 GiB */
	case 4: return 0xfffff000ull + PAGE_SZ * below(2);
	case 5:
		if (noffsets) /* a real fake offset, give or take */
			return offsets[below(noffsets)] + (below(2) ? below(3) * PAGE_SZ : 0) - below(3) * (below(2) ? PAGE_SZ : 1);
		return FAKE_OFFSET_START;
	case 6: return rnd();
	case 7: return ~0ull - below(16);
	default: return PAGE_SZ * below(16);
	}
}

static uint32_t pick_name(void)
{
	if (nnames && chance(700))
		return names[below(nnames)];
	switch (below(4)) {
	case 0: return 0;
	case 1: return 1 + (uint32_t)below(64);
	case 2: return 0x7fffbeef;
	default: return rnd32();
	}
}

static uint32_t pick_domain(void)
{
	static const uint32_t d[] = {
		0, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_GTT, I915_GEM_DOMAIN_WC, I915_GEM_DOMAIN_RENDER,
		I915_GEM_DOMAIN_SAMPLER, I915_GEM_DOMAIN_COMMAND, I915_GEM_DOMAIN_INSTRUCTION,
		I915_GEM_DOMAIN_VERTEX, I915_GEM_DOMAIN_CPU | I915_GEM_DOMAIN_GTT,
	};
	return chance(900) ? d[below(sizeof(d) / sizeof(d[0]))] : rnd32();
}

static uint64_t pick_flags(unsigned valid)
{
	switch (below(6)) {
	case 0: return 0;
	case 1: return ~0ull;
	case 2: return rnd();
	case 3: return rnd32();
	default: return below(valid + 2);
	}
}

static uint64_t pick_len(void)
{
	static const uint64_t l[] = { 0, 1, 3, 4, 5, 16, 64, 4096, 1 << 20, 0x7fffffff, ~0ull };
	return chance(900) ? l[below(sizeof(l) / sizeof(l[0]))] : rnd();
}

/* ----------------------------------------------------------------- nested structures */

/* A chain of i915_user_extension (each a create_ext_memory_regions) in the arena. */
static uint64_t build_exts(void)
{
	unsigned n = (unsigned)below(4);
	uint8_t *at[3];

	if (n == 0)
		return chance(300) ? pick_ptr() : 0;
	for (unsigned i = 0; i < n; i++)
		at[i] = arena + AR_EXTS + below((AR_REGIONS - AR_EXTS) / 64) * 64;
	for (unsigned i = n; i-- > 0;) {
		struct drm_i915_gem_create_ext_memory_regions *x = (void *)at[i];
		memset(x, 0, sizeof(*x));
		x->base.name = chance(800) ? (uint32_t)below(3) : rnd32();
		if (chance(50))
			x->base.flags = rnd32();
		if (chance(50))
			x->base.rsvd[below(4)] = rnd32();
		if (i + 1 < n)
			x->base.next_extension = (uintptr_t)at[i + 1];
		else if (chance(100))
			x->base.next_extension = (uintptr_t)at[0]; /* a loop */
		else if (chance(50))
			x->base.next_extension = pick_ptr();
		if (chance(50))
			x->pad = rnd32();
		static const uint32_t nums[] = { 1, 1, 1, 2, 0, 7, 8 };
		x->num_regions = chance(900) ? nums[below(sizeof(nums) / sizeof(nums[0]))] : rnd32();
		if (chance(850)) {
			struct drm_i915_gem_memory_class_instance *r = (void *)(arena + AR_REGIONS + below(64) * 64);
			for (unsigned j = 0; j < 8; j++) {
				switch (below(5)) {
				case 0:
				case 1: r[j] = (struct drm_i915_gem_memory_class_instance){ 0, 0 }; break;
				case 2: r[j] = (struct drm_i915_gem_memory_class_instance){ 1, 0 }; break;
				case 3: r[j] = (struct drm_i915_gem_memory_class_instance){ 0, 1 }; break;
				default: r[j] = (struct drm_i915_gem_memory_class_instance){ (uint16_t)rnd(), (uint16_t)rnd() };
				}
			}
			x->regions = (uintptr_t)r;
		} else {
			x->regions = pick_ptr();
		}
	}
	return (uintptr_t)at[0];
}

/* drm_i915_query_item array in the arena; *num gets the item count to claim. */
static uint64_t build_query(uint32_t *num)
{
	unsigned n = 1 + (unsigned)below(4);
	struct drm_i915_query_item *it = (void *)(arena + AR_ITEMS + below(64) * 16);

	for (unsigned i = 0; i < n; i++) {
		uint64_t id = chance(850) ? 1 + below(6) : (chance(500) ? 0 : rnd());
		int32_t need = 0;
		if (id == DRM_I915_QUERY_MEMORY_REGIONS)
			need = sizeof(struct drm_i915_query_memory_regions) + sizeof(struct drm_i915_memory_region_info);
		else if (id == DRM_I915_QUERY_ENGINE_INFO)
			need = sizeof(struct drm_i915_query_engine_info) + 5 * sizeof(struct drm_i915_engine_info);
		static const int32_t lens[] = { 0, 0, 0, -1, 1, 16, 4096 };
		it[i].query_id = id;
		it[i].length = chance(300) && need ? need : chance(900) ? lens[below(sizeof(lens) / sizeof(lens[0]))] : (int32_t)rnd32();
		it[i].flags = chance(900) ? 0 : (chance(500) ? 1 + (uint32_t)below(3) : rnd32());
		if (chance(600)) {
			uint8_t *d = arena + AR_QDATA + below(3) * PAGE_SZ;
			memset(d, 0, PAGE_SZ);
			if (chance(100))
				d[below(64)] = (uint8_t)rnd();
			it[i].data_ptr = (uintptr_t)d;
		} else {
			it[i].data_ptr = pick_ptr();
		}
	}
	if (chance(900))
		*num = n;
	else
		*num = chance(500) ? rnd32() : n + 1 + (uint32_t)below(4);
	return chance(920) ? (uintptr_t)it : pick_ptr();
}

/* A valid-looking struct for a 'd' ioctl number, in p (zeroed by the caller). */
static void gen_struct(unsigned nr, int k, uint8_t *p)
{
	struct obj *o = pick_obj(k);
	uint64_t osz = o && chance(800) ? o->size : 0;

	switch (nr) {
	case NR(DRM_IOCTL_VERSION): {
		struct drm_version *v = (void *)p;
		v->name_len = pick_len();
		v->name = (char *)(uintptr_t)pick_ptr();
		v->date_len = pick_len();
		v->date = (char *)(uintptr_t)pick_ptr();
		v->desc_len = pick_len();
		v->desc = (char *)(uintptr_t)pick_ptr();
		break;
	}
	case NR(DRM_IOCTL_GET_UNIQUE): {
		struct drm_unique *u = (void *)p;
		u->unique_len = pick_len();
		u->unique = (char *)(uintptr_t)pick_ptr();
		break;
	}
	case NR(DRM_IOCTL_GET_MAGIC):
	case NR(DRM_IOCTL_AUTH_MAGIC): {
		struct drm_auth *a = (void *)p;
		a->magic = chance(600) ? 1 + (uint32_t)below(256) : rnd32();
		break;
	}
	case NR(DRM_IOCTL_GET_CAP):
	case NR(DRM_IOCTL_SET_CLIENT_CAP): {
		struct drm_get_cap *c = (void *)p;
		c->capability = chance(800) ? below(0x20) : rnd();
		c->value = chance(500) ? below(3) : rnd();
		break;
	}
	case NR(DRM_IOCTL_GEM_CLOSE): {
		struct drm_gem_close *c = (void *)p;
		c->handle = pick_handle(k);
		c->pad = chance(100) ? rnd32() : 0;
		break;
	}
	case NR(DRM_IOCTL_GEM_FLINK): {
		struct drm_gem_flink *f = (void *)p;
		f->handle = pick_handle(k);
		f->name = chance(200) ? rnd32() : 0;
		break;
	}
	case NR(DRM_IOCTL_GEM_OPEN): {
		struct drm_gem_open *g = (void *)p;
		g->name = pick_name();
		g->handle = chance(200) ? rnd32() : 0;
		g->size = chance(200) ? rnd() : 0;
		break;
	}
	case NR(DRM_IOCTL_PRIME_HANDLE_TO_FD):
	case NR(DRM_IOCTL_PRIME_FD_TO_HANDLE): {
		struct drm_prime_handle *ph = (void *)p;
		ph->handle = pick_handle(k);
		ph->flags = (uint32_t)pick_flags(DRM_CLOEXEC | DRM_RDWR);
		ph->fd = chance(500) ? fds[k] : (chance(500) ? -1 : (int32_t)rnd32());
		break;
	}
	case NR(DRM_IOCTL_I915_GETPARAM): {
		struct drm_i915_getparam *g = (void *)p;
		g->param = chance(850) ? (int)below(64) : (int)rnd32();
		g->value = (int *)(uintptr_t)pick_ptr();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_BUSY): {
		struct drm_i915_gem_busy *b = (void *)p;
		b->handle = pick_handle(k);
		b->busy = chance(100) ? rnd32() : 0;
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_CREATE): {
		struct drm_i915_gem_create *c = (void *)p;
		c->size = pick_create_size();
		if (chance(50))
			c->handle = rnd32();
		if (chance(50))
			c->pad = rnd32();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_CREATE_EXT): {
		struct drm_i915_gem_create_ext *c = (void *)p;
		c->size = pick_create_size();
		c->flags = chance(800) ? 0 : (uint32_t)pick_flags(I915_GEM_CREATE_EXT_FLAG_NEEDS_CPU_ACCESS);
		c->extensions = build_exts();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_PREAD):
	case NR(DRM_IOCTL_I915_GEM_PWRITE): {
		struct drm_i915_gem_pread *t = (void *)p; /* same layout as pwrite */
		t->handle = o && chance(800) ? o->handle : pick_handle(k);
		if (chance(100))
			t->pad = rnd32();
		if (osz && chance(600)) { /* in bounds */
			t->offset = below(osz);
			t->size = 1 + below(osz - t->offset);
		} else {
			t->offset = pick_offset(osz);
			t->size = pick_size(osz);
		}
		t->data_ptr = pick_ptr();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_MMAP): {
		struct drm_i915_gem_mmap *m = (void *)p;
		m->handle = pick_handle(k);
		m->offset = pick_offset(osz);
		m->size = pick_size(osz);
		m->addr_ptr = pick_ptr();
		m->flags = pick_flags(I915_MMAP_WC);
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_MMAP_OFFSET): { /* and MMAP_GTT: its 16 bytes are the head */
		struct drm_i915_gem_mmap_offset *m = (void *)p;
		m->handle = pick_handle(k);
		if (chance(100))
			m->pad = rnd32();
		if (chance(200))
			m->offset = pick_offset(osz);
		m->flags = chance(800) ? below(5) : pick_flags(4);
		m->extensions = chance(850) ? 0 : build_exts();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_SET_DOMAIN): {
		struct drm_i915_gem_set_domain *d = (void *)p;
		d->handle = pick_handle(k);
		d->read_domains = pick_domain();
		d->write_domain = chance(500) ? 0 : chance(500) ? d->read_domains : pick_domain();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_SW_FINISH): {
		struct drm_i915_gem_sw_finish *s = (void *)p;
		s->handle = pick_handle(k);
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_SET_TILING): {
		struct drm_i915_gem_set_tiling *t = (void *)p;
		static const uint32_t strides[] = { 0, 128, 512, 1024, 2048, 4096, 8192, 256 * 1024, 256 * 1024 + 512, 100 };
		t->handle = pick_handle(k);
		t->tiling_mode = chance(900) ? (uint32_t)below(4) : rnd32();
		t->stride = chance(900) ? strides[below(sizeof(strides) / sizeof(strides[0]))] : rnd32();
		t->swizzle_mode = chance(200) ? rnd32() : 0;
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_GET_TILING):
	case NR(DRM_IOCTL_I915_GEM_GET_CACHING):
	case NR(DRM_IOCTL_FAKEDRM_GEM_SET_READONLY): {
		uint32_t *h = (void *)p;
		h[0] = pick_handle(k);
		h[1] = chance(900) ? 0 : rnd32(); /* caching / flags */
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_MADVISE): {
		struct drm_i915_gem_madvise *m = (void *)p;
		m->handle = pick_handle(k);
		m->madv = chance(900) ? (uint32_t)below(3) : rnd32();
		m->retained = chance(100) ? rnd32() : 0;
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_SET_CACHING): {
		struct drm_i915_gem_caching *c = (void *)p;
		static const uint32_t lv[] = { 0, 1, 2, 3, 99 };
		c->handle = pick_handle(k);
		c->caching = chance(900) ? lv[below(5)] : rnd32();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_WAIT): {
		struct drm_i915_gem_wait *w = (void *)p;
		w->bo_handle = pick_handle(k);
		w->flags = chance(800) ? 0 : rnd32();
		w->timeout_ns = chance(500) ? 0 : (chance(500) ? -1 : (int64_t)rnd());
		break;
	}
	case NR(DRM_IOCTL_I915_QUERY): {
		struct drm_i915_query *q = (void *)p;
		q->items_ptr = build_query(&q->num_items);
		q->flags = chance(900) ? 0 : rnd32();
		break;
	}
	case NR(DRM_IOCTL_I915_GEM_CONTEXT_GETPARAM): {
		struct drm_i915_gem_context_param *c = (void *)p;
		c->ctx_id = chance(800) ? 0 : (chance(500) ? 1 : rnd32());
		c->size = chance(800) ? 0 : rnd32();
		c->param = chance(850) ? below(0x20) : rnd();
		c->value = chance(500) ? 0 : pick_ptr();
		break;
	}
	default: /* SET_MASTER, DROP_MASTER, THROTTLE, GET_APERTURE, unknown numbers */
		fill_random(p, 256);
		break;
	}
}

/* Overwrite one field of p[0..len) with an interesting value. */
static void mutate(uint8_t *p, size_t len, int k)
{
	if (len < 4) {
		if (len)
			p[below(len)] ^= (uint8_t)(1u << below(8));
		return;
	}
	size_t at4 = below(len / 4) * 4;
	size_t at8 = len >= 8 ? below(len / 8) * 8 : 0;
	uint32_t v32;
	uint64_t v64;
	switch (below(6)) {
	case 0:
		p[below(len)] ^= (uint8_t)(1u << below(8));
		return;
	case 1:
		v32 = magic32[below(NMAGIC)];
		break;
	case 2:
		v32 = pick_handle(k);
		break;
	case 3:
		if (len < 8)
			return;
		v64 = below(2) ? pick_ptr() : pick_size(0);
		memcpy(p + at8, &v64, 8);
		return;
	case 4:
		if (len < 8)
			return;
		v64 = pick_offset(0);
		memcpy(p + at8, &v64, 8);
		return;
	default:
		v32 = rnd32();
		break;
	}
	memcpy(p + at4, &v32, 4);
}

/* After a successful call, learn the handles, names and offsets it produced or dropped. */
static void harvest(int k, unsigned long cmd, const uint8_t *before, int r)
{
	unsigned dir = _IOC_DIR(cmd), size = _IOC_SIZE(cmd);
	int in = dir & _IOC_WRITE, out = dir & _IOC_READ;
	uint32_t u32;
	uint64_t u64 = 0;

	if (r != 0 || _IOC_TYPE(cmd) != DRM_IOCTL_BASE)
		return;
	switch (_IOC_NR(cmd)) {
	case NR(DRM_IOCTL_GEM_CLOSE):
		if (in && size >= 4) {
			memcpy(&u32, before, 4);
			pool_del(k, u32);
		}
		break;
	case NR(DRM_IOCTL_I915_GEM_CREATE):
	case NR(DRM_IOCTL_I915_GEM_CREATE_EXT): /* both: u64 size, u32 handle */
		if (out && size >= 12) {
			memcpy(&u64, payload, 8);
			memcpy(&u32, payload + 8, 4);
			pool_add(k, u32, u64);
		}
		break;
	case NR(DRM_IOCTL_GEM_OPEN):
		if (out && size >= 8) {
			memcpy(&u32, payload + 4, 4);
			if (size >= 16)
				memcpy(&u64, payload + 8, 8);
			pool_add(k, u32, u64);
		}
		break;
	case NR(DRM_IOCTL_GEM_FLINK):
		if (out && size >= 8) {
			memcpy(&u32, payload + 4, 4);
			name_add(u32);
		}
		break;
	case NR(DRM_IOCTL_I915_GEM_MMAP_OFFSET):
		if (out && size >= 16) {
			memcpy(&u64, payload + 8, 8);
			offset_add(u64);
		}
		break;
	}
}

/* ----------------------------------------------------------------- actions */

static void fuzz_one(void)
{
	int k = chance(700) ? 0 : 1;
	const struct ioc *ic = &iocs[below(NIOCS)];
	unsigned long cmd;
	unsigned cls = (unsigned)below(100);
	const char *what;
	uint8_t before[16];

	if (cls < 60) {
		cmd = ic->cmd;
	} else if (cls < 78) { /* same number, random size and direction */
		cmd = _IOC((unsigned)below(4), DRM_IOCTL_BASE, _IOC_NR(ic->cmd), (unsigned)below(257));
	} else if (cls < 92) { /* any number of the DRM type */
		unsigned nr = chance(500) ? DRM_COMMAND_BASE + (unsigned)below(DRM_COMMAND_END - DRM_COMMAND_BASE)
					 : (unsigned)below(256);
		unsigned size = chance(700) ? (unsigned)below(257) : (unsigned)below(PAYLOAD_MAX);
		cmd = _IOC((unsigned)below(4), DRM_IOCTL_BASE, nr, size);
	} else { /* some other type */
		unsigned t;
		do
			t = (unsigned)below(256);
		while (type_excluded(t));
		cmd = _IOC((unsigned)below(4), t, (unsigned)below(256), (unsigned)below(257));
	}

	size_t size = _IOC_SIZE(cmd);
	size_t known = _IOC_TYPE(cmd) == DRM_IOCTL_BASE ? nr_struct_size(_IOC_NR(cmd)) : 0;
	memset(payload, 0, size > 256 ? size : 256);
	unsigned fv = (unsigned)below(100);
	if (fv < 25 || (_IOC_TYPE(cmd) != DRM_IOCTL_BASE && fv < 90)) {
		fill_random(payload, size > 256 ? size : 256);
		what = "random";
	} else if (fv < 90) {
		gen_struct(_IOC_NR(cmd), k, payload);
		unsigned m = (unsigned)below(3);
		size_t mlen = known ? known : (size ? size : 16);
		for (unsigned i = 0; i < m; i++)
			mutate(payload, mlen, k);
		what = m ? "mutated" : "struct";
	} else {
		what = "zero";
	}
	memcpy(before, payload, sizeof(before));

	void *arg = payload;
	unsigned av = (unsigned)below(1000);
	if (av < 20 && size) {
		arg = payload + PAYLOAD_MAX - 1 - below(size); /* struct runs into the guard page */
		what = "arg@guard";
	} else if (av < 30) {
		arg = NULL;
		what = "arg=NULL";
	} else if (av < 35) {
		arg = (void *)~(uintptr_t)0;
		what = "arg=-1";
	} else if (av < 60 && nmaps) { /* the struct itself lives in our device mapping */
		/* Only with our own payload copied in: an object's contents may hold any bytes. */
		struct map *m = &maps[below(nmaps)];
		if (size && size <= m->len && (m->prot & PROT_WRITE)) {
			size_t off = chance(200) ? m->len - below(size) : below(m->len - size + 1);
			busy_begin("probe", 0);
			int bad = probe_copy(m->base + off, payload, off + size <= m->len ? size : m->len - off);
			busy_end();
			if (!bad) {
				arg = m->base + off;
				what = "arg@mapping";
			}
		}
	}

	int r = fz_ioctl(k, cmd, arg, payload, what);
	if (arg == payload)
		harvest(k, cmd, before, r);
}

static void act_create(int k)
{
	if (npool[k] == POOL_MAX) {
		struct drm_gem_close c = { .handle = pool[k][below(POOL_MAX)].handle };
		pool_del(k, c.handle);
		fz_ioctl(k, DRM_IOCTL_GEM_CLOSE, &c, &c, "pool");
	}
	struct drm_i915_gem_create c = {
		.size = chance(100) ? 1 + below(256 * KiB) : PAGE_SZ * (1 + below(16)),
	};
	int r = fz_ioctl(k, DRM_IOCTL_I915_GEM_CREATE, &c, &c, "pool");
	if (r == -ENOMEM)
		me->creates_enomem++;
	if (r)
		return;
	pool_add(k, c.handle, c.size);
	if (k == 0 && chance(200)) {
		struct drm_gem_flink f = { .handle = c.handle };
		if (fz_ioctl(k, DRM_IOCTL_GEM_FLINK, &f, &f, "pool") == 0)
			name_add(f.name);
	}
}

static void probe_map(struct map *m, unsigned n)
{
	busy_begin("probe", 0);
	for (unsigned i = 0; i < n; i++) {
		volatile uint32_t *p = (volatile uint32_t *)(m->base + below(m->len / 4) * 4);
		uint32_t v;
		me->probes++;
		if (try_read32(p, &v))
			me->probe_faults++;
		else if ((m->prot & PROT_WRITE) && chance(500) && try_write32(p, rnd32()))
			me->probe_faults++;
	}
	busy_end();
}

static void drop_map(int i)
{
	unmap_device(&maps[i]);
	maps[i] = maps[--nmaps];
}

/* mmap an object's offset (or a neighbouring, foreign or bogus one), touch it, maybe keep it. */
static void act_map(void)
{
	int k = chance(800) ? 0 : 1;
	uint64_t off;
	size_t len;
	struct obj *o = pick_obj(k);
	unsigned how = (unsigned)below(10);

	if (nmaps == MAPS_MAX)
		drop_map((int)below(nmaps));
	if (how < 6 && o) {
		struct drm_i915_gem_mmap_offset mo = { .handle = o->handle, .flags = below(4) };
		unsigned long cmd = chance(200) ? DRM_IOCTL_I915_GEM_MMAP_GTT : DRM_IOCTL_I915_GEM_MMAP_OFFSET;
		if (fz_ioctl(k, cmd, &mo, &mo, "map"))
			return;
		offset_add(mo.offset);
		off = mo.offset;
		len = o->size && o->size < MAP_WINDOW ? (o->size + PAGE_SZ - 1) & ~(PAGE_SZ - 1) : MAP_WINDOW;
	} else if (how < 8 && noffsets) {
		off = offsets[below(noffsets)] + below(5) * PAGE_SZ - 2 * PAGE_SZ;
		len = PAGE_SZ * (1 + below(4));
	} else {
		static const uint64_t odd[] = {
			FAKE_OFFSET_START - PAGE_SZ, FAKE_OFFSET_START, 0, (1ull << 46) - PAGE_SZ, 1ull << 46,
			FAKE_OFFSET_START + 0xfffff00ull * PAGE_SZ,
		};
		off = chance(500) ? odd[below(sizeof(odd) / sizeof(odd[0]))] : FAKE_OFFSET_START + below(1 << 20) * PAGE_SZ;
		len = PAGE_SZ * (1 + below(4));
	}
	struct map m;
	int mk = chance(900) ? k : !k; /* sometimes through the other file */
	if (map_device(fds[mk], off, len, chance(800) ? PROT_READ | PROT_WRITE : PROT_READ, &m)) {
		me->map_failed++;
		return;
	}
	me->maps++;
	probe_map(&m, 1 + (unsigned)below(4));
	if (chance(300))
		unmap_device(&m);
	else
		maps[nmaps++] = m;
}

static void act_touch(void)
{
	if (!nmaps)
		return;
	int i = (int)below(nmaps);
	probe_map(&maps[i], 1 + (unsigned)below(8));
	if (chance(400))
		drop_map(i);
}

static int reopen(int k)
{
	busy_begin("open", 0);
	fds[k] = open(paths[k], O_RDWR | O_CLOEXEC);
	int err = fds[k] < 0 ? errno : 0;
	busy_end();
	if (err)
		set_fatal("open(%s) failed: %s (iteration %ld)", paths[k], errname(err), iter);
	return -err;
}

/* Close and reopen the storm's files; mappings made through the old ones stay. */
static void act_reopen(void)
{
	me->reopens++;
	for (int k = 0; k < 2; k++) {
		busy_begin("close", 0);
		close(fds[k]);
		busy_end();
		npool[k] = 0;
		if (reopen(k))
			return;
	}
}

static void fill_bytes(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seed >> (8 * (i & 3))) + i * 131);
}

static int setup_clean(void)
{
	struct drm_i915_gem_create c = { .size = CLEAN_SIZE };
	struct drm_i915_gem_mmap_offset mo = { .flags = I915_MMAP_OFFSET_GTT };

	if (fz_ioctl(2, DRM_IOCTL_I915_GEM_CREATE, &c, &c, "clean"))
		return -1;
	clean_c = c.handle;
	c = (struct drm_i915_gem_create){ .size = CLEAN_SIZE };
	if (fz_ioctl(2, DRM_IOCTL_I915_GEM_CREATE, &c, &c, "clean"))
		return -1;
	clean_d = c.handle;
	mo.handle = clean_c;
	if (fz_ioctl(2, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &mo, &mo, "clean"))
		return -1;
	unmap_device(&cmap);
	if (map_at(fds[2], WIN_CLEAN, mo.offset, CLEAN_SIZE, PROT_READ | PROT_WRITE, &cmap))
		return -1;
	return 0;
}

static int loop_rw(unsigned long cmd, uint32_t h, uint64_t off, uint64_t n, void *ptr)
{
	struct drm_i915_gem_pwrite t = { .handle = h, .offset = off, .size = n, .data_ptr = (uintptr_t)ptr };
	return fz_ioctl(2, cmd, &t, &t, "loopback");
}

#define ANOMALY(...) do { me->anomalies++; note(__VA_ARGS__); return; } while (0)

/*
 * PREAD/PWRITE whose data pointer lies in our own GTT mapping of another object: the
 * daemon's access to our memory faults back into the daemon. Objects are private to fds[2],
 * which the storm never touches, so every step must succeed with the right bytes.
 */
static void act_loopback(void)
{
	if (!clean_ok) {
		clean_ok = setup_clean() == 0;
		if (!clean_ok)
			return;
	}
	me->loopbacks++;
	size_t n = chance(500) ? 1 + below(CLEAN_SIZE - 1) : PAGE_SZ * (1 + below(4));
	size_t a = below(CLEAN_SIZE - n + 1), d = below(CLEAN_SIZE - n + 1), b = below(CLEAN_SIZE - n + 1);
	uint8_t *src = arena + AR_LOOP_SRC, *chk = arena + AR_LOOP_CHK;
	uint32_t seed = rnd32();
	int r;

	fill_bytes(src, n, seed);
	/* C[a..] = pattern; the PWRITE drops any cached page of our mapping of C. */
	if ((r = loop_rw(DRM_IOCTL_I915_GEM_PWRITE, clean_c, a, n, src)))
		ANOMALY("loopback: PWRITE(C, %zu, %zu) from arena: %s", a, n, errname(-r));
	/* D[d..] = C[a..], read by the daemon through our GTT mapping of C. */
	if ((r = loop_rw(DRM_IOCTL_I915_GEM_PWRITE, clean_d, d, n, cmap.base + a)))
		ANOMALY("loopback: PWRITE(D, %zu, %zu) from own GTT map of C+%zu: %s", d, n, a, errname(-r));
	memset(chk, 0, n);
	if ((r = loop_rw(DRM_IOCTL_I915_GEM_PREAD, clean_d, d, n, chk)))
		ANOMALY("loopback: PREAD(D, %zu, %zu): %s", d, n, errname(-r));
	if (memcmp(chk, src, n))
		ANOMALY("loopback: D read back differs from what PWRITE took from own GTT map (n %zu)", n);
	/* Our mapping of C[b..] = D[d..], written by the daemon into it. */
	if ((r = loop_rw(DRM_IOCTL_I915_GEM_PREAD, clean_d, d, n, cmap.base + b)))
		ANOMALY("loopback: PREAD(D, %zu, %zu) into own GTT map of C+%zu: %s", d, n, b, errname(-r));
	busy_begin("probe", 0);
	r = probe_copy(chk, cmap.base + b, n);
	busy_end();
	if (r)
		ANOMALY("loopback: SIGBUS reading own GTT map of C+%zu after PREAD into it", b);
	if (memcmp(chk, src, n))
		ANOMALY("loopback: own GTT map of C+%zu differs after PREAD into it (n %zu)", b, n);
	/* And the store through the mapping reached C (PREAD writes dirty pages back first). */
	memset(chk, 0, n);
	if ((r = loop_rw(DRM_IOCTL_I915_GEM_PREAD, clean_c, b, n, chk)))
		ANOMALY("loopback: PREAD(C, %zu, %zu): %s", b, n, errname(-r));
	if (memcmp(chk, src, n))
		ANOMALY("loopback: PREAD(C) differs from what the daemon wrote into own GTT map (n %zu)", n);
}

static void child_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (igt_probe_active) {
		igt_probe_active = 0;
		siglongjmp(igt_probe_env, 1);
	}
	if (me) {
		me->crash_sig = sig;
		me->crash_addr = (uintptr_t)si->si_addr;
	}
	_exit(3);
}

static void child_main(struct slot *s, long iters)
{
	struct sigaction sa;

	me = s;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = child_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rng = me->seed ? me->seed : 1;

	if (window_reserve()) {
		me->setup_failed = 1;
		set_fatal("cannot reserve a 4 GiB address window: %s", strerror(errno));
		return;
	}
	payload = window_alloc(WIN_PAYLOAD, PAYLOAD_MAX);
	arena = window_alloc(WIN_ARENA, ARENA_SIZE);
	if (!payload || !arena) {
		me->setup_failed = 1;
		set_fatal("out of memory");
		return;
	}
	fill_random(arena, ARENA_SIZE);
	for (int k = 0; k < 3; k++)
		if (reopen(k))
			return;
	clean_ok = setup_clean() == 0;

	for (iter = 0; iter < iters && !me->fatal; iter++) {
		if ((uint64_t)now_ns() > deadline) {
			me->budget_hit = 1;
			break;
		}
		unsigned a = (unsigned)below(1000);
		if (a < 15)
			act_create(chance(750) ? 0 : 1);
		else if (a < 25)
			act_map();
		else if (a < 35)
			act_touch();
		else if (a < 40)
			act_loopback();
		else if (a < 41)
			act_reopen();
		else
			fuzz_one();
		me->iters_done = iter + 1;
	}
	me->done = 1;
}

/* ----------------------------------------------------------------- parent */

static void dump_ring(int i, unsigned max)
{
	struct slot *s = &slots[i];
	unsigned pos = __atomic_load_n(&s->ring_pos, __ATOMIC_ACQUIRE);
	unsigned n = pos < max ? pos : max;
	static const char *fdn[] = { "card0", "renderD128", "card0(clean)" };

	info("child %d (seed 0x%016llx): last %u ioctls, oldest first", i, (unsigned long long)s->seed, n);
	for (unsigned j = pos - n; j != pos; j++) {
		struct ring_entry *e = &s->ring[j % RING];
		char nb[64], hex[2 * sizeof(e->arg) + 1] = "";
		for (unsigned b = 0; b < e->arglen && b < sizeof(e->arg); b++)
			snprintf(hex + 2 * b, 3, "%02x", e->arg[b]);
		info("  iter %ld %s %s (0x%08x) [%s] -> %s, %.3f ms, arg %s", e->iter,
		     fdn[e->fd >= 0 && e->fd < 3 ? e->fd : 0], cmd_name(e->cmd, nb, sizeof(nb)), e->cmd, e->what,
		     e->err < 0 ? "IN FLIGHT" : e->err ? errname(e->err) : "ok", e->ns / 1e6, hex[0] ? hex : "-");
	}
}

/* Where a child sleeps in the kernel (request_wait_answer: its request is with the daemon). */
static const char *wchan(pid_t pid, char *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)n, f))
			buf[0] = 0;
		fclose(f);
	}
	return buf[0] ? buf : "?";
}

static void kill_children(const pid_t *pids, const int *exited, int nproc)
{
	for (int i = 0; i < nproc; i++)
		if (!exited[i] && pids[i] > 0)
			kill(pids[i], SIGKILL);
}

/* A fresh open must still do the ordinary things right. */
static void final_workload(const char *path, uint32_t seed)
{
	struct drm_version v;
	uint64_t size = MiB;
	uint32_t h = 0;
	int r, fd = drm_open(path);

	CHECK_OK(drm_get_version(fd, &v));
	CHECK_MSG(strcmp(v.name, "i915") == 0, "VERSION name \"%s\" after the storm", v.name);
	free(v.name);
	free(v.date);
	free(v.desc);
	/* The storm's files are released asynchronously: their objects may still hold memory. */
	for (int tries = 0; (r = __gem_create(fd, &size, &h)) == -ENOMEM || r == -ENOSPC; tries++) {
		if (tries == 50)
			break;
		usleep(100000);
	}
	CHECK_MSG(r == 0, "GEM_CREATE 1 MiB after the storm: %s", errname(-r));
	uint32_t *buf = malloc(MiB);
	CHECK(buf);
	fill_pattern(buf, MiB / 4, seed);
	gem_pwrite(fd, h, 0, buf, MiB);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	uint32_t *p = gem_mmap(fd, off, MiB, PROT_READ | PROT_WRITE);
	uint32_t first;
	CHECK_MSG(try_read32(p, &first) == 0, "fresh GTT mapping faulted on first read after the storm");
	CHECK_PATTERN(p, MiB / 4, seed, "GTT readback of PWRITE pattern after the storm");
	munmap(p, MiB);
	gem_close(fd, h);
	free(buf);
	close(fd);

	fd = drm_open(render_path(path));
	CHECK(getparam(fd, I915_PARAM_CHIPSET_ID) != 0);
	close(fd);

	/* The mount still lists both nodes, and card0 still opens. */
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (!dir[0])
		snprintf(dir, sizeof(dir), "/");
	DIR *d = opendir(dir);
	CHECK_MSG(d, "opendir(%s): %s", dir, strerror(errno));
	int seen = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		seen |= (strcmp(e->d_name, slash ? slash + 1 : path) == 0) | (strcmp(e->d_name, "renderD128") == 0) << 1;
	closedir(d);
	CHECK_MSG(seen == 3, "%s no longer lists %s%s", dir, seen & 1 ? "" : path, seen & 2 ? "" : " renderD128");
	struct stat st;
	/* A regular file in plain mode, character device 226:x in strict mode. */
	CHECK_MSG(stat(path, &st) == 0 && (st.st_size > 0 || S_ISCHR(st.st_mode)), "stat(%s): %s", path, strerror(errno));
	close(drm_open(path));
}

int main(int argc, char **argv)
{
	long total = DEF_ITERATIONS;
	int nproc = DEF_PROCESSES;
	uint64_t seed;

	igt_test_name = NAME;
	setvbuf(stdout, NULL, _IOLBF, 0);
	igt_install_handlers();
	signal(SIGPIPE, SIG_IGN);
	alarm(240);
	if (argc < 2 || argc > 4)
		fail("usage: %s DEVICE [ITERATIONS [PROCESSES]]", argv[0]);
	const char *path = argv[1];
	if (argc > 2) {
		char *end;
		total = strtol(argv[2], &end, 0);
		if (*end || total <= 0)
			fail("ITERATIONS must be a positive number, not \"%s\"", argv[2]);
	}
	if (argc > 3) {
		char *end;
		nproc = (int)strtol(argv[3], &end, 0);
		if (*end || nproc < 1 || nproc > MAX_PROCESSES)
			fail("PROCESSES must be 1..%d, not \"%s\"", MAX_PROCESSES, argv[3]);
	}
	const char *env = getenv("FUZZ_SEED");
	if (env && *env) {
		char *end;
		seed = strtoull(env, &end, 0);
		if (*end)
			fail("FUZZ_SEED must be a number, not \"%s\"", env);
	} else {
		uint64_t s = now_ns() ^ ((uint64_t)getpid() << 32);
		seed = splitmix64(&s);
	}

	/* The device must answer before the storm, or there is nothing to test (a wedged
	 * daemon blocks open() for good: fail in 20 s rather than at the 240 s guard). */
	alarm(20);
	int fd = drm_open(path);
	struct drm_version v;
	CHECK_OK(drm_get_version(fd, &v));
	CHECK_MSG(strcmp(v.name, "i915") == 0, "VERSION name \"%s\"", v.name);
	free(v.name);
	free(v.date);
	free(v.desc);
	close(fd);
	paths[0] = path;
	paths[1] = strdup(render_path(path));
	paths[2] = path;
	fd = drm_open(paths[1]);
	close(fd);
	alarm(240);

	long per = total / nproc, extra = total % nproc;
	info("seed 0x%016llx (rerun: FUZZ_SEED=0x%016llx %s %s %ld %d)", (unsigned long long)seed,
	     (unsigned long long)seed, argv[0], path, total, nproc);
	info("%d processes x %ld%s iterations, time budget %llu s", nproc, per, extra ? "(+1)" : "",
	     (unsigned long long)(BUDGET_NS / NS));

	slots = mmap(NULL, sizeof(struct slot) * nproc, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(slots != MAP_FAILED);
	uint64_t start = now_ns();
	deadline = start + BUDGET_NS;
	pid_t pids[MAX_PROCESSES];
	int exited[MAX_PROCESSES] = { 0 }, status[MAX_PROCESSES] = { 0 };
	uint64_t sm = seed;
	for (int i = 0; i < nproc; i++) {
		slots[i].seed = splitmix64(&sm);
		slots[i].iters = per + (i < extra);
	}
	for (int i = 0; i < nproc; i++) {
		pids[i] = fork();
		CHECK_MSG(pids[i] >= 0, "fork: %s", strerror(errno));
		if (pids[i] == 0) {
			alarm(0);
			child_main(&slots[i], slots[i].iters);
			_exit(0);
		}
	}

	/* Watchdog: reap children; an operation in flight for 20 s means the daemon hangs. */
	int alive = nproc, reported[MAX_PROCESSES] = { 0 };
	while (alive) {
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			for (int i = 0; i < nproc; i++)
				if (pids[i] == w && !exited[i]) {
					exited[i] = 1;
					status[i] = st;
					alive--;
				}
		if (!alive)
			break;
		uint64_t t = now_ns();
		for (int i = 0; i < nproc; i++) {
			uint64_t b = __atomic_load_n(&slots[i].busy_start, __ATOMIC_ACQUIRE);
			if (exited[i] || !b || t < b)
				continue;
			char nb[64];
			if (t - b > HANG_NS && !reported[i]) {
				reported[i] = 1;
				info("child %d: %s %s in flight for > 5 s (iteration %ld)", i, slots[i].busy_op,
				     cmd_name(slots[i].busy_cmd, nb, sizeof(nb)), slots[i].busy_iter);
			}
			if (t - b > STUCK_NS) {
				char wc[64];
				for (int j = 0; j < nproc; j++) {
					uint64_t bj = __atomic_load_n(&slots[j].busy_start, __ATOMIC_ACQUIRE);
					if (exited[j] || !bj || t < bj)
						continue;
					info("child %d (pid %d, kernel wait %s): %s %s in flight %.1f s, iteration %ld", j,
					     (int)pids[j], wchan(pids[j], wc, sizeof(wc)), slots[j].busy_op,
					     cmd_name(slots[j].busy_cmd, nb, sizeof(nb)), (t - bj) / 1e9, slots[j].busy_iter);
				}
				for (int j = 0; j < nproc; j++)
					if (!exited[j] && __atomic_load_n(&slots[j].busy_start, __ATOMIC_ACQUIRE))
						dump_ring(j, 6);
				kill_children(pids, exited, nproc);
				fail("daemon hangs: child %d's %s %s has not returned for %.0f s (seed 0x%016llx, iteration %ld)",
				     i, slots[i].busy_op, cmd_name(slots[i].busy_cmd, nb, sizeof(nb)), (t - b) / 1e9,
				     (unsigned long long)slots[i].seed, slots[i].busy_iter);
			}
		}
		if (t > deadline + STUCK_NS) {
			kill_children(pids, exited, nproc);
			fail("%d processes still running %.0f s after the time budget", alive, (t - deadline) / 1e9);
		}
		usleep(20000);
	}
	double secs = (now_ns() - start) / 1e9;

	/* Each child's counters must add up; anything else was written by someone else. */
	for (int i = 0; i < nproc; i++) {
		struct slot *s = &slots[i];
		long sum = s->ok;
		for (int e = 0; e < NERR; e++) {
			if (s->err[e] < 0 || s->err[e] > s->ioctls) {
				char txt[9] = "";
				for (int b = 0; b < 8; b++) {
					char c = (char)(s->err[e] >> (8 * b));
					txt[b] = c >= 0x20 && c < 0x7f ? c : '.';
				}
				fail("child %d's counters were overwritten (errno %d count 0x%016lx, \"%s\"): "
				     "something wrote into this program's memory (seed 0x%016llx)",
				     i, e, (unsigned long)s->err[e], txt, (unsigned long long)s->seed);
			}
			sum += s->err[e];
		}
		if (sum != s->ioctls)
			fail("child %d's counters are inconsistent (%ld results for %ld ioctls): something wrote "
			     "into this program's memory (seed 0x%016llx)", i, sum, s->ioctls, (unsigned long long)s->seed);
	}

	/* Totals. */
	long ioctls = 0, ok = 0, err[NERR] = { 0 }, transport = 0, hangs = 0, maps = 0, map_failed = 0;
	long probes = 0, probe_faults = 0, loopbacks = 0, anomalies = 0, reopens = 0, enomem = 0, done = 0;
	int budget_hit = 0;
	uint64_t max_ns = 0;
	uint32_t max_cmd = 0;
	for (int i = 0; i < nproc; i++) {
		struct slot *s = &slots[i];
		ioctls += s->ioctls;
		ok += s->ok;
		for (int e = 0; e < NERR; e++)
			err[e] += s->err[e];
		transport += s->transport;
		hangs += s->hangs;
		maps += s->maps;
		map_failed += s->map_failed;
		probes += s->probes;
		probe_faults += s->probe_faults;
		loopbacks += s->loopbacks;
		anomalies += s->anomalies;
		reopens += s->reopens;
		enomem += s->creates_enomem;
		done += s->iters_done;
		budget_hit |= (int)s->budget_hit;
		if (s->max_ns > max_ns) {
			max_ns = s->max_ns;
			max_cmd = s->max_cmd;
		}
		info("child %d seed 0x%016llx: %ld/%ld iterations, %ld ioctls%s", i, (unsigned long long)s->seed,
		     s->iters_done, s->iters, s->ioctls, s->budget_hit ? " (time budget hit)" : "");
	}
	char hist[512];
	int used = snprintf(hist, sizeof(hist), "ok %ld", ok);
	for (int top = 0; top < 10; top++) {
		int best = -1;
		for (int e = 0; e < NERR; e++)
			if (err[e] && (best < 0 || err[e] > err[best]))
				best = e;
		if (best < 0)
			break;
		used += snprintf(hist + used, sizeof(hist) - used, ", %s %ld", best ? errname(best) : "errno>255", err[best]);
		err[best] = 0;
	}
	char nb[64];
	info("%ld ioctls in %.1f s (%.0f/s): %s", ioctls, secs, ioctls / (secs > 0 ? secs : 1), hist);
	info("mmaps %ld (%ld failed), probes %ld (%ld faulted), reopens %ld, GEM_CREATE ENOMEM %ld, slowest ioctl %.1f ms (%s)",
	     maps, map_failed, probes, probe_faults, reopens, enomem, max_ns / 1e6, cmd_name(max_cmd, nb, sizeof(nb)));
	info("loopback checks (PREAD/PWRITE via own GTT mapping) %ld, anomalies %ld", loopbacks, anomalies);
	for (int i = 0; i < nproc; i++)
		for (int j = 0; j < slots[i].nnotes && j < NOTES; j++)
			info("child %d: %s", i, slots[i].notes[j]);

	/* Verdict on the storm. */
	for (int i = 0; i < nproc; i++)
		if (slots[i].setup_failed)
			fail("child %d could not set up: %s", i, slots[i].fatal_msg);
	for (int i = 0; i < nproc; i++)
		if (slots[i].fatal) {
			dump_ring(i, RING);
			fail("daemon stopped serving: %s (child %d, seed 0x%016llx)", slots[i].fatal_msg, i,
			     (unsigned long long)slots[i].seed);
		}
	for (int i = 0; i < nproc; i++) {
		struct slot *s = &slots[i];
		if (WIFSIGNALED(status[i]))
			fail("fuzzer bug: child %d killed by %s (seed 0x%016llx)", i, strsignal(WTERMSIG(status[i])),
			     (unsigned long long)s->seed);
		if (WEXITSTATUS(status[i]) == 3)
			fail("fuzzer bug: child %d got %s at 0x%llx outside a probe (seed 0x%016llx, iteration %ld)", i,
			     s->crash_sig == SIGBUS ? "SIGBUS" : "SIGSEGV", (unsigned long long)s->crash_addr,
			     (unsigned long long)s->seed, s->iters_done);
		if (WEXITSTATUS(status[i]) || !s->done)
			fail("child %d exited with status %d before finishing", i, WEXITSTATUS(status[i]));
	}
	if (hangs) {
		for (int i = 0; i < nproc; i++)
			if (slots[i].hangs)
				dump_ring(i, RING);
		fail("%ld device operations took longer than 5 s", hangs);
	}
	if (budget_hit)
		info("time budget of %llu s hit after %ld of %ld iterations", (unsigned long long)(BUDGET_NS / NS), done, total);

	alarm(30);
	final_workload(path, (uint32_t)seed | 1);

	long need = total < MIN_TOTAL ? total : MIN_TOTAL;
	if (ioctls < need)
		fail("only %ld ioctls (%ld iterations) in %.1f s, %ld needed", ioctls, done, secs, need);
	pass(NAME, "%ld ioctls from %d processes, daemon alive and serving", ioctls, nproc);
}
