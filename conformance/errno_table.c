/* errno_table: table of bad inputs, each must fail with the errno the i915 kernel driver returns. */
#include "igt_lite.h"

#define NAME "errno_table"
#define BAD_HANDLE 0xdeadbeefu
#define OBJ_SIZE (16 * KiB)

static int fd;
static uint32_t handle; /* the only live object on fd, so handle + 1 is unused */
static const char *note; /* extra detail a row may leave for its failure message */

static int mmo(uint32_t h, uint64_t flags, uint64_t extensions)
{
	struct drm_i915_gem_mmap_offset a = { .handle = h, .flags = flags, .extensions = extensions };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &a);
}

static int pread_raw(uint32_t h, uint64_t offset, uint64_t size, uint64_t ptr)
{
	struct drm_i915_gem_pread a = { .handle = h, .offset = offset, .size = size, .data_ptr = ptr };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_PREAD, &a);
}

static uint32_t scratch[4];
#define SCRATCH ((uint64_t)(uintptr_t)scratch)

static int close_unknown(void) { return __gem_close(fd, BAD_HANDLE); }
static int close_zero(void) { return __gem_close(fd, 0); }
static int create_zero(void)
{
	struct drm_i915_gem_create c = { .size = 0 };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_CREATE, &c);
}
static int mmo_deadbeef(void) { return mmo(0xdeadbeef, I915_MMAP_OFFSET_GTT, 0); }
static int mmo_high_bit(void) { return mmo(handle | (1u << 16), I915_MMAP_OFFSET_GTT, 0); }
static int mmo_next(void) { return mmo(handle + 1, I915_MMAP_OFFSET_GTT, 0); }
static int mmo_bad_flags(void) { return mmo(handle, ~0ull, 0); }
static int mmo_bad_ext_ptr(void) { return mmo(handle, I915_MMAP_OFFSET_GTT, ~0ull); }
static int mmo_bad_ext_name(void)
{
	struct i915_user_extension ext = { .name = ~0u };
	return mmo(handle, I915_MMAP_OFFSET_GTT, (uintptr_t)&ext);
}
static int mmap_gtt_16(void)
{
	/* 16-byte struct on the shared nr: zero-extended to MMAP_OFFSET with flags GTT. */
	struct drm_i915_gem_mmap_gtt a = { .handle = handle };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP_GTT, &a);
	if (r == 0 && (a.offset < FAKE_OFFSET_START || a.offset % PAGE_SZ)) {
		note = "returned offset not page aligned or below 4 GiB";
		return 1;
	}
	return r;
}
static int pread_size0_bad(void) { return pread_raw(BAD_HANDLE, 0, 0, SCRATCH); }
static int pread_bad(void) { return pread_raw(BAD_HANDLE, 0, 4, SCRATCH); }
static int pread_oob(void) { return pread_raw(handle, OBJ_SIZE - 2, 4, SCRATCH); }
static int pread_fault(void) { return pread_raw(handle, 0, 4, 8); }
static int pwrite_bad(void) { return __gem_pwrite(fd, BAD_HANDLE, 0, scratch, 4); }
static int sd_render(void) { return __gem_set_domain(fd, handle, I915_GEM_DOMAIN_RENDER, 0); }
static int sd_mismatch(void) { return __gem_set_domain(fd, handle, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_GTT); }
static int sd_read0_bad(void) { return __gem_set_domain(fd, BAD_HANDLE, 0, 0); }
static int sd_bad(void) { return __gem_set_domain(fd, BAD_HANDLE, I915_GEM_DOMAIN_GTT, 0); }
static int gp_unknown(void) { int v; return __getparam(fd, -1, &v); }
static int gp_fault(void) { return __getparam(fd, I915_PARAM_CHIPSET_ID, (int *)(uintptr_t)8); }
static int legacy_mmap(void)
{
	/* Plain mode: EOPNOTSUPP (the daemon cannot map into us); strict mode
	 * runs i915_gem_mmap_ioctl's checks: flags other than WC are EINVAL. */
	struct drm_i915_gem_mmap a = { .handle = handle, .size = OBJ_SIZE, .flags = 2 };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_MMAP, &a);
}
static int unknown_driver_ioctl(void)
{
	struct drm_i915_gem_create c = { .size = 4096 };
	return drm_ioctl(fd, DRM_IOWR(DRM_COMMAND_BASE + 0x5e, struct drm_i915_gem_create), &c);
}
static int foreign_ioctl(void) { int v = 0; return drm_ioctl(fd, _IOWR('x', 1, int), &v); }
static int madv_bad(void) { return __gem_madvise(fd, handle, 7, NULL); }
static int madv_bad_handle(void) { return __gem_madvise(fd, BAD_HANDLE, I915_MADV_WILLNEED, NULL); }
static int flink_bad(void) { uint32_t n; return __gem_flink(fd, BAD_HANDLE, &n); }
static int open_unknown(void) { uint32_t h; return __gem_open(fd, 0x7fffbeef, &h, NULL); }
static int get_caching_bad(void)
{
	struct drm_i915_gem_caching a = { .handle = BAD_HANDLE };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_GET_CACHING, &a);
}
static int set_caching_99(void)
{
	struct drm_i915_gem_caching a = { .handle = handle, .caching = 99 };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_CACHING, &a);
}
static int busy_bad(void)
{
	struct drm_i915_gem_busy a = { .handle = BAD_HANDLE };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_BUSY, &a);
}
static int wait_bad(void)
{
	struct drm_i915_gem_wait a = { .bo_handle = BAD_HANDLE };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_WAIT, &a);
}

