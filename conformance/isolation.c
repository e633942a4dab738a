/* isolation: another open() cannot map an object's offset until it holds a handle (FLINK/GEM_OPEN); holes are unmappable; render node cannot FLINK/OPEN. Plain mode: SIGBUS on touch; strict mode (preload): the kernel's mmap errnos. */
#include "igt_lite.h"

#define NAME "isolation"
#define OBJ_SIZE (64 * KiB)
#define NDW (OBJ_SIZE / 4)
#define SEED 0x150a0001u

static void check_render_node(const char *card0, uint32_t name)
{
	const char *rpath = render_path(card0);
	int rfd = open(rpath, O_RDWR | O_CLOEXEC);
	if (rfd < 0) {
		info("%s: %s, render-node part not run", rpath, strerror(errno));
		return;
	}
	uint32_t h = gem_create(rfd, 4096), n = 0, h2 = 0;
	CHECK_ERRNO(__gem_flink(rfd, h, &n), EACCES);
	CHECK_ERRNO(__gem_open(rfd, name, &h2, NULL), EACCES);
	gem_close(rfd, h);
	close(rfd);
	info("render node: GEM_FLINK and GEM_OPEN refused with EACCES");
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd1 = drm_open(path), fd2 = drm_open(path);

	uint32_t h1 = gem_create(fd1, OBJ_SIZE);
	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);
	fill_pattern(buf, NDW, SEED);
	gem_pwrite(fd1, h1, 0, buf, OBJ_SIZE);
	uint64_t off = mmap_offset(fd1, h1, I915_MMAP_OFFSET_GTT);

	/* Sanity: the owner can map it. */
	uint32_t *p1 = gem_mmap(fd1, off, OBJ_SIZE, PROT_READ);
	CHECK_PATTERN(p1, NDW, SEED, "fd1 GTT map");
	CHECK_OK(munmap(p1, OBJ_SIZE));

	/* fd2 has no handle: not allowed on the node. */
	const char *how_foreign = EXPECT_DENIED(fd2, off, OBJ_SIZE, PROT_READ, EACCES, "fd2 maps fd1's offset");
	/* No node there. */
	EXPECT_DENIED(fd1, off + 512 * MiB, PAGE_SZ, PROT_READ, EINVAL, "offset + 512 MiB (hole)");
	EXPECT_DENIED(fd1, FAKE_OFFSET_START - PAGE_SZ, PAGE_SZ, PROT_READ, EINVAL, "4 GiB - 4096 (below offset space)");

	/* Share by name; fd2 gets the same node and is allowed on it. */
	uint32_t name = gem_flink(fd1, h1);
	uint64_t size2 = 0;
	uint32_t h2 = gem_open(fd2, name, &size2);
	CHECK_MSG(size2 == OBJ_SIZE, "GEM_OPEN size %llu", (unsigned long long)size2);
	uint64_t off2 = mmap_offset(fd2, h2, I915_MMAP_OFFSET_GTT);
	CHECK_MSG(off2 == off, "fd2 offset 0x%llx != fd1 offset 0x%llx", (unsigned long long)off2,
		  (unsigned long long)off);
	uint32_t *p2 = gem_mmap(fd2, off2, OBJ_SIZE, PROT_READ);
	CHECK_PATTERN(p2, NDW, SEED, "fd2 GTT map after GEM_OPEN");
	CHECK_OK(munmap(p2, OBJ_SIZE));

	check_render_node(path, name);

	gem_close(fd2, h2);
	gem_close(fd1, h1);
	close(fd2);
	close(fd1);
	free(buf);
	pass(NAME, "foreign offset denied (%s), holes denied, FLINK/GEM_OPEN shares node 0x%llx", how_foreign,
	     (unsigned long long)off);
}
