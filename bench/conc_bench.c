/* conc_bench DEVICE FLOOR [DAEMON_PID FLOOR_PID [DATA]] - throughput with
 * 1, 2, 4 ... 64 concurrent clients,
 * as threads sharing one open and as processes with their own, against the
 * floor daemon doing the same. Two workloads (and a third on request):
 *   ioctl  GEM_CREATE + MMAP_OFFSET + GEM_CLOSE (three round trips, each
 *          under fakedrm's device lock); the floor echoes the same calls;
 *   fault  a fresh 8 MiB GTT mapping read page by page (128 KiB READs),
 *          unmapped and closed; the floor's pages are dropped the same way;
 *   param  (only with CONC_WORK=param) three GETPARAMs, each answered
 *          through the caller's pointer by both daemons: the transport and
 *          the reader pool without the model's work, so that the ioctl
 *          row's gap can be split between the two.
 * Each configuration runs CONC_MS milliseconds (default 300), CONC_ROUNDS times
 * (default 3), fakedrm and floor alternating; the medians are printed with
 * the scaling relative to one client, and the ratio is the median of each
 * fakedrm run against the floor run next to it. CONC_MIN/CONC_MAX bound the
 * client counts (1, 64); CONC_WORK=ioctl, fault, param or a list
 * (ioctl,param) runs those workloads, CONC_MODE=threads or processes only
 * that kind of client; CONC_AGE=1 first ages fakedrm's
 * offset space past a wrap (age() below). With
 * the daemons' pids it prints each row's daemon CPU per ioctl (per MB for
 * faults; /proc ticks, median of the rounds) and their resident set and
 * thread count at the largest count (sampled mid-run, the most seen); DATA gets one line per
 * row for the plot (work mode n fakedrm floor). */
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define MAX_CLIENTS 64
#define FAULT_BYTES (8u << 20)

struct shared {
	atomic_int ready, go, stop;
	atomic_long ops[MAX_CLIENTS];
};

static struct shared *sh;
static const char *path;
static int is_floor, workload, shared_fd;
static int pids[2];             /* fakedrm's and the floor's daemon, or 0 */
static long peak_rss[2], peak_threads[2];
static double run_cpu;          /* the daemon's CPU seconds per unit in the last run() */

