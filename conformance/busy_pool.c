/* busy_pool DEVICE [THREADS [SECONDS]]: THREADS (16) threads of one process ask
 * GETPARAM back to back for SECONDS (1), then print the rate. A saturating
 * load for ReliabilityTests to watch the daemon's reader pool under: every
 * reader busy is then the normal state, not a stuck pool. */
#include "igt_lite.h"

#include <pthread.h>
#include <stdatomic.h>

#define NAME "busy_pool"

static int fd;
static atomic_int stop;
static atomic_long done;

static void *asker(void *arg)
{
	(void)arg;
	long n = 0;
	while (!atomic_load(&stop)) {
		int value = 0;
		struct drm_i915_getparam g = { .param = I915_PARAM_CHIPSET_ID, .value = &value };
		if (ioctl(fd, DRM_IOCTL_I915_GETPARAM, &g) != 0 || value == 0)
			fail("GETPARAM: %s", strerror(errno));
		n++;
	}
	atomic_fetch_add(&done, n);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4)
		fail("usage: busy_pool DEVICE [THREADS [SECONDS]]");
	int threads = argc > 2 ? atoi(argv[2]) : 16, seconds = argc > 3 ? atoi(argv[3]) : 1;
	if (threads < 1 || threads > 256 || seconds < 1)
		fail("THREADS 1-256, SECONDS >= 1");
	alarm(seconds + 30);
	fd = drm_open(argv[1]);
	pthread_t t[256];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, asker, NULL))
			fail("pthread_create");
	sleep(seconds);
	atomic_store(&stop, 1);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("# %d threads: %ld GETPARAMs/s\n", threads, atomic_load(&done) / seconds);
	printf("PASS %s\n", NAME);
	return 0;
}
