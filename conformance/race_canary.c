/* race_canary: FLINK/OPEN against GEM_CLOSE across two processes, SET_TILING against GTT faults of the same object, and a third process that was never allowed probing the others' live offsets, all at once; every byte anyone reads carries its object's canary, the probe never reads a byte. */
#include "igt_lite.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define NAME "race_canary"
#define RUN_NS 2000000000ll
#define OBJ_SIZE (128 * KiB) /* whole X (32 KiB) and Y (128 KiB) tile rows at stride 4096 */
#define TILED_SIZE (1 * MiB)
#define OPENERS 2
#define READERS 2

/* Canaries: the top byte says whose object, the rest where in it. */
#define TAG_PUBLISHED 0xa1u /* objects process A publishes by flink name */
#define TAG_TILED 0xc1u /* the object A retiles under its own readers */

/* Shared between the processes (MAP_SHARED | MAP_ANONYMOUS). */
struct shared {
	_Atomic uint64_t slot; /* generation << 32 | flink name of A's current object */
	_Atomic uint64_t offset; /* a fake offset A has mapped (the snoop's target) */
	atomic_int stop;
	atomic_ulong opened, open_enoent, name_reused, checked, retiles, tiled_reads, probes, probe_sigbus;
	struct igt_bad bad;
};
static struct shared *sh;

/* A failure: counted, the first one described. */
#define bad(...) igt_bad_note(&sh->bad, __VA_ARGS__)

static uint32_t canary(uint32_t tag, uint32_t gen, size_t i)
{
	return tag << 24 | ((gen & 0xff) << 16) | (uint32_t)(i & 0xffff);
}

static void fill(int fd, uint32_t h, size_t size, uint32_t tag, uint32_t gen)
{
	uint32_t *buf = malloc(size);
	for (size_t i = 0; i < size / 4; i++)
		buf[i] = canary(tag, gen, i);
	gem_pwrite(fd, h, 0, buf, size);
	free(buf);
}

/* ------------------------------------------------------ process A: publisher */

static int afd;

/* Creates, fills, flinks, maps and publishes objects; closes the previous one. */
static void *publisher(void *arg)
{
	(void)arg;
	uint32_t prev = 0;
	void *prev_map = NULL;
	for (uint32_t gen = 1; !atomic_load(&sh->stop); gen++) {
		uint32_t h = gem_create(afd, OBJ_SIZE);
		fill(afd, h, OBJ_SIZE, TAG_PUBLISHED, gen);
		uint32_t name = gem_flink(afd, h);
		uint64_t off = mmap_offset(afd, h, I915_MMAP_OFFSET_GTT);
		uint32_t *m = gem_mmap(afd, off, OBJ_SIZE, PROT_READ);
		if (m[1] != canary(TAG_PUBLISHED, gen, 1))
			bad("publisher: own map reads 0x%08x", m[1]);
		atomic_store(&sh->slot, (uint64_t)gen << 32 | name);
		atomic_store(&sh->offset, off);
		if (prev) {
			munmap(prev_map, OBJ_SIZE);
			gem_close(afd, prev);
		}
		prev = h;
		prev_map = m;
	}
	return NULL;
}

/* SET_TILING in a loop on one object while readers fault it through the GTT. */
static uint32_t tiled;
static volatile uint32_t *tiled_map;

static void *retiler(void *arg)
{
	(void)arg;
	static const uint32_t modes[] = { I915_TILING_X, I915_TILING_Y, I915_TILING_NONE };
	for (unsigned i = 0; !atomic_load(&sh->stop); i++) {
		struct drm_i915_gem_set_tiling st = {
			.handle = tiled, .tiling_mode = modes[i % 3], .stride = modes[i % 3] ? 4096 : 0,
		};
		int e = drm_ioctl(afd, DRM_IOCTL_I915_GEM_SET_TILING, &st);
		if (e)
			bad("SET_TILING(%u): %s", modes[i % 3], errname(-e));
		atomic_fetch_add(&sh->retiles, 1);
		usleep(200);
	}
	return NULL;
}

static void *tiled_reader(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	while (!atomic_load(&sh->stop)) {
		s ^= s << 13, s ^= s >> 17, s ^= s << 5;
		size_t i = s % (TILED_SIZE / 4);
		uint32_t v;
		if (try_read32(tiled_map + i, &v))
			bad("SIGBUS reading the retiled object's GTT map at dword %zu", i);
		else if (v >> 24 != TAG_TILED)
			bad("the retiled object's GTT map read 0x%08x at dword %zu: not its bytes", v, i);
		atomic_fetch_add(&sh->tiled_reads, 1);
	}
	return NULL;
}

static int process_a(const char *path)
{
	afd = drm_open(path);
	tiled = gem_create(afd, TILED_SIZE);
	fill(afd, tiled, TILED_SIZE, TAG_TILED, 0);
	tiled_map = gem_mmap(afd, mmap_offset(afd, tiled, I915_MMAP_OFFSET_GTT), TILED_SIZE, PROT_READ);
	pthread_t t[2 + READERS];
	CHECK(pthread_create(&t[0], NULL, publisher, NULL) == 0);
	CHECK(pthread_create(&t[1], NULL, retiler, NULL) == 0);
	for (int i = 0; i < READERS; i++)
		CHECK(pthread_create(&t[2 + i], NULL, tiled_reader, (void *)(uintptr_t)i) == 0);
	for (int i = 0; i < 2 + READERS; i++)
		pthread_join(t[i], NULL);

	/* Faults only read: the object holds exactly what was written. */
	struct drm_i915_gem_set_tiling st = { .handle = tiled, .tiling_mode = I915_TILING_NONE };
	CHECK_OK(drm_ioctl(afd, DRM_IOCTL_I915_GEM_SET_TILING, &st));
	uint32_t *buf = malloc(TILED_SIZE);
	gem_pread(afd, tiled, 0, buf, TILED_SIZE);
	for (size_t i = 0; i < TILED_SIZE / 4; i++)
		if (buf[i] != canary(TAG_TILED, 0, i)) {
			bad("after the retiling storm dword %zu is 0x%08x", i, buf[i]);
			break;
		}
	free(buf);
	close(afd);
	return 0;
}

