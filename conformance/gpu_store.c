/* gpu_store: batches executed by the software GPU on every engine and in a new
 * context: MI_STORE_DWORD_IMM (dword and qword), MI_LOAD_REGISTER_IMM/MEM and
 * MI_STORE_REGISTER_MEM with the GPRs and TIMESTAMP, MI_MATH, MI_FLUSH_DW and
 * PIPE_CONTROL post-sync writes (6 and 5 dwords), chained and second-level batches, skipped
 * render state; results read through a WB mmap made before the execbuf (its
 * stale page must go), PREAD, and a readonly object the GPU cannot change. */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_store"
#define BATCH 0x100000ull
#define TARGET 0x200000ull
#define SECOND 0x300000ull
#define RO 0x400000ull

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_SOFTPIN) == 1);

	uint32_t batch = gem_create(fd, PAGE_SZ), target = gem_create(fd, PAGE_SZ);
	uint32_t second = gem_create(fd, PAGE_SZ), ro = gem_create(fd, PAGE_SZ);
	uint32_t seed = 0x5eed0000;
	gem_pwrite(fd, ro, 0, &seed, 4);
	struct drm_fakedrm_gem_set_readonly sro = { .handle = ro };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_FAKEDRM_GEM_SET_READONLY, &sro));

	/* A CPU view cached before the GPU writes: the write must reach it. */
	volatile uint32_t *map = gem_mmap(fd, mmap_offset(fd, target, I915_MMAP_OFFSET_WB), PAGE_SZ, PROT_READ);
	CHECK(map[0] == 0);

	uint32_t ctx = ctx_create(fd);
	unsigned nengines = sizeof(gpu_engines) / sizeof(gpu_engines[0]);
	for (unsigned e = 0; e < nengines; e++) {
		for (int c = 0; c < 2; c++) {
			uint32_t value = 0xc0ffee00 + e * 16 + c;
			uint32_t b[64], n = 0;
			b[n++] = MI_STORE_DWORD_IMM;
			b[n++] = (uint32_t)(TARGET + 4 * (e * 2 + c));
			b[n++] = (uint32_t)(TARGET >> 32);
			b[n++] = value;
			b[n++] = MI_BATCH_BUFFER_END;
			gem_pwrite(fd, batch, 0, b, n * 4);
			struct drm_i915_gem_exec_object2 obj[2] = {
				pinned(target, TARGET, EXEC_OBJECT_WRITE), pinned(batch, BATCH, 0),
			};
			CHECK_OK(__exec(fd, c ? ctx : 0, obj, 2, gpu_engines[e].flags | I915_EXEC_NO_RELOC));
			gem_sync(fd, target);
			CHECK_MSG(map[e * 2 + c] == value, "%s ctx %u: map read 0x%x, expected 0x%x",
				  gpu_engines[e].name, c ? ctx : 0, map[e * 2 + c], value);
		}
	}
	info("store-dword on %u engines x 2 contexts seen through a WB map made before", nengines);

	/* Qword store, GPR arithmetic, TIMESTAMP, PIPE_CONTROL, MI_FLUSH_DW, skipped 3D state,
	 * a second-level batch and a chained jump, a store to a readonly object. */
	uint32_t s[8] = { MI_STORE_DWORD_IMM, (uint32_t)(TARGET + 0x400), 0, 0x5ec0d, MI_BATCH_BUFFER_END };
	gem_pwrite(fd, second, 0, s, sizeof(s));
	uint32_t b[128], n = 0;
	b[n++] = MI_STORE_QWORD_IMM; b[n++] = (uint32_t)(TARGET + 0x100); b[n++] = 0; b[n++] = 0x11111111; b[n++] = 0x22222222;
	b[n++] = MI_LOAD_REGISTER_IMM(2);
	b[n++] = CS_GPR(0x2000, 0); b[n++] = 40;
	b[n++] = CS_GPR(0x2000, 1); b[n++] = 2;
	b[n++] = MI_MATH(4);
	b[n++] = ALU(ALU_LOAD, ALU_SRCA, 0); b[n++] = ALU(ALU_LOAD, ALU_SRCB, 1);
	b[n++] = ALU(ALU_ADD, 0, 0); b[n++] = ALU(ALU_STORE, 2, ALU_ACCU);
	b[n++] = MI_STORE_REGISTER_MEM; b[n++] = CS_GPR(0x2000, 2); b[n++] = (uint32_t)(TARGET + 0x108); b[n++] = 0;
	b[n++] = MI_LOAD_REGISTER_MEM; b[n++] = CS_GPR(0x2000, 3); b[n++] = (uint32_t)(TARGET + 0x100); b[n++] = 0;
	b[n++] = MI_STORE_REGISTER_MEM; b[n++] = CS_GPR(0x2000, 3); b[n++] = (uint32_t)(TARGET + 0x10c); b[n++] = 0;
	b[n++] = MI_STORE_REGISTER_MEM; b[n++] = RCS_TIMESTAMP; b[n++] = (uint32_t)(TARGET + 0x110); b[n++] = 0;
	b[n++] = GFX_3DSTATE_FAKE(3); b[n++] = 0xdead; b[n++] = 0xbeef;
	b[n++] = PIPE_CONTROL_WRITE_IMM; b[n++] = 1 << 14; b[n++] = (uint32_t)(TARGET + 0x118); b[n++] = 0;
	b[n++] = 0xabcd0001; b[n++] = 0;
	/* gem_pipe_control_store_loop's 5 dwords: one data dword, address bit 2 set (gen6's GLOBAL_GTT). */
	b[n++] = GFX_OP_PIPE_CONTROL(5); b[n++] = 1 << 14; b[n++] = (uint32_t)(TARGET + 0x120) | 1 << 2; b[n++] = 0;
	b[n++] = 0xabcd0002;
	b[n++] = MI_STORE_DWORD_IMM; b[n++] = (uint32_t)RO; b[n++] = 0; b[n++] = 0xbad;
	b[n++] = MI_BATCH_BUFFER_START_2ND; b[n++] = (uint32_t)SECOND; b[n++] = 0;
	b[n++] = MI_BATCH_BUFFER_START; b[n++] = (uint32_t)(BATCH + 0x800); b[n++] = 0;
	gem_pwrite(fd, batch, 0, b, n * 4);
	uint32_t tail[] = { MI_STORE_DWORD_IMM, (uint32_t)(TARGET + 0x404), 0, 0xc4a1ed, MI_BATCH_BUFFER_END };
	gem_pwrite(fd, batch, 0x800, tail, sizeof(tail));
	struct drm_i915_gem_exec_object2 obj[4] = {
		pinned(target, TARGET, EXEC_OBJECT_WRITE), pinned(second, SECOND, 0), pinned(ro, RO, 0), pinned(batch, BATCH, 0),
	};
	CHECK_OK(__exec(fd, 0, obj, 4, I915_EXEC_RENDER | I915_EXEC_NO_RELOC));
	gem_sync(fd, batch);
	uint32_t out[0x420 / 4];
	gem_pread(fd, target, 0, out, sizeof(out));
	CHECK(out[0x100 / 4] == 0x11111111 && out[0x104 / 4] == 0x22222222);
	CHECK_MSG(out[0x108 / 4] == 42, "GPR2 = %u, expected 40 + 2", out[0x108 / 4]);
	CHECK(out[0x10c / 4] == 0x11111111);
	CHECK_MSG(out[0x110 / 4] != 0, "TIMESTAMP stored 0");
	CHECK(out[0x118 / 4] == 0xabcd0001);
	CHECK_MSG(out[0x120 / 4] == 0xabcd0002 && out[0x124 / 4] == 0, "5-dword PIPE_CONTROL wrote 0x%x 0x%x",
		  out[0x120 / 4], out[0x124 / 4]);
	CHECK(out[0x400 / 4] == 0x5ec0d && out[0x404 / 4] == 0xc4a1ed);
	CHECK(map[0x404 / 4] == 0xc4a1ed);
	uint32_t rov = 0;
	gem_pread(fd, ro, 0, &rov, 4);
	CHECK_MSG(rov == seed, "readonly object changed by the GPU: 0x%x", rov);

	/* MI_FLUSH_DW post-sync on the blitter. */
	uint32_t f[] = { MI_FLUSH_DW_STORE, (uint32_t)(TARGET + 0x200), 0, 0xf1a5, 0, MI_BATCH_BUFFER_END };
	gem_pwrite(fd, batch, 0, f, sizeof(f));
	CHECK_OK(__exec(fd, 0, obj, 4, I915_EXEC_BLT | I915_EXEC_NO_RELOC));
	gem_sync(fd, target);
	CHECK(map[0x200 / 4] == 0xf1a5);

	CHECK_OK(__ctx_destroy(fd, ctx));
	CHECK_OK(munmap((void *)map, PAGE_SZ));
	gem_close(fd, batch);
	gem_close(fd, target);
	gem_close(fd, second);
	gem_close(fd, ro);
	close(fd);
	pass(NAME, "stores on %u engines, qword, GPR math, TIMESTAMP, PIPE_CONTROL, FLUSH_DW, 2nd-level and chained batches, readonly kept", nengines);
}
