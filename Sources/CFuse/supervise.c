#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "CFuse.h"

/*
 * When the daemon dies its /dev/fuse fd closes and the kernel aborts the
 * connection: clients get ENOTCONN. Not when one of its threads is stuck in
 * the kernel waiting for FUSE itself (an invalidation waiting for the
 * write-back of a dirty page, which only the dead daemon could serve): the
 * process cannot finish dying, the fd stays open, the clients sit in D state.
 * fusectl's abort file ends every request of a connection from outside;
 * the watchdog, a process of its own, writes it when the daemon's thread
 * that started it dies (PR_SET_PDEATHSIG fires on that thread's exit even
 * while another is stuck), and detaches the mount.
 */

#define FUSECTL "/sys/fs/fuse/connections"

int cfuse_abort_open(unsigned minor)
{
	char path[96];
	snprintf(path, sizeof path, FUSECTL "/%u/abort", minor);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* fusectl not mounted here (a fresh namespace, a minimal system) */
		mount("fusectl", FUSECTL, "fusectl", 0, NULL);
		fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

void cfuse_abort(int fd)
{
	if (fd >= 0)
		(void)!write(fd, "1", 1);
}

/* Gives the watchdog a command line of its own: it is a fork of the daemon,
 * and scripts find the daemon by `fakedrm mount ... DIR`. */
static void rename_self(void)
{
	char stat[1024];
	int fd = open("/proc/self/stat", O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, stat, sizeof stat - 1);
	close(fd);
	if (n <= 0)
		return;
	stat[n] = 0;
	/* fields after the command name (which may hold spaces): field 48 and
	 * 49 are arg_start and arg_end */
	char *p = strrchr(stat, ')');
	if (!p)
		return;
	unsigned long start = 0, end = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
		field++;
		if (field == 48)
			start = strtoul(tok, NULL, 10);
		if (field == 49)
			end = strtoul(tok, NULL, 10);
	}
	static const char name[] = "fakedrm-watchdog";
	if (!start || end <= start + sizeof name)
		return;
	memset((void *)start, 0, end - start);
	memcpy((void *)start, name, sizeof name);
	prctl(PR_SET_NAME, "fakedrm-watch");
}

static void detach(const char *mountpoint, unsigned major, unsigned minor)
{
	unsigned ma, mi;
	if (cfuse_mount_dev(mountpoint, &ma, &mi) || ma != major || mi != minor)
		return; /* gone already, or someone else's now */
	if (umount2(mountpoint, MNT_DETACH) == 0)
		return;
	pid_t pid;
	char *argv[] = { "fusermount3", "-u", "-z", (char *)mountpoint, NULL };
	extern char **environ;
	if (posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ) == 0)
		waitpid(pid, NULL, 0);
}

static void watch(int abort_fd, int rd, const char *mountpoint, unsigned major, unsigned minor)
{
	for (;;) {
		struct pollfd pf = { rd, POLLIN, 0 };
		int r = poll(&pf, 1, 200);
		char c = 0;
		if (r > 0) {
			ssize_t n = read(rd, &c, 1);
			if (n == 1 && c == 'd')
				_exit(0); /* a clean end: the daemon aborted and unmounted */
			if (n == 0)
				break; /* every fd of the daemon closed: it is gone */
		}
		sigset_t usr;
		sigemptyset(&usr);
		sigaddset(&usr, SIGUSR1);
		struct timespec zero = { 0, 0 };
		if (sigtimedwait(&usr, NULL, &zero) == SIGUSR1) {
			/* the thread died; a clean end wrote 'd' before it */
			int fl = fcntl(rd, F_GETFL);
			fcntl(rd, F_SETFL, fl | O_NONBLOCK);
			if (read(rd, &c, 1) == 1 && c == 'd')
				_exit(0);
			break;
		}
	}
	cfuse_abort(abort_fd);
	detach(mountpoint, major, minor);
	_exit(0);
}

int cfuse_watchdog_start(int abort_fd, const char *mountpoint, unsigned major, unsigned minor)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	char *mnt = strdup(mountpoint);
	if (!mnt)
		return -ENOMEM;
	pid_t self = getpid();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		rename_self(); /* first: scripts look for the daemon right after mount */
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		if (getppid() != self)
			raise(SIGUSR1); /* died before the line above: still pending, blocked */
		setsid(); /* the terminal's Ctrl-C is for the daemon and its command */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		/* Keep only what it needs: another copy of /dev/fuse would keep the
		 * connection alive past the daemon. */
		int a = fcntl(abort_fd, F_DUPFD, 100), r = fcntl(p[0], F_DUPFD, 100);
		if (a >= 0)
			dup2(a, 3);
		else
			close(3);
		dup2(r, 4);
		syscall(SYS_close_range, 5, ~0U, 0);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
		if (chdir("/"))
			(void)0;
		watch(3, 4, mnt, major, minor);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(mnt);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -errno;
	}
	return p[1];
}

void cfuse_watchdog_stop(int fd)
{
	if (fd < 0)
		return;
	(void)!write(fd, "d", 1);
	close(fd);
}
