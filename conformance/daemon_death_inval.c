/* daemon_death_inval: the daemon is SIGKILLed while its invalidations are
 * laundering dirty pages (issue 11 item 2): children keep dirtying every
 * page of a GTT mapping and changing the object's tiling (SET_TILING
 * revokes the GTT view, writing its dirty pages back first). Before,
 * the daemon's invalidating thread stayed in the kernel waiting for a
 * write-back nobody would serve: the daemon could not finish dying, its
 * clients sat in D state. Now every child must return (an errno such as
 * ENOTCONN/EIO, or SIGBUS on a fault) within seconds and the daemon must be
 * gone. Run as root: daemon_death_inval DEVICE DAEMON_PID. */
#include "igt_lite.h"
#include <signal.h>
#include <sys/wait.h>

#define NAME "daemon_death_inval"
#define SIZE (8 * MiB)
#define CHILDREN 4

static void launderer(const char *device)
{
	int fd = drm_open(device);
	uint32_t h = igt_gem_create(fd, SIZE);
	volatile uint8_t *p = (volatile uint8_t *)igt_gem_mmap(fd, igt_mmap_offset(fd, h, I915_MMAP_OFFSET_GTT), SIZE,
								PROT_READ | PROT_WRITE);
	for (unsigned i = 0;; i++) {
		for (size_t off = 0; off < SIZE; off += 4096)
			p[off] = (uint8_t)i; /* dirty: a SIGBUS here once the daemon is gone ends us */
		struct drm_i915_gem_set_tiling st = { .handle = h, .tiling_mode = i % 2 ? I915_TILING_X : I915_TILING_NONE,
						      .stride = i % 2 ? 512 : 0 };
		int e = drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_TILING, &st);
		if (e)
			_exit(e == -ENOTCONN || e == -ECONNABORTED || e == -EIO || e == -ENODEV ? 10 : 11);
	}
}

/* 'D' when the process sleeps uninterruptibly, 0 when it is gone. */
static char state_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

int main(int argc, char **argv)
{
	alarm(60);
	igt_test_name = NAME;
	setvbuf(stdout, NULL, _IOLBF, 0);
	igt_install_handlers();
	if (argc != 3)
		skip(NAME, "usage: %s DEVICE DAEMON_PID (kills the daemon: run by the test suite)", argv[0]);
	const char *device = argv[1];
	pid_t daemon = (pid_t)atol(argv[2]);

	pid_t kids[CHILDREN];
	for (int c = 0; c < CHILDREN; c++) {
		kids[c] = fork();
		CHECK(kids[c] >= 0);
		if (kids[c] == 0) {
			alarm(40);
			signal(SIGBUS, SIG_DFL);
			launderer(device);
		}
	}
	/* Kill it when one of its threads is inside an invalidation (writing
	 * back): the wchan of a thread waiting for the launder's WRITE. Give up
	 * looking after 3 s and kill anyway. */
	int64_t until = now_ns() + 3000000000LL;
	int seen = 0;
	while (!seen && now_ns() < until) {
		char path[96], w[128];
		for (int tid = daemon; tid < daemon + 4096 && !seen; tid++) {
			snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", (int)daemon, tid);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, w, sizeof w - 1);
			close(fd);
			w[n > 0 ? n : 0] = 0;
			if (strstr(w, "writeback") || strstr(w, "launder") || strstr(w, "folio_wait") ||
			    strstr(w, "request_wait_answer"))
				seen = 1;
		}
		usleep(2000);
	}
	usleep(20 * 1000);
	info("SIGKILL to the daemon %s an invalidation waiting for a write-back", seen ? "during" : "(not seen) near");
	CHECK(kill(daemon, SIGKILL) == 0);

	/* Every child returns within 15 s; none stays in D state. */
	int64_t deadline = now_ns() + 15000000000LL;
	int left = CHILDREN, bad = 0;
	while (left > 0 && now_ns() < deadline) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);
		if (p > 0) {
			left--;
			int ok = (WIFEXITED(status) && WEXITSTATUS(status) == 10) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
			if (!ok) {
				bad++;
				info("child %d: %s %d", (int)p, WIFEXITED(status) ? "exit" : "signal",
				     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			}
			continue;
		}
		usleep(10 * 1000);
	}
	for (int c = 0; c < CHILDREN && left; c++)
		if (state_of(kids[c]))
			info("child %d still there, state %c", (int)kids[c], state_of(kids[c]));
	CHECK_MSG(left == 0, "%d of %d clients still blocked 15 s after the daemon was killed", left, CHILDREN);
	CHECK_MSG(bad == 0, "%d clients ended otherwise than with an errno or SIGBUS", bad);
	for (int i = 0; i < 500 && state_of(daemon); i++)
		usleep(10 * 1000);
	CHECK_MSG(!state_of(daemon), "the killed daemon is still there (state %c)", state_of(daemon));
	pass(NAME, "%d clients returned, the daemon is gone", CHILDREN);
	return 0;
}