/* Threads of a process (its /proc status), or 0. */
static long thread_count(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	long n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static long ioctl_op(int fd, long iter)
{
	(void)iter;
	uint32_t h = gem_create(fd, 4096);
	mmap_offset(fd, h, I915_MMAP_OFFSET_GTT);
	gem_close(fd, h);
	return 3;
}

static long param_op(int fd)
{
	for (int i = 0; i < 3; i++) {
		int value = 0;
		struct drm_i915_getparam g = { .param = I915_PARAM_CHIPSET_ID, .value = &value };
		must(ioctl(fd, DRM_IOCTL_I915_GETPARAM, &g) == 0, "GETPARAM");
	}
	return 3;
}

static long fault_op(int fd, long iter, int id)
{
	uint32_t h = 0;
	uint64_t off;
	if (is_floor) /* fresh pages of the floor file: a range of its own */
		off = (1ull << 32) + ((uint64_t)(iter % 4096) * MAX_CLIENTS + id) * FAULT_BYTES;
	else
		off = mmap_offset(fd, h = gem_create(fd, FAULT_BYTES), I915_MMAP_OFFSET_GTT);
	volatile uint8_t *p = mmap(NULL, FAULT_BYTES, PROT_READ, MAP_SHARED, fd, off);
	must(p != MAP_FAILED, "mmap");
	unsigned sum = 0;
	for (size_t i = 0; i < FAULT_BYTES; i += 4096)
		sum += p[i];
	munmap((void *)p, FAULT_BYTES);
	if (is_floor)
		posix_fadvise(fd, off, FAULT_BYTES, POSIX_FADV_DONTNEED);
	else
		gem_close(fd, h);
	return sum == 0xdeadbeef ? 0 : FAULT_BYTES;
}

static void run_client(int id, int fd)
{
	atomic_fetch_add(&sh->ready, 1);
	while (!atomic_load(&sh->go))
		;
	long done = 0;
	for (long iter = 0; !atomic_load_explicit(&sh->stop, memory_order_relaxed); iter++)
		done += workload == 0 ? ioctl_op(fd, iter) : workload == 1 ? fault_op(fd, iter, id) : param_op(fd);
	atomic_store(&sh->ops[id], done);
}

static void *thread_main(void *arg)
{
	run_client((int)(intptr_t)arg, shared_fd);
	return NULL;
}

/* Units (ioctls or bytes) per second with n clients. */
static double run(int n, int processes, double seconds)
{
	memset(sh, 0, sizeof *sh);
	pthread_t t[MAX_CLIENTS];
	pid_t kids[MAX_CLIENTS];
	if (!processes) {
		shared_fd = open(path, O_RDWR);
		must(shared_fd >= 0, path);
	}
	for (int i = 0; i < n; i++) {
		if (processes) {
			kids[i] = fork();
			must(kids[i] >= 0, "fork");
			if (kids[i] == 0) {
				int fd = open(path, O_RDWR);
				must(fd >= 0, path);
				run_client(i, fd);
				_exit(0);
			}
		} else {
			must(pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i) == 0, "pthread_create");
		}
	}
	while (atomic_load(&sh->ready) < n)
		usleep(1000);
	double t0 = now(), c0 = pids[is_floor] ? process_cpu_seconds(pids[is_floor]) : 0;
	atomic_store(&sh->go, 1);
	usleep(seconds * 1e6 / 2);
	if (pids[is_floor]) {
		long rss = rss_bytes(pids[is_floor]), th = thread_count(pids[is_floor]);
		peak_rss[is_floor] = rss > peak_rss[is_floor] ? rss : peak_rss[is_floor];
		peak_threads[is_floor] = th > peak_threads[is_floor] ? th : peak_threads[is_floor];
	}
	usleep(seconds * 1e6 / 2);
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < n; i++) {
		if (processes)
			waitpid(kids[i], NULL, 0);
		else
			pthread_join(t[i], NULL);
	}
	double el = now() - t0;
	if (!processes)
		close(shared_fd);
	long total = 0;
	for (int i = 0; i < n; i++)
		total += atomic_load(&sh->ops[i]);
	/* The daemon's CPU per unit (its answers to the closes above are in it: small). */
	run_cpu = pids[is_floor] && total ? (process_cpu_seconds(pids[is_floor]) - c0) / total : 0;
	return total / el;
}

/* CONC_AGE=1: age fakedrm's offset space past a wrap first, as a daemon that
 * served a few million objects is (an IGT run): 1 GiB nodes (backing is
 * never touched) until MMAP_OFFSET says ENOSPC, the fd closed to free them,
 * then a few more, which wrap. The floor has no offset space to age. */
