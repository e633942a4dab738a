/* hostile_inputs: inputs a hostile or careless client sends, answered as the
 * kernel would (issue 11, items 7-10):
 *  - write(2) of the device: EACCES at a node this open may not use (a
 *    /proc/self/fd/N reopen included: it is a new open with no rights), EIO
 *    where no node is, EFBIG past the end; the object is left unchanged;
 *  - MADVISE(DONTNEED) of a readonly object (a userptr in i915) does not
 *    purge it: retained, and its contents back after WILLNEED;
 *  - GEM_CREATE of objects larger than memory succeeds (shmem reserves
 *    nothing); their pages fail where needed: E2BIG past 2^32 pages, ENOMEM
 *    past the system memory region (validate_size); sizes that round past
 *    MAX_LFS_FILESIZE are E2BIG, past 2^64 EINVAL;
 *  - fail_ioctl takes only errnos a system call can return (1..133). */
#include "igt_lite.h"
#include <sys/stat.h>

#define NAME "hostile_inputs"
#define OBJ_SIZE (2 * PAGE_SZ)
#define NDW (OBJ_SIZE / 4)
#define SEED 0x4057113u

/* 0, a byte count, or -errno for a libc call. */
static long sys(long r)
{
	return r < 0 ? -errno : r;
}

static int set_readonly(int fd, uint32_t handle)
{
	struct drm_fakedrm_gem_set_readonly ro = { .handle = handle };
	return drm_ioctl(fd, DRM_IOCTL_FAKEDRM_GEM_SET_READONLY, &ro);
}

static void check_unchanged(int fd, uint32_t h, const char *what)
{
	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);
	gem_pread(fd, h, 0, buf, OBJ_SIZE);
	CHECK_PATTERN(buf, NDW, SEED, what);
	free(buf);
}

static void write_errors(const char *path)
{
	int fd = drm_open(path), other = drm_open(path);
	uint32_t h = gem_create(fd, OBJ_SIZE);
	uint32_t *buf = malloc(OBJ_SIZE), page[PAGE_SZ / 4];
	CHECK(buf);
	fill_pattern(buf, NDW, SEED);
	gem_pwrite(fd, h, 0, buf, OBJ_SIZE);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	memset(page, 0xa5, sizeof page);

	/* Another open, never allowed on the node. */
	CHECK_ERRNO(sys(pwrite(other, page, PAGE_SZ, off)), EACCES);
	/* A reopen of this open's file: a new drm_file, no rights of ours. */
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int reopen = open(proc, O_RDWR | O_CLOEXEC);
	CHECK(reopen >= 0);
	CHECK_ERRNO(sys(pwrite(reopen, page, PAGE_SZ, off)), EACCES);
	CHECK_ERRNO(sys(pwrite(reopen, page, PAGE_SZ, off + PAGE_SZ)), EACCES);
	check_unchanged(fd, h, "object after refused write(2)s");
	/* No node: below the offset space, and in the guard gap after ours. */
	CHECK_ERRNO(sys(pwrite(fd, page, PAGE_SZ, PAGE_SZ)), EIO);
	CHECK_ERRNO(sys(pwrite(fd, page, PAGE_SZ, off + 64 * PAGE_SZ)), EIO);
	/* Past the end of the file (1 << 46 bytes), as a file at its limit. */
	CHECK_ERRNO(sys(pwrite(fd, page, PAGE_SZ, 1ll << 46)), EFBIG);
	CHECK_ERRNO(sys(pwrite(fd, page, PAGE_SZ, (1ll << 62))), EFBIG);
	struct stat st;
	CHECK_OK(sys(fstat(fd, &st)));
	CHECK_MSG(st.st_size == 1ll << 46, "i_size grew to %lld", (long long)st.st_size);
	check_unchanged(fd, h, "object after write(2)s past it");

	/* This open's own node takes the write. */
	CHECK(sys(pwrite(fd, page, PAGE_SZ, off)) == (long)PAGE_SZ);
	gem_pread(fd, h, 0, buf, PAGE_SZ);
	CHECK_MSG(memcmp(buf, page, PAGE_SZ) == 0, "write(2) at this open's node did not land");

	/* A readonly object refuses it. */
	uint32_t ro = gem_create(fd, OBJ_SIZE);
	fill_pattern(buf, NDW, SEED);
	gem_pwrite(fd, ro, 0, buf, OBJ_SIZE);
	CHECK_OK(set_readonly(fd, ro));
	uint64_t ro_off = mmap_offset(fd, ro, I915_MMAP_OFFSET_GTT);
	CHECK_ERRNO(sys(pwrite(fd, page, PAGE_SZ, ro_off)), EACCES);
	check_unchanged(fd, ro, "readonly object after write(2)");

	close(reopen);
	close(other);
	close(fd);
	free(buf);
	info("write(2): EACCES (other open, reopen, readonly), EIO (no node), EFBIG (past the end)");
}

static void madvise_readonly(const char *path)
{
	int fd = drm_open(path);
	uint32_t *buf = malloc(OBJ_SIZE), retained = 0;
	CHECK(buf);
	fill_pattern(buf, NDW, SEED);
	uint32_t ro = gem_create(fd, OBJ_SIZE), rw = gem_create(fd, OBJ_SIZE);
	gem_pwrite(fd, ro, 0, buf, OBJ_SIZE);
	CHECK_OK(set_readonly(fd, ro));

	CHECK_OK(__gem_madvise(fd, ro, I915_MADV_DONTNEED, &retained));
	CHECK_MSG(retained == 1, "readonly object purged by DONTNEED (retained %u)", retained);
	CHECK_OK(__gem_madvise(fd, ro, I915_MADV_WILLNEED, &retained));
	CHECK_MSG(retained == 1, "readonly object not retained after WILLNEED (retained %u)", retained);
	check_unchanged(fd, ro, "readonly object after DONTNEED, WILLNEED");

	/* An ordinary object is purged at once, as the shrinker would. */
	CHECK_OK(__gem_madvise(fd, rw, I915_MADV_DONTNEED, &retained));
	CHECK(retained == 0);
	CHECK_ERRNO(__gem_pread(fd, rw, 0, buf, 4), EFAULT);
	close(fd);
	free(buf);
	info("MADVISE(DONTNEED): readonly retained, ordinary purged");
}

