/* readonly: FAKEDRM_GEM_SET_READONLY errnos; then PWRITE is EINVAL, reads work, and no writable mapping can change the object. */
#include "igt_lite.h"

#define NAME "readonly"
#define OBJ_SIZE (4 * PAGE_SZ)
#define NDW (OBJ_SIZE / 4)
#define SEED 0x70a00001u

static int __set_readonly(int fd, uint32_t handle, uint32_t flags)
{
	struct drm_fakedrm_gem_set_readonly ro = { .handle = handle, .flags = flags };
	return drm_ioctl(fd, DRM_IOCTL_FAKEDRM_GEM_SET_READONLY, &ro);
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t h = gem_create(fd, OBJ_SIZE);
	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);
	fill_pattern(buf, NDW, SEED);
	gem_pwrite(fd, h, 0, buf, OBJ_SIZE);

	CHECK_ERRNO(__set_readonly(fd, h, 1), EINVAL);
	CHECK_ERRNO(__set_readonly(fd, 0xdeadbeef, 0), ENOENT);
	CHECK_OK(__set_readonly(fd, h, 0));

	uint32_t other = 0x11111111;
	CHECK_ERRNO(__gem_pwrite(fd, h, 0, &other, sizeof(other)), EINVAL);
	memset(buf, 0, OBJ_SIZE);
	gem_pread(fd, h, 0, buf, OBJ_SIZE);
	CHECK_PATTERN(buf, NDW, SEED, "PREAD of readonly object");

	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	uint32_t *ro = gem_mmap(fd, off, OBJ_SIZE, PROT_READ);
	CHECK_PATTERN(ro, NDW, SEED, "PROT_READ GTT map");
	CHECK_OK(munmap(ro, OBJ_SIZE));

	const char *how;
	void *vp = NULL;
	int r = __gem_mmap(fd, off, OBJ_SIZE, PROT_READ | PROT_WRITE, &vp);
	if (strict_mode()) {
		/* i915_gem_mmap refuses VM_WRITE on a readonly object... */
		CHECK_ERRNO(r, EINVAL);
		/* ...and clears VM_MAYWRITE: write can never be added later. */
		ro = gem_mmap(fd, off, OBJ_SIZE, PROT_READ);
		errno = 0;
		CHECK_MSG(mprotect(ro, OBJ_SIZE, PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
			  "mprotect(PROT_WRITE) of a readonly object's mapping: %s, expected EACCES", errname(errno));
		CHECK_OK(mprotect(ro, OBJ_SIZE, PROT_READ));
		CHECK_OK(munmap(ro, OBJ_SIZE));
		how = "strict: PROT_WRITE mmap EINVAL, mprotect EACCES";
	} else {
		CHECK_OK(r);
		/* plain: the store lands in the local page cache, writeback is refused. */
		volatile uint32_t *p = vp;
		CHECK_MSG(try_write32(&p[0], ~SEED) == 0, "store to a writable mapping faulted");
		CHECK_MSG(try_write32(&p[NDW - 1], ~SEED) == 0, "store to a writable mapping faulted");
		errno = 0;
		int m = msync(vp, OBJ_SIZE, MS_SYNC);
		CHECK_MSG(m == -1 && errno == EACCES, "msync = %d (%s), expected -1 EACCES", m, errname(errno));
		CHECK_OK(munmap(vp, OBJ_SIZE)); /* a writeback error is not reported here */
		how = "plain: store local, msync EACCES";
	}
	info("PROT_READ|PROT_WRITE map of readonly object: %s", how);

	ro = gem_mmap(fd, off, OBJ_SIZE, PROT_READ);
	CHECK_PATTERN(ro, NDW, SEED, "fresh map after refused store");
	CHECK_OK(munmap(ro, OBJ_SIZE));
	memset(buf, 0, OBJ_SIZE);
	gem_pread(fd, h, 0, buf, OBJ_SIZE);
	CHECK_PATTERN(buf, NDW, SEED, "PREAD after refused store");

	gem_close(fd, h);
	close(fd);
	free(buf);
	pass(NAME, "set_readonly errnos ok, PWRITE EINVAL, reads ok, writable map refused (%s)", how);
}
