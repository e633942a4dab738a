#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "CFuse.h"

/*
 * Where the kernel keeps mappings of our device: /proc/self/mountinfo names
 * the mount's device number, and every process's /proc/PID/maps lists each
 * mapping's device, inode and file offset. The daemon never sees mmap or
 * munmap; this is how it learns which mappings are still there.
 */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = 0;
}

/* The last mountinfo entry on `mountpoint` (the mount on top). */
static int find_mount(const char *mountpoint, unsigned *major, unsigned *minor, char *fstype, size_t n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int found = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		unsigned ma, mi;
		char point[4096], type[256];
		/* id parent major:minor root mountpoint ... - fstype source opts */
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi, point) != 3)
			continue;
		unescape(point);
		const char *sep = strstr(line, " - ");
		if (strcmp(point, mountpoint) || !sep || sscanf(sep + 3, "%255s", type) != 1)
			continue;
		*major = ma;
		*minor = mi;
		snprintf(fstype, n, "%s", type);
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

int cfuse_mount_dev(const char *mountpoint, unsigned *major, unsigned *minor)
{
	char type[256];
	int r = find_mount(mountpoint, major, minor, type, sizeof type);
	return r ? r : strncmp(type, "fuse", 4) ? -ENOENT : 0;
}

int cfuse_mount_type(const char *mountpoint, char *fstype, size_t n)
{
	unsigned major, minor;
	return find_mount(mountpoint, &major, &minor, fstype, n);
}

static uint64_t hex(const char **p)
{
	uint64_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* One process's mappings of major:minor; 0, or -errno when the list could
 * not be read (a process that is gone has no mappings left: 0). */
#define MAPS_BUF (1 << 16)

static int scan_pid(const char *pid, unsigned major, unsigned minor, cfuse_map_fn fn, void *ctx, char *buf)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%s/maps", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -errno;
	size_t have = 0;
	int err = 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, MAPS_BUF - 1 - have);
		if (n < 0) {
			err = errno == ESRCH ? 0 : -errno;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		buf[have] = 0;
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			/* start-end perms offset major:minor inode path */
			const char *p = line;
			uint64_t start = hex(&p);
			p++;
			uint64_t end = hex(&p);
			p = strchr(p + 1, ' '); /* past " perms" */
			if (p) {
				p++;
				uint64_t off = hex(&p);
				p++;
				uint64_t ma = hex(&p);
				p++;
				uint64_t mi = hex(&p);
				if (ma == major && mi == minor) {
					uint64_t ino = strtoull(p, NULL, 10);
					fn(ctx, ino, off, end - start);
				}
			}
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
		if (have == MAPS_BUF - 1) /* no line is this long */
			have = 0;
	}
	close(fd);
	return err;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int cfuse_scan_maps(unsigned major, unsigned minor, cfuse_map_fn fn, cfuse_unreadable_fn unreadable, void *ctx)
{
	int *seen = NULL;
	size_t nseen = 0, cap = 0;
	int err = -EAGAIN;
	char *buf = malloc(MAPS_BUF);
	if (!buf)
		return -ENOMEM;
	/* A child forked while we read may inherit a mapping its parent then
	 * drops before we read the parent: list again until no process is new. */
	for (int round = 0; round < 8 && err == -EAGAIN; round++) {
		DIR *d = opendir("/proc");
		if (!d) {
			err = -errno;
			break;
		}
		size_t before = nseen;
		struct dirent *e;
		while ((e = readdir(d))) {
			char *endp;
			long pid = strtol(e->d_name, &endp, 10);
			if (*endp || pid <= 0)
				continue;
			int ipid = (int)pid;
			if (before && bsearch(&ipid, seen, before, sizeof *seen, cmp_int))
				continue;
			int r = scan_pid(e->d_name, major, minor, fn, ctx, buf);
			if ((r == -EACCES || r == -EPERM) && unreadable(ctx, ipid) == 0)
				r = 0;
			if (r) {
				err = r;
				break;
			}
			if (nseen == cap) {
				cap = cap ? 2 * cap : 256;
				int *grown = realloc(seen, cap * sizeof *seen);
				if (!grown) {
					err = -ENOMEM;
					break;
				}
				seen = grown;
			}
			seen[nseen++] = ipid;
		}
		closedir(d);
		if (err != -EAGAIN)
			break;
		if (round > 0 && nseen == before)
			err = 0;
		qsort(seen, nseen, sizeof *seen, cmp_int);
	}
	free(seen);
	free(buf);
	return err;
}
