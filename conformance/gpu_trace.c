/* gpu_trace: a small batch of known commands on the render engine (with a
 * relocation) and a blit on the copy engine, checked for their results. Run
 * on a mount with `--trace FILE --trace-commands`, the trace shows each
 * command (IntegrationTests/TraceMountTests checks the lines): the store's
 * address and value, the blit's surfaces and size, the skipped 3D state,
 * and the execbuf's objects, flags and relocations. */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_trace"
#define SRC 0x600000ull
#define DST 0x700000ull
#define BLT_BATCH 0x800000ull

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ), target = gem_create(fd, PAGE_SZ);

	/* rcs0: a store through a relocation, 3D state that is only skipped,
	 * a PIPE_CONTROL post-sync write. */
	uint32_t b[32], n = 0;
	b[n++] = MI_STORE_DWORD_IMM; b[n++] = 0; b[n++] = 0; b[n++] = 0xcafe1234;
	b[n++] = GFX_3DSTATE_FAKE(3); b[n++] = 0xdead; b[n++] = 0xbeef;
	b[n++] = PIPE_CONTROL_WRITE_IMM; b[n++] = 1 << 14; b[n++] = 0; b[n++] = 0; b[n++] = 0x5151; b[n++] = 0;
	b[n++] = MI_BATCH_BUFFER_END;
	gem_pwrite(fd, batch, 0, b, n * 4);
	struct drm_i915_gem_relocation_entry r[2] = {
		{ .target_handle = target, .delta = 0x40, .offset = 4, .presumed_offset = -1,
		  .read_domains = I915_GEM_DOMAIN_INSTRUCTION, .write_domain = I915_GEM_DOMAIN_INSTRUCTION },
		{ .target_handle = target, .delta = 0x48, .offset = 9 * 4, .presumed_offset = -1,
		  .read_domains = I915_GEM_DOMAIN_INSTRUCTION, .write_domain = I915_GEM_DOMAIN_INSTRUCTION },
	};
	struct drm_i915_gem_exec_object2 obj[2] = {
		{ .handle = target, .flags = EXEC_OBJECT_SUPPORTS_48B_ADDRESS | EXEC_OBJECT_WRITE },
		{ .handle = batch, .relocation_count = 2, .relocs_ptr = (uintptr_t)r, .flags = EXEC_OBJECT_SUPPORTS_48B_ADDRESS },
	};
	CHECK_OK(__exec(fd, 0, obj, 2, I915_EXEC_RENDER));
	gem_sync(fd, target);
	uint32_t v[3];
	gem_pread(fd, target, 0x40, v, sizeof(v));
	CHECK_MSG(v[0] == 0xcafe1234, "store: 0x%x", v[0]);
	CHECK_MSG(v[2] == 0x5151, "PIPE_CONTROL post-sync: 0x%x", v[2]);
	printf("target at 0x%llx\n", (unsigned long long)obj[0].offset);

	/* bcs0: a 64x16 32bpp linear copy between softpinned objects. */
	uint32_t src = gem_create(fd, 16 * PAGE_SZ), dst = gem_create(fd, 16 * PAGE_SZ), bb = gem_create(fd, PAGE_SZ);
	static uint32_t pixels[16 * 64];
	for (unsigned i = 0; i < 16 * 64; i++)
		pixels[i] = 0xa0000000 + i;
	for (unsigned y = 0; y < 16; y++)
		gem_pwrite(fd, src, y * 1024, pixels + y * 64, 256);
	n = 0;
	b[n++] = XY_SRC_COPY_BLT; b[n++] = (3 << 24) | (0xcc << 16) | 1024;
	b[n++] = 0; b[n++] = (16 << 16) | 64;
	b[n++] = (uint32_t)DST; b[n++] = 0;
	b[n++] = 0; b[n++] = 1024;
	b[n++] = (uint32_t)SRC; b[n++] = 0;
	b[n++] = MI_BATCH_BUFFER_END;
	gem_pwrite(fd, bb, 0, b, n * 4);
	struct drm_i915_gem_exec_object2 bo[3] = {
		pinned(src, SRC, 0), pinned(dst, DST, EXEC_OBJECT_WRITE), pinned(bb, BLT_BATCH, 0),
	};
	CHECK_OK(__exec(fd, 0, bo, 3, I915_EXEC_BLT | I915_EXEC_NO_RELOC));
	gem_sync(fd, dst);
	for (unsigned y = 0; y < 16; y += 5) {
		uint32_t row[64];
		gem_pread(fd, dst, y * 1024, row, sizeof(row));
		CHECK_MSG(memcmp(row, pixels + y * 64, sizeof(row)) == 0, "blit row %u differs", y);
	}

	gem_close(fd, batch);
	gem_close(fd, target);
	gem_close(fd, src);
	gem_close(fd, dst);
	gem_close(fd, bb);
	close(fd);
	pass(NAME, "a relocated store, skipped 3D state, a PIPE_CONTROL write and a blit, each checked");
}
