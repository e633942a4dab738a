/* strict_errno: with libfakedrm-preload.so, the kernel's answers where plain mode cannot give them: mmap/mprotect/mremap errnos of i915_gem_mmap, legacy GEM_MMAP, and stat of card0/renderD128 as character devices 226:0 and 226:128. Skips without the library. */
#include "igt_lite.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#define NAME "strict_errno"
#define OBJ_SIZE (4 * PAGE_SZ)
#define NDW (OBJ_SIZE / 4)
#define SEED 0x57c70001u

static int rows, passed;

/* One mmap row: expect MAP_FAILED with err (0: success, then unmapped). */
static void mmap_row(const char *what, int fd, uint64_t off, size_t size, int prot, int flags, int err)
{
	rows++;
	void *p = mmap(NULL, size, prot, flags, fd, (off_t)off);
	int got = p == MAP_FAILED ? errno : 0;
	if (p != MAP_FAILED)
		munmap(p, size);
	if (got == err)
		passed++;
	else
		info("mmap row %-44s got %s, expected %s", what, got ? errname(got) : "success", err ? errname(err) : "success");
}

static void errno_row(const char *what, int got, int err)
{
	rows++;
	if (got == -err)
		passed++;
	else
		info("row %-49s got %s, expected %s", what, got ? errname(-got) : "success", err ? errname(err) : "success");
}

static void check_node(const char *path, int minor)
{
	struct stat st;
	CHECK_MSG(stat(path, &st) == 0, "stat(%s): %s", path, strerror(errno));
	CHECK_MSG(S_ISCHR(st.st_mode) && major(st.st_rdev) == 226 && minor(st.st_rdev) == (unsigned)minor && st.st_size == 0,
		  "stat(%s): mode 0%o rdev %u:%u size %lld, expected a character device 226:%d", path, st.st_mode,
		  major(st.st_rdev), minor(st.st_rdev), (long long)st.st_size, minor);
	struct stat l;
	CHECK(lstat(path, &l) == 0 && S_ISCHR(l.st_mode) && l.st_rdev == st.st_rdev);
	CHECK(fstatat(AT_FDCWD, path, &l, 0) == 0 && S_ISCHR(l.st_mode) && l.st_rdev == st.st_rdev);
	struct statx sx;
	CHECK(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx) == 0);
	CHECK_MSG(S_ISCHR(sx.stx_mode) && sx.stx_rdev_major == 226 && sx.stx_rdev_minor == (unsigned)minor,
		  "statx(%s): mode 0%o rdev %u:%u", path, sx.stx_mode, sx.stx_rdev_major, sx.stx_rdev_minor);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &l) == 0 && S_ISCHR(l.st_mode) && l.st_rdev == st.st_rdev);
	CHECK(fstatat(fd, "", &l, AT_EMPTY_PATH) == 0 && S_ISCHR(l.st_mode) && l.st_rdev == st.st_rdev);
	close(fd);
}

