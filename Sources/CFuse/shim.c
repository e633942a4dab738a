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
 * The session loop: readers, an ioctl pool, and a manager that grows them.
 *
 * A handler may block on the very mount it serves: an ioctl's copy of a
 * client pointer that lies in the client's own mapping of the device faults
 * back into us (a READ), an invalidation waits for WRITEs. Those READs,
 * WRITEs, RELEASEs and FORGETs only this daemon can answer, so some thread
 * must always be reading /dev/fuse, however many ioctls block:
 *
 *  - readers read /dev/fuse and serve every request; an ioctl runs on its
 *    reader only while fewer than `inline_max` readers are inside one, the
 *    rest are copied to the ioctl pool (libfuse lets any thread reply). So
 *    at most inline_max readers ever block in a client's memory, and the
 *    others only do bounded work (the device lock is never held across FUSE);
 *  - the ioctl pool grows while jobs outnumber its waiting threads, up to
 *    ioctl_max; past that ioctls queue (they still complete: their faults
 *    are served by readers);
 *  - the manager (the thread in cfuse_loop_mt) adds a reader when the last
 *    idle reader has been busy for `grace` and either no reader finished a
 *    request meanwhile (all blocked) or fewer readers than CPUs are awake:
 *    a reader spawned on every momentary "none idle" (preemption on a
 *    loaded machine) grew the pool to 167 threads for 8 clients, and one
 *    unparked every grace under a saturating load (none idle is then the
 *    normal state, not a stuck pool) cost 6k futex calls a second. The
 *    first "none idle" kicks the manager; it then watches the pool on its
 *    own clock until an idle reader has been there for a while, unkicked;
 *  - at most `idle_max` readers wait in read(/dev/fuse); one more parks on a
 *    condition variable until the manager needs it again (instead of
 *    spawning). The kernel wakes /dev/fuse readers in FIFO order, the one
 *    that has waited longest first: with every reader ever added waiting
 *    there (98 for 16 clients), each request woke a cold thread, 1.5 context
 *    switches per ioctl against the floor's 0.4.
 *
 * libfuse 3.14's own loop creates and destroys workers as load changes (at
 * times it runs a single one, which deadlocked on the first shape above).
 */
struct job {
	struct job *next;
	fuse_req_t req;
	fuse_ino_t ino;
	unsigned cmd, flags;
	void *arg;
	struct fuse_file_info fi;
	int has_fi;
	size_t in_size, out_size;
	char in[];
};

struct pool {
	struct fuse_session *se;
	pthread_mutex_t lock;
	unsigned idle, readers, max_readers;
	unsigned idle_max, parked, unpark, cpus;
	int watching; /* the manager is looking every grace or so: no kicks */
	unsigned long completed, kicks, looks;
	pthread_cond_t park_cv;
	unsigned in_ioctl, inline_max;
	pthread_cond_t jobs_cv;
	struct job *head, *tail;
	unsigned queued, waiting, ioctl_threads, ioctl_max;
	sem_t kick, done;
};

typedef void (*ioctl_fn)(fuse_req_t, fuse_ino_t, unsigned, void *, struct fuse_file_info *, unsigned,
			 const void *, size_t, size_t);
static ioctl_fn real_ioctl;
static struct pool *the_pool;
/* How long the last idle reader must stay busy before another is added. */
static const long grace_ns = 500 * 1000;
/* How long the pool must keep an idle reader before the manager stops watching. */
static const long quiet_ns = 1000 * 1000 * 1000;

static void *reader(void *arg);
static void *ioctl_worker(void *arg);

static int start_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

/* Called with pool->lock held. */
static void spawn_reader(struct pool *p)
{
	if (start_thread(reader, p) == 0) {
		p->readers++;
		p->idle++;
	}
}

