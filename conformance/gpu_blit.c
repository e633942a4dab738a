/* gpu_blit: the blitter on linear, X- and Y-tiled objects (XY_SRC_COPY_BLT
 * with BCS_SWCTRL selecting Y, XY_FAST_COPY_BLT, XY_COLOR_BLT), checked
 * against a CPU reference of the tiled layout (gtt_lite.h's math, written
 * independently of the daemon) through PREAD, through the fenced GTT view and
 * through a CPU (WB) map. */
#include "igt_lite.h"
#include "gtt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_blit"
#define W 256
#define H 64
#define PITCH (W * 4)
#define SIZE ((uint64_t)PITCH * H)
#define BATCH 0x100000ull
#define SRC 0x200000ull
#define DST 0x400000ull

enum method { SRC_COPY, FAST_COPY };

static uint32_t emit_copy(uint32_t *b, enum method m, uint32_t src_mode, uint32_t dst_mode)
{
	uint32_t n = 0;
	if (m == SRC_COPY) {
		b[n++] = MI_LOAD_REGISTER_IMM(1);
		b[n++] = BCS_SWCTRL;
		b[n++] = (3u << 16) | (src_mode == I915_TILING_Y ? 1 : 0) | (dst_mode == I915_TILING_Y ? 2 : 0);
		b[n++] = XY_SRC_COPY_BLT | (src_mode ? XY_SRC_COPY_BLT_SRC_TILED : 0) | (dst_mode ? XY_SRC_COPY_BLT_DST_TILED : 0);
		b[n++] = (3 << 24) | (0xcc << 16) | (dst_mode ? PITCH / 4 : PITCH);
	} else {
		uint32_t ft[] = { 0, 1, 2 };
		b[n++] = XY_FAST_COPY_BLT | (ft[src_mode] << 20) | (ft[dst_mode] << 13);
		b[n++] = (3 << 24) | (dst_mode ? PITCH / 4 : PITCH);
	}
	b[n++] = 0;                       /* dst y1, x1 */
	b[n++] = (H << 16) | W;           /* dst y2, x2 */
	b[n++] = (uint32_t)DST; b[n++] = 0;
	b[n++] = 0;                       /* src y1, x1 */
	b[n++] = src_mode ? PITCH / 4 : PITCH;
	b[n++] = (uint32_t)SRC; b[n++] = 0;
	b[n++] = MI_BATCH_BUFFER_END;
	return n;
}

