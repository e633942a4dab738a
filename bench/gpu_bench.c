/* gpu_bench DEVICE FLOOR - the software GPU: (a) the execbuf round trip of an
 * empty batch (MI_BATCH_BUFFER_END) and its GEM_WAIT against the floor
 * daemon answering the same two ioctls (bench/floor_daemon.c echoes every
 * ioctl), interleaved and paired as ioctl_bench does; (b) blitter copy
 * throughput, XY_SRC_COPY_BLT and XY_FAST_COPY_BLT of GPU_MIB MiB linear to
 * linear, and linear to X- and Y-tiled, each submission timed from execbuf
 * to GEM_WAIT's return, against memcpy of the same bytes in this process
 * in the same run (each side's best of GPU_REPS, interleaved). */
#include "bench.h"

#define MI_BATCH_BUFFER_END (0x0a << 23)
#define XY_SRC_COPY_BLT ((2u << 29) | (0x53 << 22) | (3 << 20) | 8)
#define XY_FAST_COPY_BLT ((2u << 29) | (0x42 << 22) | 8)
#define BATCH_ADDR 0x100000ull
#define SRC_ADDR 0x10000000ull
#define DST_ADDR 0x40000000ull

static int exec(int fd, struct drm_i915_gem_exec_object2 *obj, unsigned n, uint64_t flags)
{
	struct drm_i915_gem_execbuffer2 eb = { .buffers_ptr = (uintptr_t)obj, .buffer_count = n, .flags = flags };
	return ioctl(fd, DRM_IOCTL_I915_GEM_EXECBUFFER2_WR, &eb);
}

static void wait_idle(int fd, uint32_t handle)
{
	struct drm_i915_gem_wait w = { .bo_handle = handle, .timeout_ns = -1 };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_WAIT, &w) == 0, "GEM_WAIT");
}

static void gem_pwrite(int fd, uint32_t handle, uint64_t offset, const void *data, uint64_t size)
{
	struct drm_i915_gem_pwrite p = { .handle = handle, .offset = offset, .size = size, .data_ptr = (uintptr_t)data };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_PWRITE, &p) == 0, "PWRITE");
}

static struct drm_i915_gem_exec_object2 pinned(uint32_t handle, uint64_t addr, uint64_t flags)
{
	return (struct drm_i915_gem_exec_object2){
		.handle = handle, .offset = addr, .flags = flags | EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS,
	};
}

/* ns per empty-batch round trip (execbuf + GEM_WAIT), a batch of n. On the
 * floor the same two ioctl numbers, answered by echo. */
static double nop_batch(int fd, uint32_t handle, int n)
{
	struct drm_i915_gem_exec_object2 obj = pinned(handle, BATCH_ADDR, 0);
	double t0 = now();
	for (int i = 0; i < n; i++) {
		must(exec(fd, &obj, 1, I915_EXEC_BLT | I915_EXEC_NO_RELOC) == 0, "EXECBUFFER2");
		wait_idle(fd, handle);
	}
	return (now() - t0) / n * 1e9;
}