static void *reader(void *arg)
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
		if (--p->idle == 0 && !p->watching && (p->parked || p->readers < p->max_readers)) {
			p->kicks++;
			sem_post(&p->kick);
		}
		pthread_mutex_unlock(&p->lock);
		fuse_session_process_buf(p->se, &buf);
		pthread_mutex_lock(&p->lock);
		p->completed++;
		/* A loop, not an if: between the manager's unpark and this thread
		 * waking, other readers may have gone idle; this one parks again
		 * rather than push idle past idle_max for good. */
		while (p->idle >= p->idle_max) {
			p->parked++;
			while (!p->unpark)
				pthread_cond_wait(&p->park_cv, &p->lock);
			p->unpark--;
			p->parked--;
		}
		p->idle++;
		pthread_mutex_unlock(&p->lock);
	}
	free(buf.mem);
	sem_post(&p->done);
	return NULL;
}

static void run_job(struct job *j)
{
	real_ioctl(j->req, j->ino, j->cmd, j->arg, j->has_fi ? &j->fi : NULL, j->flags,
		   j->in_size ? j->in : NULL, j->in_size, j->out_size);
	free(j);
}

static void *ioctl_worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->head) {
			p->waiting++;
			pthread_cond_wait(&p->jobs_cv, &p->lock);
			p->waiting--;
		}
		struct job *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		run_job(j);
	}
	return NULL;
}

/* The ioctl op libfuse calls on a reader: inline while few readers are in
 * one, else copied (the input lives in the reader's buffer, fi on its
 * stack) to the ioctl pool. */
static void route_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned cmd, void *arg, struct fuse_file_info *fi,
			unsigned flags, const void *in, size_t in_size, size_t out_size)
{
	struct pool *p = the_pool;
	if (p) {
		pthread_mutex_lock(&p->lock);
		if (p->in_ioctl >= p->inline_max) {
			struct job *j = malloc(sizeof *j + in_size);
			if (!j) {
				pthread_mutex_unlock(&p->lock);
				fuse_reply_err(req, ENOMEM);
				return;
			}
			*j = (struct job){ .req = req, .ino = ino, .cmd = cmd, .flags = flags, .arg = arg,
					   .has_fi = fi != NULL, .in_size = in_size, .out_size = out_size };
			if (fi)
				j->fi = *fi;
			if (in_size)
				memcpy(j->in, in, in_size);
			if (p->tail)
				p->tail->next = j;
			else
				p->head = j;
			p->tail = j;
			p->queued++;
			if (p->queued > p->waiting && p->ioctl_threads < p->ioctl_max &&
			    start_thread(ioctl_worker, p) == 0)
				p->ioctl_threads++;
			pthread_cond_signal(&p->jobs_cv);
			pthread_mutex_unlock(&p->lock);
			return;
		}
		p->in_ioctl++;
		pthread_mutex_unlock(&p->lock);
	}
	real_ioctl(req, ino, cmd, arg, fi, flags, in, in_size, out_size);
	if (p) {
		pthread_mutex_lock(&p->lock);
		p->in_ioctl--;
		pthread_mutex_unlock(&p->lock);
	}
}

