/* hello_gpu DEVICE: submit a batch and see what it wrote.
 * A 4 KiB batch holding MI_STORE_DWORD_IMM (value 0xC0FFEE into a target
 * object) and MI_BATCH_BUFFER_END goes to the blitter engine with
 * EXECBUFFER2; both objects are soft-pinned at addresses we choose, so no
 * relocation is needed. GEM_WAIT waits for the request; PREAD reads the
 * target. On FakeDRM the software command streamer executes it.
 *   make -C examples && examples/build/hello_gpu /tmp/fakedrm/card0 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <i915_drm.h>

#define MI_STORE_DWORD_IMM (0x20 << 23 | 2) /* gen8+: header, address lo/hi, value */
#define MI_BATCH_BUFFER_END (0x0A << 23)

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do r = ioctl(fd, req, arg); while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static uint32_t create(int fd)
{
	struct drm_i915_gem_create c = { .size = 4096 };
	return xioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &c) ? 0 : c.handle;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/dri/card0";
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) { perror(path); return 1; }
	const uint64_t target_addr = 0x100000, batch_addr = 0x200000;
	uint32_t target = create(fd), batch = create(fd);
	if (!target || !batch) { perror("GEM_CREATE"); return 1; }

	uint32_t cs[] = { MI_STORE_DWORD_IMM, (uint32_t)target_addr, (uint32_t)(target_addr >> 32), 0xC0FFEE,
			  MI_BATCH_BUFFER_END, 0 };
	struct drm_i915_gem_pwrite pw = { .handle = batch, .size = sizeof cs, .data_ptr = (__u64)(uintptr_t)cs };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_PWRITE, &pw)) { perror("PWRITE"); return 1; }

	struct drm_i915_gem_exec_object2 obj[2] = {
		{ .handle = target, .offset = target_addr, .flags = EXEC_OBJECT_PINNED | EXEC_OBJECT_WRITE },
		{ .handle = batch, .offset = batch_addr, .flags = EXEC_OBJECT_PINNED }, /* the batch is last */
	};
	struct drm_i915_gem_execbuffer2 eb = { .buffers_ptr = (__u64)(uintptr_t)obj, .buffer_count = 2,
					       .flags = I915_EXEC_BLT | I915_EXEC_NO_RELOC };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_EXECBUFFER2, &eb)) { perror("EXECBUFFER2"); return 1; }

	struct drm_i915_gem_wait w = { .bo_handle = target, .timeout_ns = 5000000000ll };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_WAIT, &w)) { perror("GEM_WAIT"); return 1; }
	uint32_t value = 0;
	struct drm_i915_gem_pread pr = { .handle = target, .size = 4, .data_ptr = (__u64)(uintptr_t)&value };
	if (xioctl(fd, DRM_IOCTL_I915_GEM_PREAD, &pr)) { perror("PREAD"); return 1; }
	printf("the blitter engine stored 0x%X at GPU address 0x%llx\n", value, (unsigned long long)target_addr);
	close(fd);
	return value != 0xC0FFEE;
}