static struct row {
	const char *what;
	int expect; /* errno, 0 = success */
	int (*fn)(void);
} rows[] = {
	{ "GEM_CLOSE unknown handle", EINVAL, close_unknown },
	{ "GEM_CLOSE handle 0", EINVAL, close_zero },
	{ "GEM_CREATE size 0", EINVAL, create_zero },
	{ "MMAP_OFFSET handle 0xdeadbeef", ENOENT, mmo_deadbeef },
	{ "MMAP_OFFSET handle|(1<<16)", ENOENT, mmo_high_bit },
	{ "MMAP_OFFSET handle+1", ENOENT, mmo_next },
	{ "MMAP_OFFSET flags -1", EINVAL, mmo_bad_flags },
	{ "MMAP_OFFSET extensions -1", EFAULT, mmo_bad_ext_ptr },
	{ "MMAP_OFFSET extension name -1", EINVAL, mmo_bad_ext_name },
	{ "MMAP_GTT 16-byte struct", 0, mmap_gtt_16 },
	{ "PREAD size 0, bad handle", 0, pread_size0_bad },
	{ "PREAD bad handle", ENOENT, pread_bad },
	{ "PREAD offset+size > object", EINVAL, pread_oob },
	{ "PREAD data_ptr 8", EFAULT, pread_fault },
	{ "PWRITE bad handle", ENOENT, pwrite_bad },
	{ "SET_DOMAIN read RENDER", EINVAL, sd_render },
	{ "SET_DOMAIN write GTT, read CPU", EINVAL, sd_mismatch },
	{ "SET_DOMAIN read 0, bad handle", 0, sd_read0_bad },
	{ "SET_DOMAIN bad handle", ENOENT, sd_bad },
	{ "GETPARAM param -1", EINVAL, gp_unknown },
	{ "GETPARAM CHIPSET_ID value ptr 8", EFAULT, gp_fault },
	{ "legacy GEM_MMAP flags 2", EOPNOTSUPP, legacy_mmap }, /* strict mode: EINVAL */
	{ "unknown driver ioctl 0x5e", EINVAL, unknown_driver_ioctl },
	{ "foreign ioctl _IOWR('x',1,int)", ENOTTY, foreign_ioctl },
	{ "MADVISE madv 7", EINVAL, madv_bad },
	{ "MADVISE bad handle", ENOENT, madv_bad_handle },
	{ "GEM_FLINK bad handle", ENOENT, flink_bad },
	{ "GEM_OPEN unknown name", ENOENT, open_unknown },
	{ "GET_CACHING bad handle", ENOENT, get_caching_bad },
	{ "SET_CACHING caching 99", EINVAL, set_caching_99 },
	{ "GEM_BUSY bad handle", ENOENT, busy_bad },
	{ "GEM_WAIT bad handle", ENOENT, wait_bad },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	fd = drm_open(path);
	handle = gem_create(fd, OBJ_SIZE);
	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].fn == legacy_mmap && strict_mode())
			rows[i].expect = EINVAL;

	unsigned passed = 0;
	for (size_t i = 0; i < NROWS; i++) {
		note = NULL;
		int r = rows[i].fn();
		if (r == -rows[i].expect) {
			passed++;
			continue;
		}
		char g[32], w[32];
		info("row %2zu %-34s got %s, expected %s%s%s", i + 1, rows[i].what, igt_strret(r, g, sizeof(g)),
		     igt_strret(-rows[i].expect, w, sizeof(w)), note ? ": " : "", note ? note : "");
	}

	/* The device must still be sane after all that. */
	CHECK(getparam(fd, I915_PARAM_CHIPSET_ID) != 0);
	gem_close(fd, handle);
	close(fd);
	if (passed != NROWS)
		fail("%u/%zu rows passed", passed, NROWS);
	pass(NAME, "%u/%zu rows passed", passed, NROWS);
}
