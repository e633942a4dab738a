/* partial_mmap: Linux 6.12+ partial mappings ("drm/i915/gem: Do not look for the exact address in node"): an mmap that starts inside an offset node and fits in it maps the object from that page on, for every view (GTT, WC, WB, UC); pieces of it unmap and survive on their own; a range running past the node or into a hole is refused (strict: EINVAL at mmap; plain: SIGBUS on touch). Also upstream IGT gem_mmap_offset's partial-mmap and partial-unmap. */
#include "igt_lite.h"

#define NAME "partial_mmap"
#define OBJ_PAGES 16
#define OBJ_SIZE (OBJ_PAGES * PAGE_SZ)
#define NDW (OBJ_SIZE / 4)
#define DW_PER_PAGE (PAGE_SZ / 4)
#define SEED 0x9a271a11u

static const struct { uint64_t flags; const char *name; } views[] = {
	{ I915_MMAP_OFFSET_GTT, "gtt" }, { I915_MMAP_OFFSET_WC, "wc" },
	{ I915_MMAP_OFFSET_WB, "wb" }, { I915_MMAP_OFFSET_UC, "uc" },
};

/* The object's pattern seen from page `first` on: dword i of the mapping is dword first*1024+i. */
static void check_from(const volatile uint32_t *p, unsigned first, unsigned pages, uint32_t seed, const char *what)
{
	for (size_t i = 0; i < (size_t)pages * DW_PER_PAGE; i++) {
		uint32_t want = pattern_dw(seed, (size_t)first * DW_PER_PAGE + i);
		if (p[i] != want)
			fail("%s: dword %zu of a mapping from page %u = 0x%08x, expected 0x%08x (object dword %zu)",
			     what, i, first, p[i], want, (size_t)(first * DW_PER_PAGE + i));
	}
}

/* A range that starts inside the node and runs one page past it: strict mode
 * refuses the mmap (EINVAL); plain mode maps it (the daemon never sees mmap). */
