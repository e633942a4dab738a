/* Which files are FakeDRM devices, and each mount's control channel.
 *
 * A device file is a regular file of FDRM_DEVICE_SIZE bytes on a FUSE
 * mount whose daemon answers DRM_IOCTL_FAKEDRM_PROBE. An open fd is probed
 * directly; a stat'ed path is probed through the mount's root directory
 * (opening the device itself would make a drm_file, maybe a master). The
 * daemon mints a fresh inode per lookup, so answers are cached per
 * (st_dev, st_ino) in a small direct-mapped table: a miss costs one ioctl.
 *
 * The root directory, kept open (close-on-exec, at a high fd number), is
 * how mappings are released once every fd of their open is closed. A
 * program may close or reuse that fd: it is checked before every use. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FUSE_ROOT_INO 1
#define FUSE_SUPER_MAGIC 0x65735546
#define NMOUNTS 8
#define NFILES 256

struct mount {
	dev_t dev;
	int ctl;           /* root directory fd, or -1 */
	char root[PATH_MAX];
};

struct file {
	dev_t dev;
	ino_t ino;
	int minor;         /* valid when dev != 0 */
	int fd_probed;     /* probed on an open fd: the daemon knows that open is strict */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mount mounts[NMOUNTS];
static int nmounts;
static struct file files[NFILES];
static __thread int busy; /* our own realpath/open must not recurse */

/* fork: mappings.c takes this after its own lock (always that order). */
void fdrm_id_lock(void) { pthread_mutex_lock(&lock); }
void fdrm_id_unlock(void) { pthread_mutex_unlock(&lock); }

static struct file *slot(dev_t dev, ino_t ino)
{
	return &files[(ino * 0x9E3779B1u ^ dev) % NFILES];
}

static int cached(dev_t dev, ino_t ino, int need_fd_probe)
{
	int minor = -2;
	pthread_mutex_lock(&lock);
	struct file *f = slot(dev, ino);
	if (f->dev == dev && f->ino == ino && dev != 0 && (!need_fd_probe || f->fd_probed || f->minor < 0))
		minor = f->minor;
	pthread_mutex_unlock(&lock);
	return minor;
}

static int remember(dev_t dev, ino_t ino, int minor, int fd_probed)
{
	pthread_mutex_lock(&lock);
	*slot(dev, ino) = (struct file){ dev, ino, minor, fd_probed };
	pthread_mutex_unlock(&lock);
	return minor;
}

static int probe_ok(const struct drm_fakedrm_probe *p)
{
	return p->version == FAKEDRM_PROBE_VERSION && p->instance != 0 && (p->minor == 0 || p->minor == 128);
}

int fdrm_fd_minor(int fd, const struct stat *st)
{
	if (!fdrm_candidate(st->st_mode, st->st_size))
		return -1;
	int minor = cached(st->st_dev, st->st_ino, 1);
	if (minor != -2)
		return minor;
	/* Only a FUSE daemon is asked (a sparse 64 TiB file elsewhere is not). */
	struct statfs sf;
	int saved = errno;
	int fuse = fstatfs(fd, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
	errno = saved;
	struct drm_fakedrm_probe p = { 0 };
	if (!fuse || fdrm_sys_ioctl(fd, DRM_IOCTL_FAKEDRM_PROBE, &p) != 0 || !probe_ok(&p))
		return -1; /* not cached: a later mount may reuse st_dev */
	return remember(st->st_dev, st->st_ino, p.minor, 1);
}

/* The mount entry for dev, with lock held; NULL if unknown. */
static struct mount *find(dev_t dev)
{
	for (int i = 0; i < nmounts; i++)
		if (mounts[i].dev == dev)
			return &mounts[i];
	return NULL;
}

/* A working control fd for m (lock held): the one we have if it is still
 * the root of that mount, else the root opened again. -1 if unreachable. */
static int ctl_fd(struct mount *m)
{
	struct stat st;
	if (m->ctl >= 0 && fdrm_sys_fstatat(m->ctl, "", &st, AT_EMPTY_PATH) == 0 && st.st_dev == m->dev &&
	    st.st_ino == FUSE_ROOT_INO && S_ISDIR(st.st_mode))
		return m->ctl;
	/* Closed or reused by the program: not ours to close any more. */
	m->ctl = -1;
	int saved = errno;
	int fd = open(m->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
		if (high >= 0) {
			close(fd);
			fd = high;
		}
		if (fdrm_sys_fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && st.st_dev == m->dev && st.st_ino == FUSE_ROOT_INO)
			m->ctl = fd;
		else
			close(fd);
	}
	errno = saved;
	return m->ctl;
}

/* Records the mount whose device file is at `path` (resolved). */
static struct mount *add_mount(dev_t dev, const char *path)
{
	struct mount *m = find(dev);
	if (m)
		return m;
	const char *slash = strrchr(path, '/');
	if (!slash || nmounts == NMOUNTS)
		return NULL;
	m = &mounts[nmounts];
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(m->root))
		return NULL;
	memcpy(m->root, path, n);
	m->root[n] = 0;
	m->dev = dev;
	m->ctl = -1;
	nmounts++;
	return m;
}

/* realpath() of dirfd/path, as fstatat resolves it. */
static int resolve(int dirfd, const char *path, char *out)
{
	char buf[PATH_MAX + 32];
	if (path[0] == '/' || dirfd == AT_FDCWD)
		snprintf(buf, sizeof(buf), "%s", path);
	else
		snprintf(buf, sizeof(buf), "/proc/self/fd/%d/%s", dirfd, path);
	return realpath(buf, out) ? 0 : -1;
}

int fdrm_note_mount(int fd, dev_t dev)
{
	char link[64], path[PATH_MAX];
	int saved = errno, ok = -1;
	pthread_mutex_lock(&lock);
	if (find(dev)) {
		ok = 0;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, path, sizeof(path) - 1);
		if (n > 0) {
			path[n] = 0;
			ok = add_mount(dev, path) ? 0 : -1;
		}
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
	return ok;
}

/* The mount point of the whole filesystem `dev` (the /proc/self/mountinfo
 * entry with that device and root "/"), octal escapes undone. 0 or -1. */
static int mount_root(dev_t dev, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	while (found < 0 && getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char root[8], point[PATH_MAX];
		if (sscanf(line, "%*u %*u %u:%u %7s %4095s", &maj, &min, root, point) != 4 ||
		    makedev(maj, min) != dev || strcmp(root, "/") != 0)
			continue;
		size_t n = 0;
		for (const char *p = point; *p && n + 1 < len; n++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
				out[n] = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
				p += 4;
			} else {
				out[n] = *p++;
			}
		}
		out[n] = 0;
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

int fdrm_note_mount_dev(dev_t dev)
{
	char root[PATH_MAX], path[PATH_MAX + 2];
	int saved = errno, ok = -1;
	pthread_mutex_lock(&lock);
	if (find(dev)) {
		ok = 0;
	} else if (mount_root(dev, root, sizeof(root)) == 0) {
		/* add_mount takes a file of the root. */
		snprintf(path, sizeof(path), "%s/.", strcmp(root, "/") == 0 ? "" : root);
		ok = add_mount(dev, path) ? 0 : -1;
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
	return ok;
}

/* PROBE of inode `ino` through the mount's root (lock held); -1 if not a device. */
static int probe_ino(struct mount *m, ino_t ino)
{
	int ctl = ctl_fd(m);
	struct drm_fakedrm_probe p = { .ino = ino };
	if (ctl >= 0 && fdrm_sys_ioctl(ctl, DRM_IOCTL_FAKEDRM_PROBE, &p) == 0 && probe_ok(&p))
		return p.minor;
	return -1;
}

int fdrm_path_minor(int dirfd, const char *path, dev_t dev, ino_t ino)
{
	int minor = cached(dev, ino, 0);
	if (minor != -2)
		return minor;
	if (busy)
		return -1;
	busy = 1;
	int saved = errno;
	pthread_mutex_lock(&lock);
	struct mount *m = find(dev);
	if (m) {
		minor = probe_ino(m, ino);
	} else {
		/* First file of this mount: find its root. Resolving the path looks
		 * the name up again, which gives the file a new inode and lets the
		 * daemon forget the one we have: probe the new one. */
		char real[PATH_MAX];
		struct stat st;
		pthread_mutex_unlock(&lock);
		struct statfs sf;
		int ok = resolve(dirfd, path, real) == 0 && statfs(real, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
		pthread_mutex_lock(&lock);
		m = ok ? add_mount(dev, real) : NULL;
		minor = m && fdrm_sys_fstatat(AT_FDCWD, real, &st, 0) == 0 && st.st_dev == dev ? probe_ino(m, st.st_ino) : -1;
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
	busy = 0;
	return minor >= 0 ? remember(dev, ino, minor, 0) : -1;
}

int fdrm_ctl_ioctl(dev_t dev, unsigned long req, void *arg)
{
	pthread_mutex_lock(&lock);
	struct mount *m = find(dev);
	int ctl = m ? ctl_fd(m) : -1;
	int r = ctl >= 0 ? fdrm_sys_ioctl(ctl, req, arg) : -ENODEV;
	pthread_mutex_unlock(&lock);
	return r;
}

int fdrm_open_export(dev_t dev, uint32_t token, int flags)
{
	char name[64];
	snprintf(name, sizeof(name), FAKEDRM_EXPORT_PREFIX "%u", token);
	pthread_mutex_lock(&lock);
	struct mount *m = find(dev);
	int ctl = m ? ctl_fd(m) : -1;
	int fd = ctl >= 0 ? openat(ctl, name, flags) : -1;
	int e = ctl >= 0 ? errno : ENODEV;
	pthread_mutex_unlock(&lock);
	if (fd < 0)
		return -e;
	return fd;
}
