/* gtt_tiled_layout: GTT maps of X/Y tiled objects are linear (the fence detiles); PREAD/PWRITE/WB see the raw tiled+swizzled layout; stride validity. */
#include "igt_lite.h"

#define NAME "gtt_tiled_layout"

#include "gtt_lite.h"

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
