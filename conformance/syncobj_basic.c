/* syncobj_basic: DRM syncobjs without the GPU. The errno table of every
 * syncobj ioctl in the kernel's order (drm_syncobj.c); binary syncobjs
 * created signalled or not, signalled, reset, waited on with absolute
 * timeouts (ETIME, polls, first_signaled, WAIT_ALL); WAIT_FOR_SUBMIT that a
 * SIGNAL from another thread satisfies; timelines: TIMELINE_SIGNAL, QUERY (and
 * LAST_SUBMITTED), TIMELINE_WAIT (WAIT_AVAILABLE), TRANSFER between binary
 * and timeline; handles per file, released with it. */
#include "igt_lite.h"
#include <pthread.h>
#include "syncobj_lite.h"

#define NAME "syncobj_basic"

int main(int argc, char **argv)
{
	alarm(40);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	struct drm_get_cap cap = { .capability = DRM_CAP_SYNCOBJ };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_GET_CAP, &cap));
	CHECK(cap.value == 1);
	cap = (struct drm_get_cap){ .capability = DRM_CAP_SYNCOBJ_TIMELINE };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_GET_CAP, &cap));
	CHECK(cap.value == 1);

	/* The errno table. */
	uint32_t h = 0, bad = 0x7777;
	CHECK_ERRNO(__syncobj_create(fd, 2, &h), EINVAL);
	uint32_t a = syncobj_create(fd, 0), b = syncobj_create(fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	CHECK(a == 1 && b == 2);
	struct drm_syncobj_destroy d = { .handle = a, .pad = 1 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d), EINVAL);
	CHECK_ERRNO(__syncobj_destroy(fd, bad), EINVAL);
	CHECK_ERRNO(__syncobj_destroy(fd, 0), EINVAL);
	struct drm_syncobj_array arr = { .handles = (uintptr_t)&a, .count_handles = 1, .pad = 1 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_RESET, &arr), EINVAL);
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &arr), EINVAL);
	CHECK_ERRNO(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_RESET, &a, 0), EINVAL);
	CHECK_ERRNO(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &a, 0), EINVAL);
	CHECK_ERRNO(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &bad, 1), ENOENT);
	CHECK_ERRNO(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, (uint32_t *)8, 1), EFAULT);
	uint32_t first = 0;
	CHECK_ERRNO(__syncobj_wait(fd, &a, 1, 0, 1u << 4, &first), EINVAL);
	CHECK_ERRNO(__syncobj_wait(fd, &a, 1, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE, &first), EINVAL);
	CHECK_OK(__syncobj_wait(fd, &a, 0, 0, 0, &first));     /* no handles: nothing to wait for */
	CHECK_ERRNO(__syncobj_wait(fd, (uint32_t *)8, 1, 0, 0, &first), EFAULT);
	CHECK_ERRNO(__syncobj_wait(fd, &bad, 1, 0, 0, &first), ENOENT);
	CHECK_ERRNO(__syncobj_wait(fd, &a, 1, 0, 0, &first), EINVAL);   /* no fence, no WAIT_FOR_SUBMIT */
	uint64_t pt = 1;
	CHECK_ERRNO(__timeline_wait(fd, &b, &pt, 1, 0, 0, &first), EINVAL); /* a point on a binary fence */
	CHECK_ERRNO(__timeline_wait(fd, &b, (uint64_t *)8, 1, 0, 0, &first), EFAULT);
	struct drm_syncobj_timeline_array ta = { .handles = (uintptr_t)&a, .points = (uintptr_t)&pt, .count_handles = 1, .flags = 1 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &ta), EINVAL);
	CHECK_ERRNO(__timeline_signal(fd, &a, &pt, 0), EINVAL);
	CHECK_ERRNO(__timeline_signal(fd, &bad, &pt, 1), ENOENT);
	CHECK_ERRNO(__timeline_signal(fd, &a, (uint64_t *)8, 1), EFAULT);
	CHECK_ERRNO(__syncobj_query(fd, &a, &pt, 1, 2), EINVAL);
	CHECK_ERRNO(__syncobj_query(fd, &a, &pt, 0, 0), EINVAL);
	CHECK_ERRNO(__syncobj_query(fd, &bad, &pt, 1, 0), ENOENT);
	CHECK_ERRNO(__syncobj_query(fd, &a, (uint64_t *)8, 1, 0), EFAULT);
	struct drm_syncobj_transfer tr = { .src_handle = b, .dst_handle = a, .pad = 1 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &tr), EINVAL);
	CHECK_ERRNO(__syncobj_transfer(fd, bad, 0, b, 0, 0), ENOENT);     /* dst first */
	CHECK_ERRNO(__syncobj_transfer(fd, a, 0, b, 0, 1u << 0), EINVAL); /* only WAIT_FOR_SUBMIT */
	CHECK_ERRNO(__syncobj_transfer(fd, a, 0, bad, 0, 0), ENOENT);
	CHECK_ERRNO(__syncobj_transfer(fd, b, 0, a, 0, 0), EINVAL);       /* a has no fence */
	int64_t t0 = now_ns();
	CHECK_ERRNO(__syncobj_transfer(fd, b, 0, a, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), ETIME);
	CHECK_MSG(now_ns() - t0 > 4000000000ll, "WAIT_FOR_SUBMIT transfer gave up after %lld ns, not 5 s", (long long)(now_ns() - t0));
	/* HANDLE_TO_FD / FD_TO_HANDLE: the kernel's argument checks; in plain mode
	 * exporting is refused (a FUSE ioctl cannot install an fd in the caller),
	 * importing finds no syncobj file or sync_file: EINVAL. Strict mode makes
	 * the fd (syncobj_fd has the rest). */
	struct drm_syncobj_handle sh = { .handle = b, .flags = 4 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &sh), EINVAL);
	sh = (struct drm_syncobj_handle){ .handle = b, .pad = 1 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &sh), EINVAL);
	sh = (struct drm_syncobj_handle){ .handle = bad };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &sh), EINVAL);
	sh = (struct drm_syncobj_handle){ .handle = b };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &sh), strict_mode() ? 0 : EOPNOTSUPP);
	if (strict_mode())
		close(sh.fd);
	sh = (struct drm_syncobj_handle){ .fd = 0, .flags = 2 | 4 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &sh), EINVAL);
	sh = (struct drm_syncobj_handle){ .fd = 0 };   /* stdin is no syncobj file */
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &sh), EINVAL);
	sh = (struct drm_syncobj_handle){ .fd = -1, .flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &sh), EINVAL);
	info("errno table: create/destroy/reset/signal/wait/timeline signal+wait/query/transfer/fd ioctls");

	/* Binary: signalled, reset, polls and timeouts, first_signaled. */
	uint32_t ab[2] = { a, b };
	CHECK_OK(__syncobj_wait(fd, &b, 1, 0, 0, &first));
	CHECK(first == 0);
	CHECK_OK(__syncobj_wait(fd, ab, 2, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first));
	CHECK_MSG(first == 1, "first_signaled %u, expected 1", first);
	CHECK_ERRNO(__syncobj_wait(fd, ab, 2, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, &first), ETIME);
	t0 = now_ns();
	CHECK_ERRNO(__syncobj_wait(fd, &a, 1, t0 + 50000000, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first), ETIME);
	CHECK_MSG(now_ns() - t0 >= 45000000, "ETIME after %lld ns of a 50 ms wait", (long long)(now_ns() - t0));
	CHECK_ERRNO(__syncobj_wait(fd, &a, 1, t0 - 1000, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first), ETIME); /* past: a poll */
	CHECK_OK(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &a, 1));
	CHECK_OK(__syncobj_wait(fd, ab, 2, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, &first));
	CHECK_OK(__syncobj_array(fd, DRM_IOCTL_SYNCOBJ_RESET, ab, 2));
	CHECK_ERRNO(__syncobj_wait(fd, &b, 1, 0, 0, &first), EINVAL);
	CHECK(syncobj_point(fd, b, 0) == 0);
	info("binary: signal, reset, polls, 50 ms ETIME, first_signaled, WAIT_ALL");

	/* WAIT_FOR_SUBMIT: a fence installed later by another thread ends the wait. */
	pthread_t th;
	struct later l = { .fd = fd, .h = a, .delay_ms = 100 };
	CHECK(pthread_create(&th, NULL, signal_later, &l) == 0);
	t0 = now_ns();
	CHECK_OK(__syncobj_wait(fd, ab, 2, t0 + 5000000000ll, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first));
	CHECK_MSG(first == 0 && now_ns() - t0 >= 90000000, "first %u after %lld ns", first, (long long)(now_ns() - t0));
	pthread_join(th, NULL);
	info("WAIT_FOR_SUBMIT woken by a SIGNAL from another thread after %lld ms", (long long)(now_ns() - t0) / 1000000);

	/* Timelines. */
	uint32_t tl = syncobj_create(fd, 0);
	CHECK(syncobj_point(fd, tl, 0) == 0);
	uint64_t p3 = 3;
	CHECK_OK(__timeline_signal(fd, &tl, &p3, 1));
	CHECK(syncobj_point(fd, tl, 0) == 3);
	CHECK(syncobj_point(fd, tl, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) == 3);
	uint64_t p2 = 2, p4 = 4;
	CHECK_OK(__timeline_wait(fd, &tl, &p2, 1, 0, 0, &first));
	CHECK_OK(__timeline_wait(fd, &tl, &p3, 1, 0, 0, &first));
	CHECK_ERRNO(__timeline_wait(fd, &tl, &p4, 1, 0, 0, &first), EINVAL);  /* not submitted */
	CHECK_ERRNO(__timeline_wait(fd, &tl, &p4, 1, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first), ETIME);
	CHECK_ERRNO(__timeline_wait(fd, &tl, &p4, 1, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE, &first), ETIME);
	/* A later point from another thread ends a WAIT_FOR_SUBMIT on point 4. */
	l = (struct later){ .fd = fd, .h = tl, .delay_ms = 50, .timeline = 1 };
	CHECK(pthread_create(&th, NULL, signal_later, &l) == 0);
	CHECK_OK(__timeline_wait(fd, &tl, &p4, 1, now_ns() + 5000000000ll, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first));
	pthread_join(th, NULL);
	CHECK(syncobj_point(fd, tl, 0) == 5);
	/* An unordered point: seqno max(prev, point), the query stays at 5. */
	CHECK_OK(__timeline_signal(fd, &tl, &p2, 1));
	CHECK(syncobj_point(fd, tl, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) == 5);

	/* TRANSFER: timeline point -> binary, binary -> timeline point. */
	uint32_t bin = syncobj_create(fd, 0);
	CHECK_OK(__syncobj_transfer(fd, bin, 0, tl, 5, 0));
	CHECK_OK(__syncobj_wait(fd, &bin, 1, 0, 0, &first));
	CHECK_ERRNO(__syncobj_transfer(fd, bin, 0, tl, 9, 0), EINVAL);
	uint32_t tl2 = syncobj_create(fd, 0);
	CHECK_OK(__syncobj_transfer(fd, tl2, 7, bin, 0, 0));
	CHECK(syncobj_point(fd, tl2, 0) == 7);
	uint64_t p7 = 7;
	CHECK_OK(__timeline_wait(fd, &tl2, &p7, 1, 0, 0, &first));
	/* A timeline point added on a binary fence keeps it below. */
	uint64_t p1 = 1;
	CHECK_OK(__timeline_signal(fd, &bin, &p1, 1));
	CHECK(syncobj_point(fd, bin, 0) == 1);
	CHECK_OK(__timeline_wait(fd, &bin, &p1, 1, 0, 0, &first));
	info("timelines: signal/query/LAST_SUBMITTED/wait/WAIT_AVAILABLE/unordered point/transfer both ways");

	/* Handles are per file and go with it. */
	int fd2 = drm_open(path);
	CHECK_ERRNO(__syncobj_wait(fd2, &tl, 1, 0, 0, &first), ENOENT);
	uint32_t mine = syncobj_create(fd2, 0);
	CHECK(mine == 1);
	close(fd2);
	for (int i = 0; i < 1000; i++) {
		uint32_t t = syncobj_create(fd, DRM_SYNCOBJ_CREATE_SIGNALED);
		CHECK_OK(__syncobj_destroy(fd, t));
	}
	CHECK_OK(__syncobj_destroy(fd, a));
	CHECK(syncobj_create(fd, 0) == a); /* idr: the lowest free handle */
	close(fd);
	pass(NAME, "errno table, binary signal/reset/wait/timeouts/first_signaled, WAIT_FOR_SUBMIT across threads, timelines, transfer");
}
