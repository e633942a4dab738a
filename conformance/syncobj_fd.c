/* syncobj_fd: syncobj file descriptors (drm_syncobj.c), as Vulkan's shared
 * fences and semaphores use them. Strict mode (the preload library makes the
 * fd): HANDLE_TO_FD gives a syncobj file that a second open (and another
 * process) imports as a new handle to the same syncobj, signalled and waited
 * across; EXPORT_SYNC_FILE gives a sync_file of the syncobj's fence (at a
 * timeline point with the 6.16 struct), which IMPORT_SYNC_FILE installs in
 * another syncobj and EXECBUFFER2 takes as FENCE_IN; an in-fence that
 * signalled with an error cancels the request with it; wrong fds get the
 * kernel's errnos; a sw_sync fence (the mount's timeline file) goes through a
 * syncobj and FENCE_IN. Plain mode answers as a kernel without syncobj fds:
 * HANDLE_TO_FD EOPNOTSUPP (EINVAL for an unknown handle), FD_TO_HANDLE EINVAL. */
#include "igt_lite.h"
#include "gpu_lite.h"
#include "syncobj_lite.h"

#include <linux/sync_file.h>
#include <poll.h>
#include <sys/wait.h>

#define NAME "syncobj_fd"
#define BATCH 0x100000ull
#define STORE 0x200000ull
#define TARGET 0x300000ull

#ifndef DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE
#define DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE (1 << 1)
#define DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE (1 << 1)
/* drm.h since 6.16: `__u64 point` after pad. */
struct handle_point {
	struct drm_syncobj_handle h;
	__u64 point;
};
#define SET_POINT(x, p) ((x).point = (p))
#else
struct handle_point {
	struct drm_syncobj_handle h;
};
#define SET_POINT(x, p) ((x).h.point = (p))
#endif
#define RESIZED(req) _IOC(_IOC_DIR(req), _IOC_TYPE(req), _IOC_NR(req), sizeof(struct handle_point))

/* 0 or -errno; *out gets the fd. */
static int to_fd(int fd, uint32_t handle, uint32_t flags, int *out)
{
	struct drm_syncobj_handle a = { .handle = handle, .flags = flags, .fd = -1 };
	int r = drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &a);
	if (out)
		*out = a.fd;
	return r;
}

/* 0 or -errno; *handle gets the new handle (FD_TO_HANDLE without IMPORT). */
static int from_fd(int fd, int sfd, uint32_t flags, uint32_t *handle)
{
	struct drm_syncobj_handle a = { .handle = handle ? *handle : 0, .flags = flags, .fd = sfd };
	int r = drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &a);
	if (handle)
		*handle = a.handle;
	return r;
}

static int fence_poll(int f, int ms)
{
	struct pollfd p = { .fd = f, .events = POLLIN };
	int r = poll(&p, 1, ms);
	return r > 0 && (p.revents & POLLIN);
}

static int fence_status(int f)
{
	struct sync_file_info info = { 0 };
	HCHECK(ioctl(f, SYNC_IOC_FILE_INFO, &info) == 0);
	return info.status;
}

static int exec_fence(int fd, struct drm_i915_gem_exec_object2 *obj, unsigned n, uint64_t flags, int in, int *out,
		      struct drm_i915_gem_exec_fence *fences, unsigned nf)
{
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)obj, .buffer_count = n,
		.flags = flags | I915_EXEC_NO_RELOC | (nf ? I915_EXEC_FENCE_ARRAY : 0),
		.cliprects_ptr = (uintptr_t)fences, .num_cliprects = nf, .rsvd2 = (uint32_t)in,
	};
	int r = __execbuf(fd, &eb);
	if (r == 0 && out)
		*out = (int)(eb.rsvd2 >> 32);
	return r;
}

static int64_t in_ms(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec + (int64_t)ms * 1000000;
}

