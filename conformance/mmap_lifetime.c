/* mmap_lifetime: an object whose last handle is closed lives while a mapping of it does. Strict mode (preload) frees it the moment its last mapping goes (munmap, partial munmaps, mremap, a forked child's copy), as i915's VMA references do; plain mode keeps it until the file is released. */
#include "igt_lite.h"

#include <sys/wait.h>

#define NAME "mmap_lifetime"
#define SEED 0x11fe0001u

static char objects_path[PATH_MAX];
static uint64_t obj_size;

/* How many objects of our distinctive size MOUNT/debug/i915_gem_objects lists. */
static int listed(void)
{
	FILE *f = fopen(objects_path, "r");
	CHECK_MSG(f, "%s: %s", objects_path, strerror(errno));
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long serial, size;
		if (sscanf(line, "%llu %llu", &serial, &size) == 2 && size == obj_size)
			n++;
	}
	fclose(f);
	return n;
}

/* An object with no handle left, mapped once (whole, read/write), pattern in it. */
static uint32_t *mapped_orphan(int fd)
{
	uint32_t h = gem_create(fd, obj_size);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	uint32_t *p = gem_mmap(fd, off, obj_size, PROT_READ | PROT_WRITE);
	fill_pattern(p, obj_size / 4, SEED);
	gem_close(fd, h);
	CHECK_PATTERN(p, obj_size / 4, SEED, "mapping after GEM_CLOSE");
	return p;
}

/* After the last mapping went: gone at once in strict mode, still listed in plain. */
static void expect_freed(int strict, int before, const char *what)
{
	int now = listed();
	if (strict)
		CHECK_MSG(now == before - 1, "%s: strict mode: %d objects listed, expected %d (freed at once)", what, now, before - 1);
	else
		CHECK_MSG(now == before, "%s: plain mode: %d objects listed, expected %d (kept until release)", what, now, before);
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	int strict = strict_mode();
	const char *slash = strrchr(path, '/');
	snprintf(objects_path, sizeof(objects_path), "%.*s/debug/i915_gem_objects", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	/* Other tests may share the mount: our objects have a size of their own. */
	obj_size = (67 + (uint64_t)getpid() % 997) * PAGE_SZ;
	int fd = drm_open(path);

	/* Whole mapping, then munmap. */
	int base = listed();
	uint32_t *p = mapped_orphan(fd);
	CHECK_MSG(listed() == base + 1, "a mapped object without handles must be listed");
	CHECK_OK(munmap(p, obj_size));
	expect_freed(strict, base + 1, "munmap");

	/* Partial munmaps: the object lives until the last piece goes. */
	base = listed();
	p = mapped_orphan(fd);
	CHECK_OK(munmap(p, PAGE_SZ));
	CHECK_OK(munmap((char *)p + obj_size - PAGE_SZ, PAGE_SZ));
	CHECK_MSG(listed() == base + 1, "freed while the middle of its mapping was still there");
	CHECK_PATTERN(p + PAGE_SZ / 4, PAGE_SZ / 4, SEED + (uint32_t)(PAGE_SZ / 4) * 0x01000193u, "middle piece");
	CHECK_OK(munmap((char *)p + PAGE_SZ, obj_size - 2 * PAGE_SZ));
	expect_freed(strict, base + 1, "last piece unmapped");

	/* mremap moves the mapping, and its hold on the object. */
	base = listed();
	p = mapped_orphan(fd);
	uint32_t *q = mremap(p, obj_size, obj_size, MREMAP_MAYMOVE | MREMAP_FIXED, (char *)p + 256 * MiB);
	CHECK(q != MAP_FAILED);
	CHECK_MSG(listed() == base + 1, "freed by mremap");
	CHECK_PATTERN(q, obj_size / 4, SEED, "moved mapping");
	CHECK_OK(munmap(q, obj_size));
	expect_freed(strict, base + 1, "munmap after mremap");

	/* fork: the child's copy holds the object after the parent let go. */
	base = listed();
	p = mapped_orphan(fd);
	int go[2], ready[2];
	CHECK_OK(pipe(go));
	CHECK_OK(pipe(ready));
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		char c;
		if (read(go[0], &c, 1) != 1 || find_mismatch(p, obj_size / 4, SEED) >= 0)
			_exit(1);
		munmap(p, obj_size);
		_exit(write(ready[1], "x", 1) == 1 ? 0 : 1);
	}
	CHECK_OK(munmap(p, obj_size));
	CHECK_MSG(listed() == base + 1, "freed while a forked child still maps it");
	CHECK(write(go[1], "x", 1) == 1);
	char c;
	CHECK(read(ready[0], &c, 1) == 1);
	int status;
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect_freed(strict, base + 1, "the child unmapped too");

	close(fd);
	pass(NAME, "%s: orphaned objects %s", strict ? "strict" : "plain",
	     strict ? "freed at the last munmap (whole, pieces, mremap, fork)" : "kept until the file is released");
}
