/* scale_bench DEVICE DAEMON_PID - what a growing object count costs: N
 * objects of one page, each with an mmap offset, for N = 1k, 10k, 100k, 1M
 * (SCALE_MAX caps N). At each N it times MMAP_OFFSET on new objects and page
 * faults on random existing ones (each a fresh page: a READ reaches the
 * daemon and looks the offset up), each in short batches interleaved with
 * GET_CAP batches (a trivial ioctl whose cost does not depend on N). The
 * ns figures are the best batch (load from elsewhere only adds time); the
 * ratios to 1k compare each batch with the GET_CAP batch next to it
 * (median over the rounds), so a machine slowed down by other work for
 * minutes still compares like with like. It also reads the daemon's resident set: bytes per
 * object added since the previous N (no backing page is ever written, so
 * none may be resident), the cost of a GTT fault once the aperture is full
 * of one-page bindings, and
 * what a 2 GiB object costs when one page of it is written. */
#include "bench.h"

static int fd;
static uint64_t *offsets; /* per object: its fake offset */
static uint32_t *handles;
static uint8_t *faulted;
static long count;

static void add_objects(long n)
{
	for (; count < n; count++)
		offsets[count] = mmap_offset(fd, handles[count] = gem_create(fd, 4096), I915_MMAP_OFFSET_WB);
}

static double time_get_cap(int k)
{
	double t0 = now();
	for (int i = 0; i < k; i++) {
		struct drm_get_cap c = { .capability = DRM_CAP_TIMESTAMP_MONOTONIC };
		must(ioctl(fd, DRM_IOCTL_GET_CAP, &c) == 0, "GET_CAP");
	}
	return (now() - t0) / k * 1e9;
}

/* MMAP_OFFSET creating a node, on k new objects (created untimed). */
static double time_mmap_offset(int k)
{
	uint32_t h[k];
	for (int i = 0; i < k; i++)
		h[i] = gem_create(fd, 4096);
	double t0 = now();
	for (int i = 0; i < k; i++)
		offsets[count + i] = mmap_offset(fd, handles[count + i] = h[i], I915_MMAP_OFFSET_WB);
	double t = (now() - t0) / k * 1e9;
	count += k;
	return t;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A first touch of k random objects not touched before: mmap, read one
 * byte (a READ at its offset), munmap. */
static double time_faults(int k)
{
	unsigned sum = 0;
	double t0 = now();
	for (int i = 0; i < k; i++) {
		long o;
		do
			o = next_rand() % count;
		while (faulted[o]);
		faulted[o] = 1;
		volatile uint8_t *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, offsets[o]);
		must(p != MAP_FAILED, "mmap");
		/* One page per READ, no readahead: the lookup, not the copying. */
		madvise((void *)p, 4096, MADV_RANDOM);
		sum += p[0];
		munmap((void *)p, 4096);
	}
	double t = (now() - t0) / k * 1e9;
	if (sum == 0xdeadbeef)
		puts("");
	return t;
}