struct blit {
	const char *name;
	uint32_t cmd[10];
};

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gpu_bench DEVICE FLOOR_DEVICE\n");
		return 2;
	}
	int n = env_long("GPU_N", 200), rounds = env_long("GPU_ROUNDS", 15);
	long mib = env_long("GPU_MIB", 16), reps = env_long("GPU_REPS", 7);
	int fd = open(argv[1], O_RDWR), floor_fd = open(argv[2], O_RDWR);
	must(fd >= 0, argv[1]);
	must(floor_fd >= 0, argv[2]);

	/* (a) Empty batch round trip. */
	uint32_t nop = gem_create(fd, 4096);
	uint32_t bbe[2] = { MI_BATCH_BUFFER_END, 0 };
	gem_pwrite(fd, nop, 0, bbe, sizeof bbe);
	for (int k = 0; k < 50; k++)
		nop_batch(fd, nop, 1), nop_batch(floor_fd, 1, 1);
	double subj[rounds], base[rounds], paired[rounds];
	for (int r = 0; r < rounds; r++) {
		if (r % 2) {
			subj[r] = nop_batch(fd, nop, n);
			base[r] = nop_batch(floor_fd, 1, n);
		} else {
			base[r] = nop_batch(floor_fd, 1, n);
			subj[r] = nop_batch(fd, nop, n);
		}
		paired[r] = subj[r] / base[r];
	}
	printf("%-34s %12s %12s %7s %9s   (best of %d batches of %d, interleaved)\n", "round trip", "fakedrm ns", "floor ns",
	       "ratio", "(bests)", rounds, n);
	printf("%-34s %12.0f %12.0f %6.2fx %8.2fx   (2 ioctls)\n", "EXECBUFFER2 (empty batch)+GEM_WAIT", best(subj, rounds),
	       best(base, rounds), median(paired, rounds), best(subj, rounds) / best(base, rounds));

	/* (b) Blitter copies of `mib` MiB: 2048 32bpp pixels (8 KiB) a row. */
	uint64_t bytes = (uint64_t)mib << 20;
	uint32_t pitch = 8192, rows = bytes / pitch;
	must(rows <= 0xffff && rows % 32 == 0, "GPU_MIB: a multiple of 256 KiB up to 511 MiB");
	uint32_t src = gem_create(fd, bytes), dst = gem_create(fd, bytes), batch = gem_create(fd, 4096);
	char *a = malloc(bytes), *b = malloc(bytes);
	must(a && b, "malloc");
	for (uint64_t i = 0; i < bytes; i++)
		a[i] = (char)(i * 7), b[i] = 0;
	/* The source's pages exist before the first blit (the daemon's backing). */
	for (uint64_t off = 0; off < bytes; off += 1 << 20)
		gem_pwrite(fd, src, off, a + off, 1 << 20);
	uint32_t rect = rows << 16 | pitch / 4;
	/* XY_FAST_COPY_BLT: dst tiling bits 14:13, src 21:20 (1 X, 2 Y); tiled pitches in dwords. */
	const struct blit blits[] = {
		{ "XY_SRC_COPY_BLT linear->linear", { XY_SRC_COPY_BLT, 3 << 24 | 0xcc << 16 | pitch, 0, rect,
						     (uint32_t)DST_ADDR, 0, 0, pitch, (uint32_t)SRC_ADDR, 0 } },
		{ "XY_FAST_COPY_BLT linear->linear", { XY_FAST_COPY_BLT, 3 << 24 | pitch, 0, rect, (uint32_t)DST_ADDR, 0, 0, pitch,
						      (uint32_t)SRC_ADDR, 0 } },
		{ "XY_FAST_COPY_BLT linear->X", { XY_FAST_COPY_BLT | 1 << 13, 3 << 24 | pitch / 4, 0, rect, (uint32_t)DST_ADDR, 0, 0,
						 pitch, (uint32_t)SRC_ADDR, 0 } },
		{ "XY_FAST_COPY_BLT linear->Y", { XY_FAST_COPY_BLT | 2 << 13, 3 << 24 | pitch / 4, 0, rect, (uint32_t)DST_ADDR, 0, 0,
						 pitch, (uint32_t)SRC_ADDR, 0 } },
	};
	struct drm_i915_gem_exec_object2 obj[3] = {
		pinned(src, SRC_ADDR, 0), pinned(dst, DST_ADDR, EXEC_OBJECT_WRITE), pinned(batch, BATCH_ADDR, 0),
	};
	printf("\n%-34s %12s %12s %7s   (%ld MiB a copy, best of %ld, interleaved with memcpy)\n", "blit", "MB/s", "memcpy MB/s",
	       "ratio", mib, reps);
	for (unsigned i = 0; i < sizeof blits / sizeof blits[0]; i++) {
		uint32_t cmds[12];
		memcpy(cmds, blits[i].cmd, sizeof blits[i].cmd);
		cmds[10] = MI_BATCH_BUFFER_END;
		cmds[11] = 0;
		gem_pwrite(fd, batch, 0, cmds, sizeof cmds);
		double gpu = 1e9, cpu = 1e9;
		for (long r = 0; r < reps; r++) {
			double t0 = now();
			must(exec(fd, obj, 3, I915_EXEC_BLT | I915_EXEC_NO_RELOC) == 0, "EXECBUFFER2 (blit)");
			wait_idle(fd, dst);
			double t1 = now();
			memcpy(b, a, bytes);
			double t2 = now();
			gpu = t1 - t0 < gpu ? t1 - t0 : gpu;
			cpu = t2 - t1 < cpu ? t2 - t1 : cpu;
		}
		printf("%-34s %12.0f %12.0f %6.2fx\n", blits[i].name, bytes / gpu / 1e6, bytes / cpu / 1e6, cpu / gpu);
		if (i == 0) { /* the copy is a copy: a page from the middle */
			static char page[4096];
			struct drm_i915_gem_pread p = { .handle = dst, .offset = bytes / 2, .size = sizeof page,
							.data_ptr = (uintptr_t)page };
			must(ioctl(fd, DRM_IOCTL_I915_GEM_PREAD, &p) == 0, "PREAD");
			must(memcmp(page, a + bytes / 2, sizeof page) == 0, "the blit's bytes");
		}
	}
	free(a);
	free(b);
	return 0;
}
