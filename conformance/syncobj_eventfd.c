/* syncobj_eventfd: DRM_IOCTL_SYNCOBJ_EVENTFD (drm_syncobj_eventfd_ioctl). The
 * errnos in the kernel's order (flags other than WAIT_AVAILABLE, pad, the
 * handle, then the fd: EBADF for none, EINVAL for a file that is no eventfd);
 * an eventfd on a binary syncobj becomes readable when another thread SIGNALs
 * it; on a timeline, WAIT_AVAILABLE and a signalled point by TIMELINE_SIGNAL;
 * on a spinner's SIGNAL syncobj, only once a store through a mapping ends the
 * spinner. One-shot: the counter is 1. Both modes (the daemon takes a
 * duplicate of the eventfd with pidfd_getfd). */
#include "igt_lite.h"
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include "gpu_lite.h"
#include "syncobj_lite.h"

#define NAME "syncobj_eventfd"
#define SPIN 0x100000ull

static int __syncobj_eventfd(int fd, uint32_t h, uint64_t point, uint32_t flags, int efd, uint32_t pad)
{
	struct drm_syncobj_eventfd e = { .handle = h, .flags = flags, .point = point, .fd = efd, .pad = pad };
	return drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_EVENTFD, &e);
}

/* Whether the eventfd is readable within `ms`. */
static int readable(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static uint64_t counter(int efd)
{
	uint64_t v = 0;
	return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

int main(int argc, char **argv)
{
	alarm(40);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(efd >= 0);

	/* The errnos, in the kernel's order. */
	uint32_t a = syncobj_create(fd, 0), bad = 0x7777;
	int pipefd[2];
	CHECK(pipe(pipefd) == 0);
	CHECK_ERRNO(__syncobj_eventfd(fd, bad, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, -1, 1), EINVAL);
	CHECK_ERRNO(__syncobj_eventfd(fd, bad, 0, 0, -1, 1), EINVAL);
	CHECK_ERRNO(__syncobj_eventfd(fd, bad, 0, 0, -1, 0), ENOENT);
	CHECK_ERRNO(__syncobj_eventfd(fd, a, 0, 0, -1, 0), EBADF);
	CHECK_ERRNO(__syncobj_eventfd(fd, a, 0, 0, 1000, 0), EBADF);
	CHECK_ERRNO(__syncobj_eventfd(fd, a, 0, 0, pipefd[0], 0), EINVAL);
	info("errnos: flags, pad, handle, no fd, not an eventfd");

	/* Binary: readable once another thread SIGNALs it. */
	CHECK_OK(__syncobj_eventfd(fd, a, 0, 0, efd, 0));
	CHECK(!readable(efd, 20));
	pthread_t t;
	struct later l = { .fd = fd, .h = a, .delay_ms = 50 };
	CHECK(pthread_create(&t, NULL, signal_later, &l) == 0);
	CHECK_MSG(readable(efd, 5000), "the eventfd did not become readable after SYNCOBJ_SIGNAL");
	pthread_join(t, NULL);
	CHECK(counter(efd) == 1);
	/* Already signalled: at once. */
	CHECK_OK(__syncobj_eventfd(fd, a, 0, 0, efd, 0));
	CHECK(readable(efd, 1000) && counter(efd) == 1);
	info("binary: SIGNAL from another thread makes the eventfd readable; a signalled one at once");

	/* Timeline: WAIT_AVAILABLE and the point itself, both on point 5. */
	uint32_t tl = syncobj_create(fd, 0);
	int avail = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK_OK(__syncobj_eventfd(fd, tl, 5, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE, avail, 0));
	CHECK_OK(__syncobj_eventfd(fd, tl, 5, 0, efd, 0));
	uint64_t p3 = 3;
	CHECK_OK(__timeline_signal(fd, &tl, &p3, 1));
	CHECK(!readable(avail, 20) && !readable(efd, 0));
	l = (struct later){ .fd = fd, .h = tl, .delay_ms = 50, .timeline = 1 };
	CHECK(pthread_create(&t, NULL, signal_later, &l) == 0);
	CHECK(readable(avail, 5000) && readable(efd, 5000));
	pthread_join(t, NULL);
	CHECK(counter(avail) == 1 && counter(efd) == 1);
	info("timeline: point 5's eventfds wait past point 3, then WAIT_AVAILABLE and signalled");

	/* A spinner SIGNALs s: not readable until a mapping ends it. */
	uint32_t spin = gem_create(fd, PAGE_SZ), s = syncobj_create(fd, 0);
	volatile uint32_t *map = spinner_map(fd, spin, SPIN);
	struct drm_i915_gem_exec_object2 sobj = pinned(spin, SPIN, 0);
	struct drm_i915_gem_exec_fence out = { .handle = s, .flags = I915_EXEC_FENCE_SIGNAL };
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)&sobj, .buffer_count = 1,
		.flags = I915_EXEC_BLT | I915_EXEC_NO_RELOC | I915_EXEC_FENCE_ARRAY,
		.cliprects_ptr = (uintptr_t)&out, .num_cliprects = 1,
	};
	CHECK_OK(__execbuf(fd, &eb));
	CHECK_OK(__syncobj_eventfd(fd, s, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE, avail, 0));
	CHECK_OK(__syncobj_eventfd(fd, s, 0, 0, efd, 0));
	CHECK(readable(avail, 1000) && counter(avail) == 1);
	CHECK_MSG(!readable(efd, 50), "the eventfd is readable while the spinner runs");
	map[0] = MI_BATCH_BUFFER_END;
	gem_set_domain(fd, spin, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	CHECK_MSG(readable(efd, 5000), "the eventfd did not become readable after the spinner ended");
	CHECK(counter(efd) == 1);
	info("a spinner's SIGNAL syncobj: available at once, signalled once a mapping ends the spinner");

	pass(NAME, "errnos, binary SIGNAL, timeline WAIT_AVAILABLE and points, a GPU request's fence");
	return 0;
}
