/* other_user: another user (uid/gid 65534) against a mount made with
 * --allow-other, as against a kernel's /dev/dri and debugfs (issue 11,
 * item 6). Run as root; its child drops to nobody before touching the mount:
 *  - card0 (0660, group video) cannot be opened; renderD128 (0666) can, and
 *    works as a render node (GEM_CREATE; FLINK is EACCES);
 *  - the debug tree is root's: the directory and every file, read or write
 *    (a reset, drop_caches, fail_ioctl), are EACCES;
 *  - strict mode's VMA_OPEN/VMA_CLOSE on the mount root cannot touch root's
 *    mappings (EPERM), and root's mapping is still registered afterwards.
 * Skips (77) unless run as root on a mount other users can reach. */
#include "igt_lite.h"
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define NAME "other_user"
#define NOBODY 65534

static char dir[PATH_MAX];

static long sys(long r)
{
	return r < 0 ? -errno : r;
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* What nobody can and cannot do; exits 0 or through fail(). */
static void as_nobody(uint64_t cookie)
{
	CHECK_OK(sys(setgroups(0, NULL)));
	CHECK_OK(sys(setgid(NOBODY)));
	CHECK_OK(sys(setuid(NOBODY)));
	char p[PATH_MAX + 64];

	path_of(p, sizeof p, "card0");
	CHECK_ERRNO(sys(open(p, O_RDWR | O_CLOEXEC)), EACCES);
	CHECK_ERRNO(sys(open(p, O_RDONLY | O_CLOEXEC)), EACCES);

	path_of(p, sizeof p, "renderD128");
	int r = open(p, O_RDWR | O_CLOEXEC);
	CHECK_MSG(r >= 0, "open(renderD128) as nobody: %s", strerror(errno));
	uint32_t h = gem_create(r, PAGE_SZ), name;
	CHECK_ERRNO(__gem_flink(r, h, &name), EACCES);
	close(r);

	path_of(p, sizeof p, "debug");
	CHECK_ERRNO(sys(open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)), EACCES);
	const char *files[] = { "name", "clients", "i915_gem_objects", "i915_gem_gtt", "i915_wedged",
				"i915_gem_drop_caches", "fail_ioctl", "fail_faults", "exhaust_aperture", "fakedrm_pool" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/debug/%s", dir, files[i]);
		CHECK_MSG(sys(open(p, O_RDONLY | O_CLOEXEC)) == -EACCES, "open(%s, O_RDONLY) as nobody: not EACCES", p);
		CHECK_MSG(sys(open(p, O_WRONLY | O_CLOEXEC)) == -EACCES, "open(%s, O_WRONLY) as nobody: not EACCES", p);
	}

	/* The mount root answers PROBE to anyone, not VMA_* on root's mapping. */
	int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_MSG(root >= 0, "open(%s) as nobody: %s", dir, strerror(errno));
	struct drm_fakedrm_vma v = { .cookie = cookie };
	CHECK_ERRNO(sys(ioctl(root, DRM_IOCTL_FAKEDRM_VMA_CLOSE, &v)), EPERM);
	CHECK_ERRNO(sys(ioctl(root, DRM_IOCTL_FAKEDRM_VMA_OPEN, &v)), EPERM);
	close(root);
	exit(0);
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	if (geteuid() != 0)
		skip(NAME, "needs root (to become uid %d)", NOBODY);
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");

	/* Root's open, and a mapping registered as strict mode does. */
	int fd = drm_open(path);
	uint32_t h = gem_create(fd, PAGE_SZ);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_WB);
	struct drm_fakedrm_mmap m = { .offset = off, .size = PAGE_SZ, .prot = PROT_READ };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_FAKEDRM_MMAP, &m));
	CHECK(m.cookie != 0);

	/* Can nobody reach the mount at all? (Not without --allow-other.) */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		struct stat st;
		_exit(stat(dir, &st) == 0 ? 0 : 1);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		skip(NAME, "other users cannot reach %s (mount it with --allow-other)", dir);

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		as_nobody(m.cookie);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nobody's checks failed (status %#x)", status);

	/* Root's mapping is intact: root may still close it, once. */
	int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(root >= 0);
	struct drm_fakedrm_vma v = { .cookie = m.cookie };
	CHECK_OK(sys(ioctl(root, DRM_IOCTL_FAKEDRM_VMA_CLOSE, &v)));
	CHECK_ERRNO(sys(ioctl(root, DRM_IOCTL_FAKEDRM_VMA_CLOSE, &v)), ENOENT);
	close(root);
	close(fd);
	pass(NAME, "card0 0660 video, renderD128 0666, debug tree root's, VMA_* of root's mapping EPERM");
	return 0;
}