static int legacy(int fd, uint32_t handle, uint64_t offset, uint64_t size, uint64_t flags, void **addr)
{
	struct drm_i915_gem_mmap a = { .handle = handle, .offset = offset, .size = size, .flags = flags };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP, &a);
	if (r == 0 && addr)
		*addr = (void *)(uintptr_t)a.addr_ptr;
	return r;
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	if (!strict_mode())
		skip(NAME, "needs strict mode (LD_PRELOAD=libfakedrm-preload.so)");

	/* stat family: the nodes are character devices, other files untouched. */
	check_node(path, 0);
	check_node(render_path(path), 128);
	char debug[PATH_MAX];
	snprintf(debug, sizeof(debug), "%.*s/debug/name", (int)(strrchr(path, '/') ? strrchr(path, '/') - path : 1),
		 strrchr(path, '/') ? path : ".");
	struct stat st;
	CHECK_MSG(stat(debug, &st) == 0 && S_ISREG(st.st_mode), "%s: not a regular file any more", debug);

	int fd = drm_open(path), fd2 = drm_open(path);
	uint32_t h = gem_create(fd, OBJ_SIZE);
	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);
	fill_pattern(buf, NDW, SEED);
	gem_pwrite(fd, h, 0, buf, OBJ_SIZE);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	const int rw = PROT_READ | PROT_WRITE;

	/* i915_gem_mmap: range lookup (EINVAL), is_allowed (EACCES), readonly (EINVAL).
	 * Since v6.12 a range starting inside a node that fits in it is a partial mapping. */
	mmap_row("whole node", fd, off, OBJ_SIZE, rw, MAP_SHARED, 0);
	mmap_row("first page of the node", fd, off, PAGE_SZ, rw, MAP_SHARED, 0);
	mmap_row("starting inside the node", fd, off + PAGE_SZ, PAGE_SZ, rw, MAP_SHARED, 0);
	mmap_row("inside the node, up to its end", fd, off + PAGE_SZ, OBJ_SIZE - PAGE_SZ, rw, MAP_SHARED, 0);
	mmap_row("inside the node, past its end", fd, off + PAGE_SZ, OBJ_SIZE, rw, MAP_SHARED, EINVAL);
	mmap_row("running past the node's end", fd, off, OBJ_SIZE + PAGE_SZ, rw, MAP_SHARED, EINVAL);
	mmap_row("the guard gap after the node", fd, off + OBJ_SIZE, PAGE_SZ, rw, MAP_SHARED, EINVAL);
	mmap_row("hole 1 GiB past the node", fd, off + GiB, PAGE_SZ, rw, MAP_SHARED, EINVAL);
	mmap_row("below the offset space", fd, 0, PAGE_SZ, PROT_READ, MAP_SHARED, EINVAL);
	mmap_row("another open, no handle", fd2, off, OBJ_SIZE, PROT_READ, MAP_SHARED, EACCES);
	mmap_row("another open, inside the node", fd2, off + PAGE_SZ, PAGE_SZ, PROT_READ, MAP_SHARED, EACCES);
	mmap_row("another open, hole", fd2, off + OBJ_SIZE, PAGE_SZ, PROT_READ, MAP_SHARED, EINVAL);
	/* The syscall's own checks come first, as in the kernel. */
	mmap_row("length 0", fd, off, 0, PROT_READ, MAP_SHARED, EINVAL);
	mmap_row("unaligned offset", fd, off + 1, PAGE_SZ, PROT_READ, MAP_SHARED, EINVAL);
	int rofd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(rofd >= 0);
	mmap_row("PROT_WRITE shared on an O_RDONLY open", rofd, off, OBJ_SIZE, rw, MAP_SHARED, EACCES);
	close(rofd);

	/* allow_once: a second handle's GEM_CLOSE revokes this open's access. */
	uint32_t h2 = gem_open(fd, gem_flink(fd, h), NULL);
	CHECK(mmap_offset(fd, h2, I915_MMAP_OFFSET_GTT) == off);
	uint32_t *live = gem_mmap(fd, off, OBJ_SIZE, PROT_READ);
	gem_close(fd, h2);
	mmap_row("after GEM_CLOSE revoked the open", fd, off, OBJ_SIZE, PROT_READ, MAP_SHARED, EACCES);
	CHECK_PATTERN(live, NDW, SEED, "a mapping made before the revoke");
	CHECK_OK(munmap(live, OBJ_SIZE));
	CHECK(mmap_offset(fd, h, I915_MMAP_OFFSET_GTT) == off);

	/* mremap: i915 mappings are VM_DONTEXPAND | VM_PFNMAP. */
	uint8_t *m = (uint8_t *)gem_mmap(fd, off, OBJ_SIZE, PROT_READ);
	rows += 4;
	errno = 0;
	passed += mremap(m, OBJ_SIZE, 2 * OBJ_SIZE, MREMAP_MAYMOVE) == MAP_FAILED && errno == EFAULT;
	errno = 0;
	passed += mremap(m, OBJ_SIZE, OBJ_SIZE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL) == MAP_FAILED && errno == EINVAL;
	uint8_t *shrunk = mremap(m, OBJ_SIZE, 2 * PAGE_SZ, 0);
	passed += shrunk == m;
	uint8_t *moved = mremap(m, 2 * PAGE_SZ, 2 * PAGE_SZ, MREMAP_MAYMOVE | MREMAP_FIXED, m + 64 * MiB);
	passed += moved == m + 64 * MiB;
	CHECK(moved != MAP_FAILED);
	CHECK_PATTERN((uint32_t *)moved, 2 * PAGE_SZ / 4, SEED, "moved mapping");
	CHECK_OK(munmap(moved, 2 * PAGE_SZ));

	/* Legacy DRM_IOCTL_I915_GEM_MMAP (i915_gem_mmap_ioctl's errnos), done in the client. */
	void *lp = NULL;
	errno_row("legacy: flags 2", legacy(fd, h, 0, OBJ_SIZE, 2, NULL), EINVAL);
	errno_row("legacy: bad handle", legacy(fd, 0xdeadbeef, 0, OBJ_SIZE, 0, NULL), ENOENT);
	errno_row("legacy: offset + size past the object", legacy(fd, h, PAGE_SZ, OBJ_SIZE, 0, NULL), EINVAL);
	errno_row("legacy: offset at the end", legacy(fd, h, OBJ_SIZE, 0, 0, NULL), EINVAL);
	errno_row("legacy: unaligned offset", legacy(fd, h, 8, PAGE_SZ, 0, NULL), EINVAL);
	errno_row("legacy: size 0", legacy(fd, h, 0, 0, 0, NULL), EINVAL);
	errno_row("legacy: bad args pointer", drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP, (void *)16), EFAULT);
	errno_row("legacy: WB, second page on", legacy(fd, h, PAGE_SZ, OBJ_SIZE - PAGE_SZ, 0, &lp), 0);
	CHECK_PATTERN((uint32_t *)lp, (OBJ_SIZE - PAGE_SZ) / 4, SEED + (uint32_t)(PAGE_SZ / 4) * 0x01000193u,
		      "legacy WB mapping at offset 4096");
	((volatile uint32_t *)lp)[0] = 0xfeedf00d;
	CHECK_OK(munmap(lp, OBJ_SIZE - PAGE_SZ));
	uint32_t word = 0;
	gem_pread(fd, h, PAGE_SZ, &word, sizeof(word));
	CHECK_MSG(word == 0xfeedf00d, "store through the legacy mapping not in the object: 0x%08x", word);
	errno_row("legacy: WC", legacy(fd, h, 0, PAGE_SZ, I915_MMAP_WC, &lp), 0);
	CHECK(((volatile uint32_t *)lp)[0] == pattern_dw(SEED, 0));
	CHECK_OK(munmap(lp, PAGE_SZ));

	/* Readonly: no VM_WRITE at mmap (EINVAL), no VM_MAYWRITE after (mprotect EACCES). */
	struct drm_fakedrm_gem_set_readonly ro = { .handle = h };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_FAKEDRM_GEM_SET_READONLY, &ro));
	mmap_row("readonly, PROT_WRITE shared", fd, off, OBJ_SIZE, rw, MAP_SHARED, EINVAL);
	mmap_row("readonly, PROT_WRITE private", fd, off, OBJ_SIZE, rw, MAP_PRIVATE, EINVAL);
	mmap_row("readonly, PROT_READ", fd, off, OBJ_SIZE, PROT_READ, MAP_SHARED, 0);
	errno_row("legacy: readonly object (no shmem file)", legacy(fd, h, 0, PAGE_SZ, 0, NULL), ENXIO);
	uint32_t *r = gem_mmap(fd, off, OBJ_SIZE, PROT_READ);
	errno_row("readonly: mprotect(PROT_WRITE)", mprotect(r, OBJ_SIZE, rw) ? -errno : 0, EACCES);
	errno_row("readonly: mprotect(PROT_READ)", mprotect(r, OBJ_SIZE, PROT_READ) ? -errno : 0, 0);
	/* The kernel changes the VMAs before the readonly one, then stops. */
	uint8_t *anon = mmap(NULL, 2 * PAGE_SZ + OBJ_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(anon != MAP_FAILED);
	CHECK(mmap(anon + PAGE_SZ, OBJ_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, (off_t)off) == anon + PAGE_SZ);
	errno_row("readonly: mprotect across anon + readonly", mprotect(anon, 2 * PAGE_SZ + OBJ_SIZE, rw) ? -errno : 0,
		  EACCES);
	CHECK_MSG(try_write32((uint32_t *)anon, 1) == 0, "the anonymous page before the readonly mapping was not made writable");
	CHECK_OK(munmap(anon, 2 * PAGE_SZ + OBJ_SIZE));
	CHECK_PATTERN(r, PAGE_SZ / 4, SEED, "readonly mapping");
	CHECK_MSG(r[PAGE_SZ / 4] == 0xfeedf00d, "readonly mapping: legacy store missing");
	CHECK_OK(munmap(r, OBJ_SIZE));

	if (passed != rows)
		fail("%d/%d rows passed", passed, rows);
	gem_close(fd, h);
	close(fd2);
	close(fd);
	free(buf);
	pass(NAME, "%d rows: mmap EINVAL/EACCES, readonly EINVAL + mprotect EACCES, mremap EFAULT/EINVAL, legacy GEM_MMAP, stat 226:0 and 226:128",
	     rows);
}
