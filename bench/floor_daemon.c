/* floor_daemon MOUNTPOINT - the floor the benchmarks measure FakeDRM against:
 * the least a libfuse low-level daemon can do for the same requests.
 *
 * Adapted from the team's spike /work/shared/spikes/floor_daemon.c (the one
 * the targets in issue #5 were set with): a `card0` file whose every open
 * gets its own inode, ioctls answered by echoing the caller's struct back
 * (no decoding, no state; GETPARAM also writes its value through the
 * caller's pointer, as it must), and READs (page faults) answered with a fixed
 * pattern. Changes from the spike: max_readahead is 128 KiB like fakedrm's
 * (RA=bytes overrides), no notify_store push, stays in the foreground and
 * unmounts on SIGINT/SIGTERM, and a fixed pool of THREADS workers (default
 * 8) instead of libfuse's loop (see worker()). */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse_lowlevel.h>
#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>
#include <sys/uio.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong next_ino = 100, next_fh = 1;
static unsigned max_ra = 128 << 10;
static char pattern[1 << 20];

static void fill_attr(struct stat *st, fuse_ino_t ino)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0666;
		st->st_nlink = 1;
		st->st_size = 1ULL << 46; /* as fakedrm: past every fake offset */
	}
}

static void ll_init(void *u, struct fuse_conn_info *c)
{
	(void)u;
	c->max_readahead = max_ra;
	c->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent != FUSE_ROOT_ID || strcmp(name, "card0")) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	e.ino = atomic_fetch_add(&next_ino, 1);
	fill_attr(&e.attr, e.ino);
	fuse_reply_entry(req, &e);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	fill_attr(&st, ino);
	fuse_reply_attr(req, &st, 0);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fi->fh = atomic_fetch_add(&next_fh, 1);
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino, (void)off, (void)fi;
	fuse_reply_buf(req, pattern, size < sizeof pattern ? size : sizeof pattern);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)off, (void)fi;
	fuse_reply_write(req, size);
}

static void ll_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg, struct fuse_file_info *fi,
		     unsigned flags, const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	(void)ino, (void)arg, (void)fi, (void)flags;
	/* GETPARAM's answer goes through a pointer FUSE does not follow: the
	 * least any FUSE implementation does is one process_vm_writev. */
	if (cmd == DRM_IOCTL_I915_GETPARAM && in_bufsz >= sizeof(struct drm_i915_getparam)) {
		const struct drm_i915_getparam *g = in_buf;
		int value = 0x9a49;
		struct iovec l = { &value, sizeof value }, r = { g->value, sizeof value };
		if (process_vm_writev(fuse_req_ctx(req)->pid, &l, 1, &r, 1, 0) != sizeof value) {
			fuse_reply_err(req, EFAULT);
			return;
		}
	}
	fuse_reply_ioctl(req, 0, in_buf, in_bufsz < out_bufsz ? in_bufsz : out_bufsz);
}

/* The loop: a fixed set of workers reading the same session, none created
 * or ended per request (libfuse 3.14's own multi-threaded loop starts and
 * ends threads as load changes, which puts clone() on every round trip). */
static void *worker(void *arg)
{
	struct fuse_session *se = arg;
	struct fuse_buf buf;
	memset(&buf, 0, sizeof buf);
	while (!fuse_session_exited(se)) {
		int res = fuse_session_receive_buf(se, &buf);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0)
			break;
		fuse_session_process_buf(se, &buf);
	}
	fuse_session_exit(se);
	return NULL;
}

static const struct fuse_lowlevel_ops ops = {
	.init = ll_init,
	.lookup = ll_lookup,
	.getattr = ll_getattr,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.ioctl = ll_ioctl,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: floor_daemon MOUNTPOINT\n");
		return 2;
	}
	long threads = getenv("THREADS") ? atol(getenv("THREADS")) : 8;
	if (getenv("RA"))
		max_ra = atoi(getenv("RA"));
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = i;
	char *args_v[] = { argv[0] };
	struct fuse_args args = FUSE_ARGS_INIT(1, args_v);
	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	if (!se || fuse_set_signal_handlers(se) || fuse_session_mount(se, argv[1]))
		return 1;
	/* Workers block the termination signals, so they land on the main
	 * thread, whose read is interrupted and sees the session exited. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (long i = 1; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, se))
			return 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	worker(se);
	/* Other workers may still be inside a read: unmount and exit. */
	fuse_session_unmount(se);
	return 0;
}
