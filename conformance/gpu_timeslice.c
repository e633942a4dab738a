/* gpu_timeslice: two contexts on one engine take turns (execlists'
 * timeslicing): a spinner (MI_ARB_CHECK in its loop) does not keep another
 * context's store off the engine; a batch waiting (MI_SEMAPHORE_WAIT) for a
 * value only a later batch of another context stores completes, as
 * gem_exec_fence@submit needs; a context's own later request never
 * overtakes its spinning earlier one. On every engine. */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_timeslice"
#define SPIN 0x100000ull
#define STORE 0x200000ull
#define TARGET 0x300000ull
#define SEMA 0x400000ull
#define WAITER 0x500000ull
/* MI_SEMAPHORE_WAIT, polling, SAD_EQ_SDD. */
#define MI_SEMAPHORE_WAIT_EQ (MI_INSTR(0x1c, 2) | (1 << 15) | (4 << 12))

static uint32_t batch(int fd, const uint32_t *words, size_t n)
{
	uint32_t h = gem_create(fd, PAGE_SZ);
	gem_pwrite(fd, h, 0, words, n * sizeof(*words));
	return h;
}

static uint32_t nonpersistent(int fd)
{
	uint32_t ctx = ctx_create(fd);
	CHECK_OK(__ctx_setparam(fd, ctx, I915_CONTEXT_PARAM_PERSISTENCE, 0));
	return ctx;
}

static int wait_ms(int fd, uint32_t h, int64_t ms)
{
	int64_t t = ms * 1000000;
	return __gem_wait(fd, h, &t);
}

static void one_engine(int fd, const char *engine, uint64_t ring)
{
	uint32_t a = nonpersistent(fd), b = nonpersistent(fd);
	uint32_t target = gem_create(fd, PAGE_SZ), mine = gem_create(fd, PAGE_SZ);
	uint32_t store[] = { MI_STORE_DWORD_IMM, (uint32_t)TARGET, 0, 0xc0ffee, MI_BATCH_BUFFER_END };
	uint32_t sb = batch(fd, store, 5);
	uint32_t spin = gem_create(fd, PAGE_SZ);
	volatile uint32_t *map = spinner_map(fd, spin, SPIN);

	/* A spins; B's store lands meanwhile; A's own later store waits. */
	struct drm_i915_gem_exec_object2 s = pinned(spin, SPIN, 0);
	CHECK_OK(__exec(fd, a, &s, 1, ring | I915_EXEC_NO_RELOC));
	struct drm_i915_gem_exec_object2 own[2] = { pinned(mine, TARGET, EXEC_OBJECT_WRITE), pinned(sb, STORE, 0) };
	CHECK_OK(__exec(fd, a, own, 2, ring | I915_EXEC_NO_RELOC));
	uint32_t target_b = gem_create(fd, PAGE_SZ), sb2 = batch(fd, store, 5);
	struct drm_i915_gem_exec_object2 other[2] = { pinned(target_b, TARGET, EXEC_OBJECT_WRITE), pinned(sb2, STORE, 0) };
	CHECK_OK(__exec(fd, b, other, 2, ring | I915_EXEC_NO_RELOC));
	CHECK_MSG(wait_ms(fd, target_b, 2000) == 0, "%s: another context's store did not pass a spinner", engine);
	uint32_t v = 0;
	gem_pread(fd, target_b, 0, &v, 4);
	CHECK_MSG(v == 0xc0ffee, "%s: stored 0x%x", engine, v);
	CHECK_ERRNO(wait_ms(fd, spin, 0), ETIME);
	CHECK_ERRNO(wait_ms(fd, mine, 20), ETIME);
	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	CHECK_OK(wait_ms(fd, spin, 5000));
	CHECK_OK(wait_ms(fd, mine, 5000));
	gem_pread(fd, mine, 0, &v, 4);
	CHECK_MSG(v == 0xc0ffee, "%s: the spinning context's own store 0x%x", engine, v);

	/* A waits for sema == 1, which only B (submitted after) stores. */
	uint32_t sema = gem_create(fd, PAGE_SZ), result = gem_create(fd, PAGE_SZ);
	uint32_t waiter[] = { MI_SEMAPHORE_WAIT_EQ, 1, (uint32_t)SEMA, 0,
			      MI_STORE_DWORD_IMM, (uint32_t)TARGET, 0, 0xa, MI_BATCH_BUFFER_END };
	uint32_t signaller[] = { MI_STORE_DWORD_IMM, (uint32_t)SEMA, 0, 1, MI_BATCH_BUFFER_END };
	uint32_t wb = batch(fd, waiter, 9), gb = batch(fd, signaller, 5);
	struct drm_i915_gem_exec_object2 w[3] = { pinned(sema, SEMA, EXEC_OBJECT_ASYNC), pinned(result, TARGET, EXEC_OBJECT_WRITE),
						  pinned(wb, WAITER, 0) };
	CHECK_OK(__exec(fd, a, w, 3, ring | I915_EXEC_NO_RELOC));
	struct drm_i915_gem_exec_object2 g[2] = { pinned(sema, SEMA, EXEC_OBJECT_WRITE | EXEC_OBJECT_ASYNC), pinned(gb, STORE, 0) };
	CHECK_OK(__exec(fd, b, g, 2, ring | I915_EXEC_NO_RELOC));
	CHECK_MSG(wait_ms(fd, result, 5000) == 0, "%s: a semaphore waiter kept the engine from its signaller", engine);
	gem_pread(fd, result, 0, &v, 4);
	CHECK_MSG(v == 0xa, "%s: after the semaphore 0x%x", engine, v);

	CHECK_OK(__ctx_destroy(fd, a));
	CHECK_OK(__ctx_destroy(fd, b));
	uint32_t handles[] = { target, mine, sb, spin, target_b, sb2, sema, result, wb, gb };
	for (unsigned i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
		gem_close(fd, handles[i]);
	munmap((void *)map, PAGE_SZ);
	info("%s: a spinner and a semaphore waiter share the engine with another context", engine);
}

int main(int argc, char **argv)
{
	alarm(40);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	for (unsigned i = 0; i < sizeof(gpu_engines) / sizeof(gpu_engines[0]); i++)
		one_engine(fd, gpu_engines[i].name, gpu_engines[i].flags);
	close(fd);
	pass(NAME, "contexts timeslice on every engine");
	return 0;
}