static void run(int fd, uint32_t batch, uint32_t src, uint32_t dst, const uint32_t *b, uint32_t n)
{
	gem_pwrite(fd, batch, 0, b, n * 4);
	struct drm_i915_gem_exec_object2 obj[3] = {
		pinned(src, SRC, 0), pinned(dst, DST, EXEC_OBJECT_WRITE), pinned(batch, BATCH, 0),
	};
	HCHECK_OK(__exec(fd, 0, obj, 3, I915_EXEC_BLT | I915_EXEC_NO_RELOC));
	gem_sync(fd, dst);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ);
	uint32_t *lin = xmalloc(SIZE), *ref = xmalloc(SIZE), *got = xmalloc(SIZE), b[64];
	uint32_t modes[] = { I915_TILING_NONE, I915_TILING_X, I915_TILING_Y };
	const char *mname[] = { "XY_SRC_COPY_BLT", "XY_FAST_COPY_BLT" };
	int checks = 0;

	for (int m = 0; m < 2; m++) {
		for (int d = 0; d < 3; d++) {
			uint32_t src = gem_create(fd, SIZE), dst = gem_create(fd, SIZE), back = gem_create(fd, SIZE);
			fill_hash(lin, SIZE, 0xb1170000 + m * 16 + d);
			gem_pwrite(fd, src, 0, lin, SIZE);
			struct tiling t = set_tiling(fd, dst, modes[d], modes[d] ? PITCH : 0);
			/* A CPU view cached before the blit. */
			volatile uint32_t *cpu = gem_mmap(fd, mmap_offset(fd, dst, I915_MMAP_OFFSET_WB), SIZE, PROT_READ);
			CHECK(cpu[1] == 0);

			uint32_t n = emit_copy(b, m, I915_TILING_NONE, modes[d]);
			run(fd, batch, src, dst, b, n);
			if (modes[d])
				tile_buf(&t, lin, ref, SIZE);
			else
				memcpy(ref, lin, SIZE);
			gem_pread(fd, dst, 0, got, SIZE);
			CHECK_BUF(got, ref, SIZE, "%s linear -> %s, PREAD against the CPU tiling", mname[m], tiling_name(modes[d]));
			CHECK_BUF(cpu, ref, SIZE, "%s linear -> %s, WB map", mname[m], tiling_name(modes[d]));
			uint32_t *gtt = gtt_map(fd, dst, SIZE, 0);
			CHECK_BUF(gtt, lin, SIZE, "%s linear -> %s, GTT view", mname[m], tiling_name(modes[d]));
			CHECK_OK(munmap(gtt, SIZE));

			/* And back from the tiled object to a linear one. */
			n = emit_copy(b, m, modes[d], I915_TILING_NONE);
			run(fd, batch, dst, back, b, n);
			gem_pread(fd, back, 0, got, SIZE);
			CHECK_BUF(got, lin, SIZE, "%s %s -> linear", mname[m], tiling_name(modes[d]));
			checks += 4;
			CHECK_OK(munmap((void *)cpu, SIZE));
			gem_close(fd, src);
			gem_close(fd, dst);
			gem_close(fd, back);
		}
	}

	/* XY_COLOR_BLT fills a rectangle of an X- and a Y-tiled object. */
	for (int d = 1; d < 3; d++) {
		uint32_t dst = gem_create(fd, SIZE), src = gem_create(fd, PAGE_SZ);
		struct tiling t = set_tiling(fd, dst, modes[d], PITCH);
		uint32_t n = 0;
		b[n++] = MI_LOAD_REGISTER_IMM(1);
		b[n++] = BCS_SWCTRL;
		b[n++] = (3u << 16) | (modes[d] == I915_TILING_Y ? 2 : 0);
		b[n++] = XY_COLOR_BLT | XY_SRC_COPY_BLT_DST_TILED;
		b[n++] = (3 << 24) | (0xf0 << 16) | PITCH / 4;
		b[n++] = (5 << 16) | 7;           /* y1 5, x1 7 */
		b[n++] = (40 << 16) | 200;        /* y2 40, x2 200 */
		b[n++] = (uint32_t)DST; b[n++] = 0;
		b[n++] = 0xc010c010 + d;
		b[n++] = MI_BATCH_BUFFER_END;
		run(fd, batch, src, dst, b, n);
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				lin[y * W + x] = (y >= 5 && y < 40 && x >= 7 && x < 200) ? 0xc010c010 + d : 0;
		tile_buf(&t, lin, ref, SIZE);
		gem_pread(fd, dst, 0, got, SIZE);
		CHECK_BUF(got, ref, SIZE, "XY_COLOR_BLT on %s", tiling_name(modes[d]));
		uint32_t *gtt = gtt_map(fd, dst, SIZE, 0);
		CHECK_BUF(gtt, lin, SIZE, "XY_COLOR_BLT on %s, GTT view", tiling_name(modes[d]));
		CHECK_OK(munmap(gtt, SIZE));
		checks += 2;
		gem_close(fd, dst);
		gem_close(fd, src);
	}

	/* XY_FAST_COLOR_BLT (16 dwords, igt_draw's layout) on linear and X. */
	for (int d = 0; d < 2; d++) {
		uint32_t dst = gem_create(fd, SIZE), src = gem_create(fd, PAGE_SZ);
		struct tiling t = set_tiling(fd, dst, modes[d], modes[d] ? PITCH : 0);
		uint32_t pitch = modes[d] ? PITCH / 4 : PITCH, n = 0;
		b[n++] = (2u << 29) | (0x44 << 22) | (2 << 19) | 0xe;
		b[n++] = ((uint32_t)d << 30) | (pitch - 1);
		b[n++] = (3 << 16) | 9;
		b[n++] = (50 << 16) | 100;
		b[n++] = (uint32_t)DST; b[n++] = 0;
		b[n++] = 0;
		b[n++] = 0xfa57c010 + d; b[n++] = 0; b[n++] = 0; b[n++] = 0;
		b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 0;
		b[n++] = MI_BATCH_BUFFER_END;
		run(fd, batch, src, dst, b, n);
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				lin[y * W + x] = (y >= 3 && y < 50 && x >= 9 && x < 100) ? 0xfa57c010 + d : 0;
		if (modes[d])
			tile_buf(&t, lin, ref, SIZE);
		else
			memcpy(ref, lin, SIZE);
		gem_pread(fd, dst, 0, got, SIZE);
		CHECK_BUF(got, ref, SIZE, "XY_FAST_COLOR_BLT on %s", tiling_name(modes[d]));
		checks++;
		gem_close(fd, dst);
		gem_close(fd, src);
	}

	gem_close(fd, batch);
	free(lin);
	free(ref);
	free(got);
	close(fd);
	pass(NAME, "%d checks: copies and fills on linear, X and Y match the CPU reference through PREAD, WB and GTT maps", checks);
}
