/* mem_bench DEVICE DAEMON_PID - what the daemon's memory costs, per client,
 * per object and per debug reader, in the normal case and under the hostile
 * shapes of issue 11 (items 3-5), each figure the growth of the daemon's
 * resident set (VmRSS) divided by the count:
 *   client       an open that created one object and faulted one page of it
 *   object       a one-page object with an mmap offset (no page written)
 *   tiled open   an open that touched one page of an 8 GiB X-tiled object
 *                (hostile: the per-open fault state was a byte per page)
 *   short open   the same on a 1 GiB object, closed again (hostile: state
 *                that outlived the open)
 *   debug reader an open of debug/i915_gem_objects listing 20000 objects
 *                that read one byte, kept open (hostile: each kept a whole
 *                snapshot)
 * The first two are the normal case the hostile figures compare with. */
#define _GNU_SOURCE
#include "bench.h"
#include <sys/stat.h>

static const char *device;
static pid_t daemon_pid;

static long rss_kib(void)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)daemon_pid);
	FILE *f = fopen(path, "r");
	must(f != NULL, "daemon status");
	long kib = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int dev_open(void)
{
	int fd = open(device, O_RDWR | O_CLOEXEC);
	must(fd >= 0, "open device");
	return fd;
}

static uint32_t create(int fd, uint64_t size)
{
	struct drm_i915_gem_create c = { .size = size };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &c) == 0, "GEM_CREATE");
	return c.handle;
}

static uint64_t offset_of(int fd, uint32_t h, uint64_t flags)
{
	struct drm_i915_gem_mmap_offset m = { .handle = h, .flags = flags };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &m) == 0, "MMAP_OFFSET");
	return m.offset;
}

static void touch(int fd, uint64_t off, uint64_t size, uint64_t at)
{
	volatile uint8_t *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, off);
	must(p != MAP_FAILED, "mmap");
	madvise((void *)p, size, MADV_RANDOM);
	(void)p[at];
	munmap((void *)p, size);
}

static void line(const char *what, long before, long n, const char *unit_note)
{
	long grew = rss_kib() - before;
	printf("  %-58s %8.2f KiB each (%ld, +%ld KiB)%s\n", what, (double)grew / n, n, grew, unit_note);
}

/* A flinked X-tiled object of `size`; its name. */
static uint32_t tiled(int fd, uint64_t size)
{
	uint32_t h = create(fd, size);
	struct drm_i915_gem_set_tiling st = { .handle = h, .tiling_mode = I915_TILING_X, .stride = 4096 };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_SET_TILING, &st) == 0, "SET_TILING");
	struct drm_gem_flink fl = { .handle = h };
	must(ioctl(fd, DRM_IOCTL_GEM_FLINK, &fl) == 0, "FLINK");
	return fl.name;
}

/* A new open touching one page of flinked object `name` through the GTT. */
static int tiled_open(uint32_t name, uint64_t at)
{
	int fd = dev_open();
	struct drm_gem_open o = { .name = name };
	must(ioctl(fd, DRM_IOCTL_GEM_OPEN, &o) == 0, "GEM_OPEN");
	touch(fd, offset_of(fd, o.handle, I915_MMAP_OFFSET_GTT), o.size, at);
	return fd;
}

static FILE *debug_open(void)
{
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s", device);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	snprintf(path, sizeof path, "%s/debug/i915_gem_objects", dir);
	FILE *f = fopen(path, "r");
	must(f != NULL, "open debug/i915_gem_objects");
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s DEVICE DAEMON_PID\n", argv[0]);
		return 2;
	}
	device = argv[1];
	daemon_pid = atoi(argv[2]);
	int fd = dev_open();
	printf("  daemon resident at start: %ld KiB\n", rss_kib());

	/* Warm up: worker threads, malloc arenas. */
	for (int i = 0; i < 20; i++) {
		int f = dev_open();
		uint32_t h = create(f, 4096);
		touch(f, offset_of(f, h, I915_MMAP_OFFSET_WB), 4096, 0);
		close(f);
	}

	enum { CLIENTS = 200, OBJECTS = 20000, TILED = 48, SHORT = 1000, READERS = 100 };
	static int fds[CLIENTS];
	long before = rss_kib();
	for (int i = 0; i < CLIENTS; i++) {
		fds[i] = dev_open();
		uint32_t h = create(fds[i], 4096);
		touch(fds[i], offset_of(fds[i], h, I915_MMAP_OFFSET_WB), 4096, 0);
	}
	line("client (open, one object, one page faulted)", before, CLIENTS, "");
	for (int i = 0; i < CLIENTS; i++)
		close(fds[i]);

	before = rss_kib();
	for (int i = 0; i < OBJECTS; i++)
		offset_of(fd, create(fd, 4096), I915_MMAP_OFFSET_WB);
	line("object (one page, with an mmap offset)", before, OBJECTS, "");

	static FILE *r[READERS];
	before = rss_kib();
	for (int i = 0; i < READERS; i++) {
		r[i] = debug_open();
		must(fgetc(r[i]) != EOF, "debug read");
	}
	line("debug reader, 20000-object listing, 1 byte read (hostile)", before, READERS, "");
	for (int i = 0; i < READERS; i++)
		fclose(r[i]);

	uint64_t big = 8ull << 30, half = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / 2;
	if (big > half)
		big = half & ~((1ull << 20) - 1);
	uint32_t name = tiled(fd, big);
	static int t[TILED];
	close(tiled_open(name, 0));
	before = rss_kib();
	for (int i = 0; i < TILED; i++)
		t[i] = tiled_open(name, big / 2 + (uint64_t)i * 65536);
	char what[96];
	snprintf(what, sizeof what, "open touching 1 page of a %llu MiB X-tiled object (hostile)",
		 (unsigned long long)(big >> 20));
	line(what, before, TILED, "");
	for (int i = 0; i < TILED; i++)
		close(t[i]);

	name = tiled(fd, 1ull << 30);
	before = rss_kib();
	for (int i = 0; i < SHORT; i++)
		close(tiled_open(name, (uint64_t)(i % 1024) << 20));
	line("short open of a 1 GiB X-tiled object, closed (hostile)", before, SHORT, "");
	printf("  daemon resident at the end: %ld KiB\n", rss_kib());
	close(fd);
	return 0;
}
