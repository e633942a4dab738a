/* hostile_memory DEVICE [DAEMON_PID]: what a client can make the daemon
 * keep (issue 11, items 3-5), in three shapes:
 *  - opens: 48 opens each touching one page of one X-tiled 8 GiB object
 *    (per-open fault state used to cost a byte per object page: 2 MiB each);
 *  - short opens: 400 opens of a 1 GiB X-tiled object, each touching one
 *    page, then closed (that state used to outlive the open);
 *  - debug readers: 100 opens of debug/i915_gem_objects listing 5000
 *    objects, each having read one byte (each used to keep a ~0.5 MiB snapshot).
 * With the daemon's pid it reads its resident set before and after each and
 * fails past a bound; without, it only checks that every shape works and
 * that a whole read of the listing is complete. */
#include "igt_lite.h"
#include "gtt_lite.h"

#define NAME "hostile_memory"

static pid_t daemon_pid;

/* The daemon's VmRSS in KiB, or -1. */
static long rss_kib(void)
{
	if (!daemon_pid)
		return -1;
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)daemon_pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Prints the growth and fails past `limit_kib` (only with a pid). */
static void report(const char *shape, long before, int count, long limit_kib)
{
	long after = rss_kib();
	if (before < 0 || after < 0) {
		info("%s: done (no daemon pid: memory not measured)", shape);
		return;
	}
	long grew = after - before;
	info("%s: daemon RSS %ld -> %ld KiB (%+ld KiB, %.1f KiB each of %d)", shape, before, after, grew,
	     (double)grew / count, count);
	CHECK_MSG(grew < limit_kib, "%s grew the daemon by %ld KiB (bound %ld)", shape, grew, limit_kib);
}

/* A new open of `path` allowed on the flinked object's GTT node, touching
 * one page `at` bytes in; returns the fd (still open). */
static int touch_one_page(const char *path, uint32_t name, uint64_t at)
{
	int fd = drm_open(path);
	uint64_t size;
	uint32_t h = igt_gem_open(fd, name, &size);
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	volatile uint32_t *p = gem_mmap(fd, off, size, PROT_READ);
	uint32_t v;
	CHECK_MSG(try_read32(p + at / 4, &v) == 0, "GTT read of one page faulted");
	CHECK_OK(munmap((void *)p, size));
	return fd;
}

static uint32_t tiled_object(int fd, uint64_t size, uint32_t *name)
{
	uint32_t h = gem_create(fd, size);
	set_tiling(fd, h, I915_TILING_X, 4096);
	*name = igt_gem_flink(fd, h);
	return h;
}

static void many_opens(const char *path, int fd)
{
	enum { N = 48 };
	/* 8 GiB, or half of memory on a small machine: its pages must be had. */
	uint64_t size = 8 * GiB, half = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / 2;
	if (size > half)
		size = half & ~(MiB - 1);
	uint32_t name;
	uint32_t h = tiled_object(fd, size, &name);
	int fds[N];
	fds[0] = touch_one_page(path, name, size / 2); /* warm-up: workers, a binding */
	long before = rss_kib();
	for (int i = 1; i < N; i++)
		fds[i] = touch_one_page(path, name, size / 2 + (uint64_t)i * 64 * KiB);
	/* A byte per page each before the fix: 2 MiB per open of 8 GiB, 94 MiB. */
	char shape[96];
	snprintf(shape, sizeof shape, "opens touching one page of a %llu MiB X-tiled object", (unsigned long long)(size >> 20));
	report(shape, before, N - 1, (long)(size >> 12) * (N - 1) / 1024 / 4 + 8 * 1024);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	gem_close(fd, h);
}

static void short_opens(const char *path, int fd)
{
	enum { N = 400 };
	uint32_t name;
	uint32_t h = tiled_object(fd, 1 * GiB, &name);
	close(touch_one_page(path, name, 0));
	long before = rss_kib();
	for (int i = 0; i < N; i++)
		close(touch_one_page(path, name, (uint64_t)(i % 1024) * MiB));
	/* 256 KiB each before the fix: 100 MiB. */
	report("short opens touching one page of a 1 GiB X-tiled object", before, N, 24 * 1024);
	gem_close(fd, h);
}

static void debug_readers(const char *path, int fd)
{
	enum { OBJECTS = 5000, READERS = 100 };
	uint32_t *h = malloc(OBJECTS * sizeof *h);
	CHECK(h);
	for (int i = 0; i < OBJECTS; i++)
		h[i] = gem_create(fd, PAGE_SZ);

	/* A whole read (small reads, as a script's) lists every object once. */
	FILE *f = debug_file(path, "i915_gem_objects");
	if (!f) {
		info("no debug/i915_gem_objects beside the device: readers not checked");
		goto out;
	}
	setvbuf(f, NULL, _IOFBF, 4096);
	char line[512];
	long lines = 0, objects = -1;
	while (fgets(line, sizeof line, f)) {
		if (lines == 0)
			CHECK(sscanf(line, "%ld objects", &objects) == 1);
		lines++;
	}
	fclose(f);
	CHECK_MSG(objects >= OBJECTS && lines == objects + 2, "listing: %ld objects, %ld lines", objects, lines);

	FILE *r[READERS];
	long before = rss_kib();
	for (int i = 0; i < READERS; i++) {
		r[i] = debug_file(path, "i915_gem_objects");
		CHECK(r[i]);
		setvbuf(r[i], NULL, _IONBF, 0);
		CHECK(fgetc(r[i]) != EOF);
	}
	/* ~0.5 MiB each before the fix: 50 MiB. */
	report("debug readers of a 5000-object listing, one byte read", before, READERS, 16 * 1024);
	for (int i = 0; i < READERS; i++)
		fclose(r[i]);
out:
	for (int i = 0; i < OBJECTS; i++)
		gem_close(fd, h[i]);
	free(h);
}

int main(int argc, char **argv)
{
	alarm(120);
	if (argc != 2 && argc != 3)
		fail("usage: %s <path-to-card0> [daemon-pid]", argv[0]);
	char *args[] = { argv[0], argv[1], NULL };
	const char *path = igt_init(2, args, NAME);
	daemon_pid = argc == 3 ? atoi(argv[2]) : 0;
	int fd = drm_open(path);
	/* HOSTILE_ONLY=opens|short|debug runs one shape. */
	const char *only = getenv("HOSTILE_ONLY");
	if (!only || !strcmp(only, "opens"))
		many_opens(path, fd);
	if (!only || !strcmp(only, "short"))
		short_opens(path, fd);
	if (!only || !strcmp(only, "debug"))
		debug_readers(path, fd);
	close(fd);
	pass(NAME, "per-open fault state and debug readers stay small");
	return 0;
}
