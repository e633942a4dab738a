/* gtt_retile: one live GTT map across SET_TILING changes: dirty pages go back in the old layout, the same map re-reads the raw bytes through the new fence. */
#include "igt_lite.h"

#define NAME "gtt_retile"

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

#define OBJ_SIZE (512 * KiB) /* whole tile rows for X 4096 (32 KiB), X 8192 and Y 2048 (64 KiB) */

static void store_lin(uint32_t *map, const uint32_t *lin, uint64_t size)
{
	volatile uint32_t *vm = map;
	for (uint64_t i = 0; i < size / 4; i++)
		vm[i] = lin[i];
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	if (getparam(fd, I915_PARAM_NUM_FENCES_AVAIL) == 0)
		skip(NAME, "no fence registers: tiling unsupported");

	const uint64_t size = OBJ_SIZE;
	uint32_t *p = xmalloc(size), *q = xmalloc(size), *r = xmalloc(size), *s = xmalloc(size);
	uint32_t *raw = xmalloc(size), *exp = xmalloc(size), *got = xmalloc(size);
	fill_hash(p, size, 0x7e000001u);
	fill_hash(q, size, 0x7e000002u);
	fill_hash(r, size, 0x7e000003u);
	fill_hash(s, size, 0x7e000004u);

	uint32_t h = gem_create(fd, size);
	struct tiling none = { I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
	check_get_tiling(fd, h, &none);
	uint32_t *map = gtt_map(fd, h, size, 0);

	/* 1. Untiled: store P through the map (left dirty), then X 4096. */
	store_lin(map, p, size);
	struct tiling x4 = set_tiling(fd, h, I915_TILING_X, 4096);
	detile_buf(&x4, p, exp, size);
	CHECK_BUF(map, exp, size, "live map after NONE -> X 4096 (dirty untiled P)");
	gem_pread(fd, h, 0, got, size);
	CHECK_BUF(got, p, size, "PREAD after NONE -> X 4096: raw must be P as stored");
	check_get_tiling(fd, h, &x4);

	/* 2. X 4096 -> X 8192: the same raw bytes through a wider fence. */
	struct tiling x8 = set_tiling(fd, h, I915_TILING_X, 8192);
	detile_buf(&x8, p, exp, size);
	CHECK_BUF(map, exp, size, "live map after X 4096 -> X 8192");
	gem_pread(fd, h, 0, got, size);
	CHECK_BUF(got, p, size, "PREAD after X 4096 -> X 8192: raw still P");
	check_get_tiling(fd, h, &x8);

	/* 3. Store Q under X 8192 (dirty), then NONE: the map shows raw = tile_X8192(Q). */
	store_lin(map, q, size);
	struct tiling n = set_tiling(fd, h, I915_TILING_NONE, 0);
	tile_buf(&x8, q, raw, size);
	CHECK_BUF(map, raw, size, "live map after storing Q under X 8192 then -> NONE");
	gem_pread(fd, h, 0, got, size);
	CHECK_BUF(got, raw, size, "PREAD after X 8192 -> NONE: raw = tile_X8192(Q)");
	check_get_tiling(fd, h, &n);

	/* 4. Back to X 8192: Q again. Store R (dirty), an unchanged SET_TILING keeps it, then Y 2048. */
	x8 = set_tiling(fd, h, I915_TILING_X, 8192);
	CHECK_BUF(map, q, size, "live map after NONE -> X 8192 (Q detiled again)");
	store_lin(map, r, size);
	x8 = set_tiling(fd, h, I915_TILING_X, 8192);
	CHECK_BUF(map, r, size, "live map after storing R + unchanged SET_TILING(X 8192)");
	struct tiling y2 = set_tiling(fd, h, I915_TILING_Y, 2048);
	tile_buf(&x8, r, raw, size);
	detile_buf(&y2, raw, exp, size);
	CHECK_BUF(map, exp, size, "live map after storing R under X 8192 then -> Y 2048");
	gem_pread(fd, h, 0, got, size);
	CHECK_BUF(got, raw, size, "PREAD after X 8192 -> Y 2048: raw = tile_X8192(R)");
	check_get_tiling(fd, h, &y2);

	/* 5. Under Y 2048 dirty only every other page (others are clean cached pages), then NONE. */
	uint64_t pages = size / PAGE_SZ, dwpp = PAGE_SZ / 4;
	volatile uint32_t *vm = map;
	for (uint64_t pg = 1; pg < pages; pg += 2)
		for (uint64_t i = pg * dwpp; i < (pg + 1) * dwpp; i++) {
			vm[i] = s[i];
			exp[i] = s[i];
		}
	tile_buf(&y2, exp, raw, size);
	n = set_tiling(fd, h, I915_TILING_NONE, 0);
	CHECK_BUF(map, raw, size, "live map after storing S in odd pages under Y 2048 then -> NONE");
	gem_pread(fd, h, 0, got, size);
	CHECK_BUF(got, raw, size, "PREAD after Y 2048 -> NONE: raw = tile_Y2048(mix of R and S)");
	check_get_tiling(fd, h, &n);

	/* A fresh map agrees with the live one. */
	uint32_t *fresh = gtt_map(fd, h, size, 1);
	CHECK_BUF(fresh, raw, size, "fresh map at the end");
	CHECK_OK(munmap(fresh, size));
	CHECK_OK(munmap(map, size));
	gem_close(fd, h);
	close(fd);
	pass(NAME, "one live GTT map across NONE -> X4096 -> X8192 -> NONE -> X8192 -> Y2048 -> NONE: dirty pages written back in the old layout, raw bytes re-read through each new fence");
}
