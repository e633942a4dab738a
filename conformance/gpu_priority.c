/* gpu_priority: priority inheritance (i915_scheduler.c __i915_schedule), in
 * gem_exec_schedule@promotion's shape. Behind a cork (a syncobj a spinner on
 * the blitter signals), NOISE (priority 0) and LO (minimum) store to
 * `result`; LO then writes `dep`, which HI (maximum) reads before storing to
 * `result` itself. HI lifts LO's whole chain above NOISE, so the order is LO,
 * HI, NOISE: NOISE's value is last in `result`, HI's in `dep`. A scheduler
 * reading priority at submission only runs NOISE first and HI's value is last. */
#include "igt_lite.h"
#include "gpu_lite.h"
#include "syncobj_lite.h"

#define NAME "gpu_priority"
#define SPIN 0x100000ull
#define RESULT 0x300000ull
#define DEP 0x400000ull
#define BATCH 0x500000ull

static int exec_fenced(int fd, uint32_t ctx, struct drm_i915_gem_exec_object2 *obj, unsigned n, uint64_t ring,
		       struct drm_i915_gem_exec_fence *f)
{
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)obj, .buffer_count = n, .rsvd1 = ctx,
		.flags = ring | I915_EXEC_NO_RELOC | (f ? I915_EXEC_FENCE_ARRAY : 0),
		.cliprects_ptr = (uintptr_t)f, .num_cliprects = f ? 1 : 0,
	};
	return __execbuf(fd, &eb);
}

static uint32_t prio_ctx(int fd, int64_t prio)
{
	uint32_t ctx = ctx_create(fd);
	CHECK_OK(__ctx_setparam(fd, ctx, I915_CONTEXT_PARAM_PRIORITY, (uint64_t)prio));
	return ctx;
}

/* One store of `value` to `target` (at `addr`) from context `ctx` on rcs0;
 * `cork` (a syncobj) awaited if non-zero. Returns the batch. */
static uint32_t store(int fd, uint32_t ctx, uint32_t target, uint64_t addr, uint64_t flags, uint32_t value,
		      unsigned slot, uint32_t cork)
{
	uint32_t words[] = { MI_STORE_DWORD_IMM, (uint32_t)addr, (uint32_t)(addr >> 32), value, MI_BATCH_BUFFER_END };
	uint32_t b = gem_create(fd, PAGE_SZ);
	gem_pwrite(fd, b, 0, words, sizeof(words));
	struct drm_i915_gem_exec_object2 obj[2] = { pinned(target, addr, flags), pinned(b, BATCH + slot * PAGE_SZ, 0) };
	struct drm_i915_gem_exec_fence f = { .handle = cork, .flags = I915_EXEC_FENCE_WAIT };
	CHECK_OK(exec_fenced(fd, ctx, obj, 2, I915_EXEC_RENDER, cork ? &f : NULL));
	return b;
}

int main(int argc, char **argv)
{
	alarm(40);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t lo = prio_ctx(fd, I915_CONTEXT_MIN_USER_PRIORITY), hi = prio_ctx(fd, I915_CONTEXT_MAX_USER_PRIORITY);
	uint32_t noise = prio_ctx(fd, I915_CONTEXT_DEFAULT_PRIORITY);
	uint32_t result = gem_create(fd, PAGE_SZ), dep = gem_create(fd, PAGE_SZ);

	/* The cork: a spinner on bcs0 signals it when it ends. */
	uint32_t spin = gem_create(fd, PAGE_SZ), cork = syncobj_create(fd, 0);
	volatile uint32_t *map = spinner_map(fd, spin, SPIN);
	struct drm_i915_gem_exec_object2 s = pinned(spin, SPIN, 0);
	struct drm_i915_gem_exec_fence out = { .handle = cork, .flags = I915_EXEC_FENCE_SIGNAL };
	CHECK_OK(exec_fenced(fd, 0, &s, 1, I915_EXEC_BLT, &out));

	uint32_t b[5];
	b[0] = store(fd, noise, result, RESULT, 0, 0xe0, 0, cork);
	b[1] = store(fd, lo, result, RESULT, 0, 0x10, 1, cork);
	b[2] = store(fd, lo, dep, DEP, EXEC_OBJECT_WRITE, 0x11, 2, 0);
	b[3] = store(fd, hi, dep, DEP, 0, 0x20, 3, 0);
	b[4] = store(fd, hi, result, RESULT, 0, 0x21, 4, 0);

	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	gem_sync(fd, spin);
	for (unsigned i = 0; i < 5; i++)
		gem_sync(fd, b[i]);
	uint32_t r = 0, d = 0;
	gem_pread(fd, result, 0, &r, 4);
	gem_pread(fd, dep, 0, &d, 4);
	CHECK_MSG(d == 0x20, "dep holds 0x%x, not HI's 0x20", d);
	CHECK_MSG(r == 0xe0, "result holds 0x%x, not NOISE's 0xe0: HI did not lift LO's chain above NOISE", r);
	info("HI lifts the LO chain it waits for above NOISE (LO, HI, NOISE)");

	for (unsigned i = 0; i < 5; i++)
		gem_close(fd, b[i]);
	uint32_t handles[] = { result, dep, spin };
	for (unsigned i = 0; i < 3; i++)
		gem_close(fd, handles[i]);
	munmap((void *)map, PAGE_SZ);
	CHECK_OK(__syncobj_destroy(fd, cork));
	CHECK_OK(__ctx_destroy(fd, lo));
	CHECK_OK(__ctx_destroy(fd, hi));
	CHECK_OK(__ctx_destroy(fd, noise));
	close(fd);
	pass(NAME, "priority passes to the requests a high-priority request waits for");
	return 0;
}