/* ------------------------------------------------------ process B: openers */

static int bfd;

static void *opener(void *arg)
{
	(void)arg;
	while (!atomic_load(&sh->stop)) {
		uint64_t seen = atomic_load(&sh->slot);
		uint32_t name = (uint32_t)seen, gen = (uint32_t)(seen >> 32);
		if (!name)
			continue;
		uint32_t h = 0;
		uint64_t size = 0;
		int e = __gem_open(bfd, name, &h, &size);
		if (e == -ENOENT) {
			atomic_fetch_add(&sh->open_enoent, 1);
			continue;
		}
		if (e) {
			bad("GEM_OPEN(%u): %s", name, errname(-e));
			continue;
		}
		atomic_fetch_add(&sh->opened, 1);
		uint32_t head[4];
		gem_pread(bfd, h, 0, head, sizeof head);
		if (head[0] >> 24 != TAG_PUBLISHED) {
			bad("GEM_OPEN(%u) gave an object reading 0x%08x: not one A published", name, head[0]);
		} else if (head[0] != canary(TAG_PUBLISHED, gen, 0) && atomic_load(&sh->slot) == seen) {
			bad("GEM_OPEN(%u) of generation %u reads 0x%08x while it is still published", name, gen, head[0]);
		} else {
			if (head[0] != canary(TAG_PUBLISHED, gen, 0))
				atomic_fetch_add(&sh->name_reused, 1); /* closed and its name reused meanwhile */
			/* A second open faulting the same object: the same bytes. */
			volatile uint32_t *m = gem_mmap(bfd, mmap_offset(bfd, h, I915_MMAP_OFFSET_GTT), OBJ_SIZE, PROT_READ);
			uint32_t v;
			if (try_read32(m + 3, &v) || v != head[3])
				bad("GEM_OPEN(%u): map dword 3 differs from PREAD 0x%08x", name, head[3]);
			else
				atomic_fetch_add(&sh->checked, 1);
			munmap((void *)m, OBJ_SIZE);
		}
		gem_close(bfd, h);
	}
	return NULL;
}

static int process_b(const char *path)
{
	bfd = drm_open(path);
	pthread_t t[OPENERS];
	for (int i = 0; i < OPENERS; i++)
		CHECK(pthread_create(&t[i], NULL, opener, NULL) == 0);
	for (int i = 0; i < OPENERS; i++)
		pthread_join(t[i], NULL);
	close(bfd);
	return 0;
}

/* ------------------------------------------------------ process C: the snoop */

/* Never allowed on anything of A's: every touch of A's live offsets faults. */
static int process_c(const char *path)
{
	int fd = drm_open(path);
	while (!atomic_load(&sh->stop)) {
		uint64_t off = atomic_load(&sh->offset);
		if (!off)
			continue;
		void *p = NULL;
		if (__gem_mmap(fd, off, OBJ_SIZE, PROT_READ, &p))
			continue; /* strict mode refuses the mmap itself */
		uint32_t v;
		atomic_fetch_add(&sh->probes, 1);
		if (try_read32((volatile uint32_t *)p + 5, &v) == 0)
			bad("a file never allowed read 0x%08x at A's offset 0x%llx", v, (unsigned long long)off);
		else
			atomic_fetch_add(&sh->probe_sigbus, 1);
		munmap(p, OBJ_SIZE);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	alarm(40);
	const char *path = igt_init(argc, argv, NAME);
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);

	int (*roles[])(const char *) = { process_a, process_b, process_c };
	pid_t kids[3];
	fflush(stdout);
	for (int i = 0; i < 3; i++) {
		kids[i] = fork();
		CHECK(kids[i] >= 0);
		if (kids[i] == 0) {
			alarm(30);
			_exit(roles[i](path));
		}
	}
	int64_t end = now_ns() + RUN_NS;
	while (now_ns() < end)
		usleep(10 * 1000);
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < 3; i++) {
		int st = 0;
		CHECK(waitpid(kids[i], &st, 0) == kids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad("process %c ended with %s %d", 'A' + i, WIFEXITED(st) ? "exit" : "signal",
			    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
	info("%lu opens (%lu ENOENT, %lu of a reused name), %lu checked through a second open's map; %lu retiles under %lu GTT reads; "
	     "%lu probes by a file never allowed, %lu faulted",
	     sh->opened, sh->open_enoent, sh->name_reused, sh->checked, sh->retiles, sh->tiled_reads, sh->probes, sh->probe_sigbus);
	if (sh->bad.count)
		fail("%lu bad, first: %s", (unsigned long)sh->bad.count, sh->bad.first);
	CHECK_MSG(sh->checked > 0 && sh->retiles > 0 && sh->tiled_reads > 0, "a race did not run");
	pass(NAME, "flink/open vs close, retiling vs faults, and a never-allowed file's probes raced for %.1f s: every read carried its object's canary",
	     RUN_NS / 1e9);
}
