/* syncobj_exec: EXECBUFFER2 with syncobjs, as iris and anv submit. A spinner
 * SIGNALs a syncobj through the fence array: SYNCOBJ_WAIT times out while it
 * spins and returns once a store through a mapping ends it; a request on
 * another engine that WAITs on that syncobj does not run before; a
 * WAIT_FOR_SUBMIT from another thread is satisfied by a later execbuf; the
 * timeline-fences extension signals and waits on points; a hung request's
 * fence error skips the request waiting on it; the kernel's errnos
 * (add_fence_array, add_timeline_fence_array). */
#include "igt_lite.h"
#include <pthread.h>
#include "gpu_lite.h"
#include "syncobj_lite.h"

#define NAME "syncobj_exec"
#define SPIN 0x100000ull
#define STORE 0x200000ull
#define TARGET 0x300000ull

static int exec_fences(int fd, struct drm_i915_gem_exec_object2 *obj, unsigned n, uint64_t ring,
		       struct drm_i915_gem_exec_fence *f, unsigned nf)
{
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)obj, .buffer_count = n,
		.flags = ring | I915_EXEC_NO_RELOC | (nf ? I915_EXEC_FENCE_ARRAY : 0),
		.cliprects_ptr = (uintptr_t)f, .num_cliprects = nf,
	};
	return __execbuf(fd, &eb);
}

static int exec_timeline(int fd, struct drm_i915_gem_exec_object2 *obj, unsigned n, uint64_t ring,
			 struct drm_i915_gem_exec_fence *f, uint64_t *values, unsigned nf)
{
	struct drm_i915_gem_execbuffer_ext_timeline_fences t = {
		.base.name = DRM_I915_GEM_EXECBUFFER_EXT_TIMELINE_FENCES,
		.fence_count = nf, .handles_ptr = (uintptr_t)f, .values_ptr = (uintptr_t)values,
	};
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)obj, .buffer_count = n,
		.flags = ring | I915_EXEC_NO_RELOC | I915_EXEC_USE_EXTENSIONS, .cliprects_ptr = (uintptr_t)&t,
	};
	return __execbuf(fd, &eb);
}

/* The store batch: TARGET + off = value. */
static void store_batch(int fd, uint32_t batch, uint32_t off, uint32_t value)
{
	uint32_t b[] = { MI_STORE_DWORD_IMM, (uint32_t)(TARGET + off), 0, value, MI_BATCH_BUFFER_END };
	gem_pwrite(fd, batch, 0, b, sizeof(b));
}

static uint32_t read_target(int fd, uint32_t target, uint32_t off)
{
	uint32_t v = 0;
	gem_pread(fd, target, off, &v, 4);
	return v;
}

struct waiter { int fd; uint32_t h; int ret; int64_t waited; };

static void *wait_for_submit(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = now_ns();
	w->ret = __syncobj_wait(w->fd, &w->h, 1, t0 + 10000000000ll, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL);
	w->waited = now_ns() - t0;
	return NULL;
}

