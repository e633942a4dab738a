/* bench.h - helpers shared by the benchmarks (header only). Benchmarks print
 * numbers and ratios and assert nothing; a failing call ends the run. */
#ifndef BENCH_H
#define BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <libdrm/drm.h>
#include <libdrm/i915_drm.h>

static inline double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static inline void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

/* An environment knob with a default (caps for quick runs). */
static inline long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? atol(v) : dflt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of n samples (sorts them). */
static inline double median(double *v, int n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The smallest of n samples. */
static inline double best(const double *v, int n)
{
	double b = v[0];
	for (int i = 1; i < n; i++)
		b = v[i] < b ? v[i] : b;
	return b;
}

static inline uint32_t gem_create(int fd, uint64_t size)
{
	struct drm_i915_gem_create c = { .size = size };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &c) == 0, "GEM_CREATE");
	return c.handle;
}

static inline void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };
	must(ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c) == 0, "GEM_CLOSE");
}

static inline uint64_t mmap_offset(int fd, uint32_t handle, uint64_t type)
{
	struct drm_i915_gem_mmap_offset m = { .handle = handle, .flags = type };
	must(ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &m) == 0, "MMAP_OFFSET");
	return m.offset;
}

/* Resident set of a process in bytes (VmRSS), or 0 if unknown. */
static inline long rss_bytes(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* CPU seconds process `pid` (every thread it ran) has used so far, from
 * /proc/PID/stat; 0 if it cannot be read. Clock ticks: a 10 ms grain. */
static inline double process_cpu_seconds(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	unsigned long ut = 0, st = 0;
	char *p = strrchr(buf, ')');
	/* after "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

#endif
