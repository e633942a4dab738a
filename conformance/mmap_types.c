/* mmap_types: MMAP_OFFSET GTT/WC/WB/UC give distinct, stable offsets; FIXED is ENODEV; fresh views read zero; WB writes reach GTT after SET_DOMAIN. */
#include "igt_lite.h"

#define NAME "mmap_types"
#define OBJ_SIZE (64 * KiB)
#define NDW (OBJ_SIZE / 4)
#define SEED 0x3b3b0001u

static const struct {
	uint64_t flags;
	const char *name;
	int optional; /* kernel: ENODEV without PAT */
} types[] = {
	{ I915_MMAP_OFFSET_GTT, "GTT", 0 },
	{ I915_MMAP_OFFSET_WC, "WC", 1 },
	{ I915_MMAP_OFFSET_WB, "WB", 0 },
	{ I915_MMAP_OFFSET_UC, "UC", 1 },
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t handle = gem_create(fd, OBJ_SIZE);
	uint64_t off[NTYPES] = { 0 };
	uint32_t *map[NTYPES] = { 0 };
	int have[NTYPES] = { 0 }, ntypes = 0;

	for (size_t t = 0; t < NTYPES; t++) {
		int r = __mmap_offset(fd, handle, types[t].flags, &off[t]);
		if (r == -ENODEV && types[t].optional) {
			info("%s: ENODEV (no PAT), not tested", types[t].name);
			continue;
		}
		CHECK_MSG(r == 0, "MMAP_OFFSET(%s) = %d", types[t].name, r);
		CHECK_MSG(off[t] >= FAKE_OFFSET_START && off[t] % PAGE_SZ == 0,
			  "%s offset 0x%llx", types[t].name, (unsigned long long)off[t]);
		uint64_t again = mmap_offset(fd, handle, types[t].flags);
		CHECK_MSG(again == off[t], "%s asked twice: 0x%llx then 0x%llx", types[t].name,
			  (unsigned long long)off[t], (unsigned long long)again);
		for (size_t u = 0; u < t; u++)
			CHECK_MSG(!have[u] || off[u] != off[t], "%s and %s share offset 0x%llx",
				  types[u].name, types[t].name, (unsigned long long)off[t]);
		have[t] = 1;
		ntypes++;
		info("%s offset 0x%llx", types[t].name, (unsigned long long)off[t]);
	}

	uint64_t dummy;
	CHECK_ERRNO(__mmap_offset(fd, handle, I915_MMAP_OFFSET_FIXED, &dummy), ENODEV);

	/* Every view of a fresh object reads zeros. */
	for (size_t t = 0; t < NTYPES; t++) {
		if (!have[t])
			continue;
		map[t] = gem_mmap(fd, off[t], OBJ_SIZE, PROT_READ | PROT_WRITE);
		CHECK_ZERO(map[t], NDW, types[t].name);
	}

	/* Write through WB, unmap (writeback), SET_DOMAIN(GTT): GTT view shows it. */
	size_t wb = 2, gtt = 0;
	fill_pattern(map[wb], NDW, SEED);
	CHECK_OK(munmap(map[wb], OBJ_SIZE));
	map[wb] = NULL;
	gem_set_domain(fd, handle, I915_GEM_DOMAIN_GTT, I915_GEM_DOMAIN_GTT);
	CHECK_PATTERN(map[gtt], NDW, SEED, "live GTT map after WB write + SET_DOMAIN(GTT)");

	uint32_t *fresh = gem_mmap(fd, off[gtt], OBJ_SIZE, PROT_READ);
	CHECK_PATTERN(fresh, NDW, SEED, "fresh GTT map after WB write + SET_DOMAIN(GTT)");
	CHECK_OK(munmap(fresh, OBJ_SIZE));

	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);
	gem_pread(fd, handle, 0, buf, OBJ_SIZE);
	CHECK_PATTERN(buf, NDW, SEED, "PREAD after WB write");
	free(buf);

	for (size_t t = 0; t < NTYPES; t++)
		if (map[t])
			CHECK_OK(munmap(map[t], OBJ_SIZE));
	gem_close(fd, handle);
	close(fd);
	pass(NAME, "%d/%zu types with distinct stable offsets, FIXED ENODEV, zero-filled views, WB->GTT coherent after SET_DOMAIN",
	     ntypes, NTYPES);
}