static void plain(int fd)
{
	uint32_t a = syncobj_create(fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	int out = -1;
	CHECK_ERRNO(to_fd(fd, a, 0, &out), EOPNOTSUPP);
	CHECK_ERRNO(to_fd(fd, a + 99, 0, NULL), EINVAL);
	CHECK_ERRNO(to_fd(fd, a, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, NULL), EOPNOTSUPP);
	CHECK_ERRNO(from_fd(fd, fd, 0, NULL), EINVAL);
	CHECK_ERRNO(from_fd(fd, -1, 0, NULL), EINVAL);
	CHECK_ERRNO(from_fd(fd, fd, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, &a), EINVAL);
	CHECK(out == -1);
	close(fd);
	pass(NAME, "plain: HANDLE_TO_FD EOPNOTSUPP (unknown handle EINVAL), FD_TO_HANDLE EINVAL");
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	if (!strict_mode())
		plain(fd);
	int fd2 = drm_open(path);

	/* A syncobj file: new handles in another open, the same syncobj. */
	uint32_t a = syncobj_create(fd, 0);
	int sfd = -1;
	CHECK_OK(to_fd(fd, a, 0, &sfd));
	CHECK_MSG(sfd > 2 && fcntl(sfd, F_GETFD) == FD_CLOEXEC, "syncobj fd %d, flags %d", sfd, fcntl(sfd, F_GETFD));
	uint32_t b = 0, b2 = 0;
	CHECK_OK(from_fd(fd2, sfd, 0, &b));
	CHECK_OK(from_fd(fd2, sfd, 0, &b2));
	CHECK_MSG(b != 0 && b2 != b, "imports %u and %u", b, b2);
	CHECK_ERRNO(__syncobj_wait(fd2, &b, 1, 0, 0, NULL), EINVAL);
	CHECK_OK(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &a, 1));
	CHECK_OK(__syncobj_wait(fd2, &b, 1, 0, 0, NULL));
	CHECK_OK(__syncobj_array(fd2, DRM_IOCTL_SYNCOBJ_RESET, &b2, 1));
	CHECK_ERRNO(__syncobj_wait(fd, &a, 1, 0, 0, NULL), EINVAL);
	/* A syncobj file is no sync_file. */
	struct sync_file_info si = { 0 };
	CHECK_ERRNO(ioctl(sfd, SYNC_IOC_FILE_INFO, &si) ? -errno : 0, ENOTTY);

	/* Another process imports the fd and waits for submit; the parent signals. */
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = drm_open(path);
		uint32_t c = 0;
		if (from_fd(cfd, sfd, 0, &c) != 0)
			_exit(2);
		_exit(__syncobj_wait(cfd, &c, 1, in_ms(5000), DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL) == 0 ? 0 : 3);
	}
	usleep(100000);
	CHECK_OK(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &a, 1));
	int st;
	waitpid(pid, &st, 0);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
	/* The exporter's handle and open may go: the fd holds the syncobj. */
	CHECK_OK(__syncobj_destroy(fd, a));
	uint32_t c = 0;
	CHECK_OK(from_fd(fd2, sfd, 0, &c));
	CHECK_OK(__syncobj_wait(fd2, &c, 1, 0, 0, NULL));
	info("syncobj fd: imported twice in a second open and in a child; signal/reset/wait across");

	/* Wrong fds: EINVAL (drm_syncobj_fd_to_handle); unknown handle EINVAL. */
	CHECK_ERRNO(from_fd(fd2, fd, 0, NULL), EINVAL);
	CHECK_ERRNO(from_fd(fd2, -1, 0, NULL), EINVAL);
	CHECK_ERRNO(from_fd(fd2, 0, 0, NULL), EINVAL);
	CHECK_ERRNO(to_fd(fd2, 9999, 0, NULL), EINVAL);

	/* EXPORT_SYNC_FILE of a spinner's fence (signalled through the fence array). */
	uint32_t batch = gem_create(fd, PAGE_SZ);
	volatile uint32_t *map = spinner_map(fd, batch, BATCH);
	struct drm_i915_gem_exec_object2 spin = pinned(batch, BATCH, 0);
	uint32_t s = syncobj_create(fd, 0);
	CHECK_ERRNO(to_fd(fd, s, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, NULL), EINVAL);
	CHECK_ERRNO(to_fd(fd, 9999, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, NULL), ENOENT);
	struct drm_i915_gem_exec_fence sig = { .handle = s, .flags = I915_EXEC_FENCE_SIGNAL };
	CHECK_OK(exec_fence(fd, &spin, 1, I915_EXEC_BLT, 0, NULL, &sig, 1));
	int f = -1;
	CHECK_OK(to_fd(fd, s, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, &f));
	CHECK_MSG(f > 2 && fcntl(f, F_GETFD) == FD_CLOEXEC, "sync_file fd %d", f);
	CHECK(!fence_poll(f, 20) && fence_status(f) == 0);
	/* Imported into a syncobj of the other open; used as FENCE_IN there. */
	uint32_t d = syncobj_create(fd2, DRM_SYNCOBJ_CREATE_SIGNALED);
	CHECK_ERRNO(from_fd(fd2, sfd, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, &d), EINVAL);
	uint32_t none = 9999;
	CHECK_ERRNO(from_fd(fd2, f, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, &none), ENOENT);
	CHECK_OK(from_fd(fd2, f, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, &d));
	CHECK_ERRNO(__syncobj_wait(fd2, &d, 1, in_ms(20), 0, NULL), ETIME);
	uint32_t store = gem_create(fd2, PAGE_SZ), target = gem_create(fd2, PAGE_SZ);
	uint32_t cmd[] = { MI_STORE_DWORD_IMM, (uint32_t)TARGET, 0, 0xc0ffee, MI_BATCH_BUFFER_END, 0 };
	gem_pwrite(fd2, store, 0, cmd, sizeof(cmd));
	struct drm_i915_gem_exec_object2 objs[2] = { pinned(target, TARGET, EXEC_OBJECT_WRITE), pinned(store, STORE, 0) };
	int g = -1;
	CHECK_OK(exec_fence(fd2, objs, 2, I915_EXEC_RENDER | I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT, f, &g, NULL, 0));
	usleep(50000);
	CHECK(!fence_poll(g, 0));
	/* The sync_file keeps its fence when the syncobj moves on. */
	CHECK_OK(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &s, 1));
	CHECK(!fence_poll(f, 0));
	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	CHECK(fence_poll(f, 5000) && fence_status(f) == 1);
	CHECK_OK(__syncobj_wait(fd2, &d, 1, in_ms(5000), 0, NULL));
	CHECK(fence_poll(g, 5000) && fence_status(g) == 1);
	uint32_t v = 0;
	gem_pread(fd2, target, 0, &v, sizeof(v));
	CHECK_MSG(v == 0xc0ffee, "store after the in-fence: 0x%x", v);
	info("EXPORT_SYNC_FILE of a spinner's fence; IMPORT_SYNC_FILE and FENCE_IN in another open");

	/* A stub: the syncobj signalled from the CPU. */
	int stub = -1;
	CHECK_OK(to_fd(fd, s, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, &stub));
	CHECK(fence_poll(stub, 0) && fence_status(stub) == 1);

	/* Timeline points with the 6.16 struct; the point counts only with TIMELINE. */
	uint32_t t = syncobj_create(fd, 0);
	uint64_t three = 3;
	CHECK_OK(__timeline_signal(fd, &t, &three, 1));
	struct handle_point hp = { .h = { .handle = t, .flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE |
							      DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE } };
	SET_POINT(hp, 5);
	CHECK_ERRNO(drm_ioctl(fd, RESIZED(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD), &hp), EINVAL);
	SET_POINT(hp, 3);
	CHECK_OK(drm_ioctl(fd, RESIZED(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD), &hp));
	int p3 = hp.h.fd;
	CHECK(p3 > 2 && fence_poll(p3, 0) && fence_status(p3) == 1);
	hp = (struct handle_point){ .h = { .handle = t, .flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE |
							      DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE, .fd = p3 } };
	SET_POINT(hp, 8);
	CHECK_OK(drm_ioctl(fd, RESIZED(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE), &hp));
	CHECK_MSG(syncobj_point(fd, t, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) == 8, "last submitted %llu",
		  (unsigned long long)syncobj_point(fd, t, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED));
	hp = (struct handle_point){ .h = { .handle = t } };
	SET_POINT(hp, 7);   /* no TIMELINE flag: a dirty stack, ignored */
	CHECK_OK(drm_ioctl(fd, RESIZED(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD), &hp));
	close(hp.h.fd);
	hp = (struct handle_point){ .h = { .handle = t, .flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE } };
	SET_POINT(hp, 7);
	CHECK_ERRNO(drm_ioctl(fd, RESIZED(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD), &hp), EINVAL);
	info("timeline: a point exported and imported at another; the point without a sync_file EINVAL");

	/* One fence type: a hung request's fence (EIO) as FENCE_IN cancels the
	 * next request with that error; its store never lands. */
	map[0] = 0xffffffff;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	uint32_t h = syncobj_create(fd, 0);
	sig.handle = h;
	CHECK_OK(exec_fence(fd, &spin, 1, I915_EXEC_BLT, 0, NULL, &sig, 1));
	int hung = -1;
	CHECK_OK(__syncobj_wait(fd, &h, 1, in_ms(5000), 0, NULL));
	CHECK_OK(to_fd(fd, h, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, &hung));
	CHECK_MSG(fence_status(hung) == -EIO, "hung fence status %d", fence_status(hung));
	uint32_t zero = 0;
	gem_pwrite(fd2, target, 0, &zero, sizeof(zero));
	int k = -1;
	CHECK_OK(exec_fence(fd2, objs, 2, I915_EXEC_RENDER | I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT, hung, &k, NULL, 0));
	CHECK(fence_poll(k, 5000));
	CHECK_MSG(fence_status(k) == -EIO, "request after an EIO in-fence: status %d", fence_status(k));
	gem_pread(fd2, target, 0, &v, sizeof(v));
	CHECK_MSG(v == 0, "a cancelled request stored 0x%x", v);
	info("an in-fence that signalled with EIO cancels the request with EIO");

	/* sw_sync (the mount's timeline file; `fakedrm run --strict` binds it at
	 * /sys/kernel/debug/sync/sw_sync): a software fence imported into a
	 * syncobj, signalled by SW_SYNC_IOC_INC; a closed timeline's pending
	 * fence signals with -ENOENT. */
	char tl_path[PATH_MAX];
	snprintf(tl_path, sizeof(tl_path), "%s", path);
	char *slash = strrchr(tl_path, '/');
	snprintf(slash ? slash + 1 : tl_path, sizeof(tl_path) - (size_t)(slash ? slash + 1 - tl_path : 0), "%s",
		 FAKEDRM_SW_SYNC_NAME);
	int tl = open(tl_path, O_RDWR);
	CHECK_MSG(tl >= 0, "open %s: %s", tl_path, strerror(errno));
	struct fakedrm_sw_sync_create_fence_data cf = { .value = 1 };
	CHECK_OK(ioctl(tl, FAKEDRM_SW_SYNC_IOC_CREATE_FENCE, &cf) ? -errno : 0);
	int sw = cf.fence;
	CHECK_MSG(sw > 2 && fcntl(sw, F_GETFD) == FD_CLOEXEC, "sw_sync fence fd %d", sw);
	struct sync_fence_info swi = { 0 };
	struct sync_file_info swf = { .num_fences = 1, .sync_fence_info = (uintptr_t)&swi };
	CHECK_OK(ioctl(sw, SYNC_IOC_FILE_INFO, &swf) ? -errno : 0);
	CHECK_MSG(swf.status == 0 && strcmp(swi.driver_name, "sw_sync") == 0, "status %d driver '%s'", swf.status, swi.driver_name);
	uint32_t e = syncobj_create(fd, 0);
	CHECK_OK(from_fd(fd, sw, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, &e));
	CHECK_ERRNO(__syncobj_wait(fd, &e, 1, in_ms(20), 0, NULL), ETIME);
	gem_pwrite(fd2, target, 0, &zero, sizeof(zero));
	int after = -1;
	CHECK_OK(exec_fence(fd2, objs, 2, I915_EXEC_RENDER | I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT, sw, &after, NULL, 0));
	usleep(20000);
	CHECK(!fence_poll(after, 0));
	uint32_t one = 1;
	CHECK_OK(ioctl(tl, FAKEDRM_SW_SYNC_IOC_INC, &one) ? -errno : 0);
	CHECK_OK(__syncobj_wait(fd, &e, 1, in_ms(5000), 0, NULL));
	CHECK(fence_poll(sw, 0) && fence_status(sw) == 1);
	CHECK(fence_poll(after, 5000) && fence_status(after) == 1);
	gem_pread(fd2, target, 0, &v, sizeof(v));
	CHECK_MSG(v == 0xc0ffee, "store after the sw_sync in-fence: 0x%x", v);
	cf = (struct fakedrm_sw_sync_create_fence_data){ .value = 1 };
	CHECK_OK(ioctl(tl, FAKEDRM_SW_SYNC_IOC_CREATE_FENCE, &cf) ? -errno : 0);
	CHECK(fence_poll(cf.fence, 0));   /* reached already */
	close(cf.fence);
	cf = (struct fakedrm_sw_sync_create_fence_data){ .value = 5 };
	CHECK_OK(ioctl(tl, FAKEDRM_SW_SYNC_IOC_CREATE_FENCE, &cf) ? -errno : 0);
	CHECK(!fence_poll(cf.fence, 0));
	close(tl);
	CHECK(fence_poll(cf.fence, 5000));
	CHECK_MSG(fence_status(cf.fence) == -ENOENT, "closed timeline's fence: %d", fence_status(cf.fence));
	close(cf.fence);
	close(after);
	close(sw);
	info("sw_sync: a software fence through a syncobj and FENCE_IN; INC signals; close: -ENOENT");

	close(k);
	close(hung);
	close(p3);
	close(stub);
	close(g);
	close(f);
	close(sfd);
	close(fd2);
	close(fd);
	pass(NAME, "strict: syncobj fds across opens and processes, sync_file export/import, in-fence errors, sw_sync");
}
