/*
 * refused_writeback: a PREAD whose destination is the client's own writable mapping of
 * a readonly object, racing msync of that mapping. The daemon's copy to the client
 * write-faults the page and holds it locked while it waits for the page's write-back;
 * the daemon refuses that write-back and must put the object's true bytes back without
 * waiting for the same page lock (it once did: both hung for good). Plain mode only for
 * the readonly race (strict mode refuses the writable mapping); both modes run the same
 * race on a writable object, whose write-backs are taken.
 */
#include "igt_lite.h"

#include <pthread.h>

#define NAME "refused_writeback"
#define NPAGES 64
#define OBJ_SIZE (NPAGES * PAGE_SZ)
#define NDW (OBJ_SIZE / 4)
#define SEED 0x7ef00001u
#define OTHER_SEED 0x0be00001u
#define ROUNDS 300
#define BUDGET_NS (4 * 1000000000ll) /* per race: bounded, the deadlock shows in the first rounds */

static int fd;
static uint32_t other;
static volatile uint32_t *map;
static int expect_refused;
static pthread_barrier_t start, done;
static volatile int stop;

/* PREADs of the other object into the mapped pages, last page first: the write-back
 * answers the pages in order, so these reach pages whose answer is still to come. */
static void *reader(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_barrier_wait(&start);
		if (stop)
			return NULL;
		for (int i = NPAGES - 1; i >= 0; i--) {
			int r = __gem_pread(fd, other, 0, (char *)map + (size_t)i * PAGE_SZ, PAGE_SZ);
			CHECK_MSG(r == 0, "PREAD into page %d of the mapping: %s", i, errname(errno));
		}
		pthread_barrier_wait(&done);
	}
}

static int race(uint32_t h, const char *what)
{
	uint64_t off = mmap_offset(fd, h, I915_MMAP_OFFSET_WB);
	void *vp = NULL;
	CHECK_OK(__gem_mmap(fd, off, OBJ_SIZE, PROT_READ | PROT_WRITE, &vp));
	map = vp;
	pthread_t t;
	stop = 0;
	CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
	int64_t t0 = now_ns();
	int rounds = 0;
	while (rounds < ROUNDS && now_ns() - t0 < BUDGET_NS) {
		/* Every page dirty, so the msync below writes them all back in one go. */
		for (int i = 0; i < NPAGES; i++)
			map[i * (PAGE_SZ / 4)] = ~SEED + (uint32_t)rounds;
		pthread_barrier_wait(&start);
		errno = 0;
		int m = msync(vp, OBJ_SIZE, MS_SYNC);
		/* A refused write-back is reported once; PREAD may dirty pages again after it. */
		if (expect_refused)
			CHECK_MSG(m == 0 || errno == EACCES, "%s: msync = %d (%s), expected EACCES or 0", what, m, errname(errno));
		else
			CHECK_MSG(m == 0, "%s: msync = %d (%s)", what, m, errname(errno));
		pthread_barrier_wait(&done);
		rounds++;
	}
	stop = 1;
	pthread_barrier_wait(&start);
	CHECK(pthread_join(t, NULL) == 0);
	/* Quiet now: dirty a readonly object's pages once more (the race may have
	 * left none dirty: the last PREADs can land before the last msync), then one msync answers
	 * every dirty page, and a readonly object's pages hold its true bytes
	 * again before msync returns. */
	if (expect_refused)
		for (int i = 0; i < NPAGES; i++)
			map[i * (PAGE_SZ / 4)] = ~SEED;
	errno = 0;
	int m = msync(vp, OBJ_SIZE, MS_SYNC);
	if (expect_refused) {
		CHECK_MSG(m == -1 && errno == EACCES, "%s: last msync = %d (%s), expected EACCES", what, m, errname(errno));
		/* Normally the true bytes are back when msync returns; when the race left
		 * a store queued behind a page another thread held locked, they arrive
		 * just after (docs/deviations.md): give them a moment. */
		for (int64_t t1 = now_ns(); find_mismatch(map, NDW, SEED) >= 0 && now_ns() - t1 < 2000000000LL;)
			usleep(1000);
		CHECK_PATTERN(map, NDW, SEED, "readonly object's mapping after a refused write-back");
	} else {
		CHECK_MSG(m == 0, "%s: last msync = %d (%s)", what, m, errname(errno));
	}
	CHECK_OK(munmap(vp, OBJ_SIZE));
	return rounds;
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	fd = drm_open(path);
	CHECK(pthread_barrier_init(&start, NULL, 2) == 0);
	CHECK(pthread_barrier_init(&done, NULL, 2) == 0);

	uint32_t *buf = malloc(OBJ_SIZE);
	CHECK(buf);
	other = gem_create(fd, PAGE_SZ);
	fill_pattern(buf, PAGE_SZ / 4, OTHER_SEED);
	gem_pwrite(fd, other, 0, buf, PAGE_SZ);

	/* A writable object: PREAD into its mapping lands and is written back. */
	uint32_t w = gem_create(fd, OBJ_SIZE);
	expect_refused = 0;
	int wrounds = race(w, "writable object");
	memset(buf, 0, OBJ_SIZE);
	gem_pread(fd, w, 0, buf, PAGE_SZ);
	CHECK_PATTERN(buf, PAGE_SZ / 4, OTHER_SEED, "writable object after PREAD into its mapping");
	gem_close(fd, w);

	const char *how;
	if (strict_mode()) {
		how = "strict: no writable mapping of a readonly object to race";
	} else {
		uint32_t h = gem_create(fd, OBJ_SIZE);
		fill_pattern(buf, NDW, SEED);
		gem_pwrite(fd, h, 0, buf, OBJ_SIZE);
		struct drm_fakedrm_gem_set_readonly ro = { .handle = h, .flags = 0 };
		CHECK_OK(drm_ioctl(fd, DRM_IOCTL_FAKEDRM_GEM_SET_READONLY, &ro));
		expect_refused = 1;
		int rrounds = race(h, "readonly object");
		memset(buf, 0, OBJ_SIZE);
		gem_pread(fd, h, 0, buf, OBJ_SIZE);
		CHECK_PATTERN(buf, NDW, SEED, "PREAD of the readonly object after the race");
		info("readonly object: %d rounds of msync racing PREAD into the mapping", rrounds);
		gem_close(fd, h);
		how = "plain: refused write-backs, true bytes back, no hang";
	}
	gem_close(fd, other);
	close(fd);
	free(buf);
	pass(NAME, "writable object %d rounds; %s", wrounds, how);
}
