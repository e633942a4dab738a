/* gpu_interrupt: the waits are interruptible, as the kernel's. A spinner
 * keeps an object busy (and a syncobj unsignalled); a SIGALRM whose handler
 * was installed without SA_RESTART ends a blocked GEM_WAIT (EINTR, the time
 * left written back), SYNCOBJ_WAIT (EINTR, first_signaled untouched, also
 * while WAIT_FOR_SUBMIT waits for a fence), SYNCOBJ_TIMELINE_WAIT, and the
 * waits SET_DOMAIN and PREAD make for rendering — well before their
 * timeouts, and an execbuf blocked on a full ring (eb_throttle: EINTR).
 * Then the spinner ends and every wait succeeds. Raw ioctl(2):
 * drmIoctl would retry the EINTR. (i915_gem_wait_ioctl,
 * drm_syncobj_array_wait_timeout: -ERESTARTSYS.) */
#include "igt_lite.h"
#include "gpu_lite.h"
#include "syncobj_lite.h"
#include <sys/time.h>

#define NAME "gpu_interrupt"
#define SPIN 0x100000ull

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* SIGALRM to on_alarm, without SA_RESTART, `ms` from now and every `ms`
 * after until disarm(): a signal that lands before the ioctl has started
 * (a loaded machine) is followed by another, so no wait is left for ever. */
