/* sync_fence: EXECBUFFER2's sync_file fences, as IGT's intel_bb uses them.
 * Strict mode (the preload library makes the fd): FENCE_OUT returns a
 * sync_file in rsvd2's upper half that polls POLLIN only once its spinner is
 * ended through a mapping; SYNC_IOC_FILE_INFO reports status and name,
 * SYNC_IOC_MERGE joins two; FENCE_IN orders a request on another context and
 * engine after the fence; bad fds get the kernel's EINVAL; a hung request's
 * fence signals with EIO. Plain mode answers as a kernel without exec fences:
 * HAS_EXEC_FENCE 0, FENCE_OUT ENODEV, FENCE_IN EINVAL. */
#include "igt_lite.h"
#include "gpu_lite.h"

#include <linux/sync_file.h>
#include <poll.h>
#include <sys/wait.h>

#define NAME "sync_fence"
#define BATCH 0x100000ull
#define TARGET 0x200000ull

/* 0 or -errno. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int exec_fence(int fd, uint32_t ctx, struct drm_i915_gem_exec_object2 *obj, unsigned n, uint64_t flags,
		      int in, int *out)
{
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)obj, .buffer_count = n, .flags = flags | I915_EXEC_NO_RELOC,
		.rsvd1 = ctx, .rsvd2 = (uint32_t)in,
	};
	int r = __execbuf(fd, &eb);
	if (r == 0 && out)
		*out = (int)(eb.rsvd2 >> 32);
	return r;
}

static int fence_poll(int f, int ms)
{
	struct pollfd p = { .fd = f, .events = POLLIN };
	int r = poll(&p, 1, ms);
	return r > 0 && (p.revents & POLLIN);
}

static int fence_status(int f, char *name)
{
	struct sync_file_info info = { 0 };
	HCHECK_OK(xioctl(f, SYNC_IOC_FILE_INFO, &info));
	if (name)
		memcpy(name, info.name, sizeof(info.name));
	return info.status;
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int strict = strict_mode();
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ), target = gem_create(fd, PAGE_SZ);
	volatile uint32_t *map = spinner_map(fd, batch, BATCH);
	struct drm_i915_gem_exec_object2 spin = pinned(batch, BATCH, 0);

	if (!strict) {
		CHECK(getparam(fd, I915_PARAM_HAS_EXEC_FENCE) == 0);
		CHECK(getparam(fd, I915_PARAM_HAS_EXEC_SUBMIT_FENCE) == 0);
		CHECK_ERRNO(exec_fence(fd, 0, &spin, 1, I915_EXEC_BLT | I915_EXEC_FENCE_OUT, 0, NULL), ENODEV);
		CHECK_ERRNO(exec_fence(fd, 0, &spin, 1, I915_EXEC_BLT | I915_EXEC_FENCE_IN, 0, NULL), EINVAL);
		pass(NAME, "plain: HAS_EXEC_FENCE 0, FENCE_OUT ENODEV, FENCE_IN EINVAL");
	}
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_FENCE) == 1);
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_SUBMIT_FENCE) == 1);

	/* FENCE_OUT on a spinner: a sync_file that stays unsignalled. */
	int f = -1;
	CHECK_OK(exec_fence(fd, 0, &spin, 1, I915_EXEC_BLT | I915_EXEC_FENCE_OUT, 0, &f));
	CHECK_MSG(f > 2 && fcntl(f, F_GETFD) == FD_CLOEXEC, "out-fence fd %d, flags %d", f, fcntl(f, F_GETFD));
	CHECK(!fence_poll(f, 20));
	char name[32];
	CHECK_MSG(fence_status(f, name) == 0, "status %d while spinning", fence_status(f, NULL));
	CHECK_MSG(strncmp(name, "i915-", 5) == 0, "name '%s'", name);
	struct sync_file_info bad = { .flags = 1 };
	CHECK_ERRNO(xioctl(f, SYNC_IOC_FILE_INFO, &bad), EINVAL);

	/* FENCE_IN on another context and engine: waits for the spinner. */
	uint32_t ctx = ctx_create(fd);
	uint32_t store = gem_create(fd, PAGE_SZ);
	uint32_t cmd[] = { MI_STORE_DWORD_IMM, (uint32_t)TARGET, 0, 0xc0ffee, MI_BATCH_BUFFER_END, 0 };
	gem_pwrite(fd, store, 0, cmd, sizeof(cmd));
	struct drm_i915_gem_exec_object2 objs[2] = { pinned(target, TARGET, EXEC_OBJECT_WRITE), pinned(store, BATCH + 0x10000, 0) };
	int g = -1;
	CHECK_OK(exec_fence(fd, ctx, objs, 2, I915_EXEC_RENDER | I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT, f, &g));
	CHECK(g >= 0 && g != f);
	usleep(50000);
	uint32_t v = 1;
	int64_t t = 0;
	CHECK_ERRNO(__gem_wait(fd, target, &t), ETIME);
	CHECK(!fence_poll(g, 0));

	/* A merge of both is signalled only when both are. */
	struct sync_merge_data m = { .name = "merged", .fd2 = g };
	CHECK_OK(xioctl(f, SYNC_IOC_MERGE, &m));
	int both = m.fence;
	CHECK(both >= 0 && both != f && both != g);
	CHECK(fence_status(both, name) == 0 && strcmp(name, "merged") == 0);
	struct sync_file_info count = { 0 };
	CHECK_OK(xioctl(both, SYNC_IOC_FILE_INFO, &count));
	CHECK_MSG(count.num_fences == 2, "%u fences in the merge", count.num_fences);

	/* End the spinner through the mapping: every fence signals, in order. */
	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	CHECK(fence_poll(f, 5000));
	CHECK(fence_poll(both, 5000));
	CHECK(fence_poll(g, 5000));
	CHECK(fence_status(f, NULL) == 1 && fence_status(g, NULL) == 1 && fence_status(both, NULL) == 1);
	gem_pread(fd, target, 0, &v, sizeof(v));
	CHECK_MSG(v == 0xc0ffee, "store after the in-fence: 0x%x", v);
	struct sync_fence_info fi[2];
	count.sync_fence_info = (uintptr_t)fi;
	count.num_fences = 2;
	CHECK_OK(xioctl(both, SYNC_IOC_FILE_INFO, &count));
	CHECK(fi[0].status == 1 && fi[1].status == 1 && fi[0].timestamp_ns && strcmp(fi[0].driver_name, "i915") == 0);
	count.num_fences = 1;
	CHECK_ERRNO(xioctl(both, SYNC_IOC_FILE_INFO, &count), EINVAL);
	info("FENCE_OUT polled until the spinner ended; FENCE_IN ordered a store; FILE_INFO, MERGE");

	/* A sync_file outlives dup, fork and close of the original. */
	int d = dup(g);
	close(g);
	CHECK(fence_poll(d, 0) && fence_status(d, NULL) == 1);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fence_status(d, NULL) == 1 ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(d);

	/* Bad fds: EINVAL (sync_file_get_fence), for FENCE_IN and FENCE_SUBMIT. */
	uint32_t end[] = { MI_BATCH_BUFFER_END, 0 };
	gem_pwrite(fd, store, 0, end, sizeof(end));
	struct drm_i915_gem_exec_object2 nop = pinned(store, BATCH + 0x10000, 0);
	CHECK_ERRNO(exec_fence(fd, 0, &nop, 1, I915_EXEC_FENCE_IN, -1, NULL), EINVAL);
	CHECK_ERRNO(exec_fence(fd, 0, &nop, 1, I915_EXEC_FENCE_IN, 9999, NULL), EINVAL);
	CHECK_ERRNO(exec_fence(fd, 0, &nop, 1, I915_EXEC_FENCE_IN, fd, NULL), EINVAL);
	CHECK_ERRNO(exec_fence(fd, 0, &nop, 1, I915_EXEC_FENCE_SUBMIT, 0, NULL), EINVAL);
	CHECK_ERRNO(exec_fence(fd, 0, &nop, 1, I915_EXEC_FENCE_IN | I915_EXEC_FENCE_SUBMIT, f, NULL), EINVAL);
	CHECK_OK(exec_fence(fd, 0, &nop, 1, I915_EXEC_FENCE_SUBMIT, f, NULL));
	m.fd2 = fd;
	CHECK_ERRNO(xioctl(f, SYNC_IOC_MERGE, &m), ENOENT);
	m.fd2 = f;
	m.flags = 1;
	CHECK_ERRNO(xioctl(f, SYNC_IOC_MERGE, &m), EINVAL);
	info("bad fds: EINVAL; merge with a non-fence ENOENT");

	/* A hung request's fence signals with EIO. */
	map[0] = 0xffffffff;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	int h = -1;
	CHECK_OK(exec_fence(fd, 0, &spin, 1, I915_EXEC_BLT | I915_EXEC_FENCE_OUT, 0, &h));
	CHECK(fence_poll(h, 5000));
	CHECK_MSG(fence_status(h, NULL) == -EIO, "hung fence status %d", fence_status(h, NULL));
	info("a hung request's fence: -EIO");
	close(h);
	close(both);
	close(f);
	close(fd);
	pass(NAME, "strict: sync_file out/in fences, poll, FILE_INFO, MERGE, errnos");
}
