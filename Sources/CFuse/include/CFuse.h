/* libfuse3's low-level API for Swift, pinned to the 3.5 callback ABI
 * (ioctl takes an unsigned cmd). */
#ifndef CFUSE_H
#define CFUSE_H

#define FUSE_USE_VERSION 35
#include <fuse3/fuse_lowlevel.h>
#include <sys/types.h>

/* fuse_session_loop_mt is a versioned macro in 3.14; Swift sees this. */
int cfuse_loop_mt(struct fuse_session *se, unsigned max_threads);

/* Puts the loop's ioctl router in front of ops->ioctl: ioctls run on the
 * thread that read them only while few readers are inside one, the rest on
 * the ioctl pool (see shim.c). Before fuse_session_new. */
void cfuse_route_ioctls(struct fuse_lowlevel_ops *ops);

/* The session loop's reader pool as it stands (shim.c): its threads, and
 * counts since it started: requests served, the manager's kicks and looks.
 * 0, or -1 before the loop runs. */
struct cfuse_pool_stats {
	unsigned readers, idle, parked, in_ioctl, ioctl_threads, queued;
	unsigned long requests, kicks, looks;
};
int cfuse_pool_stats(struct cfuse_pool_stats *st);

/* The fusectl abort file of connection `minor` (the mount's device minor),
 * opened for writing (mounting fusectl if it is not): an fd, or -errno.
 * Kept open, it names this connection only: once the connection is gone a
 * write does nothing, even if a new mount reuses the minor. */
int cfuse_abort_open(unsigned minor);

/* Aborts the connection behind `fd` from cfuse_abort_open: every request
 * in flight and every later one fails (ENOTCONN/ECONNABORTED), so no thread
 * stays waiting on it. */
void cfuse_abort(int fd);

/* Forks the watchdog of this mount: a small process that, when the calling
 * thread dies before cfuse_watchdog_stop (the daemon was killed, or hangs
 * in exit behind a thread stuck in the kernel), aborts the connection
 * through `abort_fd` and detaches the mount on `mountpoint` if it is still
 * major:minor there. Returns the fd to pass to cfuse_watchdog_stop, or -errno. */
int cfuse_watchdog_start(int abort_fd, const char *mountpoint, unsigned major, unsigned minor);

/* Tells the watchdog the daemon ends cleanly (it exits at once). */
void cfuse_watchdog_stop(int fd);

/* malloc tuning for a daemon of many short-lived, similar requests:
 * few arenas (threads are many, work is small). */
void cfuse_tune_malloc(void);

/* A buffer of at least `size` bytes owned by the calling thread, reused
 * across requests (a READ reply must not cost an allocation). */
void *cfuse_thread_buffer(size_t size);

/* process_vm_readv/writev on one range; returns 0 or -errno (EFAULT on a
 * short or failed copy). */
int cfuse_peek(pid_t pid, void *dst, uint64_t addr, size_t len);
int cfuse_poke(pid_t pid, uint64_t addr, const void *src, size_t len);

/* The device number (major:minor) of the FUSE mount on `mountpoint` (an
 * absolute path without symlinks), from /proc/self/mountinfo; 0 or -errno. */
int cfuse_mount_dev(const char *mountpoint, unsigned *major, unsigned *minor);

/* The file system type ("fuse.fakedrm") of the mount on `mountpoint`, as above. */
int cfuse_mount_type(const char *mountpoint, char *fstype, size_t n);

/* Calls `fn` for every mapping of device major:minor in every process this
 * one can see (/proc/PID/maps): inode, file offset, length. A process whose
 * list may not be read goes to `unreadable`, which returns 0 to go on
 * without it. 0 when every process was accounted for; -errno when one could
 * not be (EACCES: its mappings are unknown), -EAGAIN when processes kept
 * appearing. */
typedef void (*cfuse_map_fn)(void *ctx, uint64_t ino, uint64_t offset, uint64_t length);
typedef int (*cfuse_unreadable_fn)(void *ctx, int pid);
int cfuse_scan_maps(unsigned major, unsigned minor, cfuse_map_fn fn, cfuse_unreadable_fn unreadable, void *ctx);

#endif
