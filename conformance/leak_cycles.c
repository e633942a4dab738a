/* leak_cycles: many create/pwrite/mmap/fault/munmap/close cycles on one fd and across fresh fds; every fault reads the cycle's own canary, and the daemon's live objects stay bounded (closed, unmapped objects are reclaimed without closing the fd). */
#include "igt_lite.h"
#include <time.h>

#define NAME "leak_cycles"
#define SIZE (8 * KiB)
#define DEF_CYCLES 10000L /* per phase; the test suite asks for 100000 */
#define PER_FD 100 /* cycles per fd in the across-fds phase */
#define SAMPLE 2000 /* cycles between looks at the object count */
/* Without reclaim one fd's closed objects live until the fd is released;
 * with it they are freed a few hundred at a time. */
#define MAX_LIVE 20000L

static const char *device;

/* One cycle on fd: a canary written by PWRITE must be what the fault shows. */
static void cycle(int fd, long i)
{
	uint32_t h = gem_create(fd, SIZE);
	uint32_t canary[4] = { 0x1eac0000u ^ (uint32_t)i, (uint32_t)i, ~(uint32_t)i, 0xc0ffee00u };
	gem_pwrite(fd, h, SIZE - sizeof canary, canary, sizeof canary);
	uint64_t off = mmap_offset(fd, h, i & 1 ? I915_MMAP_OFFSET_GTT : I915_MMAP_OFFSET_WC);
	volatile uint32_t *p = gem_mmap(fd, off, SIZE, PROT_READ);
	/* No readahead: each fault asks for its page alone (a cycle then costs
	 * the daemon one page, not a 128 KiB window of mostly guard zeros). */
	madvise((void *)p, SIZE, MADV_RANDOM);
	const volatile uint32_t *tail = p + (SIZE - sizeof canary) / 4;
	for (int k = 0; k < 4; k++)
		CHECK_MSG(tail[k] == canary[k], "cycle %ld: dword %d reads 0x%08x, wrote 0x%08x", i, k, tail[k], canary[k]);
	CHECK_MSG(p[0] == 0, "cycle %ld: fresh object's first dword is 0x%08x", i, p[0]);
	CHECK_OK(munmap((void *)p, SIZE));
	gem_close(fd, h);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	igt_test_name = NAME;
	setvbuf(stdout, NULL, _IOLBF, 0);
	igt_install_handlers();
	if (argc < 2)
		fail("usage: %s DEVICE [CYCLES]", argv[0]);
	device = argv[1];
	long cycles = argc > 2 ? atol(argv[2]) : DEF_CYCLES;
	alarm(600);
	long base = live_objects(device);
	if (base < 0)
		skip(NAME, "no debug/i915_gem_objects beside %s", device);

	/* One fd for every cycle: closed objects must not wait for the fd's release. */
	double t0 = now();
	long max_live = 0;
	int fd = drm_open(device);
	for (long i = 0; i < cycles; i++) {
		cycle(fd, i);
		if (i % SAMPLE == SAMPLE - 1) {
			long n = live_objects(device) - base;
			if (n > max_live)
				max_live = n;
			CHECK_MSG(n <= MAX_LIVE, "%ld objects live after %ld cycles on one fd (all closed and unmapped)", n, i + 1);
		}
	}
	double t1 = now();
	info("one fd: %ld cycles in %.1f s, at most %ld objects live (sampled every %d)", cycles, t1 - t0, max_live, SAMPLE);
	close(fd);

	/* Fresh fds, PER_FD cycles each. */
	long max_live2 = 0;
	for (long i = 0; i < cycles; i += PER_FD) {
		fd = drm_open(device);
		for (long k = i; k < i + PER_FD && k < cycles; k++)
			cycle(fd, k);
		close(fd);
		if ((i / PER_FD) % (SAMPLE / PER_FD) == 0) {
			long n = live_objects(device) - base;
			if (n > max_live2)
				max_live2 = n;
			CHECK_MSG(n <= MAX_LIVE, "%ld objects live after %ld cycles across fds", n, i + PER_FD);
		}
	}
	info("across fds: %ld cycles on %ld fds in %.1f s, at most %ld objects live", cycles, (cycles + PER_FD - 1) / PER_FD,
	     now() - t1, max_live2);

	/* Everything released: back to where we started. */
	long n = -1;
	for (int i = 0; i < 500 && (n = live_objects(device)) != base; i++)
		usleep(10 * 1000);
	CHECK_MSG(n == base, "%ld objects live after every fd was closed, %ld before", n, base);
	pass(NAME, "%ld cycles on one fd and %ld across fds: canaries intact, at most %ld objects live", cycles, cycles,
	     max_live > max_live2 ? max_live : max_live2);
}
