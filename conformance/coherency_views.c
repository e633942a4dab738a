/* coherency_views: after SET_DOMAIN every view shows the bytes stored through any other view, for every ordered pair of GTT/WC/WB/UC views, whether the reading view was mapped but untouched before the coherency point, mapped after it, stale-cached before it, or lives in another open; untiled, X and Y tiled; small objects and objects larger than the mappable aperture. */
#include "igt_lite.h"
#include "gtt_lite.h"

#define NAME "coherency_views"

struct view {
	const char *name;
	uint64_t type;   /* MMAP_OFFSET flags */
	uint32_t domain; /* what a reader through it asks SET_DOMAIN for */
};

static const struct view views[] = {
	{ "GTT", I915_MMAP_OFFSET_GTT, I915_GEM_DOMAIN_GTT },
	{ "WC", I915_MMAP_OFFSET_WC, I915_GEM_DOMAIN_WC },
	{ "WB", I915_MMAP_OFFSET_WB, I915_GEM_DOMAIN_CPU },
	{ "UC", I915_MMAP_OFFSET_UC, I915_GEM_DOMAIN_CPU },
};
#define NVIEWS (int)(sizeof(views) / sizeof(views[0]))

/* When and where the reading view B is mapped, relative to the coherency point. */
enum when {
	B_UNTOUCHED,  /* mapped before, first touched after: the bug */
	B_AFTER,      /* MMAP_OFFSET and mmap after SET_DOMAIN */
	B_STALE,      /* read before the store: holds the old bytes cached */
	B_OTHER_OPEN, /* a second open, mapped before and untouched */
	NWHEN
};
static const char *when_name[] = { "mapped untouched before", "mapped after", "stale-cached before",
				   "other open, untouched before" };

/* 4 KiB tile rows, so every page of any object size is whole tile rows. */
static const struct {
	uint32_t mode, stride;
} tilings[] = { { I915_TILING_NONE, 0 }, { I915_TILING_X, 512 }, { I915_TILING_Y, 128 } };
#define NTILINGS (int)(sizeof(tilings) / sizeof(tilings[0]))

/* The mappable aperture, from the debug tree's "aperture: N bytes"; 0 if unknown. */
static uint64_t aperture_bytes(const char *card0)
{
	char path[PATH_MAX], line[512];
	const char *slash = strrchr(card0, '/');
	snprintf(path, sizeof(path), "%.*sdebug/i915_gem_gtt", slash ? (int)(slash - card0 + 1) : 0, card0);
	FILE *f = fopen(path, "r");
	unsigned long long v = 0;
	if (f) {
		if (fgets(line, sizeof(line), f))
			sscanf(line, "aperture: %llu bytes", &v);
		fclose(f);
	}
	return v;
}

/* Where linear (GTT-view) byte l of the object is in view v. */
static uint64_t addr_in(const struct view *v, const struct tiling *t, uint64_t l)
{
	return v->type == I915_MMAP_OFFSET_GTT ? l : tiled_offset(t, l);
}

static uint32_t *map_view(int fd, uint32_t handle, const struct view *v, uint64_t size)
{
	return gem_mmap(fd, mmap_offset(fd, handle, v->type), size, PROT_READ | PROT_WRITE);
}

static struct igt_bad bad;
static unsigned cases, bad_by[2][NWHEN];

static void one(const char *path, int fd, int a, int b, int ti, uint64_t size, enum when when)
{
	const struct view *va = &views[a], *vb = &views[b];
	uint32_t h = gem_create(fd, size);
	struct tiling t = { I915_TILING_NONE, 0, I915_BIT_6_SWIZZLE_NONE };
	if (tilings[ti].mode != I915_TILING_NONE)
		t = set_tiling(fd, h, tilings[ti].mode, tilings[ti].stride);

	/* The first, a middle and the last page; a different dword each case. */
	uint64_t pages = size / PAGE_SZ, lin[3];
	uint64_t pick[3] = { 0, pages / 2, pages - 1 };
	for (int k = 0; k < 3; k++)
		lin[k] = pick[k] * PAGE_SZ + ((cases * 13 + k * 101) % 1024) * 4;

	int fdb = fd;
	uint32_t hb = h;
	if (when == B_OTHER_OPEN) {
		fdb = drm_open(path);
		hb = gem_open(fdb, gem_flink(fd, h), NULL);
	}
	uint32_t *pa = map_view(fd, h, va, size);
	uint32_t *pb = when == B_AFTER ? NULL : map_view(fdb, hb, vb, size);
	if (when == B_STALE)
		for (int k = 0; k < 3; k++)
			if (pb[addr_in(vb, &t, lin[k]) / 4] != 0)
				igt_bad_note(&bad, "%s->%s %s: fresh object not zero", va->name, vb->name, tiling_name(t.mode));

	uint32_t value = 0xc0de0000u | cases;
	for (int k = 0; k < 3; k++)
		pa[addr_in(va, &t, lin[k]) / 4] = value + (uint32_t)k * 0x10000000u;
	/* The reader's coherency point, as IGT's readers make it. */
	gem_set_domain(fdb, hb, vb->domain, 0);
	if (when == B_AFTER)
		pb = map_view(fdb, hb, vb, size);

	for (int k = 0; k < 3; k++) {
		uint32_t got = pb[addr_in(vb, &t, lin[k]) / 4], want = value + (uint32_t)k * 0x10000000u;
		if (got != want && ++bad_by[size > 64 * KiB][when])
			igt_bad_note(&bad, "%s store, SET_DOMAIN, %s read (%s, %s, %llu KiB, page %llu): 0x%08x, want 0x%08x",
				     va->name, vb->name, when_name[when], tiling_name(t.mode),
				     (unsigned long long)(size >> 10), (unsigned long long)pick[k], got, want);
	}
	CHECK_OK(munmap(pb, size));
	CHECK_OK(munmap(pa, size));
	if (fdb != fd) {
		gem_close(fdb, hb);
		close(fdb);
	}
	gem_close(fd, h);
	cases++;
}

int main(int argc, char **argv)
{
	alarm(120);
	const char *path = igt_init(argc, argv, NAME);
	const char *mode = strict_mode() ? "strict" : "plain";
	uint64_t aperture = aperture_bytes(path);
	if (aperture == 0)
		fail("no aperture size in the debug tree");
	/* Larger than the aperture: GTT faults go through partial views. */
	uint64_t sizes[2] = { 64 * KiB, aperture + PAGE_SZ };
	int fd = drm_open(path);

	for (int s = 0; s < 2; s++)
		for (int ti = 0; ti < NTILINGS; ti++)
			for (int a = 0; a < NVIEWS; a++)
				for (int b = 0; b < NVIEWS; b++)
					for (int w = 0; w < NWHEN; w++)
						if (a != b)
							one(path, fd, a, b, ti, sizes[s], (enum when)w);
	close(fd);
	for (int s = 0; s < 2; s++)
		for (int w = 0; w < NWHEN; w++)
			if (bad_by[s][w])
				info("%u old reads: %s, reader %s", bad_by[s][w], s ? "larger than the aperture" : "64 KiB",
				     when_name[w]);
	if (bad.count)
		fail("%lu reads of old bytes in %u cases (%s); first: %s", (unsigned long)bad.count, cases, mode, bad.first);
	pass(NAME, "%u cases (%s): every ordered pair of GTT/WC/WB/UC views, reader mapped untouched before / after / "
		   "stale / in another open, NONE/X/Y, 64 KiB and aperture + 4 KiB (%llu KiB): new bytes after SET_DOMAIN",
	     cases, mode, (unsigned long long)(sizes[1] >> 10));
}
