/* reclaim_fork: an object whose last handle is closed while only a forked child still maps it (never touched) survives the daemon's reclaim of closed, unmapped objects; the child then faults it and reads its canary. */
#include "igt_lite.h"
#include <sys/wait.h>

#define NAME "reclaim_fork"
#define SIZE (64 * KiB)
#define CHURN 1500 /* closed, unmapped objects: several reclaim scans' worth */

static const char *device;

static void churn(int fd)
{
	for (int i = 0; i < CHURN; i++) {
		uint32_t h = gem_create(fd, 4096);
		volatile uint32_t *p = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_WC), 4096, PROT_READ);
		(void)p[0];
		munmap((void *)p, 4096);
		gem_close(fd, h);
	}
}

int main(int argc, char **argv)
{
	alarm(60);
	device = igt_init(argc, argv, NAME);
	long base = live_objects(device);
	if (base < 0)
		skip(NAME, "no debug/i915_gem_objects beside %s", device);
	int fd = drm_open(device);

	uint32_t h = gem_create(fd, SIZE);
	uint32_t *data = malloc(SIZE);
	for (size_t i = 0; i < SIZE / 4; i++)
		data[i] = 0xf0c0000u ^ (uint32_t)i;
	gem_pwrite(fd, h, 0, data, SIZE);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	volatile uint32_t *map = gem_mmap(fd, off, SIZE, PROT_READ | PROT_WRITE);

	int go[2];
	CHECK(pipe(go) == 0);
	fflush(stdout);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		/* First touch: a fault the daemon must still serve. */
		for (size_t i = 0; i < SIZE / 4; i += 1024) {
			uint32_t v;
			if (try_read32(map + i, &v))
				fail("child: SIGBUS at dword %zu: the object was freed under our mapping", i);
			if (v != data[i])
				fail("child: dword %zu is 0x%08x, expected 0x%08x", i, v, data[i]);
		}
		_exit(0);
	}
	close(go[0]);

	/* The parent lets go: only the child's (untouched) mapping is left. */
	CHECK_OK(munmap((void *)map, SIZE));
	gem_close(fd, h);

	/* Enough closed, unmapped objects for the daemon to scan, twice. */
	churn(fd);
	usleep(400 * 1000);
	churn(fd);
	usleep(400 * 1000);
	/* The scans run on the daemon's own time (100 ms grace, then every
	 * process's maps): on a loaded machine (the full suite) none had
	 * finished at 400 ms once. Wait for one, up to 10 s. */
	long live = live_objects(device) - base;
	for (int waited = 400; live >= CHURN && waited < 10000; waited += 100) {
		usleep(100 * 1000);
		live = live_objects(device) - base;
	}
	info("after %d closed, unmapped objects: %ld live", 2 * CHURN, live);
	CHECK_MSG(live < CHURN, "%ld objects live: the daemon reclaimed nothing (this test needs its reclaim)", live);

	CHECK(write(go[1], "x", 1) == 1);
	int st = 0;
	CHECK(waitpid(child, &st, 0) == child);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed (status 0x%x)", st);
	close(fd);
	free(data);
	pass(NAME, "a child's inherited, untouched mapping kept its object through reclaim of %d others", 2 * CHURN);
}
