/* client_kill: clients SIGKILLed at random moments while two threads each spin in ioctls (big PWRITE/PREAD, create, tiling, flink/open of a bystander's object) and GTT/WC faults; after RELEASE nothing of theirs is left (debug/i915_gem_objects, debug/clients), the bystander's shared object and mapping keep their bytes, and the device still serves. */
#include "igt_lite.h"
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#define NAME "client_kill"
#define ROUNDS 100
#define SIZE (1 * MiB)
#define SHARED_SIZE (256 * KiB)

static const char *device;
static uint32_t shared_name;
static volatile unsigned long *ops; /* shared with the children: operations they finished */

/* Whether debug/clients lists an open made by `pid`. */
static int has_client(pid_t pid)
{
	FILE *f = debug_file(device, "clients");
	if (!f)
		return 0;
	char line[256];
	int found = 0;
	if (!fgets(line, sizeof line, f)) /* header */
		line[0] = 0;
	while (fgets(line, sizeof line, f)) {
		long file, p;
		if (sscanf(line, "%ld %ld", &file, &p) == 2 && p == pid)
			found = 1;
	}
	fclose(f);
	return found;
}

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

struct doomed {
	int fd;
	uint32_t seed;
};

/* Never returns: ioctls and faults until the parent's SIGKILL. */
static void *spin(void *arg)
{
	struct doomed *d = arg;
	uint32_t s = d->seed;
	static __thread uint8_t buf[SIZE];
	for (;;) {
		uint32_t h = gem_create(d->fd, SIZE);
		switch (rng_next(&s) % 5) {
		case 0: /* long ioctls: the daemon copies a MiB through process_vm_* */
			gem_pwrite(d->fd, h, 0, buf, SIZE);
			gem_pread(d->fd, h, 0, buf, SIZE);
			break;
		case 1: { /* faults, many pages */
			uint64_t off = mmap_offset(d->fd, h, rng_next(&s) & 1 ? I915_MMAP_OFFSET_GTT : I915_MMAP_OFFSET_WC);
			volatile uint32_t *p = gem_mmap(d->fd, off, SIZE, PROT_READ | PROT_WRITE);
			for (size_t i = 0; i < SIZE / 4; i += 1024)
				p[i] = (uint32_t)i;
			break; /* left mapped: dies holding it */
		}
		case 2: { /* tiled faults */
			struct drm_i915_gem_set_tiling st = { .handle = h, .tiling_mode = I915_TILING_X, .stride = 4096 };
			drm_ioctl(d->fd, DRM_IOCTL_I915_GEM_SET_TILING, &st);
			volatile uint32_t *p = gem_mmap(d->fd, mmap_offset(d->fd, h, I915_MMAP_OFFSET_GTT), SIZE, PROT_READ);
			uint32_t sum = 0;
			for (size_t i = 0; i < SIZE / 4; i += 512)
				sum += p[i];
			(void)sum;
			break;
		}
		case 3: { /* the bystander's object: open it by name, read it, store to our own part */
			uint64_t size = 0;
			uint32_t o = gem_open(d->fd, shared_name, &size);
			volatile uint32_t *p = gem_mmap(d->fd, mmap_offset(d->fd, o, I915_MMAP_OFFSET_GTT), SHARED_SIZE, PROT_READ);
			/* Each open has its own page cache: a reader syncs before reading
			 * what another open stored (docs/deviations.md, coherency). */
			gem_set_domain(d->fd, o, I915_GEM_DOMAIN_GTT, 0);
			uint32_t v = p[rng_next(&s) % (SHARED_SIZE / 8)];
			if (v >> 24 != 0xb5)
				_exit(3); /* the parent reports the exit status */
			gem_close(d->fd, o);
			break;
		}
		default: { /* flink our own and keep it */
			uint32_t name;
			__gem_flink(d->fd, h, &name);
			break;
		}
		}
		if (rng_next(&s) % 4 == 0)
			__gem_close(d->fd, h);
		__atomic_fetch_add(ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void doomed_client(uint32_t seed)
{
	struct doomed a = { .fd = drm_open(device), .seed = seed }, b = { .fd = a.fd, .seed = seed * 7 + 1 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, spin, &b) == 0);
	spin(&a);
}

int main(int argc, char **argv)
{
	alarm(120);
	device = igt_init(argc, argv, NAME);
	long before = live_objects(device);
	if (before < 0)
		skip(NAME, "no debug/i915_gem_objects beside %s", device);

	ops = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(ops != MAP_FAILED);

	/* The bystander: a shared object the killed clients open and read. */
	int fd = drm_open(device);
	uint32_t h = gem_create(fd, SHARED_SIZE);
	uint32_t *mine = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_GTT), SHARED_SIZE, PROT_READ | PROT_WRITE);
	for (size_t d = 0; d < SHARED_SIZE / 4; d++)
		mine[d] = 0xb5000000u | (uint32_t)d;
	shared_name = gem_flink(fd, h);

	pid_t killed[ROUNDS];
	uint32_t seed = 0x2545f491;
	for (int r = 0; r < ROUNDS; r++) {
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			alarm(10);
			doomed_client(seed + (uint32_t)r);
		}
		usleep(1000 + rng_next(&seed) % 40000);
		CHECK(kill(pid, SIGKILL) == 0);
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "round %d: the client ended by itself (%s %d)", r,
			  WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		killed[r] = pid;
	}

	/* The kernel releases each dead client's file, then FUSE sends RELEASE. */
	long now = -1;
	for (int i = 0; i < 1000 && (now = live_objects(device)) != before + 1; i++)
		usleep(10 * 1000);
	CHECK_MSG(now == before + 1, "%ld objects live after %d killed clients, expected %ld (the bystander's)", now, ROUNDS,
		  before + 1);
	for (int r = 0; r < ROUNDS; r++)
		CHECK_MSG(!has_client(killed[r]), "debug/clients still lists killed client %d", killed[r]);

	for (size_t d = 0; d < SHARED_SIZE / 4; d++)
		CHECK_MSG(mine[d] == (0xb5000000u | (uint32_t)d), "bystander map dword %zu is 0x%08x", d, mine[d]);
	uint32_t *copy = malloc(SHARED_SIZE);
	gem_pread(fd, h, 0, copy, SHARED_SIZE);
	CHECK_MSG(memcmp(copy, mine, SHARED_SIZE) == 0, "bystander PREAD differs from its map");
	free(copy);
	int v = 0;
	CHECK_OK(__getparam(fd, I915_PARAM_CHIPSET_ID, &v));
	CHECK_OK(munmap(mine, SHARED_SIZE));
	close(fd);
	CHECK_MSG(*ops >= ROUNDS, "the clients finished only %lu operations before their deaths", *ops);
	pass(NAME, "%d clients killed mid-ioctl/mid-fault (2 threads each, %lu operations done): all reclaimed, the bystander's shared object intact",
	     ROUNDS, *ops);
}