int cfuse_pool_stats(struct cfuse_pool_stats *st)
{
	struct pool *p = __atomic_load_n(&the_pool, __ATOMIC_ACQUIRE);
	if (!p)
		return -1;
	pthread_mutex_lock(&p->lock);
	*st = (struct cfuse_pool_stats){
		.readers = p->readers, .idle = p->idle, .parked = p->parked, .in_ioctl = p->in_ioctl,
		.ioctl_threads = p->ioctl_threads, .queued = p->queued, .requests = p->completed,
		.kicks = p->kicks, .looks = p->looks,
	};
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void cfuse_route_ioctls(struct fuse_lowlevel_ops *ops)
{
	if (ops->ioctl && ops->ioctl != route_ioctl) {
		real_ioctl = ops->ioctl;
		ops->ioctl = route_ioctl;
	}
}

static void add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

int cfuse_loop_mt(struct fuse_session *se, unsigned max_threads)
{
	struct pool *p = calloc(1, sizeof *p); /* leaked on purpose: workers may outlive us */
	if (!p)
		return -ENOMEM;
	p->se = se;
	p->max_readers = max_threads < 4 ? 4 : max_threads;
	/* Enough waiting readers that a burst finds one hot, few enough that the
	 * FIFO wake-up order rarely reaches a cold one. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	p->idle_max = cpus < 2 ? 2 : cpus > 8 ? 8 : (unsigned)cpus;
	p->cpus = cpus < 1 ? 1 : (unsigned)cpus;
	p->inline_max = p->max_readers / 2;
	p->ioctl_max = 4 * p->max_readers;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->jobs_cv, NULL);
	pthread_cond_init(&p->park_cv, NULL);
	sem_init(&p->kick, 0, 0);
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
	 * they land here, on the thread waiting below. Threads inherit the mask
	 * of their creator: the ioctl pool's are created by readers. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_mutex_lock(&p->lock);
	spawn_reader(p);
	spawn_reader(p);
	pthread_mutex_unlock(&p->lock);
	__atomic_store_n(&the_pool, p, __ATOMIC_RELEASE);

	/* The manager. New readers are created here with the signals blocked,
	 * the mask restored around each wait so a signal may end it. */
	while (!fuse_session_exited(se)) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		add_ns(&t, 100 * 1000 * 1000);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		int kicked = sem_timedwait(&p->kick, &t) == 0;
		pthread_sigmask(SIG_BLOCK, &block, NULL);
		if (!kicked)
			continue;
		/* One look serves every kick so far. */
		while (sem_trywait(&p->kick) == 0)
			;
		/* Watch: look every grace while readers run out of idle ones,
		 * less often (up to 64 graces) while they keep finishing requests,
		 * until the pool has had an idle reader at every look for
		 * `quiet_ns`. Readers do not kick a watching manager: under a
		 * steady load "none idle" comes and goes thousands of times a
		 * second (a reply's client asks again before its reader is back in
		 * read): kicked 0.3-0.6 times per ioctl at one client, the manager
		 * woke 800 times a second, each a context switch on a CPU the
		 * client and its reader needed. A pool stuck while watched is
		 * seen within 128 graces: all readers busy and none finished a
		 * request in one look. */
		pthread_mutex_lock(&p->lock);
		p->watching = 1;
		pthread_mutex_unlock(&p->lock);
		long wait = grace_ns, quiet = 0;
		while (!fuse_session_exited(se)) {
			pthread_mutex_lock(&p->lock);
			unsigned long before = p->completed;
			pthread_mutex_unlock(&p->lock);
			struct timespec g = { 0, wait };
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			nanosleep(&g, NULL);
			pthread_sigmask(SIG_BLOCK, &block, NULL);
			pthread_mutex_lock(&p->lock);
			p->looks++;
			int busy = p->idle == 0;
			int wanted = busy && (p->completed == before || p->readers - p->parked < p->cpus);
			if (wanted && p->parked > p->unpark) {
				p->unpark++;
				pthread_cond_signal(&p->park_cv);
			} else if (wanted && p->readers < p->max_readers) {
				spawn_reader(p);
			}
			quiet = busy ? 0 : quiet + wait;
			int done = quiet >= quiet_ns;
			if (done)
				p->watching = 0;
			pthread_mutex_unlock(&p->lock);
			if (done)
				break;
			if (wanted)
				wait = grace_ns;
			else if (wait < 64 * grace_ns)
				wait *= 2;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
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
	 * (FOLL_FORCE), with the same ptrace access check. Only for ranges wholly
	 * inside readable or writable mappings: FOLL_FORCE would also read
	 * PROT_NONE, which copy_from_user cannot. Any size: IGT gem_exec_reloc
	 * mmap-N keeps 2^N bytes of relocations in a PROT_WRITE-only mapping. */
	if (!cpu_readable(pid, addr, len))
		return -EFAULT;
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EFAULT;
	size_t done = 0;
	while (done < len) {
		n = pread(fd, (char *)dst + done, len - done, (off_t)(addr + done));
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	return done == len ? 0 : -EFAULT;
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