static void huge_create(const char *path)
{
	int fd = drm_open(path);
	uint32_t v;
	struct {
		uint64_t size;
		int pages_err; /* what needing its pages gives */
	} ok[] = {
		{ 1ull << 40, ENOMEM },          /* more than memory (any CI machine) */
		{ (1ull << 44) - PAGE_SZ, ENOMEM }, /* 2^32 - 1 pages: an unsigned int counts them */
		{ 1ull << 44, E2BIG },             /* 2^32 pages: it does not */
		{ 1ull << 47, E2BIG },
		{ 1ull << 50, E2BIG },
		{ (1ull << 63) - PAGE_SZ, E2BIG }, /* MAX_LFS_FILESIZE rounded down */
		{ (1ull << 63) - PAGE_SZ - 1, E2BIG },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t size = ok[i].size;
		uint32_t h = 0;
		int r = __gem_create(fd, &size, &h);
		CHECK_MSG(r == 0, "GEM_CREATE(%#llx): %s, expected success", (unsigned long long)ok[i].size, errname(-r));
		CHECK_MSG(size == ((ok[i].size + PAGE_SZ - 1) & ~(PAGE_SZ - 1)), "size %#llx", (unsigned long long)size);
		CHECK_ERRNO(__gem_pread(fd, h, 0, &v, sizeof v), ok[i].pages_err);
		CHECK_ERRNO(__gem_pwrite(fd, h, size - 4, &v, sizeof v), ok[i].pages_err);
		CHECK_ERRNO(__gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, 0), ok[i].pages_err);
		gem_close(fd, h);
	}
	struct {
		uint64_t size;
		int err;
	} bad[] = {
		{ 0, EINVAL },
		{ 1ull << 63, E2BIG },             /* past MAX_LFS_FILESIZE */
		{ (1ull << 63) - PAGE_SZ + 1, E2BIG },
		{ ~0ull - PAGE_SZ + 2, EINVAL },    /* rounds up to 0 */
		{ ~0ull, EINVAL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t size = bad[i].size;
		uint32_t h = 0;
		CHECK_ERRNO(__gem_create(fd, &size, &h), bad[i].err);
	}
	/* An object that fits is unaffected. */
	uint32_t h = gem_create(fd, PAGE_SZ);
	v = 0x1234;
	gem_pwrite(fd, h, 0, &v, sizeof v);
	v = 0;
	gem_pread(fd, h, 0, &v, sizeof v);
	CHECK(v == 0x1234);
	close(fd);
	info("GEM_CREATE up to 2^63-4096 succeeds; pages: ENOMEM past memory, E2BIG past 2^32 pages");
}

/* Writes `text` to MOUNT/debug/fail_ioctl: 0 or -errno; 1 when not there. */
static int arm(const char *path, const char *text)
{
	char dir[4096], file[4200];
	snprintf(dir, sizeof dir, "%s", path);
	snprintf(file, sizeof file, "%s/debug/fail_ioctl", dirname(dir));
	int f = open(file, O_WRONLY | O_CLOEXEC);
	if (f < 0)
		return 1;
	long r = sys(write(f, text, strlen(text)));
	close(f);
	return r < 0 ? (int)r : 0;
}

static void fail_ioctl_errnos(const char *path)
{
	if (arm(path, "clear\n") == 1) {
		info("no debug/fail_ioctl beside the device: errno range not checked");
		return;
	}
	const char *refused[] = { "GEM_CREATE 512\n", "GEM_CREATE 4095\n", "GEM_CREATE 134\n", "GEM_CREATE 0\n",
				  "GEM_CREATE -12\n", "GEM_CREATE ERESTARTSYS\n", "GEM_CREATE 516 1\n" };
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		CHECK_MSG(arm(path, refused[i]) == -EINVAL, "fail_ioctl took \"%.*s\"", (int)strlen(refused[i]) - 1, refused[i]);
	/* Nothing was armed by them. */
	int fd = drm_open(path);
	uint32_t h = gem_create(fd, PAGE_SZ);
	gem_close(fd, h);
	/* The largest userspace errno is accepted, and fails the call. */
	CHECK_OK(arm(path, "GEM_CREATE 133 1\n"));
	uint64_t size = PAGE_SZ;
	CHECK_ERRNO(__gem_create(fd, &size, &h), 133);
	CHECK_OK(arm(path, "clear\n"));
	close(fd);
	info("fail_ioctl: errnos 1..133 only");
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	/* HOSTILE_ONLY=write|madvise|create|fail_ioctl runs one part. */
	const char *only = getenv("HOSTILE_ONLY");
#define PART(name, call) if (!only || !strcmp(only, name)) call
	PART("write", write_errors(path));
	PART("madvise", madvise_readonly(path));
	PART("create", huge_create(path));
	PART("fail_ioctl", fail_ioctl_errnos(path));
	pass(NAME, "write(2) errors, readonly DONTNEED, huge objects, fail_ioctl errnos");
	return 0;
}
