/* close_survives: a mapping outlives GEM_CLOSE and close(fd) (even untouched pages); MMAP_OFFSET on the closed handle is ENOENT; IGT basic-uaf. */
#include "igt_lite.h"

#define NAME "close_survives"
#define OBJ_SIZE (8 * PAGE_SZ)
#define NDW (OBJ_SIZE / 4)
#define HALF (NDW / 2)

static void mapping_survives(const char *path)
{
	int fd = drm_open(path);
	uint32_t h = gem_create(fd, OBJ_SIZE);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	uint32_t *p = gem_mmap(fd, off, OBJ_SIZE, PROT_READ | PROT_WRITE);

	/* Touch only the first half; the second half is first faulted after the close. */
	fill_pattern(p, HALF, 0xa1a10001);
	gem_close(fd, h);
	CHECK_PATTERN(p, HALF, 0xa1a10001, "touched half after GEM_CLOSE");
	CHECK_ZERO(p + HALF, NDW - HALF, "untouched half after GEM_CLOSE");
	fill_pattern(p, NDW, 0xa2a20001);
	CHECK_PATTERN(p, NDW, 0xa2a20001, "write+read after GEM_CLOSE");

	uint64_t dummy;
	CHECK_ERRNO(__mmap_offset(fd, h, I915_MMAP_OFFSET_GTT, &dummy), ENOENT);

	CHECK_OK(close(fd));
	CHECK_PATTERN(p, NDW, 0xa2a20001, "read after close(fd)");
	fill_pattern(p, NDW, 0xa3a30001);
	CHECK_PATTERN(p, NDW, 0xa3a30001, "write+read after close(fd)");
	CHECK_OK(munmap(p, OBJ_SIZE));
}

/* IGT gem_mmap_offset@basic-uaf: mmap, GEM_CLOSE, then the first touch. */
static void basic_uaf(const char *path)
{
	int fd = drm_open(path);
	uint32_t h = gem_create(fd, OBJ_SIZE);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	uint32_t *p = gem_mmap(fd, off, OBJ_SIZE, PROT_READ | PROT_WRITE);
	gem_close(fd, h);

	CHECK_ZERO(p, NDW, "first touch after GEM_CLOSE");
	fill_pattern(p, NDW, 0xb1b10001);
	CHECK_PATTERN(p, NDW, 0xb1b10001, "write+read after GEM_CLOSE");
	CHECK_OK(munmap(p, OBJ_SIZE));
	CHECK_OK(close(fd));
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	mapping_survives(path);
	basic_uaf(path);
	pass(NAME, "mapping works after GEM_CLOSE and close(fd), closed handle ENOENT, basic-uaf ok");
}
