/* shared_fd_race: a parent and two forked children share ONE open (one drm_file: the same handles) and race create/GEM_CLOSE against MMAP_OFFSET/mmap/fault on the same handles, closing each other's handles; every mapped byte read is a canary of this open's objects (or a fresh object's zeros), nothing hangs, the device still serves. */
#include "igt_lite.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define NAME "shared_fd_race"
#define OBJ_SIZE (2 * PAGE_SZ)
#define CHILDREN 2
#define MAPPERS 2
#define RUN_NS 1500000000ll

/* In MAP_SHARED memory: every process sees the same slot. */
struct shared {
	_Atomic uint64_t slot; /* generation << 32 | handle; the object holds the generation as canary */
	_Atomic uint32_t gen;
	atomic_int stop;
	atomic_ulong creates, closes, close_einval, maps, touches, stale, sigbus_closed, enoent, foreign_closes;
	struct igt_bad bad;
};
static struct shared *sh;
static int fd;

/* A failure: counted, the first one described. */
#define bad(...) igt_bad_note(&sh->bad, __VA_ARGS__)

/* The parent's writer: a new object with its generation as canary, swapped in; the old one closed. */
static void *writer(void *arg)
{
	(void)arg;
	while (!atomic_load(&sh->stop)) {
		uint64_t size = OBJ_SIZE;
		uint32_t h = 0;
		if (__gem_create(fd, &size, &h)) {
			bad("GEM_CREATE failed");
			break;
		}
		uint32_t g = atomic_fetch_add(&sh->gen, 1) + 1;
		uint32_t canary[2] = { 0x5afe0000u ^ g, g };
		int e = __gem_pwrite(fd, h, PAGE_SZ, canary, sizeof canary);
		if (e) /* a child may have closed it already: the handle is shared */
			continue;
		atomic_fetch_add(&sh->creates, 1);
		uint64_t old = atomic_exchange(&sh->slot, (uint64_t)g << 32 | h);
		e = __gem_close(fd, (uint32_t)old);
		if (e == 0)
			atomic_fetch_add(&sh->closes, 1);
		else if (e == -EINVAL)
			atomic_fetch_add(&sh->close_einval, 1); /* a child closed it first */
		else
			bad("GEM_CLOSE: %s", errname(-e));
	}
	return NULL;
}

/* Any process: map the current handle, read its canary. Children also close handles now and then. */
static void *mapper(void *arg)
{
	int closer = (int)(intptr_t)arg;
	for (unsigned i = 0; !atomic_load(&sh->stop); i++) {
		uint64_t seen = atomic_load(&sh->slot);
		uint32_t h = (uint32_t)seen, g = (uint32_t)(seen >> 32);
		if (!h)
			continue;
		if (closer && i % 16 == 0) {
			/* Close the shared handle from another process. */
			if (__gem_close(fd, h) == 0)
				atomic_fetch_add(&sh->foreign_closes, 1);
			continue;
		}
		uint64_t off = 0;
		int e = __mmap_offset(fd, h, I915_MMAP_OFFSET_GTT, &off);
		if (e == -ENOENT) {
			atomic_fetch_add(&sh->enoent, 1);
			continue;
		}
		if (e) {
			bad("MMAP_OFFSET(%u): %s", h, errname(-e));
			continue;
		}
		void *p = NULL;
		if (__gem_mmap(fd, off, OBJ_SIZE, PROT_READ, &p))
			continue; /* strict mode: closed in between */
		atomic_fetch_add(&sh->maps, 1);
		uint32_t v[2];
		/* Any process may have closed the handle and the writer reused its
		 * number since we read the slot: the object is then a newer one. */
		if (try_read32((volatile uint32_t *)p + PAGE_SZ / 4, &v[0]) || try_read32((volatile uint32_t *)p + PAGE_SZ / 4 + 1, &v[1])) {
			/* Plain mode: closed before our mmap, then reclaimed (the kernel refuses such an mmap). */
			atomic_fetch_add(&sh->sigbus_closed, 1);
		} else if (v[0] == (0x5afe0000u ^ v[1]) && v[1] != 0 && v[1] <= atomic_load(&sh->gen)) {
			if (v[1] == g)
				atomic_fetch_add(&sh->touches, 1);
			else if (v[1] > g)
				atomic_fetch_add(&sh->stale, 1);
			else
				bad("handle %u published with gen %u reads the older gen %u", h, g, v[1]);
		} else if ((v[0] == 0 && v[1] <= atomic_load(&sh->gen)) || (v[1] == 0 && (v[0] >> 16) == 0x5afe)) {
			/* A reused handle whose canary is not (or half) written yet: the
			 * PWRITE invalidated the page between our two loads. */
			atomic_fetch_add(&sh->stale, 1);
		} else {
			bad("handle %u (gen %u) reads 0x%08x 0x%08x: not a canary of ours", h, g, v[0], v[1]);
		}
		munmap(p, OBJ_SIZE);
	}
	return NULL;
}

static void run_mappers(int closer)
{
	/* The parent's mappers never close: its writer does. */
	pthread_t t[MAPPERS];
	for (int i = 0; i < MAPPERS; i++)
		CHECK(pthread_create(&t[i], NULL, mapper, (void *)(intptr_t)(closer && i == 0)) == 0);
	for (int i = 0; i < MAPPERS; i++)
		pthread_join(t[i], NULL);
}

static void *parent_mappers(void *arg)
{
	(void)arg;
	run_mappers(0);
	return NULL;
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	fd = drm_open(path);

	pid_t kids[CHILDREN];
	fflush(stdout);
	for (int c = 0; c < CHILDREN; c++) {
		kids[c] = fork();
		CHECK(kids[c] >= 0);
		if (kids[c] == 0) {
			alarm(25);
			run_mappers(1); /* the inherited fd: the parent's drm_file */
			_exit(0);
		}
	}
	pthread_t w;
	CHECK(pthread_create(&w, NULL, writer, NULL) == 0);
	int64_t end = now_ns() + RUN_NS;
	pthread_t m;
	CHECK(pthread_create(&m, NULL, parent_mappers, NULL) == 0);
	while (now_ns() < end)
		usleep(10 * 1000);
	atomic_store(&sh->stop, 1);
	pthread_join(w, NULL);
	pthread_join(m, NULL);
	for (int c = 0; c < CHILDREN; c++) {
		int st = 0;
		CHECK(waitpid(kids[c], &st, 0) == kids[c]);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad("child %d ended with %s %d", c, WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
	int v = 0;
	CHECK_OK(__getparam(fd, I915_PARAM_CHIPSET_ID, &v));
	close(fd);
	info("%lu creates, %lu closes (%lu already closed by a child), %lu closed by children; %lu maps: %lu canaries right, "
	     "%lu of a reused handle or fresh, %lu SIGBUS after close; %lu ENOENT",
	     sh->creates, sh->closes, sh->close_einval, sh->foreign_closes, sh->maps, sh->touches, sh->stale,
	     sh->sigbus_closed, sh->enoent);
	if (sh->bad.count)
		fail("%lu bad, first: %s", (unsigned long)sh->bad.count, sh->bad.first);
	CHECK_MSG(sh->touches > 0, "no mapping ever read its canary");
	pass(NAME, "3 processes on one open raced create/close vs map/fault on the same handles for %.1f s: canaries only",
	     RUN_NS / 1e9);
}