/* A GTT node for object o and a first touch through it. */
static void gtt_fault(long o)
{
	volatile uint8_t *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, mmap_offset(fd, handles[o], I915_MMAP_OFFSET_GTT));
	must(p != MAP_FAILED, "mmap gtt");
	madvise((void *)p, 4096, MADV_RANDOM);
	(void)p[0];
	munmap((void *)p, 4096);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: scale_bench DEVICE DAEMON_PID\n");
		return 2;
	}
	long max = env_long("SCALE_MAX", 1000000);
	int pid = atoi(argv[2]), rounds = env_long("SCALE_ROUNDS", 9), k = env_long("SCALE_K", 200);
	fd = open(argv[1], O_RDWR);
	must(fd >= 0, argv[1]);
	long cap = max + 4L * rounds * k + 16;
	offsets = calloc(cap, sizeof *offsets);
	faulted = calloc(cap, 1);
	handles = calloc(cap, sizeof *handles);
	must(offsets && faulted && handles, "calloc");

	/* Warm the daemon's allocator and thread buffers, then take its baseline. */
	add_objects(64);
	time_faults(16);
	time_get_cap(2000);
	long rss0 = rss_bytes(pid);

	printf("%9s %10s %14s %7s %12s %7s %14s\n", "objects", "GET_CAP ns", "MMAP_OFFSET ns", "vs 1k", "fault ns",
	       "vs 1k", "RSS B/object");
	double mo1k = 0, f1k = 0;
	long prev_n = count, prev_rss = rss0;
	for (long n = 1000; n <= max; n *= 10) {
		double t = now();
		add_objects(n);
		double build = now() - t;
		long rss = rss_bytes(pid), objects = count; /* before the timed runs add more */
		double mo[rounds], f[rounds], gc[rounds];
		for (int r = 0; r < rounds; r++) {
			gc[r] = time_get_cap(k);
			mo[r] = time_mmap_offset(k);
			f[r] = time_faults(k < n / 4 ? k : n / 4);
		}
		double m = best(mo, rounds), fl = best(f, rounds), g = best(gc, rounds);
		double rm[rounds], rf[rounds]; /* each against its GET_CAP batch */
		for (int r = 0; r < rounds; r++)
			rm[r] = mo[r] / gc[r], rf[r] = f[r] / gc[r];
		double nm = median(rm, rounds), nf = median(rf, rounds);
		if (n == 1000)
			mo1k = nm, f1k = nf;
		printf("%9ld %10.0f %14.0f %6.2fx %12.0f %6.2fx %14.0f   (built in %.1f s)\n", n, g, m, nm / mo1k, fl,
		       nf / f1k, (double)(rss - prev_rss) / (objects - prev_n), build);
		prev_n = objects, prev_rss = rss;
		fflush(stdout);
	}
	printf("targets: MMAP_OFFSET and fault at the largest N within 1.5x of 1k; RSS <= 512 B/object\n");

	/* GTT faults bind each object into the aperture: compare faults while
	 * it is nearly empty with faults once GTT_FILL one-page bindings fill
	 * it (default 65536, the 256 MiB aperture), when each evicts the least
	 * recently used. */
	long fill = env_long("GTT_FILL", 65536), gk = 1000;
	if (fill + 2 * gk <= count) {
		double t[2];
		long next = 0;
		for (int phase = 0; phase < 2; phase++) {
			if (phase == 1)
				for (; next < fill + gk; next++)
					gtt_fault(next);
			double t0 = now();
			for (long i = 0; i < gk; i++)
				gtt_fault(next++);
			t[phase] = (now() - t0) / gk * 1e9;
		}
		printf("GTT fault (MMAP_OFFSET + fault): %.0f ns into an empty aperture, %.0f ns after %ld one-page "
		       "bindings (a full 256 MiB aperture: each fault evicts) (%.2fx)\n", t[0], t[1], fill, t[1] / t[0]);
	}

	/* Lazy backing: a 2 GiB object, one page written through a CPU mapping
	 * and written back (msync): one page more, not 2 GiB. */
	uint64_t big = 2ull << 30;
	/* The first run grows thread buffers. Handles stay open until the end:
	 * a closed mapped object is a zombie, and reclaiming zombies scans
	 * /proc, which would land in the second measurement. */
	uint32_t hs[2];
	for (int run = 0; run < 2; run++) {
		uint32_t h = hs[run] = gem_create(fd, big);
		uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_WB);
		long before = rss_bytes(pid);
		uint8_t *p = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		must(p != MAP_FAILED, "mmap 2 GiB");
		madvise(p, big, MADV_RANDOM); /* just the page: no readahead */
		p[12345] = 1;
		must(msync(p, big, MS_SYNC) == 0, "msync");
		long after = rss_bytes(pid);
		if (run)
			printf("2 GiB object, one page written back: daemon RSS %+ld KiB (target: about 4 KiB, a page)\n",
			       (after - before) / 1024);
		munmap(p, big);
	}
	gem_close(fd, hs[0]);
	gem_close(fd, hs[1]);
	close(fd);
	return 0;
}
