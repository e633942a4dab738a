/* gtt_tiled_layout: GTT maps of X/Y tiled objects are linear (the fence detiles); PREAD/PWRITE/WB see the raw tiled+swizzled layout; stride validity. */
#include "igt_lite.h"

#define NAME "gtt_tiled_layout"

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

/* The worked numbers of SEMANTICS §10, so a wrong expectation is ours, not the device's. */
static void self_test_math(void)
{
	struct tiling x1024 = { I915_TILING_X, 1024, I915_BIT_6_SWIZZLE_NONE };
	struct tiling y256 = { I915_TILING_Y, 256, I915_BIT_6_SWIZZLE_NONE };
	CHECK(tiled_offset(&x1024, 1 * 1024 + 600) == 4696);
	CHECK(tiled_offset(&y256, 33 * 256 + 20) == 8724);
	CHECK(swizzle_bit6(I915_BIT_6_SWIZZLE_9_10, 0x240) == 0x200);
	CHECK(swizzle_bit6(I915_BIT_6_SWIZZLE_9, 0x200) == 0x240);
	CHECK(swizzle_bit6(I915_BIT_6_SWIZZLE_9_11, 0xa00) == 0xa00);
	CHECK(swizzle_bit6(I915_BIT_6_SWIZZLE_9_10_11, 0xe00) == 0xe40);
	/* Every swizzle is an involution and every layout a bijection over whole tile rows. */
	static const uint32_t swz[] = { I915_BIT_6_SWIZZLE_NONE, I915_BIT_6_SWIZZLE_9, I915_BIT_6_SWIZZLE_9_10,
					I915_BIT_6_SWIZZLE_9_11, I915_BIT_6_SWIZZLE_9_10_11 };
	for (size_t s = 0; s < sizeof(swz) / sizeof(swz[0]); s++) {
		for (uint32_t mode = I915_TILING_X; mode <= I915_TILING_Y; mode++) {
			struct tiling t = { mode, mode == I915_TILING_X ? 1536 : 384, swz[s] };
			uint64_t size = 2 * tile_row_bytes(&t);
			uint8_t *seen = calloc(size / 4, 1);
			CHECK(seen);
			for (uint64_t l = 0; l < size; l += 4) {
				uint64_t o = tiled_offset(&t, l);
				CHECK(o < size && o % 4 == 0 && !seen[o / 4]);
				CHECK(swizzle_bit6(swz[s], swizzle_bit6(swz[s], l)) == l);
				seen[o / 4] = 1;
			}
			free(seen);
		}
	}
}

static const struct cfg {
	uint32_t mode, stride, rows;
	int legacy; /* map with MMAP_GTT (1) or MMAP_OFFSET(GTT) (0) */
} cfgs[] = {
	{ I915_TILING_X, 4096, 16, 1 }, /* 512 KiB */
	{ I915_TILING_X, 3584, 36, 0 }, /* 7 tiles wide; row 28 KiB (7 pages); 1008 KiB */
	{ I915_TILING_Y, 2048, 8, 1 },  /* 512 KiB */
	{ I915_TILING_Y, 4224, 7, 0 },  /* 33 tiles wide, Y only; row 132 KiB (33 pages); 924 KiB */
	{ I915_TILING_Y, 512, 32, 1 },  /* 4 tiles wide; 512 KiB */
};
#define NCFGS (sizeof(cfgs) / sizeof(cfgs[0]))
/*
 * Every object fits a 1 MiB aperture whole: a partial view of a 7- or
 * 33-page tile row would be 259 or 264 pages (1 MiB rounded up to whole tile
 * rows), more than a 1 MiB aperture holds.
 */

/* Store linearly through the GTT map, then PREAD (and a WB map, if offered) must show the tiled layout. */
static void gtt_store_raw_check(int fd, uint32_t h, uint32_t *map, const struct tiling *t, uint64_t size,
				uint32_t seed, const char *tag, int *wb_checked)
{
	uint32_t *lin = xmalloc(size), *raw = xmalloc(size), *got = xmalloc(size);
	fill_hash(lin, size, seed);
	volatile uint32_t *vm = map;
	for (uint64_t i = 0; i < size / 4; i++)
		vm[i] = lin[i];
	tile_buf(t, lin, raw, size);

	memset(got, 0, size);
	gem_pread(fd, h, 0, got, size);
	CHECK_BUF(got, raw, size, "%s: PREAD after linear GTT stores", tag);
	CHECK_BUF(map, lin, size, "%s: GTT map reads back its own stores", tag);

	uint64_t wb_off = 0;
	int r = __mmap_offset(fd, h, I915_MMAP_OFFSET_WB, &wb_off);
	if (r == 0) {
		uint32_t *wb = gem_mmap(fd, wb_off, size, PROT_READ);
		CHECK_BUF(wb, raw, size, "%s: WB map after linear GTT stores (raw layout)", tag);
		CHECK_OK(munmap(wb, size));
		(*wb_checked)++;
	} else {
		info("%s: MMAP_OFFSET(WB) %s, WB view not checked", tag, errname(-r));
	}
	free(lin);
	free(raw);
	free(got);
}

