#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <malloc.h>
#include "CFuse.h"

/*
 * The session loop: a pool of workers that grows whenever the last idle
 * worker takes a request, and never shrinks before unmount.
 *
 * libfuse 3.14's own loop creates and destroys workers as load changes, so
 * at times it runs a single one. A handler of ours may block on the very
 * mount it serves (process_vm_readv of a client pointer that lies in the
 * client's mapping of the device faults back into us; an invalidation waits
 * for writebacks); that needs another worker already reading /dev/fuse.
 */
struct pool {
	struct fuse_session *se;
	pthread_mutex_t lock;
	unsigned idle, workers, max;
	sem_t done;
};

static void *worker(void *arg);

/* Called with pool->lock held. */
static void spawn(struct pool *p)
{
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker, p) == 0) {
		p->workers++;
		p->idle++;
	}
	pthread_attr_destroy(&attr);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct fuse_buf buf;
	memset(&buf, 0, sizeof buf);
	while (!fuse_session_exited(p->se)) {
		int res = fuse_session_receive_buf(p->se, &buf);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0) {
			/* unmounted (-ENODEV) or broken: the session is over */
			fuse_session_exit(p->se);
			break;
		}
		pthread_mutex_lock(&p->lock);
		if (--p->idle == 0 && p->workers < p->max)
			spawn(p);
		pthread_mutex_unlock(&p->lock);
		fuse_session_process_buf(p->se, &buf);
		pthread_mutex_lock(&p->lock);
		p->idle++;
		pthread_mutex_unlock(&p->lock);
	}
	free(buf.mem);
	sem_post(&p->done);
	return NULL;
}

int cfuse_loop_mt(struct fuse_session *se, unsigned max_threads)
{
	struct pool *p = calloc(1, sizeof *p); /* leaked on purpose: workers may outlive us */
	if (!p)
		return -ENOMEM;
	p->se = se;
	p->max = max_threads < 2 ? 2 : max_threads;
	pthread_mutex_init(&p->lock, NULL);
	sem_init(&p->done, 0, 0);

	/* A parent may have started us with termination signals blocked (a
	 * dispatch thread's mask survives exec): take them back. */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGINT);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGHUP);
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);

	/* Workers never take the signals fuse_set_signal_handlers installed:
	 * they land here, on the thread waiting below. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_mutex_lock(&p->lock);
	spawn(p);
	spawn(p);
	pthread_mutex_unlock(&p->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* Until a signal handler or a worker ends the session. The signal may
	 * land on any thread that does not block it, so poll as well. */
	while (!fuse_session_exited(se)) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 100 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		sem_timedwait(&p->done, &t);
	}
	return 0;
}

/* Whether [addr, addr+len) lies in mappings the CPU may read: 'r' or 'w'
 * (on x86 a writable page is readable) in /proc/PID/maps, without holes. */
static int cpu_readable(pid_t pid, uint64_t addr, size_t len)
{
	char path[32], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	uint64_t at = addr, end = addr + len;
	while (at < end && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		char perms[5];
		if (sscanf(line, "%llx-%llx %4s", &lo, &hi, perms) != 3)
			break;
		if (hi <= at)
			continue;
		if (lo > at || (perms[0] != 'r' && perms[1] != 'w'))
			break;
		at = hi;
	}
	fclose(f);
	return at >= end;
}

int cfuse_peek(pid_t pid, void *dst, uint64_t addr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)addr, len };
	if (len == 0)
		return 0;
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	/* A PROT_WRITE-only mapping is readable to the CPU (so to the kernel's
	 * copy_from_user) but not to process_vm_readv; /proc/PID/mem reads it
	 * (FOLL_FORCE), with the same ptrace access check. Only for small ranges
	 * wholly inside readable or writable mappings: FOLL_FORCE would also read
	 * PROT_NONE, which copy_from_user cannot. */
	if (len > (1u << 20) || !cpu_readable(pid, addr, len))
		return -EFAULT;
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EFAULT;
	n = pread(fd, dst, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int cfuse_poke(pid_t pid, uint64_t addr, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)addr, len };
	if (len == 0)
		return 0;
	ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

void cfuse_tune_malloc(void)
{
	mallopt(M_ARENA_MAX, 2);
}

void *cfuse_thread_buffer(size_t size)
{
	static __thread void *buf;
	static __thread size_t cap;
	if (size > cap) {
		free(buf);
		cap = size < (1 << 20) ? (1 << 20) : size;
		buf = aligned_alloc(4096, cap);
		if (!buf)
			cap = 0;
	}
	return buf;
}
