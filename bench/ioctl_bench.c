/* ioctl_bench DEVICE FLOOR - ioctl round trips through fakedrm against the
 * floor daemon (bench/floor_daemon.c: a libfuse daemon that echoes every
 * ioctl), the same calls and the same number of round trips on each.
 *
 * Short batches of IOCTL_N calls alternate between the two (which goes
 * first alternates too) for IOCTL_ROUNDS rounds. The ns figures are each
 * side's best batch (load from elsewhere only ever adds time); the ratio is
 * the median over the rounds of each fakedrm batch against the floor batch
 * next to it, so load that lasts (another CPU hog) cancels out as well. */
#include "bench.h"

struct op {
	const char *name;
	int trips; /* round trips per call */
	void (*run)(int fd, uint32_t handle);
};

static void getparam(int fd, uint32_t handle)
{
	(void)handle;
	int v = 0;
	struct drm_i915_getparam g = { .param = I915_PARAM_CHIPSET_ID, .value = &v };
	must(ioctl(fd, DRM_IOCTL_I915_GETPARAM, &g) == 0, "GETPARAM");
}

static void get_cap(int fd, uint32_t handle)
{
	(void)handle;
	struct drm_get_cap c = { .capability = DRM_CAP_TIMESTAMP_MONOTONIC };
	must(ioctl(fd, DRM_IOCTL_GET_CAP, &c) == 0, "GET_CAP");
}

static void create_close(int fd, uint32_t handle)
{
	(void)handle;
	gem_close(fd, gem_create(fd, 4096));
}

static void offset(int fd, uint32_t handle)
{
	mmap_offset(fd, handle, I915_MMAP_OFFSET_WB);
}

/* ns per call of a batch of n. */
static double batch(const struct op *op, int fd, uint32_t handle, int n)
{
	double t0 = now();
	for (int i = 0; i < n; i++)
		op->run(fd, handle);
	return (now() - t0) / n * 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ioctl_bench DEVICE FLOOR_DEVICE\n");
		return 2;
	}
	int n = env_long("IOCTL_N", 300), rounds = env_long("IOCTL_ROUNDS", 31);
	int fd = open(argv[1], O_RDWR), floor_fd = open(argv[2], O_RDWR);
	must(fd >= 0, argv[1]);
	must(floor_fd >= 0, argv[2]);
	/* MMAP_OFFSET of an object that has its node: the lookup and allow path. */
	uint32_t handle = gem_create(fd, 1 << 20);
	mmap_offset(fd, handle, I915_MMAP_OFFSET_WB);

	const struct op ops[] = {
		{ "GET_CAP", 1, get_cap },
		{ "GETPARAM", 1, getparam },
		{ "GEM_CREATE+GEM_CLOSE", 2, create_close },
		{ "MMAP_OFFSET", 1, offset },
	};
	printf("%-22s %12s %12s %7s %9s   (best of %d batches of %d, interleaved)\n", "ioctl", "fakedrm ns",
	       "floor ns", "ratio", "(bests)", rounds, n);
	for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		double subj[rounds], base[rounds];
		for (int k = 0; k < 100; k++) /* warm both */
			ops[i].run(fd, handle), ops[i].run(floor_fd, 0);
		for (int r = 0; r < rounds; r++) {
			if (r % 2) {
				subj[r] = batch(&ops[i], fd, handle, n);
				base[r] = batch(&ops[i], floor_fd, 0, n);
			} else {
				base[r] = batch(&ops[i], floor_fd, 0, n);
				subj[r] = batch(&ops[i], fd, handle, n);
			}
		}
		double s = subj[0], b = base[0];
		for (int r = 1; r < rounds; r++)
			s = subj[r] < s ? subj[r] : s, b = base[r] < b ? base[r] : b;
		double paired[rounds];
		for (int r = 0; r < rounds; r++)
			paired[r] = subj[r] / base[r];
		printf("%-22s %12.0f %12.0f %6.2fx %8.2fx%s\n", ops[i].name, s, b, median(paired, rounds), s / b,
		       ops[i].trips > 1 ? "   (2 round trips)" : "");
	}
	printf("target: a trivial ioctl (GET_CAP, GETPARAM) within 1.15x of the floor\n");
	return 0;
}