/* PWRITE raw content: the old live map and a fresh map must read it detiled. */
static void pwrite_gtt_check(int fd, uint32_t h, uint32_t *old_map, const struct tiling *t, uint64_t size,
			     int legacy, uint32_t seed, const char *tag)
{
	uint32_t *raw = xmalloc(size), *lin = xmalloc(size);

	/* B: whole object; old map first, then a fresh one. */
	fill_hash(raw, size, seed);
	gem_pwrite(fd, h, 0, raw, size);
	detile_buf(t, raw, lin, size);
	CHECK_BUF(old_map, lin, size, "%s: old GTT map after PWRITE B", tag);
	uint32_t *fresh = gtt_map(fd, h, size, !legacy);
	CHECK_BUF(fresh, lin, size, "%s: fresh GTT map after PWRITE B", tag);
	CHECK_OK(munmap(fresh, size));

	/* C: whole object; a fresh map first, then the old one. */
	fill_hash(raw, size, seed ^ 0x5a5a5a5a);
	gem_pwrite(fd, h, 0, raw, size);
	detile_buf(t, raw, lin, size);
	fresh = gtt_map(fd, h, size, legacy);
	CHECK_BUF(fresh, lin, size, "%s: fresh GTT map after PWRITE C", tag);
	CHECK_BUF(old_map, lin, size, "%s: old GTT map after PWRITE C", tag);

	/* D: an unaligned PWRITE straddling pages and tiles in the second tile row. */
	uint64_t off = tile_row_bytes(t) + 1000 + 2, len = 3 * PAGE_SZ + 6;
	uint8_t *patch = xmalloc(len);
	for (uint64_t i = 0; i < len; i++)
		patch[i] = (uint8_t)(hash32(seed ^ 0xd, i) >> 8);
	CHECK(off + len <= size);
	gem_pwrite(fd, h, off, patch, len);
	memcpy((uint8_t *)raw + off, patch, len);
	detile_buf(t, raw, lin, size);
	CHECK_BUF(old_map, lin, size, "%s: old GTT map after unaligned PWRITE D", tag);
	CHECK_BUF(fresh, lin, size, "%s: second GTT map after unaligned PWRITE D", tag);
	CHECK_OK(munmap(fresh, size));

	uint32_t *got = xmalloc(size);
	gem_pread(fd, h, 0, got, size);
	CHECK_BUF(got, raw, size, "%s: PREAD after PWRITEs", tag);
	free(got);
	free(patch);
	free(raw);
	free(lin);
}

static void test_cfg(int fd, const struct cfg *c, uint32_t seed, int *wb_checked)
{
	struct tiling probe = { c->mode, c->stride, 0 };
	uint64_t size = c->rows * tile_row_bytes(&probe);
	char tag[64];
	snprintf(tag, sizeof(tag), "%s stride %u (%llu KiB)", tiling_name(c->mode), c->stride,
		 (unsigned long long)(size / KiB));

	uint32_t h = gem_create(fd, size);
	struct tiling t = set_tiling(fd, h, c->mode, c->stride);
	info("%s: swizzle %u, tile row %llu bytes, %s", tag, t.swizzle, (unsigned long long)tile_row_bytes(&t),
	     c->legacy ? "MMAP_GTT" : "MMAP_OFFSET(GTT)");

	/* Both ioctls name the same GTT node. */
	CHECK(gtt_offset_at(__FILE__, __LINE__, fd, h, 1) == gtt_offset_at(__FILE__, __LINE__, fd, h, 0));

	uint32_t *map = gtt_map(fd, h, size, c->legacy);
	gtt_store_raw_check(fd, h, map, &t, size, seed, tag, wb_checked);
	pwrite_gtt_check(fd, h, map, &t, size, c->legacy, seed + 1, tag);

	/* X with a Y-only stride is refused and changes nothing. */
	if (c->mode == I915_TILING_Y && c->stride % 512) {
		uint32_t *lin = xmalloc(size);
		memcpy(lin, map, size);
		struct drm_i915_gem_set_tiling st;
		CHECK_ERRNO(__set_tiling(fd, h, I915_TILING_X, c->stride, &st), EINVAL);
		check_get_tiling(fd, h, &t);
		CHECK_BUF(map, lin, size, "%s: GTT map after refused SET_TILING(X, %u)", tag, c->stride);
		free(lin);
	}
	CHECK_OK(munmap(map, size));
	gem_close(fd, h);
}

