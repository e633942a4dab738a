/* gpu_spin: a spinner (a batch jumping to itself past an MI_ARB_CHECK), as
 * IGT's igt_spin: GEM_BUSY reports the engine, GEM_WAIT times out with ETIME
 * and reports the time left, a store of MI_BATCH_BUFFER_END through a CPU
 * mapping ends it; what it stores before looping reaches a CPU that polls a
 * cached map (IGT's POLL_RUN); destroying its context, closing its fd and a GPU hang end
 * others. A malformed command hangs: GET_RESET_STATS blames the context, and a
 * non-recoverable context is banned (EIO). */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_spin"
#define BATCH 0x100000ull

static void spinner(uint32_t *b)
{
	b[0] = MI_ARB_CHECK;
	b[1] = MI_BATCH_BUFFER_START;
	b[2] = (uint32_t)BATCH;
	b[3] = 0;
	b[4] = MI_BATCH_BUFFER_END;
}

static int submit(int fd, uint32_t ctx, uint32_t batch, uint64_t engine)
{
	struct drm_i915_gem_exec_object2 obj = pinned(batch, BATCH, 0);
	return __exec(fd, ctx, &obj, 1, engine | I915_EXEC_NO_RELOC);
}

static int wait_ms(int fd, uint32_t h, int64_t ms)
{
	int64_t t = ms * 1000000;
	return __gem_wait(fd, h, &t);
}

