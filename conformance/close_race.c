/* close_race: threads (and 2 forked processes) race create/swap/GEM_CLOSE against MMAP_OFFSET/mmap/touch; only kernel errnos, no SIGBUS on a successful map. */
#include "igt_lite.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define NAME "close_race"
#define OBJ_SIZE PAGE_SZ
#define WRITERS 2
#define MAPPERS 3
#define CHILDREN 2
#define RUN_NS 1500000000ll
#define MAX_ITERS 200000

struct race {
	int fd;
	/* generation << 32 | handle: a handle number comes back after its close, a generation never */
	_Atomic uint64_t slot;
	_Atomic uint32_t gen;
	int64_t deadline;
	atomic_ulong creates, closes, close_einval;
	atomic_ulong offsets, offset_enoent, maps, map_eacces, map_einval, touches, sigbus_closed;
	atomic_ulong bad; /* unexpected errno, SIGBUS on a mapped page, or wrong readback */
	pthread_mutex_t lock;
	char first_bad[160];
};

__attribute__((format(printf, 2, 3)))
static void bad(struct race *r, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&r->lock);
	if (atomic_fetch_add(&r->bad, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(r->first_bad, sizeof(r->first_bad), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->lock);
}

static void *writer(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < MAX_ITERS && now_ns() < r->deadline; i++) {
		uint64_t size = OBJ_SIZE;
		uint32_t h = 0;
		int e = __gem_create(r->fd, &size, &h);
		if (e) {
			bad(r, "GEM_CREATE: %s", errname(-e));
			break;
		}
		atomic_fetch_add(&r->creates, 1);
		uint64_t fresh = (uint64_t)(atomic_fetch_add(&r->gen, 1) + 1) << 32 | h;
		uint32_t old = (uint32_t)atomic_exchange(&r->slot, fresh);
		e = __gem_close(r->fd, old);
		if (e == 0)
			atomic_fetch_add(&r->closes, 1);
		else if (e == -EINVAL)
			atomic_fetch_add(&r->close_einval, 1);
		else
			bad(r, "GEM_CLOSE(%u): %s", old, errname(-e));
	}
	return NULL;
}

struct mapper_arg {
	struct race *r;
	unsigned idx; /* each mapper owns one dword of the page */
};

static void *mapper(void *arg)
{
	struct mapper_arg *ma = arg;
	struct race *r = ma->r;
	for (int i = 0; i < MAX_ITERS && now_ns() < r->deadline; i++) {
		uint64_t seen = atomic_load(&r->slot);
		uint32_t h = (uint32_t)seen;
		uint64_t off = 0;
		int e = __mmap_offset(r->fd, h, I915_MMAP_OFFSET_GTT, &off);
		if (e == -ENOENT) {
			atomic_fetch_add(&r->offset_enoent, 1);
			continue;
		}
		if (e) {
			bad(r, "MMAP_OFFSET(%u): %s", h, errname(-e));
			continue;
		}
		atomic_fetch_add(&r->offsets, 1);

		void *vp = NULL;
		e = __gem_mmap(r->fd, off, OBJ_SIZE, PROT_READ | PROT_WRITE, &vp);
		if (e == -EACCES || e == -EINVAL) {
			/* strict mode: handle closed (revoked) / object freed in between */
			atomic_fetch_add(e == -EACCES ? &r->map_eacces : &r->map_einval, 1);
			continue;
		}
		if (e) {
			bad(r, "mmap(0x%llx): %s", (unsigned long long)off, errname(-e));
			continue;
		}
		atomic_fetch_add(&r->maps, 1);

		volatile uint32_t *p = (volatile uint32_t *)vp + ma->idx;
		uint32_t want = 0x5ace0000u ^ ((uint32_t)i << 4) ^ ma->idx, got = 0;
		if (try_write32(p, want) || try_read32(p, &got)) {
			/* Plain mode: the handle was closed before the mmap and the daemon
			 * found no mapping and freed the object (the kernel would refuse
			 * this mmap with EINVAL). Only then. */
			if (atomic_load(&r->slot) != seen)
				atomic_fetch_add(&r->sigbus_closed, 1);
			else
				bad(r, "SIGBUS touching a successful mapping of offset 0x%llx", (unsigned long long)off);
		}
		else if (got != want)
			bad(r, "readback 0x%08x, wrote 0x%08x at offset 0x%llx", got, want, (unsigned long long)off);
		else
			atomic_fetch_add(&r->touches, 1);
		munmap(vp, OBJ_SIZE);
	}
	return NULL;
}