static void too_long(int fd, uint64_t offset, size_t size, int strict, const char *what)
{
	void *p = NULL;
	int r = __gem_mmap(fd, offset, size, PROT_READ, &p);
	if (strict) {
		CHECK_MSG(r == -EINVAL, "%s: mmap gave %s, expected EINVAL", what, r ? errname(-r) : "success");
		if (r == 0)
			munmap(p, size);
		return;
	}
	/* The page past the node is the guard gap, which readahead of the node's
	 * pages fills with zeros: only the pages inside are checked. */
	CHECK_MSG(r == 0, "%s: plain mode: mmap failed with %s", what, errname(-r));
	uint32_t v;
	CHECK_MSG(try_read32(p, &v) == 0, "%s: the first page (inside the node) faulted", what);
	munmap(p, size);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int strict = strict_mode();
	int fd = drm_open(path);
	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);
	int rows = 0;

	for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
		const char *vn = views[v].name;
		uint32_t h = gem_create(fd, OBJ_SIZE);
		fill_pattern(buf, NDW, SEED + (uint32_t)v);
		gem_pwrite(fd, h, 0, buf, OBJ_SIZE);
		uint64_t off = mmap_offset(fd, h, views[v].flags);
		char what[96];

		/* Starting inside the node, fitting in it: the object from that page on. */
		static const unsigned firsts[] = { 1, 5, OBJ_PAGES - 1 };
		for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
			unsigned first = firsts[i], pages = OBJ_PAGES - first;
			snprintf(what, sizeof(what), "%s: pages %u..%u", vn, first, OBJ_PAGES - 1);
			void *p = NULL;
			int r = __gem_mmap(fd, off + first * PAGE_SZ, pages * PAGE_SZ, PROT_READ | PROT_WRITE, &p);
			CHECK_MSG(r == 0, "%s: mmap inside the node failed with %s (Linux 6.12+ maps it)", what, errname(-r));
			check_from(p, first, pages, SEED + (uint32_t)v, what);
			CHECK_OK(munmap(p, pages * PAGE_SZ));
			rows++;
		}
		/* One page in the middle, and a store through it reaching the right object page. */
		uint32_t *mid = gem_mmap(fd, off + 7 * PAGE_SZ, PAGE_SZ, PROT_READ | PROT_WRITE);
		check_from(mid, 7, 1, SEED + (uint32_t)v, vn);
		mid[3] = 0xc0ffee00u + (uint32_t)v;
		gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
		uint32_t got = 0;
		gem_pread(fd, h, 7 * PAGE_SZ + 12, &got, 4);
		CHECK_MSG(got == 0xc0ffee00u + (uint32_t)v, "%s: a store at page 7 of a one-page mapping reached 0x%08x", vn, got);
		buf[7 * DW_PER_PAGE + 3] = got;
		CHECK_OK(munmap(mid, PAGE_SZ));
		rows++;

		/* A partial mapping cut in pieces: each piece keeps its own object pages. */
		uint8_t *part = (uint8_t *)gem_mmap(fd, off + 2 * PAGE_SZ, 6 * PAGE_SZ, PROT_READ);
		CHECK_OK(munmap(part + PAGE_SZ, 2 * PAGE_SZ));
		CHECK_MSG(((uint32_t *)part)[0] == buf[2 * DW_PER_PAGE], "%s: first piece", vn);
		CHECK_MSG(((uint32_t *)(part + 3 * PAGE_SZ))[0] == buf[5 * DW_PER_PAGE], "%s: piece after the hole", vn);
		CHECK_MSG(((uint32_t *)(part + 5 * PAGE_SZ))[DW_PER_PAGE - 1] == buf[8 * DW_PER_PAGE - 1], "%s: last piece", vn);
		CHECK_OK(munmap(part, PAGE_SZ));
		CHECK_OK(munmap(part + 3 * PAGE_SZ, 3 * PAGE_SZ));
		rows++;

		/* Refused as before: running past the node's end, and a hole after the node. */
		snprintf(what, sizeof(what), "%s: from page 1, one page too long", vn);
		too_long(fd, off + PAGE_SZ, OBJ_SIZE, strict, what);
		snprintf(what, sizeof(what), "%s: a hole 1 GiB past the node", vn);
		EXPECT_DENIED(fd, off + GiB, PAGE_SZ, PROT_READ, EINVAL, what);
		if (strict) {
			/* Plain mode: readahead of the node's pages fills its guard gap with zeros. */
			void *g = NULL;
			int r = __gem_mmap(fd, off + OBJ_SIZE, PAGE_SZ, PROT_READ, &g);
			CHECK_MSG(r == -EINVAL, "%s: the page after the node: %s, expected EINVAL", vn, r ? errname(-r) : "mapped");
			rows++;
		}
		rows += 2;

		/* Another open, never allowed: EACCES anywhere in the node, inside too. */
		int fd2 = drm_open(path);
		snprintf(what, sizeof(what), "%s: another open, inside the node", vn);
		EXPECT_DENIED(fd2, off + 3 * PAGE_SZ, PAGE_SZ, PROT_READ, EACCES, what);
		close(fd2);
		rows++;
		gem_close(fd, h);
	}

	/* IGT gem_mmap_offset partial-mmap / partial-unmap, per view, on a 2 MiB object. */
	for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
		const size_t big = 2 * MiB;
		uint32_t h = gem_create(fd, big);
		uint64_t off = mmap_offset(fd, h, views[v].flags);
		uint32_t *p = gem_mmap(fd, off, PAGE_SZ, PROT_WRITE | PROT_READ);
		memset(p, 0xcc, PAGE_SZ);
		CHECK_OK(munmap(p, PAGE_SZ));
		uint32_t *tail = gem_mmap(fd, off + big - PAGE_SZ, PAGE_SZ, PROT_READ);
		CHECK_ZERO(tail, DW_PER_PAGE, "partial-mmap: the last page of a 2 MiB object");
		CHECK_OK(munmap(tail, PAGE_SZ));

		uint8_t *a = (uint8_t *)gem_mmap(fd, off, big, PROT_READ | PROT_WRITE);
		uint8_t *b = (uint8_t *)gem_mmap(fd, off, big, PROT_READ | PROT_WRITE);
		CHECK_OK(munmap(a, big - PAGE_SZ));
		memset(a + big - PAGE_SZ, 0xcc, PAGE_SZ);
		memset(b, 0xdd, PAGE_SZ);
		for (size_t i = 0; i < PAGE_SZ; i++)
			CHECK_MSG(a[big - PAGE_SZ + i] == 0xcc, "partial-unmap (%s): byte %zu", views[v].name, i);
		CHECK_OK(munmap(a + big - PAGE_SZ, PAGE_SZ));
		memset(b, 0, big);
		CHECK_OK(munmap(b, big));
		gem_close(fd, h);
		rows += 2;
	}

	close(fd);
	free(buf);
	pass(NAME, "%d rows (%s): mappings starting inside a node map the object from there on, in pieces too; past the end, holes and other opens refused",
	     rows, strict ? "strict" : "plain");
	return 0;
}