int main(int argc, char **argv)
{
	alarm(40);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_FENCE_ARRAY) == 1);
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_TIMELINE_FENCES) == 1);

	uint32_t spin = gem_create(fd, PAGE_SZ), store = gem_create(fd, PAGE_SZ), target = gem_create(fd, PAGE_SZ);
	volatile uint32_t *map = spinner_map(fd, spin, SPIN);
	volatile uint32_t *tmap = gem_mmap(fd, mmap_offset(fd, target, I915_MMAP_OFFSET_WB), PAGE_SZ, PROT_READ);
	struct drm_i915_gem_exec_object2 sobj = pinned(spin, SPIN, 0);
	struct drm_i915_gem_exec_object2 wobj[2] = { pinned(target, TARGET, EXEC_OBJECT_WRITE), pinned(store, STORE, 0) };

	/* The errnos. */
	uint32_t s = syncobj_create(fd, 0);
	store_batch(fd, store, 0, 1);
	struct drm_i915_gem_exec_fence f = { .handle = 0x7777, .flags = I915_EXEC_FENCE_WAIT };
	CHECK_ERRNO(exec_fences(fd, wobj, 2, I915_EXEC_RENDER, &f, 1), ENOENT);
	f = (struct drm_i915_gem_exec_fence){ .handle = s, .flags = 4 };
	CHECK_ERRNO(exec_fences(fd, wobj, 2, I915_EXEC_RENDER, &f, 1), EINVAL);
	f.flags = I915_EXEC_FENCE_WAIT;
	CHECK_ERRNO(exec_fences(fd, wobj, 2, I915_EXEC_RENDER, &f, 1), EINVAL);    /* no fence to wait for */
	CHECK_ERRNO(exec_fences(fd, wobj, 2, I915_EXEC_RENDER, (void *)8, 1), EFAULT);
	uint64_t v1 = 1, v2 = 2;
	CHECK_ERRNO(exec_timeline(fd, wobj, 2, I915_EXEC_RENDER, &f, &v1, 1), EINVAL); /* WAIT, no fence */
	f.flags = I915_EXEC_FENCE_WAIT | I915_EXEC_FENCE_SIGNAL;
	CHECK_ERRNO(exec_timeline(fd, wobj, 2, I915_EXEC_RENDER, &f, &v1, 1), EINVAL); /* wait & signal one point */
	CHECK_ERRNO(exec_timeline(fd, wobj, 2, I915_EXEC_RENDER, &f, (uint64_t *)8, 1), EFAULT);
	struct drm_i915_gem_execbuffer2 both = { .buffers_ptr = (uintptr_t)wobj, .buffer_count = 2,
		.flags = I915_EXEC_USE_EXTENSIONS | I915_EXEC_FENCE_ARRAY | I915_EXEC_NO_RELOC };
	CHECK_ERRNO(__execbuf(fd, &both), EINVAL);
	uint32_t sig = syncobj_create(fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	f = (struct drm_i915_gem_exec_fence){ .handle = sig, .flags = I915_EXEC_FENCE_WAIT };
	CHECK_ERRNO(exec_timeline(fd, wobj, 2, I915_EXEC_RENDER, &f, &v1, 1), EINVAL); /* a point on a binary */
	CHECK_OK(exec_fences(fd, wobj, 2, I915_EXEC_RENDER, &f, 1));                /* a signalled stub */
	gem_sync(fd, target);
	CHECK(read_target(fd, target, 0) == 1);
	info("errnos: unknown handle, flags, WAIT without a fence, bad pointers, FENCE_ARRAY with extensions, points");

	/* A spinner SIGNALs s; a request on rcs0 WAITs on s, then SIGNALs s2. */
	uint32_t s2 = syncobj_create(fd, 0);
	struct drm_i915_gem_exec_fence out = { .handle = s, .flags = I915_EXEC_FENCE_SIGNAL };
	CHECK_OK(exec_fences(fd, &sobj, 1, I915_EXEC_BLT, &out, 1));
	uint32_t first = 0;
	CHECK_ERRNO(__syncobj_wait(fd, &s, 1, now_ns() + 20000000, 0, &first), ETIME);
	store_batch(fd, store, 4, 0xabcd);
	struct drm_i915_gem_exec_fence inout[2] = {
		{ .handle = s, .flags = I915_EXEC_FENCE_WAIT }, { .handle = s2, .flags = I915_EXEC_FENCE_SIGNAL },
	};
	CHECK_OK(exec_fences(fd, wobj, 2, I915_EXEC_RENDER, inout, 2));
	usleep(50000);
	uint32_t busy = 0;
	CHECK_OK(__gem_busy(fd, target, &busy));
	CHECK_MSG(busy != 0, "the waiting request is not busy (0x%x)", busy);
	CHECK_ERRNO(__syncobj_wait(fd, &s2, 1, 0, 0, &first), ETIME);
	/* PREAD would wait for the writer: look through a mapping instead. */
	CHECK_MSG(tmap[1] == 0, "the request waiting on the spinner's syncobj ran early");
	uint32_t both_s[2] = { s, s2 };
	CHECK_ERRNO(__syncobj_wait(fd, both_s, 2, now_ns() + 10000000, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, &first), ETIME);
	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	CHECK_OK(__syncobj_wait(fd, both_s, 2, now_ns() + 5000000000ll, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, &first));
	CHECK_MSG(read_target(fd, target, 4) == 0xabcd, "the waiting request did not store after the spinner ended");
	info("a spinner's SIGNAL syncobj: WAIT times out, a request WAITing on it holds until a mapping ends the spinner");

	/* WAIT_FOR_SUBMIT in another thread, satisfied by a later execbuf. */
	uint32_t s3 = syncobj_create(fd, 0);
	struct waiter w = { .fd = fd, .h = s3 };
	pthread_t th;
	CHECK(pthread_create(&th, NULL, wait_for_submit, &w) == 0);
	usleep(50000);
	store_batch(fd, store, 8, 0x5u);
	out.handle = s3;
	CHECK_OK(exec_fences(fd, wobj, 2, I915_EXEC_BLT, &out, 1));
	pthread_join(th, NULL);
	CHECK_MSG(w.ret == 0 && w.waited >= 40000000, "WAIT_FOR_SUBMIT: %d after %lld ns", w.ret, (long long)w.waited);
	CHECK(read_target(fd, target, 8) == 0x5u);
	info("WAIT_FOR_SUBMIT woken by an execbuf from another thread after %lld ms", (long long)w.waited / 1000000);

	/* The timeline-fences extension. */
	uint32_t tl = syncobj_create(fd, 0);
	map[0] = MI_ARB_CHECK;
	gem_set_domain(fd, spin, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	f = (struct drm_i915_gem_exec_fence){ .handle = tl, .flags = I915_EXEC_FENCE_SIGNAL };
	CHECK_OK(exec_timeline(fd, &sobj, 1, I915_EXEC_BLT, &f, &v1, 1));
	CHECK(syncobj_point(fd, tl, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) == 1);
	CHECK(syncobj_point(fd, tl, 0) == 0);
	store_batch(fd, store, 12, 0x71);
	struct drm_i915_gem_exec_fence tf[2] = {
		{ .handle = tl, .flags = I915_EXEC_FENCE_WAIT }, { .handle = tl, .flags = I915_EXEC_FENCE_SIGNAL },
	};
	uint64_t tv[2] = { 1, 2 };
	CHECK_OK(exec_timeline(fd, wobj, 2, I915_EXEC_RENDER, tf, tv, 2));
	CHECK(syncobj_point(fd, tl, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) == 2);
	CHECK_ERRNO(__timeline_wait(fd, &tl, &v2, 1, now_ns() + 20000000, 0, &first), ETIME);
	CHECK(tmap[3] == 0);
	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	CHECK_OK(__timeline_wait(fd, &tl, &v2, 1, now_ns() + 5000000000ll, 0, &first));
	CHECK(syncobj_point(fd, tl, 0) == 2);
	CHECK(read_target(fd, target, 12) == 0x71);
	uint64_t v3 = 3;
	f.flags = I915_EXEC_FENCE_WAIT;
	CHECK_ERRNO(exec_timeline(fd, wobj, 2, I915_EXEC_RENDER, &f, &v3, 1), EINVAL); /* point 3 not submitted */
	info("timeline fences: SIGNAL point 1 on a spinner, WAIT 1 + SIGNAL 2, QUERY, TIMELINE_WAIT");

	/* A hung request's fence error: the request waiting on it is skipped. */
	uint32_t hs = syncobj_create(fd, 0), after = syncobj_create(fd, 0);
	uint32_t ctx = ctx_create(fd);
	map[0] = 0xffffffff;
	gem_set_domain(fd, spin, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	out.handle = hs;
	struct drm_i915_gem_execbuffer2 eb = { .buffers_ptr = (uintptr_t)&sobj, .buffer_count = 1, .rsvd1 = ctx,
		.flags = I915_EXEC_RENDER | I915_EXEC_NO_RELOC | I915_EXEC_FENCE_ARRAY, .cliprects_ptr = (uintptr_t)&out,
		.num_cliprects = 1 };
	CHECK_OK(__execbuf(fd, &eb));
	store_batch(fd, store, 16, 0xbad);
	struct drm_i915_gem_exec_fence chain[2] = {
		{ .handle = hs, .flags = I915_EXEC_FENCE_WAIT }, { .handle = after, .flags = I915_EXEC_FENCE_SIGNAL },
	};
	CHECK_OK(exec_fences(fd, wobj, 2, I915_EXEC_BLT, chain, 2));
	CHECK_OK(__syncobj_wait(fd, &after, 1, now_ns() + 5000000000ll, 0, &first));
	CHECK_MSG(read_target(fd, target, 16) == 0, "a request waiting on a hung request's fence ran");
	struct drm_i915_reset_stats rs;
	CHECK_OK(__reset_stats(fd, ctx, &rs));
	CHECK(rs.batch_active == 1);
	info("a hung request's fence error skips the request that waits on it; its own SIGNAL still signals");

	CHECK_OK(munmap((void *)map, PAGE_SZ));
	CHECK_OK(munmap((void *)tmap, PAGE_SZ));
	close(fd);
	pass(NAME, "fence array and timeline fences: spinner SIGNAL/WAIT ended through a mapping, WAIT_FOR_SUBMIT, hang propagation, errnos");
}
