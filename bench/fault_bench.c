/* fault_bench DEVICE [MiB] - fault-in throughput of GTT and CPU mmaps of the
 * device against tmpfs mmap fault-in, measured in the same run. Prints MB/s
 * and the ratio to tmpfs; asserts nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fault_bench: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

/* Touches one byte per page; returns seconds. */
static double fault_in(volatile uint8_t *p, size_t size)
{
	unsigned sum = 0;
	double t0 = now();
	for (size_t i = 0; i < size; i += 4096)
		sum += p[i];
	double t = now() - t0;
	if (sum == 0xdeadbeef)
		puts("");
	return t;
}

static uint8_t *data; /* what written objects hold */

static double device_run(int fd, size_t size, uint32_t tiling, uint32_t stride, uint64_t type, int written)
{
	struct drm_i915_gem_create c = { .size = size };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &c) == 0, "GEM_CREATE");
	if (written) {
		struct drm_i915_gem_pwrite w = { .handle = c.handle, .size = size, .data_ptr = (uintptr_t)data };
		must(ioctl(fd, DRM_IOCTL_I915_GEM_PWRITE, &w) == 0, "PWRITE");
	}
	if (tiling) {
		struct drm_i915_gem_set_tiling t = { .handle = c.handle, .tiling_mode = tiling, .stride = stride };
		must(ioctl(fd, DRM_IOCTL_I915_GEM_SET_TILING, &t) == 0, "SET_TILING");
	}
	struct drm_i915_gem_mmap_offset m = { .handle = c.handle, .flags = type };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &m) == 0, "MMAP_OFFSET");
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, m.offset);
	must(p != MAP_FAILED, "mmap");
	double t = fault_in(p, size);
	munmap(p, size);
	struct drm_gem_close cl = { .handle = c.handle };
	ioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl);
	return t;
}

static double tmpfs_run(size_t size)
{
	char path[] = "/dev/shm/fakedrm-bench-XXXXXX";
	int fd = mkstemp(path);
	must(fd >= 0, "mkstemp");
	unlink(path);
	must(ftruncate(fd, size) == 0, "ftruncate");
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	must(p != MAP_FAILED, "mmap tmpfs");
	/* A fresh file, as a fresh object: each fault allocates a zeroed page
	 * (the spike's floor_bench baseline). */
	double t = fault_in(p, size);
	munmap(p, size);
	close(fd);
	return t;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fault_bench DEVICE [MiB]\n");
		return 2;
	}
	size_t size = (size_t)(argc > 2 ? atoi(argv[2]) : 64) << 20;
	int fd = open(argv[1], O_RDWR);
	must(fd >= 0, argv[1]);
	struct {
		const char *name;
		uint32_t tiling, stride;
		uint64_t type;
		int written;
	} runs[] = {
		{ "gtt linear", I915_TILING_NONE, 0, I915_MMAP_OFFSET_GTT, 1 },
		{ "gtt X-tiled", I915_TILING_X, 4096, I915_MMAP_OFFSET_GTT, 1 },
		{ "gtt Y-tiled", I915_TILING_Y, 4096, I915_MMAP_OFFSET_GTT, 1 },
		{ "wb (cpu)", I915_TILING_NONE, 0, I915_MMAP_OFFSET_WB, 1 },
		{ "gtt lin. fresh", I915_TILING_NONE, 0, I915_MMAP_OFFSET_GTT, 0 },
	};
	data = malloc(size);
	must(data != NULL, "malloc");
	for (size_t i = 0; i < size; i++)
		data[i] = i * 7 + 1;
	/* Each device run is paired with a tmpfs run next to it (which goes
	 * first alternates), so both see the same machine; best of each. */
	const int reps = getenv("FAULT_REPS") ? atoi(getenv("FAULT_REPS")) : 3;
	printf("%-14s %9s %9s %7s   (%zu MiB, best of %d, each next to its own tmpfs run)\n", "mapping", "MB/s",
	       "tmpfs", "ratio", size >> 20, reps);
	for (unsigned i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		double best = 1e9, base = 1e9;
		for (int r = 0; r < reps; r++) {
			double t;
			if (r % 2 == 0) {
				t = tmpfs_run(size);
				base = t < base ? t : base;
			}
			t = device_run(fd, size, runs[i].tiling, runs[i].stride, runs[i].type,
				       runs[i].written);
			best = t < best ? t : best;
			if (r % 2 == 1) {
				t = tmpfs_run(size);
				base = t < base ? t : base;
			}
		}
		printf("%-14s %9.0f %9.0f %6.2fx\n", runs[i].name, size / best / 1e6, size / base / 1e6, base / best);
	}
	if (!getenv("FAULT_NO_TARGETS"))
		printf("targets: gtt linear >= 0.8x tmpfs, X/Y-tiled >= 0.5x\n");
	close(fd);
	return 0;
}
