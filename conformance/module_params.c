/* module_params: debug/i915_params as IGT's igt_params_set uses it: the kernel's formats, kstrto* errnos, read-only files; `reset` decides HAS_GPU_RESET and what an i915_wedged write does. Leaves every value as it found it. */
#include "igt_lite.h"

#include <libgen.h>

#define NAME "module_params"

static char dir[PATH_MAX];

static int param_open(const char *name, int flags)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return open(p, flags | O_CLOEXEC);
}

static void get(const char *name, char *buf, size_t n)
{
	int fd = param_open(name, O_RDONLY);
	CHECK_MSG(fd >= 0, "open %s: %s", name, strerror(errno));
	ssize_t got = read(fd, buf, n - 1);
	CHECK(got >= 0);
	buf[got] = 0;
	close(fd);
}

/* write(2) of `text`; 0 or -errno. */
static int set(const char *name, const char *text)
{
	int fd = param_open(name, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t r = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	return r == (ssize_t)strlen(text) ? 0 : -e;
}

static void expect(const char *name, const char *want)
{
	char got[128];
	get(name, got, sizeof(got));
	CHECK_MSG(strcmp(got, want) == 0, "%s reads \"%s\", expected \"%s\"", name, got, want);
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, sizeof(dir), "%s/debug/i915_params", dirname(tmp));
	if (access(dir, F_OK))
		fail("no %s: %s", dir, strerror(errno));

	/* The kernel's formats: %u, %d, Y/N, a NULL charp as (null). */
	expect("reset", "3\n");
	expect("modeset", "-1\n");
	expect("enable_hangcheck", "Y\n");
	expect("guc_firmware_path", "(null)\n");
	expect("enable_guc", "0\n"); /* Tiger Lake: execlists */
	CHECK(igt_getparam(fd, I915_PARAM_HAS_GPU_RESET) == 2);

	/* kstrtouint(s, 0) and friends. */
	CHECK_OK(set("reset", "4294967295")); /* igt_params_set(fd, "reset", "%u", -1) */
	expect("reset", "4294967295\n");
	CHECK_OK(set("reset", "0x2\n"));
	expect("reset", "2\n");
	CHECK_ERRNO(set("reset", "-1"), EINVAL);
	CHECK_ERRNO(set("reset", "4294967296"), ERANGE);
	CHECK_ERRNO(set("reset", "x"), EINVAL);
	expect("reset", "2\n");
	CHECK_OK(set("enable_hangcheck", "off"));
	expect("enable_hangcheck", "N\n");
	CHECK_ERRNO(set("enable_hangcheck", "maybe"), EINVAL);
	CHECK_OK(set("enable_hangcheck", "1"));
	expect("enable_hangcheck", "Y\n");
	/* 0400 files cannot be opened for writing. */
	CHECK_ERRNO(set("modeset", "1"), EACCES);
	CHECK_ERRNO(set("no_such_param", "1"), ENOENT);

	/* reset=0: no reset method; a hang report wedges the GT. */
	CHECK_OK(set("reset", "0"));
	CHECK(igt_getparam(fd, I915_PARAM_HAS_GPU_RESET) == 0);
	char wedged[PATH_MAX + 32];
	snprintf(wedged, sizeof(wedged), "%s/../i915_wedged", dir);
	int w = open(wedged, O_RDWR | O_CLOEXEC);
	CHECK(w >= 0);
	char buf[16] = "";
	CHECK(write(w, "18446744073709551615", 20) == 20); /* igt_force_gpu_reset */
	close(w);
	w = open(wedged, O_RDONLY | O_CLOEXEC);
	CHECK(read(w, buf, sizeof(buf) - 1) == 2 && buf[0] == '1');
	close(w);
	/* i915_gem_throttle_ioctl: "ABI: return -EIO if already wedged". */
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_THROTTLE, NULL), EIO);
	/* reset=1: a full reset, which unwedges. */
	CHECK_OK(set("reset", "1"));
	CHECK(igt_getparam(fd, I915_PARAM_HAS_GPU_RESET) == 1);
	w = open(wedged, O_RDWR | O_CLOEXEC);
	CHECK(write(w, "1", 1) == 1);
	close(w);
	w = open(wedged, O_RDONLY | O_CLOEXEC);
	memset(buf, 0, sizeof(buf));
	CHECK(read(w, buf, sizeof(buf) - 1) == 2 && buf[0] == '0');
	close(w);
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_THROTTLE, NULL));

	CHECK_OK(set("reset", "3"));
	CHECK(igt_getparam(fd, I915_PARAM_HAS_GPU_RESET) == 2);
	pass(NAME, "formats, parsing errnos, read-only files; reset 0 wedges (THROTTLE EIO), 1 resets and unwedges");
}