static void arm(int ms)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { .it_value = { .tv_sec = 0, .tv_usec = ms * 1000 },
				.it_interval = { .tv_sec = 0, .tv_usec = ms * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm(void)
{
	struct itimerval it = { 0 };
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The raw ioctl's result (-errno) and how long it took (ms). */
static int timed(int fd, unsigned long req, void *arg, int64_t *ms)
{
	int64_t t0 = now_ns();
	int r = ioctl(fd, req, arg);
	int err = errno;
	disarm();
	*ms = (now_ns() - t0) / 1000000;
	return r == -1 ? -err : r;
}

#define LONG_NS 3000000000ll /* the waits' timeout: the signal comes at 100 ms */
#define BOUND_MS 1500        /* EINTR well before the timeout */

int main(int argc, char **argv)
{
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ);
	volatile uint32_t *map = spinner_map(fd, batch, SPIN);

	/* The spinner signals `s` when it ends; `empty` never gets a fence. */
	uint32_t s = syncobj_create(fd, 0), empty = syncobj_create(fd, 0);
	struct drm_i915_gem_exec_object2 obj = pinned(batch, SPIN, 0);
	struct drm_i915_gem_exec_fence f = { .handle = s, .flags = I915_EXEC_FENCE_SIGNAL };
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)&obj, .buffer_count = 1,
		.flags = I915_EXEC_RENDER | I915_EXEC_NO_RELOC | I915_EXEC_FENCE_ARRAY,
		.cliprects_ptr = (uintptr_t)&f, .num_cliprects = 1,
	};
	CHECK_OK(__execbuf(fd, &eb));
	int64_t ms;

	/* GEM_WAIT: EINTR, the time left written back. */
	struct drm_i915_gem_wait w = { .bo_handle = batch, .timeout_ns = LONG_NS };
	arm(100);
	CHECK_ERRNO(timed(fd, DRM_IOCTL_I915_GEM_WAIT, &w, &ms), EINTR);
	CHECK_MSG(ms < BOUND_MS, "GEM_WAIT took %lld ms to see the signal", (long long)ms);
	CHECK_MSG(alarms >= 1, "%d alarms", (int)alarms);
	CHECK_MSG(w.timeout_ns > 0 && w.timeout_ns < LONG_NS - 50000000ll,
		  "timeout_ns %lld after an interrupt at 100 ms", (long long)w.timeout_ns);
	info("GEM_WAIT: EINTR after %lld ms, %lld ms left", (long long)ms, (long long)(w.timeout_ns / 1000000));

	/* GEM_WAIT for ever (-1): the same, the timeout untouched. */
	w = (struct drm_i915_gem_wait){ .bo_handle = batch, .timeout_ns = -1 };
	arm(100);
	CHECK_ERRNO(timed(fd, DRM_IOCTL_I915_GEM_WAIT, &w, &ms), EINTR);
	CHECK_MSG(ms < BOUND_MS, "GEM_WAIT(-1) took %lld ms", (long long)ms);
	CHECK(w.timeout_ns == -1);

	/* SYNCOBJ_WAIT on the spinner's fence: EINTR, first_signaled untouched. */
	struct drm_syncobj_wait sw = { .handles = (uintptr_t)&s, .count_handles = 1,
				       .timeout_nsec = now_ns() + LONG_NS, .first_signaled = 0xdead };
	arm(100);
	CHECK_ERRNO(timed(fd, DRM_IOCTL_SYNCOBJ_WAIT, &sw, &ms), EINTR);
	CHECK_MSG(ms < BOUND_MS, "SYNCOBJ_WAIT took %lld ms", (long long)ms);
	CHECK(sw.first_signaled == 0xdead);

	/* WAIT_ALL over both, WAIT_FOR_SUBMIT: the waker's path. */
	uint32_t both[2] = { s, empty };
	sw = (struct drm_syncobj_wait){ .handles = (uintptr_t)both, .count_handles = 2, .timeout_nsec = now_ns() + LONG_NS,
					.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT };
	arm(100);
	CHECK_ERRNO(timed(fd, DRM_IOCTL_SYNCOBJ_WAIT, &sw, &ms), EINTR);
	CHECK_MSG(ms < BOUND_MS, "SYNCOBJ_WAIT(WAIT_FOR_SUBMIT) took %lld ms", (long long)ms);

	/* SYNCOBJ_TIMELINE_WAIT, point 0. */
	uint64_t point = 0;
	struct drm_syncobj_timeline_wait tw = { .handles = (uintptr_t)&s, .points = (uintptr_t)&point, .count_handles = 1,
						.timeout_nsec = now_ns() + LONG_NS };
	arm(100);
	CHECK_ERRNO(timed(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &tw, &ms), EINTR);
	CHECK_MSG(ms < BOUND_MS, "SYNCOBJ_TIMELINE_WAIT took %lld ms", (long long)ms);

	/* The waits CPU access makes for rendering (a write waits for the reader). */
	struct drm_i915_gem_set_domain sd = { .handle = batch, .read_domains = I915_GEM_DOMAIN_CPU,
					      .write_domain = I915_GEM_DOMAIN_CPU };
	arm(100);
	CHECK_ERRNO(timed(fd, DRM_IOCTL_I915_GEM_SET_DOMAIN, &sd, &ms), EINTR);
	CHECK_MSG(ms < BOUND_MS, "SET_DOMAIN took %lld ms", (long long)ms);
	uint32_t word = 0;
	struct drm_i915_gem_pwrite pw = { .handle = batch, .offset = 64, .size = 4, .data_ptr = (uintptr_t)&word };
	arm(100);
	CHECK_ERRNO(timed(fd, DRM_IOCTL_I915_GEM_PWRITE, &pw, &ms), EINTR);
	CHECK_MSG(ms < BOUND_MS, "PWRITE took %lld ms", (long long)ms);
	CHECK_MSG(alarms >= 7, "%d alarms", (int)alarms);
	info("SYNCOBJ_WAIT, TIMELINE_WAIT, SET_DOMAIN, PWRITE: EINTR");

	/* A full ring: execbuf blocks (eb_throttle) until a signal: EINTR. */
	uint32_t nop = gem_create(fd, PAGE_SZ);
	uint32_t bbe = MI_BATCH_BUFFER_END;
	struct drm_i915_gem_pwrite pn = { .handle = nop, .size = 4, .data_ptr = (uintptr_t)&bbe };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_PWRITE, &pn));
	struct drm_i915_gem_exec_object2 nobj = pinned(nop, SPIN + 0x100000, 0);
	struct drm_i915_gem_execbuffer2 neb = { .buffers_ptr = (uintptr_t)&nobj, .buffer_count = 1,
						.flags = I915_EXEC_RENDER | I915_EXEC_NO_RELOC };
	int queued = 0, r = 0;
	arm(200);
	while (queued < 2000 && (r = ioctl(fd, DRM_IOCTL_I915_GEM_EXECBUFFER2_WR, &neb)) == 0)
		queued++;
	int err = errno;
	disarm();
	errno = err;
	CHECK_MSG(r == -1 && errno == EINTR, "%d execbufs queued behind a spinner, then %d (%s)", queued, r,
		  r ? strerror(errno) : "no block");
	CHECK_MSG(alarms >= 8, "%d alarms", (int)alarms);
	info("execbuf blocked on a full ring after %d requests, EINTR", queued);

	/* An idle wait is not a wait: a pending signal does not fail it. */
	uint32_t idle = gem_create(fd, PAGE_SZ);
	w = (struct drm_i915_gem_wait){ .bo_handle = idle, .timeout_ns = LONG_NS };
	CHECK_OK(timed(fd, DRM_IOCTL_I915_GEM_WAIT, &w, &ms));

	/* The spinner ends: everything completes, nothing left behind. */
	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	int64_t t = 5000000000ll;
	CHECK_OK(__gem_wait(fd, batch, &t));
	t = 5000000000ll;
	CHECK_OK(__gem_wait(fd, nop, &t));
	uint32_t first = 0;
	CHECK_OK(__syncobj_wait(fd, &s, 1, now_ns() + 5000000000ll, 0, &first));
	CHECK(first == 0);
	uint32_t busy = 1;
	CHECK_OK(__gem_busy(fd, batch, &busy));
	CHECK(busy == 0);
	CHECK_OK(__gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU));
	CHECK_OK(__syncobj_destroy(fd, s));
	CHECK_OK(__syncobj_destroy(fd, empty));
	close(fd);
	pass(NAME, "GEM_WAIT, SYNCOBJ_WAIT, TIMELINE_WAIT, SET_DOMAIN, PWRITE, a throttled execbuf end with EINTR on a signal");
	return 0;
}