/* Run the race on fd; print the counts; 0 if clean. */
static int run_race(int fd, const char *who)
{
	static struct race r; /* one per process */
	memset(&r, 0, sizeof(r));
	r.fd = fd;
	pthread_mutex_init(&r.lock, NULL);
	atomic_store(&r.slot, gem_create(fd, OBJ_SIZE));
	atomic_store(&r.gen, 0);
	r.deadline = now_ns() + RUN_NS;

	pthread_t t[WRITERS + MAPPERS];
	struct mapper_arg ma[MAPPERS];
	for (int i = 0; i < WRITERS; i++)
		CHECK(pthread_create(&t[i], NULL, writer, &r) == 0);
	for (int i = 0; i < MAPPERS; i++) {
		ma[i] = (struct mapper_arg){ .r = &r, .idx = (unsigned)i };
		CHECK(pthread_create(&t[WRITERS + i], NULL, mapper, &ma[i]) == 0);
	}
	for (int i = 0; i < WRITERS + MAPPERS; i++)
		pthread_join(t[i], NULL);
	int e = __gem_close(fd, (uint32_t)atomic_load(&r.slot));
	if (e)
		bad(&r, "final GEM_CLOSE: %s", errname(-e));

	info("%s: %lu creates, %lu closes (%lu EINVAL), %lu offsets (%lu ENOENT), %lu maps "
	     "(%lu EACCES, %lu EINVAL refused), %lu touches ok (%lu SIGBUS after close), %lu bad%s%s",
	     who, r.creates, r.closes, r.close_einval, r.offsets, r.offset_enoent, r.maps,
	     r.map_eacces, r.map_einval, r.touches, r.sigbus_closed, r.bad, r.bad ? ": first: " : "", r.first_bad);
	return r.bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);

	pid_t kids[CHILDREN];
	fflush(stdout);
	for (int i = 0; i < CHILDREN; i++) {
		kids[i] = fork();
		CHECK(kids[i] >= 0);
		if (kids[i] == 0) {
			alarm(20);
			close(fd);
			char who[16];
			snprintf(who, sizeof(who), "child %d", i);
			int cfd = drm_open(path);
			int rc = run_race(cfd, who);
			close(cfd);
			fflush(stdout);
			_exit(rc);
		}
	}

	int failed = run_race(fd, "parent");
	int kids_failed = 0;
	for (int i = 0; i < CHILDREN; i++) {
		int st = 0;
		CHECK(waitpid(kids[i], &st, 0) == kids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			kids_failed++;
			if (WIFSIGNALED(st))
				info("child %d killed by signal %d", i, WTERMSIG(st));
			else
				info("child %d exited with %d", i, WEXITSTATUS(st));
		}
	}

	/* The device still answers afterwards. */
	int v = 0;
	int e = __getparam(fd, I915_PARAM_CHIPSET_ID, &v);
	CHECK_MSG(e == 0 && v != 0, "GETPARAM after the race: %d", e);
	close(fd);

	if (failed || kids_failed)
		fail("parent %s, %d/%d children failed (see # lines)", failed ? "failed" : "ok", kids_failed, CHILDREN);
	pass(NAME, "%d threads x %d processes raced create/close vs mmap for %.1f s: only kernel errnos, no SIGBUS, device alive",
	     WRITERS + MAPPERS, CHILDREN + 1, RUN_NS / 1e9);
}