static void test_stride_validity(int fd)
{
	static const struct {
		uint32_t mode, stride;
		int err;
	} v[] = {
		{ I915_TILING_X, 0, EINVAL },
		{ I915_TILING_Y, 0, EINVAL },
		{ I915_TILING_X, 128, EINVAL },
		{ I915_TILING_X, 256, EINVAL },
		{ I915_TILING_X, 4224, EINVAL },
		{ I915_TILING_X, 4096 + 128, EINVAL },
		{ I915_TILING_Y, 64, EINVAL },
		{ I915_TILING_Y, 200, EINVAL },
		{ I915_TILING_Y, 4224, 0 },
		{ I915_TILING_Y, 128, 0 },
		{ I915_TILING_X, 512, 0 },
		{ I915_TILING_X, 256 * 1024, 0 },
		{ I915_TILING_Y, 256 * 1024, 0 },
		{ I915_TILING_X, 256 * 1024 + 512, EINVAL },
		{ I915_TILING_Y, 256 * 1024 + 128, EINVAL },
		{ 3, 4096, EINVAL },
	};
	uint32_t h = gem_create(fd, 8 * MiB);
	struct tiling cur = { I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct drm_i915_gem_set_tiling st;
		int r = __set_tiling(fd, h, v[i].mode, v[i].stride, &st);
		if (r != -v[i].err) {
			char g[32], w[32];
			fail("SET_TILING(mode %u, stride %u) returned %s, expected %s", v[i].mode, v[i].stride,
			     igt_strret(r, g, sizeof(g)), igt_strret(-v[i].err, w, sizeof(w)));
		}
		if (r == 0) {
			CHECK(st.tiling_mode == v[i].mode && st.stride == v[i].stride && swizzle_ok(st.swizzle_mode));
			cur = (struct tiling){ v[i].mode, v[i].stride, st.swizzle_mode };
		}
		check_get_tiling(fd, h, &cur); /* a refused call leaves the tiling as it was */
	}
	/* NONE ignores the stride and writes back 0. */
	struct drm_i915_gem_set_tiling st;
	CHECK_OK(__set_tiling(fd, h, I915_TILING_NONE, 12345, &st));
	CHECK(st.tiling_mode == I915_TILING_NONE && st.stride == 0 && st.swizzle_mode == I915_BIT_6_SWIZZLE_NONE);
	cur = (struct tiling){ I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
	check_get_tiling(fd, h, &cur);
	CHECK_ERRNO(__set_tiling(fd, 0xdeadbeef, I915_TILING_X, 4096, &st), ENOENT);
	gem_close(fd, h);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	self_test_math();
	int fd = drm_open(path);
	int fences = getparam(fd, I915_PARAM_NUM_FENCES_AVAIL);
	info("NUM_FENCES_AVAIL = %d", fences);
	if (fences == 0) {
		struct drm_i915_gem_set_tiling st;
		uint32_t h = gem_create(fd, PAGE_SZ);
		CHECK_ERRNO(__set_tiling(fd, h, I915_TILING_X, 4096, &st), EOPNOTSUPP);
		skip(NAME, "no fence registers: tiling unsupported (SET_TILING EOPNOTSUPP)");
	}

	test_stride_validity(fd);
	int wb_checked = 0;
	for (size_t i = 0; i < NCFGS; i++)
		test_cfg(fd, &cfgs[i], 0x71e00000u + (uint32_t)i * 0x100, &wb_checked);
	close(fd);
	pass(NAME, "%zu layouts (X 4096/3584, Y 2048/4224/512): GTT stores land tiled in PREAD%s, PWRITE reads detiled through old and fresh GTT maps; stride rules ok",
	     NCFGS, wb_checked ? " and WB" : "");
}
