/* gtt_retile: one live GTT map across SET_TILING changes: dirty pages go back in the old layout, the same map re-reads the raw bytes through the new fence. */
#include "igt_lite.h"

#define NAME "gtt_retile"

#include "gtt_lite.h"

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
