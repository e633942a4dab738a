/* self_fault_flood: 300 threads at once issue PWRITE and PREAD whose data
 * pointer lies in their own, never-faulted GTT mapping of the device: the
 * daemon's copy of each faults back into the daemon (issue 11 item 1:
 * 256 workers each holding such an ioctl left none to serve the faults, and
 * the whole mount hung). Meanwhile another process opens card0 and asks a
 * GETPARAM: it must be answered within seconds, and every ioctl must
 * complete. Bounded by alarm(); the test suite also aborts the connection
 * if it ever hangs. Usage: self_fault_flood DEVICE [THREADS] */
#include "igt_lite.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define NAME "self_fault_flood"
#define SIZE (256 * KiB)
#define ROUNDS 4
#define MAX_THREADS 1024

static const char *device;
static atomic_int ready, go, done_rounds, failures;
static int nthreads = 300;

static void *flood(void *arg)
{
	(void)arg;
	int fd = drm_open(device);
	uint32_t src = igt_gem_create(fd, SIZE), dst = igt_gem_create(fd, SIZE);
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&go))
		usleep(1000);
	for (int r = 0; r < ROUNDS; r++) {
		/* a fresh mapping each round: every page faults again */
		uint8_t *map = (uint8_t *)igt_gem_mmap(fd, igt_mmap_offset(fd, src, I915_MMAP_OFFSET_GTT), SIZE,
						       PROT_READ | PROT_WRITE);
		int e = r % 2 ? __gem_pread(fd, dst, 0, map, SIZE) : __gem_pwrite(fd, dst, 0, map, SIZE);
		if (e)
			atomic_fetch_add(&failures, 1);
		munmap(map, SIZE);
		atomic_fetch_add(&done_rounds, 1);
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	igt_test_name = NAME;
	setvbuf(stdout, NULL, _IOLBF, 0);
	igt_install_handlers();
	if (argc < 2)
		skip(NAME, "usage: %s DEVICE [THREADS]", argv[0]);
	device = argv[1];
	if (argc > 2)
		nthreads = atoi(argv[2]);
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 300;
	alarm(90);

	static pthread_t t[MAX_THREADS];
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < nthreads; i++)
		CHECK(pthread_create(&t[i], &attr, flood, NULL) == 0);
	while (atomic_load(&ready) < nthreads)
		usleep(1000);
	int64_t t0 = now_ns();
	atomic_store(&go, 1);

	/* Another process, while the flood is in flight: open + GETPARAM. */
	usleep(20 * 1000);
	int pipefd[2];
	CHECK(pipe(pipefd) == 0);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		alarm(30);
		int64_t s = now_ns();
		int fd = drm_open(device);
		int v = 0;
		int e = __getparam(fd, I915_PARAM_CHIPSET_ID, &v);
		int64_t ms = (now_ns() - s) / 1000000;
		dprintf(pipefd[1], "%d %lld\n", e, (long long)ms);
		_exit(e ? 1 : 0);
	}
	close(pipefd[1]);
	char line[64] = "";
	ssize_t n = read(pipefd[0], line, sizeof line - 1);
	int status = 0;
	waitpid(child, &status, 0);
	int err = 1;
	long long ms = -1;
	if (n > 0)
		sscanf(line, "%d %lld", &err, &ms);
	info("other process: open + GETPARAM = %d in %lld ms, %d of %d rounds done by then", err, ms,
	     atomic_load(&done_rounds), nthreads * ROUNDS);
	CHECK_MSG(err == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "another process's open + ioctl failed or hung (status %d)", status);
	CHECK_MSG(ms < 20000, "another process's open + ioctl took %lld ms", ms);

	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	int64_t total = (now_ns() - t0) / 1000000;
	CHECK_MSG(atomic_load(&failures) == 0, "%d PWRITE/PREAD calls failed", atomic_load(&failures));
	pass(NAME, "%d threads x %d PWRITE/PREAD from their own GTT maps in %lld ms; another open + ioctl in %lld ms",
	     nthreads, ROUNDS, (long long)total, ms);
	return 0;
}
