/* gpu_reset: a reset forced through debug/i915_wedged (IGT's igt_force_gpu_reset writes
 * -1ull) with engine resets allowed (`reset` 3): the spinner each engine runs is the guilty
 * request. It ends, its context counts a guilty reset (GET_RESET_STATS.batch_active), and a
 * context created not RECOVERABLE is banned: its next execbuf fails with EIO, a recoverable
 * one's succeeds (IGT gem_ctx_exec@basic-norecovery). */
#include "igt_lite.h"
#include "gpu_lite.h"

#include <libgen.h>

#define NAME "gpu_reset"
#define SPIN 0x100000ull

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	char tmp[PATH_MAX], wedged[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(wedged, sizeof(wedged), "%s/debug/i915_wedged", dirname(tmp));

	for (int pass = 1; pass >= 0; pass--) {
		uint32_t ctx = ctx_create(fd);
		uint64_t value = !pass;
		CHECK_OK(__ctx_setparam(fd, ctx, I915_CONTEXT_PARAM_RECOVERABLE, pass));
		CHECK_OK(__ctx_getparam(fd, ctx, I915_CONTEXT_PARAM_RECOVERABLE, &value));
		CHECK(value == (uint64_t)pass);

		uint32_t spin = gem_create(fd, PAGE_SZ);
		volatile uint32_t *map = spinner_map(fd, spin, SPIN);
		struct drm_i915_gem_exec_object2 obj = pinned(spin, SPIN, 0);
		CHECK_OK(__exec(fd, ctx, &obj, 1, I915_EXEC_RENDER));
		usleep(20000); /* running */

		int w = open(wedged, O_WRONLY | O_CLOEXEC);
		CHECK_MSG(w >= 0, "open %s: %s", wedged, strerror(errno));
		CHECK(write(w, "18446744073709551615", 20) == 20);
		close(w);
		char buf[8] = "";
		w = open(wedged, O_RDONLY | O_CLOEXEC);
		CHECK(read(w, buf, sizeof(buf) - 1) == 2 && buf[0] == '0');
		close(w);

		int64_t timeout = 2000000000;
		CHECK_MSG(__gem_wait(fd, spin, &timeout) == 0, "the reset did not end the spinner");
		struct drm_i915_reset_stats rs;
		CHECK_OK(__reset_stats(fd, ctx, &rs));
		CHECK_MSG(rs.batch_active == 1 && rs.batch_pending == 0, "guilty %u, innocent %u", rs.batch_active,
			  rs.batch_pending);

		map[0] = MI_BATCH_BUFFER_END;
		int r = __exec(fd, ctx, &obj, 1, I915_EXEC_RENDER);
		CHECK_MSG(r == (pass ? 0 : -EIO), "recoverable=%d: execbuf after the reset returned %d", pass, r);
		gem_sync(fd, spin);
		CHECK_OK(munmap((void *)map, PAGE_SZ));
		gem_close(fd, spin);
		CHECK_OK(__ctx_destroy(fd, ctx));
	}
	close(fd);
	pass(NAME, "a forced reset blames each engine's running request; a non-recoverable context is banned (EIO)");
}
