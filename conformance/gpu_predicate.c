/* gpu_predicate: MI_BATCH_BUFFER_START with MI_BATCH_PREDICATE is skipped
 * while bit 0 of MI_PREDICATE_RESULT_1 is clear (gen8+), as gem_exec_fence's
 * timed wait (build_wait_bb) relies on: a predicated jump taken and not
 * taken, then a loop counting GPR0 down with MI_MATH that leaves through the
 * predicate (STOREINV ZF -> MI_LOAD_REGISTER_REG -> MI_PREDICATE_RESULT_1).
 * Without predication the loop never ends and the engine resets it. */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_predicate"
#define BATCH 0x100000ull
#define TARGET 0x200000ull

#define RCS 0x2000u
#define GPR(n) (RCS + 0x600u + (n) * 8u)
#define PREDICATE_RESULT_1 (RCS + 0x41cu)
#define LRI(n) (0x22u << 23 | (2u * (n) - 1u))
#define LRR (0x2au << 23 | 1u)
#define SRM (0x24u << 23 | 2u)
#define SDI (0x20u << 23 | 2u)
#define BBS_PREDICATED (0x31u << 23 | 1u << 15 | 1u)
#define MATH(n) (0x1au << 23 | ((n) - 1u))
#define MATH_ALU(op, a, b) ((op) << 20 | (a) << 10 | (b))

static uint32_t run(int fd, uint32_t batch, uint32_t target, const uint32_t *bb, size_t n, uint32_t off)
{
	gem_pwrite(fd, batch, 0, bb, n * 4);
	uint32_t zero[4] = { 0 };
	gem_pwrite(fd, target, 0, zero, sizeof(zero));
	struct drm_i915_gem_exec_object2 obj[2] = { pinned(target, TARGET, EXEC_OBJECT_WRITE), pinned(batch, BATCH, 0) };
	CHECK_OK(__exec(fd, 0, obj, 2, I915_EXEC_RENDER | I915_EXEC_NO_RELOC));
	gem_sync(fd, target);
	uint32_t v = 0;
	gem_pread(fd, target, off, &v, 4);
	return v;
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ), target = gem_create(fd, PAGE_SZ);

	for (uint32_t p = 0; p < 2; p++) {
		const uint32_t bb[] = {
			LRI(1), PREDICATE_RESULT_1, p,
			BBS_PREDICATED, (uint32_t)BATCH + 12 * 4, 0,
			SDI, (uint32_t)TARGET, 0, 0x600d, MI_BATCH_BUFFER_END, 0,
			SDI, (uint32_t)TARGET, 0, 0xbad, MI_BATCH_BUFFER_END,          /* 12: the jump's target */
		};
		uint32_t v = run(fd, batch, target, bb, sizeof(bb) / 4, 0);
		CHECK_MSG(v == (p ? 0xbad : 0x600d), "MI_PREDICATE_RESULT_1 = %u: stored 0x%x", p, v);
	}
	info("a predicated MI_BATCH_BUFFER_START: taken with MI_PREDICATE_RESULT_1 = 1, skipped with 0");

	const uint32_t loop[] = {
		LRI(4), GPR(0), 3, GPR(0) + 4, 0, GPR(1), 1, GPR(1) + 4, 0,
		/* 9: GPR0 -= 1; GPR2 = !ZF(GPR0 + 0) */
		MATH(4), MATH_ALU(0x080, 0x20, 0), MATH_ALU(0x080, 0x21, 1), MATH_ALU(0x101, 0, 0), MATH_ALU(0x180, 0, 0x31),
		MATH(4), MATH_ALU(0x080, 0x20, 0), MATH_ALU(0x081, 0x21, 0), MATH_ALU(0x100, 0, 0), MATH_ALU(0x580, 2, 0x32),
		LRR, GPR(2), PREDICATE_RESULT_1,
		BBS_PREDICATED, (uint32_t)BATCH + 9 * 4, 0,
		SDI, (uint32_t)TARGET, 0, 0x600d,
		SRM, GPR(0), (uint32_t)TARGET + 4, 0,
		MI_BATCH_BUFFER_END,
	};
	uint32_t v = run(fd, batch, target, loop, sizeof(loop) / 4, 0);
	CHECK_MSG(v == 0x600d, "the counting loop did not leave through its predicate (0x%x)", v);
	gem_pread(fd, target, 4, &v, 4);
	CHECK_MSG(v == 0, "GPR0 after the loop: %u", v);
	info("a loop leaves through MI_MATH's ZF -> MI_PREDICATE_RESULT_1");

	pass(NAME, "predicated MI_BATCH_BUFFER_START: taken, skipped, a counting loop");
	return 0;
}