static void age(const char *device)
{
	for (int pass = 0; pass < 2; pass++) {
		int fd = open(device, O_RDWR);
		must(fd >= 0, "open to age");
		for (int i = 0; i < (pass ? 8 : 1 << 16); i++) {
			struct drm_i915_gem_create c = { .size = 1ull << 30 };
			must(ioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &c) == 0, "GEM_CREATE to age");
			struct drm_i915_gem_mmap_offset m = { .handle = c.handle, .flags = I915_MMAP_OFFSET_GTT };
			if (ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &m) != 0) {
				must(errno == ENOSPC, "MMAP_OFFSET to age");
				break;
			}
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 5 && argc != 6) {
		fprintf(stderr, "usage: conc_bench DEVICE FLOOR_DEVICE [DAEMON_PID FLOOR_PID [DATA]]\n");
		return 2;
	}
	if (argc >= 5)
		pids[0] = atoi(argv[3]), pids[1] = atoi(argv[4]);
	FILE *data = argc == 6 ? fopen(argv[5], "w") : NULL;
	double seconds = env_long("CONC_MS", 300) / 1000.0;
	int rounds = env_long("CONC_ROUNDS", 3), max = env_long("CONC_MAX", 64), min = env_long("CONC_MIN", 1);
	int top = min;
	while (top * 2 <= max && top * 2 <= MAX_CLIENTS)
		top *= 2;
	if (env_long("CONC_AGE", 0))
		age(argv[1]);
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	must(sh != MAP_FAILED, "mmap shared");
	const char *wname[] = { "ioctl", "fault", "param" }, *unit[] = { "ioctls/s", "MB/s", "ioctls/s" };
	printf("%-6s %-9s %7s %14s %8s %14s %8s %7s", "work", "clients", "n", "fakedrm", "scaling", "floor",
	       "scaling", "ratio");
	printf(pids[0] ? "  %15s\n" : "\n", "daemon CPU us");
	const char *only = getenv("CONC_WORK"), *mode = getenv("CONC_MODE");
	for (workload = 0; workload < 3; workload++) {
		if (only && *only ? !strstr(only, wname[workload]) : workload == 2)
			continue;
		for (int processes = 0; processes < 2; processes++) {
			if (mode && *mode && !strstr(mode, processes ? "processes" : "threads"))
				continue;
			double one[2] = { 0, 0 }, best = 0, worst_ratio = 1e9;
			int best_n = 0, below = 0, below_n = 0, worst_n = 0;
			for (int n = min; n <= max && n <= MAX_CLIENTS; n *= 2) {
				double v[2][rounds], cpu[2][rounds];
				if (n == top)
					peak_rss[0] = peak_rss[1] = peak_threads[0] = peak_threads[1] = 0;
				for (int r = 0; r < rounds; r++) {
					for (int k = 0; k < 2; k++) {
						is_floor = (r + k) % 2; /* alternate who goes first */
						path = argv[1 + is_floor];
						v[is_floor][r] = run(n, processes, seconds);
						cpu[is_floor][r] = run_cpu;
					}
				}
				double paired[rounds]; /* each fakedrm run against the floor run next to it */
				for (int r = 0; r < rounds; r++)
					paired[r] = v[0][r] / v[1][r];
				double ratio = median(paired, rounds);
				double s = median(v[0], rounds), f = median(v[1], rounds);
				double div = workload == 1 ? 1e6 : 1;
				if (n == min)
					one[0] = s, one[1] = f;
				/* issue 14's goals: >= 0.9x the floor at every count, and
				 * never below fakedrm's own best at a smaller count (a 10%
				 * band for noise between short runs) */
				if (best > 0 && s < 0.9 * best && !below)
					below = 1, below_n = n;
				if (s > best)
					best = s, best_n = n;
				if (ratio < worst_ratio)
					worst_ratio = ratio, worst_n = n;
				printf("%-6s %-9s %7d %9.0f %-4s %7.2fx %9.0f %-4s %7.2fx %6.2fx", wname[workload],
				       processes ? "processes" : "threads", n, s / div, unit[workload], s / one[0],
				       f / div, unit[workload], f / one[1], ratio);
				/* The daemons' CPU per ioctl (per MB for faults): what each
				 * unit of work costs them, the median of the rounds. */
				if (pids[0])
					printf("  %7.2f %7.2f", median(cpu[0], rounds) * 1e6 * div, median(cpu[1], rounds) * 1e6 * div);
				printf("\n");
				if (data)
					fprintf(data, "%s %s %d %.1f %.1f\n", wname[workload], processes ? "processes" : "threads", n,
						s / div, f / div);
				if (n == top && pids[0])
					printf("       daemons at %d %s: fakedrm RSS %.1f MiB, %ld threads; floor RSS %.1f MiB, %ld threads\n",
					       n, processes ? "processes" : "threads", peak_rss[0] / 1048576.0, peak_threads[0],
					       peak_rss[1] / 1048576.0, peak_threads[1]);
				fflush(stdout);
			}
			printf("       goals (%s, %s): >= 0.90x the floor at every count: %s (lowest %.2fx at %d); "
			       "no collapse: %s",
			       wname[workload], processes ? "processes" : "threads", worst_ratio >= 0.9 ? "met" : "NOT met",
			       worst_ratio, worst_n, below ? "NOT met" : "met");
			if (below)
				printf(" (%d below the best at %d)", below_n, best_n);
			printf("\n");
		}
	}
	if (data)
		fclose(data);
	printf("scaling: throughput relative to one client; ratio: fakedrm / floor (%ld CPUs)\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}
