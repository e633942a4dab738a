/* hello_gem DEVICE: the smallest round trip through a GEM object.
 * Create a 4 KiB object, ask for a write-back mmap offset, map it, write a
 * string through the map, read it back with PREAD, close. The same code
 * runs on a kernel i915 device: only the path differs.
 *   make -C examples && examples/build/hello_gem /tmp/fakedrm/card0 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <i915_drm.h>

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do r = ioctl(fd, req, arg); while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/dri/card0";
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) { perror(path); return 1; }

	struct drm_i915_gem_create create = { .size = 4096 };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &create)) { perror("GEM_CREATE"); return 1; }

	struct drm_i915_gem_mmap_offset mo = { .handle = create.handle, .flags = I915_MMAP_OFFSET_WB };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &mo)) { perror("MMAP_OFFSET"); return 1; }
	char *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)mo.offset);
	if (map == MAP_FAILED) { perror("mmap"); return 1; }

	const char msg[] = "hello from a GEM object";
	memcpy(map, msg, sizeof msg);
	/* Hand the CPU's writes to the object before another view reads it. */
	struct drm_i915_gem_set_domain sd = { .handle = create.handle, .read_domains = I915_GEM_DOMAIN_CPU,
					      .write_domain = I915_GEM_DOMAIN_CPU };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_SET_DOMAIN, &sd)) { perror("SET_DOMAIN"); return 1; }
	munmap(map, 4096);

	char back[sizeof msg] = "";
	struct drm_i915_gem_pread pr = { .handle = create.handle, .size = sizeof back, .data_ptr = (__u64)(uintptr_t)back };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_PREAD, &pr)) { perror("PREAD"); return 1; }
	printf("object %u at mmap offset 0x%llx reads back: \"%s\"\n", create.handle, (unsigned long long)mo.offset, back);

	struct drm_gem_close cl = { .handle = create.handle };
	xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl);
	close(fd);
	return strcmp(back, msg) != 0;
}
