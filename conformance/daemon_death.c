/* daemon_death: the daemon is killed (SIGKILL) while this client holds fds, objects and mappings (faulted, unfaulted, dirty) and while child processes spin in ioctls and faults; every call then fails with ENOTCONN (or the fault with SIGBUS), nothing hangs. Run as root: daemon_death DEVICE DAEMON_PID. */
#include "igt_lite.h"
#include <sys/wait.h>
#include <time.h>

#define NAME "daemon_death"
#define SIZE (64 * KiB)
#define CHILDREN 3

/* A child hammering ioctls and faults on its own object until they fail. */
static void spinner(const char *device, int c)
{
	int fd = drm_open(device);
	uint32_t h = gem_create(fd, SIZE);
	volatile uint32_t *p = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_GTT), SIZE, PROT_READ | PROT_WRITE);
	printf("# child %d spinning\n", c);
	for (unsigned long i = 0;; i++) {
		int v = 0;
		int e = __getparam(fd, I915_PARAM_CHIPSET_ID, &v);
		if (e) {
			_exit(e == -ENOTCONN || e == -ECONNABORTED ? 10 : 11);
		}
		/* Fresh pages fault into the daemon; a dead one gives SIGBUS. */
		uint32_t got;
		if (try_read32(p + (i * 1024) % (SIZE / 4), &got))
			_exit(12);
		if (i % 64 == 0)
			__gem_set_domain(fd, h, I915_GEM_DOMAIN_GTT, 0); /* drops the cached pages */
	}
}

int main(int argc, char **argv)
{
	alarm(30);
	igt_test_name = NAME;
	setvbuf(stdout, NULL, _IOLBF, 0);
	igt_install_handlers();
	if (argc != 3)
		skip(NAME, "usage: %s DEVICE DAEMON_PID (kills the daemon: run by the test suite)", argv[0]);
	const char *device = argv[1];
	pid_t daemon = (pid_t)atol(argv[2]);

	int fd = drm_open(device);
	uint32_t h = gem_create(fd, SIZE);
	uint32_t *map = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_GTT), SIZE, PROT_READ | PROT_WRITE);
	map[0] = 0xdead0001; /* faulted and dirty */
	uint32_t *wc = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_WC), SIZE, PROT_READ); /* never faulted */

	pid_t kids[CHILDREN];
	fflush(stdout);
	for (int c = 0; c < CHILDREN; c++) {
		kids[c] = fork();
		CHECK(kids[c] >= 0);
		if (kids[c] == 0) {
			alarm(20);
			spinner(device, c);
		}
	}
	usleep(300 * 1000); /* the children are in full swing */

	CHECK_MSG(kill(daemon, SIGKILL) == 0, "kill(%d): %s", daemon, strerror(errno));
	for (int i = 0; i < 500 && kill(daemon, 0) == 0; i++)
		usleep(10 * 1000);

	/* Every child ends, by an error or SIGBUS, none hangs (alarm above). */
	int enotconn = 0, sigbus = 0;
	for (int c = 0; c < CHILDREN; c++) {
		int st = 0;
		CHECK(waitpid(kids[c], &st, 0) == kids[c]);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 10)
			enotconn++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 12)
			sigbus++;
		else
			fail("child %d: %s %d", c, WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}

	/* This client: ioctls and reads fail with ENOTCONN. */
	int v = 0;
	int e = __getparam(fd, I915_PARAM_CHIPSET_ID, &v);
	CHECK_MSG(e == -ENOTCONN || e == -ECONNABORTED, "GETPARAM on a dead daemon: %d", e);
	char b[8];
	CHECK_MSG(read(fd, b, sizeof b) < 0 && (errno == ENOTCONN || errno == ECONNABORTED), "read on a dead daemon: %s", strerror(errno));
	/* An unfaulted page: SIGBUS. A page in the page cache still reads. */
	uint32_t got = 0;
	CHECK_MSG(try_read32((volatile uint32_t *)wc + 1024, &got) == -1, "an unfaulted page of a dead daemon read 0x%x", got);
	CHECK_MSG(map[0] == 0xdead0001, "our cached, dirty page changed: 0x%x", map[0]);
	/* A new open fails: ENOTCONN on the dead mount, ENOENT once its
	 * watchdog has detached it (the mount point is an empty directory
	 * again). Unmapping and closing return. */
	CHECK_MSG(open(device, O_RDWR) < 0 && (errno == ENOTCONN || errno == ENOENT), "open on a dead daemon: %s",
		  strerror(errno));
	CHECK_OK(munmap(map, SIZE));
	CHECK_OK(munmap(wc, SIZE));
	close(fd);
	pass(NAME, "daemon killed under %d spinning children (%d saw ENOTCONN, %d SIGBUS) and a client with mappings: errors, no hang",
	     CHILDREN, enotconn, sigbus);
}
