/* coherency: PWRITE/PREAD and a live GTT map stay coherent; across two opens a store is seen after SET_DOMAIN(GTT); SW_FINISH errnos. */
#include "igt_lite.h"

#define NAME "coherency"
#define OBJ_SIZE (4 * PAGE_SZ)
#define NDW (OBJ_SIZE / 4)
#define SEED_A 0xaaaa0001u
#define SEED_B 0xbbbb0001u
#define SEED_C 0xcccc0001u
#define SEED_D 0xdddd0001u
#define SEED_E 0xeeee0001u

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd1 = drm_open(path);
	uint32_t h1 = gem_create(fd1, OBJ_SIZE);
	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);

	/* One open: PWRITE <-> live GTT mapping <-> PREAD. */
	fill_pattern(buf, NDW, SEED_A);
	gem_pwrite(fd1, h1, 0, buf, OBJ_SIZE);
	uint64_t off = mmap_offset(fd1, h1, I915_MMAP_OFFSET_GTT);
	uint32_t *p1 = gem_mmap(fd1, off, OBJ_SIZE, PROT_READ | PROT_WRITE);
	CHECK_PATTERN(p1, NDW, SEED_A, "GTT map after PWRITE A");

	fill_pattern(buf, NDW, SEED_B);
	gem_pwrite(fd1, h1, 0, buf, OBJ_SIZE);
	CHECK_PATTERN(p1, NDW, SEED_B, "same live GTT map after PWRITE B");

	fill_pattern(p1, NDW, SEED_C);
	memset(buf, 0, OBJ_SIZE);
	gem_pread(fd1, h1, 0, buf, OBJ_SIZE);
	CHECK_PATTERN(buf, NDW, SEED_C, "PREAD after store C through the map");

	/* Second open shares the object by name and maps the same node. */
	int fd2 = drm_open(path);
	uint32_t h2 = gem_open(fd2, gem_flink(fd1, h1), NULL);
	uint64_t off2 = mmap_offset(fd2, h2, I915_MMAP_OFFSET_GTT);
	CHECK(off2 == off);
	uint32_t *p2 = gem_mmap(fd2, off2, OBJ_SIZE, PROT_READ | PROT_WRITE);
	CHECK_PATTERN(p2, NDW, SEED_C, "fd2 map sees C");

	/* fd1 stores D; fd2 synchronises with SET_DOMAIN(GTT, 0) and reads D. */
	fill_pattern(p1, NDW, SEED_D);
	gem_set_domain(fd2, h2, I915_GEM_DOMAIN_GTT, 0);
	CHECK_PATTERN(p2, NDW, SEED_D, "fd2 map after fd1 store D + SET_DOMAIN(GTT)");

	/* And back: fd2 stores E; fd1 synchronises and reads E. */
	fill_pattern(p2, NDW, SEED_E);
	gem_set_domain(fd1, h1, I915_GEM_DOMAIN_GTT, 0);
	CHECK_PATTERN(p1, NDW, SEED_E, "fd1 map after fd2 store E + SET_DOMAIN(GTT)");

	CHECK_OK(__gem_sw_finish(fd1, h1));
	CHECK_ERRNO(__gem_sw_finish(fd1, 0xdeadbeef), ENOENT);

	CHECK_OK(munmap(p2, OBJ_SIZE));
	CHECK_OK(munmap(p1, OBJ_SIZE));
	gem_close(fd2, h2);
	gem_close(fd1, h1);
	close(fd2);
	close(fd1);
	free(buf);
	pass(NAME, "PWRITE/map/PREAD coherent in one open; cross-open stores visible after SET_DOMAIN both ways; SW_FINISH ok/ENOENT");
}
