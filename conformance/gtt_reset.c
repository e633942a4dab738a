/* gtt_reset: DRM_IOCTL_FAKEDRM_GPU_RESET revokes fenced GTT mappings; stores made before and after each reset all survive (maps and PREAD). */
#include "igt_lite.h"

#include <sys/resource.h>

#define NAME "gtt_reset"

#include "gtt_lite.h"

/* ------------------------------------------------------------------------- test */

#define DWPP (PAGE_SZ / 4)

struct obj {
	const char *name;
	uint64_t size;
	uint32_t mode, stride;
	uint32_t handle;
	struct tiling t;
	uint32_t *map;
	uint32_t *lin; /* what the map must show */
};

static void gpu_reset(int fd)
{
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_FAKEDRM_GPU_RESET, NULL));
}

/* Store pattern seed into the pages of o with page % 2 == half. */
static void store_half(struct obj *o, int half, uint32_t seed)
{
	volatile uint32_t *m = o->map;
	for (uint64_t pg = (uint64_t)half; pg < o->size / PAGE_SZ; pg += 2)
		for (uint64_t i = pg * DWPP; i < (pg + 1) * DWPP; i++) {
			uint32_t v = hash32(seed, i);
			m[i] = v;
			o->lin[i] = v;
		}
}

static long majflt(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_majflt;
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	int fd2 = drm_open(path);
	int fences = getparam(fd, I915_PARAM_NUM_FENCES_AVAIL);

	long long resets0 = gtt_counter(path, "resets ");

	/* Nothing mapped: a reset is harmless. */
	int r = drm_ioctl(fd, DRM_IOCTL_FAKEDRM_GPU_RESET, NULL);
	if (r == -EINVAL || r == -ENOTTY)
		skip(NAME, "DRM_IOCTL_FAKEDRM_GPU_RESET not supported (%s): not a FakeDRM device?", errname(-r));
	CHECK_OK(r);

	struct obj objs[] = {
		{ .name = "X-tiled 2 MiB stride 4096", .size = 2 * MiB, .mode = I915_TILING_X, .stride = 4096 },
		{ .name = "Y-tiled 1 MiB stride 2048", .size = 1 * MiB, .mode = I915_TILING_Y, .stride = 2048 },
		{ .name = "untiled 2 MiB", .size = 2 * MiB, .mode = I915_TILING_NONE },
	};
	int nobj = sizeof(objs) / sizeof(objs[0]);
	for (int k = 0; k < nobj; k++) {
		struct obj *o = &objs[k];
		o->handle = gem_create(fd, o->size);
		o->t = (struct tiling){ I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
		if (o->mode != I915_TILING_NONE) {
			if (!fences) {
				info("%s: no fences, left untiled", o->name);
				o->name = "untiled (no fences)";
			} else {
				o->t = set_tiling(fd, o->handle, o->mode, o->stride);
			}
		}
		o->map = gtt_map(fd, o->handle, o->size, k % 2);
		o->lin = calloc(o->size / 4, 4);
		CHECK(o->lin);
	}

	/* Half of every object (even pages), left dirty in the maps; reset. */
	for (int k = 0; k < nobj; k++)
		store_half(&objs[k], 0, 0x4e5e0000u + (uint32_t)k);
	gpu_reset(fd);
	for (int k = 0; k < nobj; k++) {
		long f0 = majflt();
		CHECK_BUF(objs[k].map, objs[k].lin, objs[k].size, "%s: map after first half + GPU reset", objs[k].name);
		info("%s: %ld major faults re-reading it after the reset", objs[k].name,
		     majflt() - f0);
	}

	/* The other half (odd pages); reset again, from another open this time. */
	for (int k = 0; k < nobj; k++)
		store_half(&objs[k], 1, 0x4e5e1000u + (uint32_t)k);
	CHECK_OK(drm_ioctl(fd2, DRM_IOCTL_FAKEDRM_GPU_RESET, NULL));
	for (int k = 0; k < nobj; k++)
		CHECK_BUF(objs[k].map, objs[k].lin, objs[k].size, "%s: map after second half + GPU reset", objs[k].name);

	/* PREAD shows the raw layout of everything stored. */
	for (int k = 0; k < nobj; k++) {
		uint32_t *raw = xmalloc(objs[k].size), *got = xmalloc(objs[k].size);
		tile_buf(&objs[k].t, objs[k].lin, raw, objs[k].size);
		gem_pread(fd, objs[k].handle, 0, got, objs[k].size);
		CHECK_BUF(got, raw, objs[k].size, "%s: PREAD after two resets", objs[k].name);
		free(raw);
		free(got);
	}

	/* Overwrite all through the maps, reset with the stores still dirty, PREAD right away. */
	for (int k = 0; k < nobj; k++) {
		store_half(&objs[k], 0, 0x4e5e2000u + (uint32_t)k);
		store_half(&objs[k], 1, 0x4e5e3000u + (uint32_t)k);
	}
	gpu_reset(fd);
	for (int k = 0; k < nobj; k++) {
		uint32_t *raw = xmalloc(objs[k].size), *got = xmalloc(objs[k].size);
		tile_buf(&objs[k].t, objs[k].lin, raw, objs[k].size);
		gem_pread(fd, objs[k].handle, 0, got, objs[k].size);
		CHECK_BUF(got, raw, objs[k].size, "%s: PREAD after full overwrite + GPU reset", objs[k].name);
		CHECK_BUF(objs[k].map, objs[k].lin, objs[k].size, "%s: map after full overwrite + GPU reset", objs[k].name);
		uint32_t h2 = gem_open(fd2, gem_flink(fd, objs[k].handle), NULL);
		uint32_t *fresh = gtt_map(fd2, h2, objs[k].size, 0);
		CHECK_BUF(fresh, objs[k].lin, objs[k].size, "%s: fresh map (second open) after the last reset", objs[k].name);
		CHECK_OK(munmap(fresh, objs[k].size));
		gem_close(fd2, h2);
		free(raw);
		free(got);
	}

	long long resets1 = gtt_counter(path, "resets ");
	if (resets0 >= 0 && resets1 >= 0)
		info("device counter (debug/i915_gem_gtt): %lld resets (4 issued here)", resets1 - resets0);

	for (int k = 0; k < nobj; k++) {
		CHECK_OK(munmap(objs[k].map, objs[k].size));
		gem_close(fd, objs[k].handle);
		free(objs[k].lin);
	}
	close(fd2);
	close(fd);
	pass(NAME, "X/Y-tiled and untiled GTT maps across three GPU resets (two with dirty stores pending): no store lost in maps or PREAD");
}
