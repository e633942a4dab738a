/* gtt_fences: more tiled GTT-mapped objects than fence registers, accessed round-robin so fences are stolen (and mappings revoked) over and over; no data is lost. */
#include "igt_lite.h"

#include <sys/resource.h>

#define NAME "gtt_fences"

#include "gtt_lite.h"

/* ------------------------------------------------------------------------- test */

#define EXTRA 8
#define ROUNDS 4
#define DWPP (PAGE_SZ / 4)

struct obj {
	uint32_t handle;
	struct tiling t;
	uint32_t *map;
	uint32_t *lin; /* what the map must show */
};

/* The dword a given round stores (dwords i with i % ROUNDS == round belong to that round). */
static uint32_t value(uint32_t pass_seed, int o, int round, uint64_t i)
{
	return hash32(pass_seed + (uint32_t)o * 0x10 + (uint32_t)round, i);
}

static void run_pass(const char *path, int fd, int fences, uint64_t obj_size, uint32_t pass_seed)
{
	const uint64_t pages = obj_size / PAGE_SZ;
	int n = fences + EXTRA;
	struct obj *objs = calloc(n, sizeof(*objs));
	CHECK(objs);
	for (int o = 0; o < n; o++) {
		struct obj *ob = &objs[o];
		ob->handle = gem_create(fd, obj_size);
		/* X 4096 (32 KiB tile rows) and Y 512 (16 KiB tile rows), alternating. */
		if (o % 2 == 0)
			ob->t = set_tiling(fd, ob->handle, I915_TILING_X, 4096);
		else
			ob->t = set_tiling(fd, ob->handle, I915_TILING_Y, 512);
		ob->map = gtt_map(fd, ob->handle, obj_size, o % 3 == 0);
		ob->lin = calloc(obj_size / 4, 4);
		CHECK(ob->lin);
	}
	info("%d objects (%d X 4096 / %d Y 512) of %llu KiB, %d fences", n, (n + 1) / 2, n / 2,
	     (unsigned long long)(obj_size / KiB), fences);
	long long steals0 = gtt_counter(path, "fence steals "), evict0 = gtt_counter(path, "evictions ");

	/*
	 * Round-robin: for every page, every object in turn stores its round's
	 * dwords of that page. More objects than fences, least recently used
	 * first, so (nearly) every store faults and steals a fence (or, if the
	 * aperture cannot hold them all, evicts a binding and its fence).
	 */
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	for (int r = 0; r < ROUNDS; r++) {
		for (uint64_t pg = 0; pg < pages; pg++) {
			for (int o = 0; o < n; o++) {
				volatile uint32_t *m = objs[o].map;
				for (uint64_t i = pg * DWPP + (uint64_t)r; i < (pg + 1) * DWPP; i += ROUNDS) {
					uint32_t v = value(pass_seed, o, r, i);
					m[i] = v;
					objs[o].lin[i] = v;
				}
			}
			/* Read back one dword of every object at once, still round-robin. */
			for (int o = n - 1; o >= 0; o--) {
				uint64_t i = pg * DWPP + (uint64_t)r;
				uint32_t g = ((volatile uint32_t *)objs[o].map)[i];
				if (g != objs[o].lin[i])
					fail("%llu KiB objects: object %d (%s): round %d page %llu: read-back of byte 0x%llx = 0x%08x, expected 0x%08x",
					     (unsigned long long)(obj_size / KiB), o, tiling_name(objs[o].t.mode), r,
					     (unsigned long long)pg, (unsigned long long)(4 * i), g, objs[o].lin[i]);
			}
		}
	}
	getrusage(RUSAGE_SELF, &ru1);
	info("%d store rounds: %ld major faults for %d page-sized store bursts", ROUNDS, ru1.ru_majflt - ru0.ru_majflt,
	     ROUNDS * n * (int)pages);

	/* Verify every mapping, page by page round-robin (steals again), then whole. */
	for (uint64_t pg = 0; pg < pages; pg++)
		for (int o = 0; o < n; o++) {
			volatile uint32_t *m = objs[o].map + pg * DWPP;
			const uint32_t *e = objs[o].lin + pg * DWPP;
			for (uint64_t i = 0; i < DWPP; i++)
				if (m[i] != e[i])
					fail("%llu KiB objects: object %d (%s): round-robin verify: byte 0x%llx = 0x%08x, expected 0x%08x",
					     (unsigned long long)(obj_size / KiB), o, tiling_name(objs[o].t.mode),
					     (unsigned long long)(pg * PAGE_SZ + 4 * i), m[i], e[i]);
		}
	uint32_t *raw = xmalloc(obj_size), *got = xmalloc(obj_size);
	for (int o = 0; o < n; o++) {
		CHECK_BUF(objs[o].map, objs[o].lin, obj_size, "%llu KiB objects: object %d (%s): map",
			  (unsigned long long)(obj_size / KiB), o, tiling_name(objs[o].t.mode));
		tile_buf(&objs[o].t, objs[o].lin, raw, obj_size);
		gem_pread(fd, objs[o].handle, 0, got, obj_size);
		CHECK_BUF(got, raw, obj_size, "%llu KiB objects: object %d (%s): PREAD (raw tiled layout)",
			  (unsigned long long)(obj_size / KiB), o, tiling_name(objs[o].t.mode));
	}
	/* Fresh maps (new faults, new fences) agree too. */
	for (int o = 0; o < n; o++) {
		uint32_t *fresh = gtt_map(fd, objs[o].handle, obj_size, o % 3 != 0);
		CHECK_BUF(fresh, objs[o].lin, obj_size, "%llu KiB objects: object %d (%s): fresh map",
			  (unsigned long long)(obj_size / KiB), o, tiling_name(objs[o].t.mode));
		CHECK_OK(munmap(fresh, obj_size));
	}
	long long steals1 = gtt_counter(path, "fence steals "), evict1 = gtt_counter(path, "evictions ");
	if (steals0 >= 0 && steals1 >= 0 && evict0 >= 0 && evict1 >= 0)
		info("device counters (debug/i915_gem_gtt, whole device): %lld fence steals, %lld evictions during this pass",
		     steals1 - steals0, evict1 - evict0);
	for (int o = 0; o < n; o++) {
		CHECK_OK(munmap(objs[o].map, obj_size));
		gem_close(fd, objs[o].handle);
		free(objs[o].lin);
	}
	free(raw);
	free(got);
	free(objs);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	int fences = getparam(fd, I915_PARAM_NUM_FENCES_AVAIL);
	info("NUM_FENCES_AVAIL = %d", fences);
	if (fences == 0)
		skip(NAME, "no fence registers: tiling unsupported");

	/* 256 KiB objects; then 64 KiB ones, which fit a small aperture all at once so fences are what runs out. */
	run_pass(path, fd, fences, 256 * KiB, 0xfe000000u);
	run_pass(path, fd, fences, 64 * KiB, 0xfd000000u);
	close(fd);
	pass(NAME, "2 x %d X/Y-tiled objects (256 KiB, 64 KiB) on %d fences: %d round-robin store rounds with fence stealing, every map and raw PREAD layout exact",
	     fences + EXTRA, fences, ROUNDS);
}
