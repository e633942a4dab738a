/* coh_bench DEVICE [DAEMON_PID] - what a coherency point costs: upstream IGT gem_pwrite
 * big-gtt-*'s loop (PWRITE 8 bytes into a page, SET_DOMAIN(GTT, 0), read the
 * page back through a WC map) per iteration, on a 1 MiB object (the baseline)
 * and on a 4 GiB + 4 KiB one. A coherency point should cost by the pages
 * cached or dirty, not by the object's size: the goal is <= 1.3x.
 * With the daemon's pid, CPU time (client + daemon) per iteration is
 * printed too: on a loaded machine it is the steadier figure.
 * Knobs: COH_ITERS (4096 per run), COH_ROUNDS (3, the best is kept),
 * COH_BIG_MIB (4096). Prints figures and ratios; asserts nothing but the
 * bytes read back (a wrong byte is a failed run, not a number). */
#include "bench.h"
#include <sys/resource.h>

static const uint64_t big_default_mib = 4096;

static int daemon_pid;

/* CPU seconds used so far by this process and the daemon (0 without its pid). */
static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double t = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
	if (daemon_pid > 0)
		t += process_cpu_seconds(daemon_pid);
	return t;
}

static double cpu_per_iter; /* of the last loop, microseconds */

/* One round of `iters` iterations over `obj` pages: page i*stride mod pages.
 * Returns microseconds per iteration. */
static double loop(int fd, uint32_t handle, volatile uint64_t *ptr, uint64_t pages, uint64_t stride, long iters,
		   uint64_t salt)
{
	double t0 = now(), c0 = cpu_seconds();
	for (long i = 0; i < iters; i++) {
		uint64_t page = ((uint64_t)i * stride) % pages;
		uint64_t offset = page << 12;
		uint64_t sub = page % (4096 / 8 - 1) * 8;
		uint64_t value = offset ^ salt;
		struct drm_i915_gem_pwrite w = { .handle = handle, .offset = offset + sub, .size = 8,
						 .data_ptr = (uintptr_t)&value };
		must(ioctl(fd, DRM_IOCTL_I915_GEM_PWRITE, &w) == 0, "PWRITE");
		struct drm_i915_gem_set_domain d = { .handle = handle, .read_domains = I915_GEM_DOMAIN_GTT };
		must(ioctl(fd, DRM_IOCTL_I915_GEM_SET_DOMAIN, &d) == 0, "SET_DOMAIN");
		if (ptr[(offset + sub) / 8] != value) {
			fprintf(stderr, "coh_bench: page %llu read 0x%llx through WC, wrote 0x%llx\n",
				(unsigned long long)page, (unsigned long long)ptr[(offset + sub) / 8],
				(unsigned long long)value);
			exit(1);
		}
	}
	cpu_per_iter = (cpu_seconds() - c0) * 1e6 / iters;
	return (now() - t0) * 1e6 / iters;
}

/* An object of `size` bytes mapped WC, as the IGT test does. */
struct obj {
	uint32_t handle;
	uint64_t size, pages, stride;
	void *map;
};

static struct obj obj_make(int fd, uint64_t size, int spread, long iters)
{
	struct obj o = { .size = size, .pages = size >> 12 };
	o.stride = spread && o.pages > (uint64_t)iters ? o.pages / iters : 1;
	o.handle = gem_create(fd, size);
	struct drm_i915_gem_set_domain d = { .handle = o.handle, .read_domains = I915_GEM_DOMAIN_GTT,
					     .write_domain = I915_GEM_DOMAIN_GTT };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_SET_DOMAIN, &d) == 0, "SET_DOMAIN");
	o.map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, mmap_offset(fd, o.handle, I915_MMAP_OFFSET_WC));
	must(o.map != MAP_FAILED, "mmap WC");
	return o;
}

static void obj_free(int fd, struct obj *o)
{
	munmap(o->map, o->size);
	gem_close(fd, o->handle);
}
int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s DEVICE [DAEMON_PID]\n", argv[0]);
		return 2;
	}
	daemon_pid = argc == 3 ? atoi(argv[2]) : 0;
	int fd = open(argv[1], O_RDWR);
	must(fd >= 0, "open");
	long iters = env_long("COH_ITERS", 4096);
	int rounds = (int)env_long("COH_ROUNDS", 3);
	rounds = rounds < 1 ? 1 : rounds > 16 ? 16 : rounds;
	uint64_t big = (uint64_t)env_long("COH_BIG_MIB", big_default_mib) << 20;
	big += 4096;

	/* Rounds alternate between the objects, so that each sees the same
	 * load on a shared machine; the best round of each is kept. */
	struct obj o[3] = { obj_make(fd, 1 << 20, 0, iters), obj_make(fd, big, 0, iters), obj_make(fd, big, 1, iters) };
	double wall_r[3][16], cpu_r[3][16];
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < 3; k++) {
			wall_r[k][r] = loop(fd, o[k].handle, o[k].map, o[k].pages, o[k].stride, iters,
					    0x5a5a000000000000ull * (r + 1));
			cpu_r[k][r] = cpu_per_iter;
		}
	for (int k = 0; k < 3; k++)
		obj_free(fd, &o[k]);
	double small = best(wall_r[0], rounds), seq = best(wall_r[1], rounds), spread = best(wall_r[2], rounds);
	double cs = best(cpu_r[0], rounds), cq = best(cpu_r[1], rounds), cp = best(cpu_r[2], rounds);
	printf("PWRITE 8 B + SET_DOMAIN(GTT) + WC read, per iteration (%ld iterations, best of %d):\n", iters, rounds);
	printf("  %-34s %8.1f us  (baseline)", "1 MiB object", small);
	if (daemon_pid > 0)
		printf("   CPU %7.1f us", cs);
	printf("\n");
	char a[64], b[64];
	snprintf(a, sizeof a, "%llu MiB + 4 KiB, pages in order", (unsigned long long)(big >> 20));
	snprintf(b, sizeof b, "%llu MiB + 4 KiB, pages across it", (unsigned long long)(big >> 20));
	const char *name[2] = { a, b };
	double wall[2] = { seq, spread }, cpu[2] = { cq, cp };
	for (int i = 0; i < 2; i++) {
		printf("  %-34s %8.1f us  %5.2fx", name[i], wall[i], wall[i] / small);
		if (daemon_pid > 0)
			printf("   CPU %7.1f us  %5.2fx", cpu[i], cpu[i] / cs);
		printf("  (goal <= 1.3x)\n");
	}
	close(fd);
	return 0;
}