int main(int argc, char **argv)
{
	alarm(40);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ);
	volatile uint32_t *map = gem_mmap(fd, mmap_offset(fd, batch, I915_MMAP_OFFSET_WB), PAGE_SZ, PROT_READ | PROT_WRITE);
	spinner((uint32_t *)map);
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);

	uint32_t busy = 0;
	CHECK_OK(__gem_busy(fd, batch, &busy));
	CHECK(busy == 0);
	CHECK_OK(submit(fd, 0, batch, I915_EXEC_BLT));
	CHECK_OK(__gem_busy(fd, batch, &busy));
	CHECK_MSG(busy == 0x20000, "busy 0x%x while spinning on bcs0, expected the copy class read bit", busy);
	int64_t t = 0;
	CHECK_ERRNO(__gem_wait(fd, batch, &t), ETIME);
	t = 50 * 1000000;
	CHECK_ERRNO(__gem_wait(fd, batch, &t), ETIME);
	CHECK_MSG(t == 0, "timeout_ns left %lld after ETIME", (long long)t);
	usleep(20000);
	CHECK_OK(__gem_busy(fd, batch, &busy));
	CHECK(busy != 0);

	/* End it from the CPU: the engine must see a store still in our page cache. */
	map[0] = MI_BATCH_BUFFER_END;
	__sync_synchronize();
	t = 5000ll * 1000000;
	CHECK_OK(__gem_wait(fd, batch, &t));
	CHECK_MSG(t > 0, "timeout_ns left %lld after a successful wait", (long long)t);
	CHECK_OK(__gem_busy(fd, batch, &busy));
	CHECK(busy == 0);
	info("spinner ended by a CPU store through a WB mapping");

	/* POLL_RUN (igt_spin_busywait_until_started): the spinner stores to a
	 * page the CPU already has cached, then loops; the store must reach the
	 * CPU while the spinner runs, not only once it ends. */
	uint32_t poll = gem_create(fd, PAGE_SZ), pbatch = gem_create(fd, PAGE_SZ);
	volatile uint32_t *pmap = gem_mmap(fd, mmap_offset(fd, poll, I915_MMAP_OFFSET_WB), PAGE_SZ, PROT_READ | PROT_WRITE);
	volatile uint32_t *bmap = gem_mmap(fd, mmap_offset(fd, pbatch, I915_MMAP_OFFSET_WB), PAGE_SZ, PROT_READ | PROT_WRITE);
	CHECK(pmap[0] == 0);
	const uint64_t PB = 0x300000, POLL = 0x400000;
	uint32_t words[] = { MI_STORE_DWORD_IMM, (uint32_t)POLL, 0, 0xc0de, MI_ARB_CHECK, MI_BATCH_BUFFER_START,
			     (uint32_t)(PB + 16), 0, MI_BATCH_BUFFER_END };
	memcpy((void *)bmap, words, sizeof(words));
	gem_set_domain(fd, pbatch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	struct drm_i915_gem_exec_object2 pobj[2] = { pinned(poll, POLL, EXEC_OBJECT_WRITE), pinned(pbatch, PB, 0) };
	CHECK_OK(__exec(fd, 0, pobj, 2, I915_EXEC_BLT | I915_EXEC_NO_RELOC));
	int64_t t0 = now_ns();
	while (pmap[0] != 0xc0de && now_ns() - t0 < 2000000000ll)
		usleep(100);
	CHECK_MSG(pmap[0] == 0xc0de, "the spinner's store not seen through a cached WB map while it runs (0x%x)", pmap[0]);
	CHECK_ERRNO(__gem_wait(fd, pbatch, &(int64_t){ 0 }), ETIME);
	bmap[4] = MI_BATCH_BUFFER_END;
	gem_sync(fd, pbatch);
	info("a running spinner's store reaches a CPU that had the page cached");

	/* Contexts are persistent by default: destroying one leaves its
	 * requests running (context_close: kill_engines kills only
	 * non-persistent ones); the spinner ends through the mapping. */
	map[0] = MI_ARB_CHECK;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	uint32_t ctx = ctx_create(fd);
	CHECK_OK(submit(fd, ctx, batch, I915_EXEC_RENDER));
	CHECK_OK(__ctx_destroy(fd, ctx));
	CHECK_ERRNO(wait_ms(fd, batch, 50), ETIME);
	map[0] = MI_BATCH_BUFFER_END;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	CHECK_OK(wait_ms(fd, batch, 5000));
	info("a persistent context's spinner outlives CONTEXT_DESTROY");

	/* Destroying a non-persistent context ends its spinner. */
	map[0] = MI_ARB_CHECK;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	ctx = ctx_create(fd);
	CHECK_OK(__ctx_setparam(fd, ctx, I915_CONTEXT_PARAM_PERSISTENCE, 0));
	CHECK_OK(submit(fd, ctx, batch, I915_EXEC_RENDER));
	CHECK_ERRNO(wait_ms(fd, batch, 10), ETIME);
	CHECK_OK(__ctx_destroy(fd, ctx));
	CHECK_OK(wait_ms(fd, batch, 5000));

	/* Closing the only fd using it ends it too; the object stays alive meanwhile. */
	int fd2 = drm_open(path);
	uint32_t name = gem_flink(fd, batch);
	uint32_t b2 = gem_open(fd2, name, NULL);
	CHECK_OK(submit(fd2, 0, b2, I915_EXEC_RENDER));
	CHECK_ERRNO(wait_ms(fd, batch, 10), ETIME);
	gem_close(fd2, b2);
	close(fd2);
	CHECK_OK(wait_ms(fd, batch, 5000));
	info("spinners end with their context and with their fd");

	/* A malformed command hangs the request: guilty context, engine reset. */
	struct drm_i915_reset_stats rs;
	uint32_t bad = ctx_create(fd);
	CHECK_OK(__reset_stats(fd, bad, &rs));
	CHECK(rs.batch_active == 0 && rs.batch_pending == 0);
	map[0] = 0xffffffff;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	CHECK_OK(submit(fd, bad, batch, I915_EXEC_RENDER));
	CHECK_OK(wait_ms(fd, batch, 5000));
	CHECK_OK(__reset_stats(fd, bad, &rs));
	CHECK_MSG(rs.batch_active == 1, "batch_active %u after a hang", rs.batch_active);
	CHECK_OK(__reset_stats(fd, 0, &rs));
	CHECK(rs.batch_active == 0);
	/* Recoverable (the default): the context still runs. */
	map[0] = MI_BATCH_BUFFER_END;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	CHECK_OK(submit(fd, bad, batch, I915_EXEC_RENDER));
	CHECK_OK(wait_ms(fd, batch, 5000));
	/* Not recoverable: banned by its first hang. */
	CHECK_OK(__ctx_setparam(fd, bad, I915_CONTEXT_PARAM_RECOVERABLE, 0));
	map[0] = 0xffffffff;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	CHECK_OK(submit(fd, bad, batch, I915_EXEC_RENDER));
	CHECK_OK(wait_ms(fd, batch, 5000));
	map[0] = MI_BATCH_BUFFER_END;
	gem_set_domain(fd, batch, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	CHECK_ERRNO(submit(fd, bad, batch, I915_EXEC_RENDER), EIO);
	CHECK_OK(submit(fd, 0, batch, I915_EXEC_RENDER));
	CHECK_OK(wait_ms(fd, batch, 5000));
	CHECK_OK(__ctx_destroy(fd, bad));
	info("hang: guilty context counted, non-recoverable context banned (EIO)");

	CHECK_OK(munmap((void *)map, PAGE_SZ));
	gem_close(fd, batch);
	close(fd);
	pass(NAME, "BUSY/WAIT/ETIME around a spinner ended by a mapping, by destroying a non-persistent context and by fd close; a persistent one outlives its context; hang stats and ban");
}
