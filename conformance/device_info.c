/* device_info: prints a device summary (version, GETPARAMs, aperture, GTT size, memory regions) and checks CREATE_EXT regions and MADVISE purge. */
#include "igt_lite.h"

#define NAME "device_info"

static const struct {
	int param;
	const char *name;
} params[] = {
	{ I915_PARAM_CHIPSET_ID, "CHIPSET_ID" },
	{ I915_PARAM_REVISION, "REVISION" },
	{ I915_PARAM_HAS_GEM, "HAS_GEM" },
	{ I915_PARAM_NUM_FENCES_AVAIL, "NUM_FENCES_AVAIL" },
	{ I915_PARAM_HAS_LLC, "HAS_LLC" },
	{ I915_PARAM_HAS_ALIASING_PPGTT, "HAS_ALIASING_PPGTT" },
	{ I915_PARAM_MMAP_VERSION, "MMAP_VERSION" },
	{ I915_PARAM_MMAP_GTT_VERSION, "MMAP_GTT_VERSION" },
	{ I915_PARAM_MMAP_GTT_COHERENT, "MMAP_GTT_COHERENT" },
};

/* DRM_I915_QUERY_MEMORY_REGIONS, two calls: length first, then a zeroed buffer of that length. */
static struct drm_i915_query_memory_regions *query_regions(int fd)
{
	struct drm_i915_query_item item = { .query_id = DRM_I915_QUERY_MEMORY_REGIONS };
	struct drm_i915_query q = { .num_items = 1, .items_ptr = (uintptr_t)&item };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_QUERY, &q));
	CHECK_MSG(item.length >= (int32_t)sizeof(struct drm_i915_query_memory_regions),
		  "MEMORY_REGIONS length %d", item.length);

	struct drm_i915_query_memory_regions *mr = calloc(1, (size_t)item.length);
	CHECK(mr);
	int32_t len = item.length;
	item.data_ptr = (uintptr_t)mr;
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_QUERY, &q));
	CHECK_MSG(item.length == len, "second call length %d, first %d", item.length, len);
	CHECK(sizeof(*mr) + mr->num_regions * sizeof(mr->regions[0]) <= (size_t)len);
	return mr;
}

