/* syncobj_lite.h - DRM syncobj ioctl wrappers the syncobj_* examples share.
 * Include after igt_lite.h. libdrm's drm.h may predate WAIT_DEADLINE (6.5). */
#ifndef SYNCOBJ_LITE_H
#define SYNCOBJ_LITE_H

#ifndef DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE
#define DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE (1 << 3)
#endif

/* SYNCOBJ_EVENTFD (6.6): the kernel's struct and number (drm.h); libdrm
 * 2.4.114 predates it. */
#ifndef DRM_IOCTL_SYNCOBJ_EVENTFD
struct drm_syncobj_eventfd {
	__u32 handle;
	__u32 flags;
	__u64 point;
	__s32 fd;
	__u32 pad;
};
#define DRM_IOCTL_SYNCOBJ_EVENTFD DRM_IOWR(0xCF, struct drm_syncobj_eventfd)
#endif

static inline int __syncobj_create(int fd, uint32_t flags, uint32_t *h)
{
	struct drm_syncobj_create c = { .flags = flags };
	int r = drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c);
	*h = c.handle;
	return r;
}

static inline uint32_t syncobj_create(int fd, uint32_t flags)
{
	uint32_t h = 0;
	HCHECK_OK(__syncobj_create(fd, flags, &h));
	return h;
}

static inline int __syncobj_destroy(int fd, uint32_t h)
{
	struct drm_syncobj_destroy d = { .handle = h };
	return drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
}

static inline int __syncobj_array(int fd, unsigned long req, uint32_t *h, uint32_t n)
{
	struct drm_syncobj_array a = { .handles = (uintptr_t)h, .count_handles = n };
	return drm_ioctl(fd, req, &a);
}

/* SYNCOBJ_WAIT with an absolute CLOCK_MONOTONIC timeout; *first gets first_signaled. */
static inline int __syncobj_wait(int fd, uint32_t *h, uint32_t n, int64_t abs_ns, uint32_t flags, uint32_t *first)
{
	struct drm_syncobj_wait w = { .handles = (uintptr_t)h, .count_handles = n, .timeout_nsec = abs_ns, .flags = flags,
				      .first_signaled = 0xdead };
	int r = drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &w);
	if (first)
		*first = w.first_signaled;
	return r;
}

static inline int __timeline_wait(int fd, uint32_t *h, uint64_t *p, uint32_t n, int64_t abs_ns, uint32_t flags, uint32_t *first)
{
	struct drm_syncobj_timeline_wait w = { .handles = (uintptr_t)h, .points = (uintptr_t)p, .count_handles = n,
					       .timeout_nsec = abs_ns, .flags = flags, .first_signaled = 0xdead };
	int r = drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
	if (first)
		*first = w.first_signaled;
	return r;
}

static inline int __timeline_signal(int fd, uint32_t *h, uint64_t *p, uint32_t n)
{
	struct drm_syncobj_timeline_array a = { .handles = (uintptr_t)h, .points = (uintptr_t)p, .count_handles = n };
	return drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &a);
}

static inline int __syncobj_query(int fd, uint32_t *h, uint64_t *p, uint32_t n, uint32_t flags)
{
	struct drm_syncobj_timeline_array a = { .handles = (uintptr_t)h, .points = (uintptr_t)p, .count_handles = n,
						.flags = flags };
	return drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_QUERY, &a);
}

static inline uint64_t syncobj_point(int fd, uint32_t h, uint32_t flags)
{
	uint64_t p = ~0ull;
	HCHECK_OK(__syncobj_query(fd, &h, &p, 1, flags));
	return p;
}

static inline int __syncobj_transfer(int fd, uint32_t dst, uint64_t dst_point, uint32_t src, uint64_t src_point, uint32_t flags)
{
	struct drm_syncobj_transfer t = { .src_handle = src, .dst_handle = dst, .src_point = src_point,
					  .dst_point = dst_point, .flags = flags };
	return drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &t);
}

/* A thread that, after delay_ms, signals `h` (SYNCOBJ_SIGNAL) or its
 * timeline point 5 (TIMELINE_SIGNAL): pthread_create(..., signal_later, &l). */
struct later { int fd; uint32_t h; unsigned delay_ms; int timeline; };

static inline void *signal_later(void *arg)
{
	struct later *l = arg;
	usleep(l->delay_ms * 1000);
	if (l->timeline) {
		uint64_t p = 5;
		HCHECK_OK(__timeline_signal(l->fd, &l->h, &p, 1));
	} else {
		HCHECK_OK(__syncobj_array(l->fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &l->h, 1));
	}
	return NULL;
}

#endif
