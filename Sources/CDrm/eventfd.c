#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "fdrm_eventfd.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* FUSE names the calling thread; pidfd_open wants its thread group. */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return tid;
	pid_t tgid = tid;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	}
	fclose(f);
	return tgid;
}

int fdrm_eventfd_get(pid_t tid, int fd)
{
	if (fd < 0)
		return -EBADF;
	int pidfd = (int)syscall(SYS_pidfd_open, tgid_of(tid), 0);
	if (pidfd < 0)
		return -ESRCH;
	int local = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	int err = errno;
	close(pidfd);
	if (local < 0)
		return err == EBADF ? -EBADF : -err;
	/* eventfd_ctx_fileget: any other file is EINVAL. */
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", local);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0 || (target[n] = 0, strcmp(target, "anon_inode:[eventfd]") != 0)) {
		close(local);
		return -EINVAL;
	}
	return local;
}

void fdrm_eventfd_signal(int fd)
{
	uint64_t one = 1;
	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR) {
	}
}
