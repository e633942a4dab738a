/* gem_basic: VERSION says "i915", basic GETPARAMs, GEM_CREATE + MMAP_GTT + mmap: zero-filled, write/read back, close. */
#include "igt_lite.h"

#define NAME "gem_basic"

/* DRM_IOCTL_VERSION by hand: NULL pointers first (lengths only), then exact-size buffers. */
static void check_version(int fd)
{
	struct drm_version v;

	memset(&v, 0, sizeof(v));
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_VERSION, &v));
	CHECK_MSG(v.name_len == 4, "name_len %zu", (size_t)v.name_len);
	size_t name_len = v.name_len, date_len = v.date_len, desc_len = v.desc_len;

	/* One guard byte past each buffer: the kernel copies len bytes, no NUL. */
	char *name = malloc(name_len + 1), *date = malloc(date_len + 1), *desc = malloc(desc_len + 1);
	CHECK(name && date && desc);
	memset(name, 0x5a, name_len + 1);
	memset(date, 0x5a, date_len + 1);
	memset(desc, 0x5a, desc_len + 1);
	v.name = name;
	v.date = date;
	v.desc = desc;
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_VERSION, &v));
	CHECK(v.name_len == name_len && v.date_len == date_len && v.desc_len == desc_len);
	CHECK(name[name_len] == 0x5a && date[date_len] == 0x5a && desc[desc_len] == 0x5a);
	name[name_len] = date[date_len] = desc[desc_len] = 0;
	CHECK_MSG(strcmp(name, "i915") == 0, "driver name \"%s\"", name);
	info("driver %s %d.%d.%d (%s) \"%s\"", name, v.version_major, v.version_minor,
	     v.version_patchlevel, date, desc);
	free(name);
	free(date);
	free(desc);
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);

	check_version(fd);

	int chipset = getparam(fd, I915_PARAM_CHIPSET_ID);
	CHECK(chipset != 0);
	CHECK(getparam(fd, I915_PARAM_HAS_GEM) == 1);
	int gtt_version = getparam(fd, I915_PARAM_MMAP_GTT_VERSION);
	CHECK_MSG(gtt_version >= 4, "MMAP_GTT_VERSION %d", gtt_version);

	uint64_t size = 1 * MiB;
	uint32_t handle = 0;
	CHECK_OK(__gem_create(fd, &size, &handle));
	CHECK(handle != 0);
	CHECK_MSG(size == 1 * MiB, "size written back: %llu", (unsigned long long)size);

	uint64_t off = 0;
	CHECK_OK(__gem_mmap_gtt(fd, handle, &off));
	CHECK_MSG(off % PAGE_SZ == 0 && off >= FAKE_OFFSET_START, "offset 0x%llx", (unsigned long long)off);

	size_t ndw = size / 4;
	uint32_t *p = gem_mmap(fd, off, size, PROT_READ | PROT_WRITE);
	CHECK_ZERO(p, ndw, "fresh object through GTT map");
	fill_pattern(p, ndw, 0xc0ffee01);
	CHECK_PATTERN(p, ndw, 0xc0ffee01, "read back through GTT map");
	CHECK_OK(munmap(p, size));

	/* munmap writes the dirty pages back; PREAD must see them. */
	uint32_t *buf = malloc(size);
	CHECK(buf);
	gem_pread(fd, handle, 0, buf, size);
	CHECK_PATTERN(buf, ndw, 0xc0ffee01, "PREAD after munmap");
	free(buf);

	gem_close(fd, handle);
	CHECK_OK(close(fd));
	pass(NAME, "i915 chipset 0x%04x, gtt_version %d, 1 MiB object at offset 0x%llx mapped, zeroed, written, read back",
	     chipset, gtt_version, (unsigned long long)off);
}
