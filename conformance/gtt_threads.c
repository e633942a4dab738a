/* gtt_threads: threads of one process store disjoint pages of the same GTT maps at once; every store must survive (a fault answering one thread must not clobber pages another already dirtied). */
#include "igt_lite.h"

#include <pthread.h>

#define NAME "gtt_threads"

#include "gtt_lite.h"

/* ------------------------------------------------------------------------- test */

#define OBJ_SIZE (8 * MiB) /* X 4096: 256 tile rows */
#define NTHREADS 4
#define DWPP (PAGE_SZ / 4)

struct obj {
	const char *name;
	uint32_t handle;
	struct tiling t;
	uint32_t *map;
	uint32_t seed;
};
static struct obj objs[2];

/* Thread k stores every page pg with pg % NTHREADS == k of both objects, pages interleaved. */
static void *writer(void *arg)
{
	int k = (int)(intptr_t)arg;
	for (uint64_t pg = (uint64_t)k; pg < OBJ_SIZE / PAGE_SZ; pg += NTHREADS)
		for (int o = 0; o < 2; o++) {
			volatile uint32_t *m = objs[o].map;
			for (uint64_t i = pg * DWPP; i < (pg + 1) * DWPP; i++)
				m[i] = hash32(objs[o].seed, i);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	int fences = getparam(fd, I915_PARAM_NUM_FENCES_AVAIL);
	objs[0] = (struct obj){ .name = "untiled", .t = { I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE }, .seed = 0x7a000001u };
	objs[1] = (struct obj){ .name = "X-tiled", .t = { I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE }, .seed = 0x7a000002u };
	for (int o = 0; o < 2; o++) {
		objs[o].handle = gem_create(fd, OBJ_SIZE);
		if (o == 1 && fences)
			objs[o].t = set_tiling(fd, objs[o].handle, I915_TILING_X, 4096);
		objs[o].map = gtt_map(fd, objs[o].handle, OBJ_SIZE, o);
	}

	/* No ioctl between the stores and the checks: one map, one page cache, only the stores. */
	pthread_t th[NTHREADS];
	for (int k = 0; k < NTHREADS; k++)
		CHECK(pthread_create(&th[k], NULL, writer, (void *)(intptr_t)k) == 0);
	for (int k = 0; k < NTHREADS; k++)
		CHECK(pthread_join(th[k], NULL) == 0);

	uint32_t *lin = xmalloc(OBJ_SIZE), *raw = xmalloc(OBJ_SIZE), *got = xmalloc(OBJ_SIZE);
	for (int o = 0; o < 2; o++) {
		fill_hash(lin, OBJ_SIZE, objs[o].seed);
		CHECK_BUF(objs[o].map, lin, OBJ_SIZE, "%s: map after %d threads stored disjoint pages", objs[o].name,
			  NTHREADS);
		tile_buf(&objs[o].t, lin, raw, OBJ_SIZE);
		gem_pread(fd, objs[o].handle, 0, got, OBJ_SIZE);
		CHECK_BUF(got, raw, OBJ_SIZE, "%s: PREAD after %d threads stored disjoint pages", objs[o].name, NTHREADS);
		CHECK_OK(munmap(objs[o].map, OBJ_SIZE));
		gem_close(fd, objs[o].handle);
	}
	close(fd);
	pass(NAME, "%d threads storing disjoint pages of one 8 MiB untiled and one X-tiled GTT map: no store lost (map and PREAD)",
	     NTHREADS);
}