static int create_in_region(int fd, uint16_t class, uint16_t instance, uint32_t *handle)
{
	struct drm_i915_gem_memory_class_instance region = {
		.memory_class = class, .memory_instance = instance,
	};
	struct drm_i915_gem_create_ext_memory_regions ext = {
		.base = { .name = I915_GEM_CREATE_EXT_MEMORY_REGIONS },
		.num_regions = 1,
		.regions = (uintptr_t)&region,
	};
	struct drm_i915_gem_create_ext c = { .size = 64 * KiB, .extensions = (uintptr_t)&ext };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_CREATE_EXT, &c);
	if (r == 0) {
		CHECK(c.handle != 0 && c.size >= 64 * KiB);
		*handle = c.handle;
	}
	return r;
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);

	struct drm_version v;
	CHECK_OK(drm_get_version(fd, &v));
	info("driver   %s %d.%d.%d, date %s, \"%s\"", v.name, v.version_major, v.version_minor,
	     v.version_patchlevel, v.date, v.desc);
	CHECK(strcmp(v.name, "i915") == 0);

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		int val = 0, r = __getparam(fd, params[i].param, &val);
		if (r)
			info("param    %-20s error %s", params[i].name, errname(-r));
		else if (params[i].param == I915_PARAM_CHIPSET_ID)
			info("param    %-20s 0x%04x", params[i].name, val);
		else
			info("param    %-20s %d", params[i].name, val);
	}

	struct drm_i915_gem_get_aperture ap = { 0 };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_GET_APERTURE, &ap));
	info("aperture %llu MiB total, %llu MiB available", (unsigned long long)(ap.aper_size / MiB),
	     (unsigned long long)(ap.aper_available_size / MiB));
	CHECK(ap.aper_size > 0);

	struct drm_i915_gem_context_param cp = { .ctx_id = 0, .param = I915_CONTEXT_PARAM_GTT_SIZE };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_CONTEXT_GETPARAM, &cp));
	info("ctx 0    GTT_SIZE %llu MiB", (unsigned long long)(cp.value / MiB));
	CHECK(cp.value > 0);

	struct drm_i915_query_memory_regions *mr = query_regions(fd);
	int sys = -1;
	for (uint32_t i = 0; i < mr->num_regions; i++) {
		struct drm_i915_memory_region_info *ri = &mr->regions[i];
		info("region   %u:%u %s, probed %llu MiB, unallocated %llu MiB", ri->region.memory_class,
		     ri->region.memory_instance,
		     ri->region.memory_class == I915_MEMORY_CLASS_SYSTEM ? "system" :
		     ri->region.memory_class == I915_MEMORY_CLASS_DEVICE ? "device" : "?",
		     (unsigned long long)(ri->probed_size / MiB), (unsigned long long)(ri->unallocated_size / MiB));
		if (ri->region.memory_class == I915_MEMORY_CLASS_SYSTEM && sys < 0)
			sys = (int)i;
	}
	CHECK_MSG(sys >= 0, "no system-memory region among %u", mr->num_regions);

	uint32_t h = 0;
	CHECK_OK(create_in_region(fd, I915_MEMORY_CLASS_SYSTEM, mr->regions[sys].region.memory_instance, &h));
	gem_close(fd, h);
	CHECK_ERRNO(create_in_region(fd, 99, 0, &h), EINVAL);

	/* An object without pages is purged at once by DONTNEED; WILLNEED cannot bring it back. */
	uint32_t retained = 1;
	h = gem_create(fd, 64 * KiB);
	CHECK_OK(__gem_madvise(fd, h, I915_MADV_DONTNEED, &retained));
	info("madvise  DONTNEED on untouched object: retained %u", retained);
	retained = 1;
	CHECK_OK(__gem_madvise(fd, h, I915_MADV_WILLNEED, &retained));
	CHECK_MSG(retained == 0, "WILLNEED after DONTNEED: retained %u, expected 0 (purged)", retained);
	gem_close(fd, h);

	/* TOPOLOGY_INFO (Mesa needs it on gen10+): a TGL GT2 is 1 slice, 6 subslices, 16 EUs each. */
	struct drm_i915_query_item ti = { .query_id = DRM_I915_QUERY_TOPOLOGY_INFO };
	struct drm_i915_query tq = { .num_items = 1, .items_ptr = (uintptr_t)&ti };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_QUERY, &tq));
	CHECK_MSG(ti.length == (int32_t)sizeof(struct drm_i915_query_topology_info) + 1 + 1 + 6 * 2,
		  "TOPOLOGY_INFO length %d", ti.length);
	struct drm_i915_query_topology_info *topo = calloc(1, (size_t)ti.length);
	CHECK(topo);
	ti.data_ptr = (uintptr_t)topo;
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_QUERY, &tq));
	CHECK(topo->max_slices == 1 && topo->max_subslices == 6 && topo->max_eus_per_subslice == 16);
	CHECK(topo->data[0] == 0x1 && topo->data[topo->subslice_offset] == 0x3f);
	unsigned eus = 0;
	for (unsigned ss = 0; ss < topo->max_subslices; ss++)
		for (unsigned b = 0; b < topo->eu_stride; b++)
			eus += __builtin_popcount(topo->data[topo->eu_offset + ss * topo->eu_stride + b]);
	CHECK_MSG(eus == 96, "%u EUs in the topology", eus);
	ti.flags = 1;
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_QUERY, &tq));
	CHECK_MSG(ti.length == -EINVAL, "TOPOLOGY_INFO with flags: %d", ti.length);
	free(topo);
	info("topology 1 slice, 6 subslices, %u EUs", eus);

	unsigned nregions = mr->num_regions;
	unsigned long long aper = ap.aper_size / MiB, gtt = cp.value / MiB;
	free(mr);
	free(v.name);
	free(v.date);
	free(v.desc);
	close(fd);
	pass(NAME, "i915, aperture %llu MiB, GTT %llu MiB, %u region(s), CREATE_EXT regions ok, DONTNEED purges",
	     aper, gtt, nregions);
}
