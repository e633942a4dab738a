/* gtt_aperture: objects larger than the mappable aperture (64 MiB untiled, 24 MiB X-tiled) through GTT maps in linear, random and scattered order stay exact (partial views, eviction). */
#include "igt_lite.h"

#define NAME "gtt_aperture"

#include "gtt_lite.h"

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
