/* gtt_aperture: objects larger than the mappable aperture (64 MiB untiled, 24 MiB X-tiled) through GTT maps in linear, random and scattered order stay exact (partial views, eviction). */
#include "igt_lite.h"

#define NAME "gtt_aperture"

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

#define BIG_SIZE (64 * MiB)
#define TILED_SIZE (24 * MiB) /* 768 tile rows of 32 KiB */
#define DWPP (PAGE_SZ / 4)

struct obj {
	const char *name;
	uint32_t handle;
	uint64_t size, pages;
	struct tiling t;
	uint32_t *map;
	uint32_t *lin; /* what the GTT map must show */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random permutation of 0..n-1. */
static uint32_t *permutation(uint64_t n)
{
	uint32_t *p = xmalloc(n * sizeof(*p));
	for (uint64_t i = 0; i < n; i++)
		p[i] = (uint32_t)i;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = rng() % (i + 1);
		uint32_t x = p[i];
		p[i] = p[j];
		p[j] = x;
	}
	return p;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;
		a = b;
		b = r;
	}
	return a;
}

/* Verify one page of the map against the shadow. */
static void check_page(struct obj *o, uint64_t pg, const char *phase)
{
	volatile uint32_t *m = o->map + pg * DWPP;
	const uint32_t *e = o->lin + pg * DWPP;
	for (uint64_t i = 0; i < DWPP; i++)
		if (m[i] != e[i])
			fail("%s: %s: page %llu dword %llu (byte 0x%llx) = 0x%08x, expected 0x%08x", o->name, phase,
			     (unsigned long long)pg, (unsigned long long)i,
			     (unsigned long long)(pg * PAGE_SZ + 4 * i), m[i], e[i]);
}

static void store_page(struct obj *o, uint64_t pg, uint32_t seed)
{
	volatile uint32_t *m = o->map + pg * DWPP;
	for (uint64_t i = 0; i < DWPP; i++) {
		uint32_t v = hash32(seed, pg * DWPP + i);
		m[i] = v;
		o->lin[pg * DWPP + i] = v;
	}
}

/* PREAD must show lin through the object's layout. */
static void check_pread(int fd, struct obj *o, const char *phase)
{
	uint32_t *raw = xmalloc(o->size), *got = xmalloc(o->size);
	tile_buf(&o->t, o->lin, raw, o->size);
	gem_pread(fd, o->handle, 0, got, o->size);
	CHECK_BUF(got, raw, o->size, "%s: PREAD after %s (%s layout)", o->name, phase, tiling_name(o->t.mode));
	free(raw);
	free(got);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	int fences = getparam(fd, I915_PARAM_NUM_FENCES_AVAIL);

	struct drm_i915_gem_get_aperture ap = { 0 };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_GET_APERTURE, &ap));
	info("mappable aperture size unknown to userspace (GET_APERTURE reports the whole GGTT: %llu MiB); "
	     "assuming anything >= 1 MiB", (unsigned long long)(ap.aper_size / MiB));

	struct obj objs[2] = {
		{ .name = "untiled 64 MiB", .size = BIG_SIZE, .t = { I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE } },
		{ .name = "X-tiled 24 MiB stride 4096", .size = TILED_SIZE, .t = { I915_TILING_X, 4096, 0 } },
	};
	int nobj = fences ? 2 : 1;
	if (!fences)
		info("no fences: tiled object skipped");
	for (int k = 0; k < nobj; k++) {
		struct obj *o = &objs[k];
		o->handle = gem_create(fd, o->size);
		o->pages = o->size / PAGE_SZ;
		if (o->t.mode != I915_TILING_NONE)
			o->t = set_tiling(fd, o->handle, o->t.mode, o->t.stride);
		o->map = gtt_map(fd, o->handle, o->size, k);
		o->lin = xmalloc(o->size);
	}

	long long evict0 = gtt_counter(path, "evictions ");

	/* 1. Every dword, linearly; read back through the map, then PREAD. */
	for (int k = 0; k < nobj; k++) {
		struct obj *o = &objs[k];
		for (uint64_t pg = 0; pg < o->pages; pg++)
			store_page(o, pg, 0xa9e00000u + k);
		for (uint64_t pg = 0; pg < o->pages; pg++)
			check_page(o, pg, "linear read-back");
		check_pread(fd, o, "linear stores");
	}
	info("linear write/read/PREAD ok");

	/* 2. Pages in random order, alternating between the objects; verify in a coprime stride order. */
	uint32_t *perm[2] = { NULL, NULL };
	for (int k = 0; k < nobj; k++)
		perm[k] = permutation(objs[k].pages);
	for (uint64_t i = 0; i < objs[0].pages; i++)
		for (int k = 0; k < nobj; k++)
			if (i < objs[k].pages)
				store_page(&objs[k], perm[k][i], 0xb9e00000u + k);
	for (int k = 0; k < nobj; k++) {
		struct obj *o = &objs[k];
		uint64_t step = 257;
		while (gcd(step, o->pages) != 1)
			step += 2;
		for (uint64_t i = 0, pg = 0; i < o->pages; i++, pg = (pg + step) % o->pages)
			check_page(o, pg, "random-order stores, strided read-back");
	}
	for (int k = 0; k < nobj; k++)
		check_pread(fd, &objs[k], "random-order stores");
	info("random-order write, strided read, PREAD ok");

	/* 3. Scattered single dwords across both objects (each touch may need another partial view). */
	for (int n = 0; n < 20000; n++) {
		struct obj *o = &objs[n % nobj];
		uint64_t i = rng() % (o->size / 4);
		uint32_t v = hash32(0xc9e00000u, (uint64_t)n);
		((volatile uint32_t *)o->map)[i] = v;
		o->lin[i] = v;
		if (n % 7 == 0) {
			uint64_t j = rng() % (o->size / 4);
			uint32_t g = ((volatile uint32_t *)o->map)[j];
			if (g != o->lin[j])
				fail("%s: scattered read of byte 0x%llx = 0x%08x, expected 0x%08x", o->name,
				     (unsigned long long)(4 * j), g, o->lin[j]);
		}
	}
	for (int k = 0; k < nobj; k++) {
		CHECK_BUF(objs[k].map, objs[k].lin, objs[k].size, "%s: map after scattered stores", objs[k].name);
		check_pread(fd, &objs[k], "scattered stores");
	}

	long long evict1 = gtt_counter(path, "evictions ");
	if (evict0 >= 0 && evict1 >= 0)
		info("device counter (debug/i915_gem_gtt): %lld GGTT evictions so far", evict1 - evict0);

	/* 4. A fresh map of each object agrees. */
	for (int k = 0; k < nobj; k++) {
		uint32_t *fresh = gtt_map(fd, objs[k].handle, objs[k].size, !k);
		CHECK_BUF(fresh, objs[k].lin, objs[k].size, "%s: fresh map at the end", objs[k].name);
		CHECK_OK(munmap(fresh, objs[k].size));
		CHECK_OK(munmap(objs[k].map, objs[k].size));
		gem_close(fd, objs[k].handle);
		free(objs[k].lin);
		free(perm[k]);
	}
	close(fd);
	pass(NAME, "64 MiB untiled%s: every dword stored and read through GTT maps linearly, in random and strided page order and scattered, exact in PREAD",
	     nobj > 1 ? " + 24 MiB X-tiled" : "");
}
