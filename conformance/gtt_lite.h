/* gtt_lite.h - helpers the gtt_* examples share: the fence's tiling math
 * (SEMANTICS.md §5, written independently of the daemon), pattern checks
 * and the debug-tree counters. Include after igt_lite.h. */
#ifndef GTT_LITE_H
#define GTT_LITE_H


struct tiling {
	uint32_t mode, stride, swizzle;
};

static inline const char *tiling_name(uint32_t mode)
{
	return mode == I915_TILING_NONE ? "NONE" : mode == I915_TILING_X ? "X" : mode == I915_TILING_Y ? "Y" : "?";
}

/* Bijective in i for a fixed seed: every dword of an object is distinct. */
static inline uint32_t hash32(uint32_t seed, uint64_t i)
{
	uint32_t x = ((uint32_t)i * 0x9e3779b1u) ^ seed;
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static inline uint64_t swizzle_bit6(uint32_t swizzle, uint64_t t)
{
	uint64_t b;
	switch (swizzle) {
	case I915_BIT_6_SWIZZLE_NONE: return t;
	case I915_BIT_6_SWIZZLE_9: b = t >> 9; break;
	case I915_BIT_6_SWIZZLE_9_10: b = (t >> 9) ^ (t >> 10); break;
	case I915_BIT_6_SWIZZLE_9_11: b = (t >> 9) ^ (t >> 11); break;
	case I915_BIT_6_SWIZZLE_9_10_11: b = (t >> 9) ^ (t >> 10) ^ (t >> 11); break;
	default: fail("swizzle mode %u cannot be emulated", swizzle);
	}
	return t ^ ((b & 1) << 6);
}

/* SEMANTICS §5.2: where linear (GTT view) byte l lives in the raw object. */
static inline uint64_t tiled_offset(const struct tiling *t, uint64_t l)
{
	if (t->mode == I915_TILING_NONE)
		return l;
	uint64_t s = t->stride, y = l / s, x = l % s, o;
	if (t->mode == I915_TILING_X)
		o = (y / 8) * (s * 8) + (x / 512) * 4096 + (y % 8) * 512 + (x % 512);
	else
		o = (y / 32) * (s * 32) + (x / 128) * 4096 + ((x % 128) / 16) * 512 + (y % 32) * 16 + (x % 16);
	return swizzle_bit6(t->swizzle, o);
}

static inline uint64_t tile_row_bytes(const struct tiling *t)
{
	return t->mode == I915_TILING_NONE ? PAGE_SZ : (uint64_t)t->stride * (t->mode == I915_TILING_X ? 8 : 32);
}

/* raw = the layout the device stores when linear content lin is seen through the fence. */
static inline void tile_buf(const struct tiling *t, const uint32_t *lin, uint32_t *raw, uint64_t size)
{
	for (uint64_t i = 0; i < size / 4; i++)
		raw[tiled_offset(t, 4 * i) / 4] = lin[i];
}

/* lin = what the fenced GTT view shows for raw content raw. */
static inline void detile_buf(const struct tiling *t, const uint32_t *raw, uint32_t *lin, uint64_t size)
{
	for (uint64_t i = 0; i < size / 4; i++)
		lin[i] = raw[tiled_offset(t, 4 * i) / 4];
}

static inline void fill_hash(uint32_t *buf, uint64_t size, uint32_t seed)
{
	for (uint64_t i = 0; i < size / 4; i++)
		buf[i] = hash32(seed, i);
}

/* Compare got (a map or a buffer) with exp; report the first mismatch, where its value belongs, and the count. */
__attribute__((format(printf, 6, 7)))
static inline void check_buf_at(const char *file, int line, const volatile uint32_t *got, const uint32_t *exp,
			 uint64_t size, const char *fmt, ...)
{
	uint64_t ndw = size / 4, first = UINT64_MAX, bad = 0;
	for (uint64_t i = 0; i < ndw; i++) {
		if (got[i] != exp[i]) {
			if (first == UINT64_MAX)
				first = i;
			bad++;
		}
	}
	if (!bad)
		return;
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	uint32_t g = got[first];
	char where[64] = "";
	for (uint64_t j = 0; g != 0 && j < ndw; j++) {
		if (exp[j] == g) {
			snprintf(where, sizeof(where), " (that value is expected at byte 0x%llx)", (unsigned long long)(4 * j));
			break;
		}
	}
	fail("%s:%d: %s: byte 0x%llx = 0x%08x, expected 0x%08x%s; %llu of %llu dwords differ", file, line, what,
	     (unsigned long long)(4 * first), g, exp[first], where, (unsigned long long)bad, (unsigned long long)ndw);
}
#define CHECK_BUF(got, exp, size, ...) check_buf_at(__FILE__, __LINE__, got, exp, size, __VA_ARGS__)

static inline int __set_tiling(int fd, uint32_t handle, uint32_t mode, uint32_t stride, struct drm_i915_gem_set_tiling *st)
{
	memset(st, 0, sizeof(*st));
	st->handle = handle;
	st->tiling_mode = mode;
	st->stride = stride;
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_SET_TILING, st);
}

static inline int __get_tiling(int fd, uint32_t handle, struct drm_i915_gem_get_tiling *gt)
{
	memset(gt, 0, sizeof(*gt));
	gt->handle = handle;
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_GET_TILING, gt);
}

static inline int swizzle_ok(uint32_t s)
{
	return s <= I915_BIT_6_SWIZZLE_9_10_11;
}

/* GET_TILING must report exactly t (swizzle and phys_swizzle included). */
static inline void check_get_tiling_at(const char *file, int line, int fd, uint32_t handle, const struct tiling *t)
{
	struct drm_i915_gem_get_tiling gt;
	IGT_CHECK_ERRNO_AT(file, line, __get_tiling(fd, handle, &gt), "GET_TILING", 0);
	if (gt.tiling_mode != t->mode || gt.swizzle_mode != t->swizzle || gt.phys_swizzle_mode != t->swizzle)
		fail("%s:%d: GET_TILING = {tiling %u, swizzle %u, phys_swizzle %u}, expected {%u, %u, %u}", file, line,
		     gt.tiling_mode, gt.swizzle_mode, gt.phys_swizzle_mode, t->mode, t->swizzle, t->swizzle);
}
#define check_get_tiling(fd, h, t) check_get_tiling_at(__FILE__, __LINE__, fd, h, t)

/* SET_TILING that must succeed; checks the write-back and GET_TILING; returns the layout to apply. */
static inline struct tiling set_tiling_at(const char *file, int line, int fd, uint32_t handle, uint32_t mode, uint32_t stride)
{
	struct drm_i915_gem_set_tiling st;
	IGT_CHECK_ERRNO_AT(file, line, __set_tiling(fd, handle, mode, stride, &st), "SET_TILING", 0);
	uint32_t want_stride = mode == I915_TILING_NONE ? 0 : stride;
	if (st.tiling_mode != mode || st.stride != want_stride)
		fail("%s:%d: SET_TILING(%s, %u) wrote back tiling %u stride %u", file, line, tiling_name(mode), stride,
		     st.tiling_mode, st.stride);
	if (!swizzle_ok(st.swizzle_mode) || (mode == I915_TILING_NONE && st.swizzle_mode != I915_BIT_6_SWIZZLE_NONE))
		fail("%s:%d: SET_TILING(%s, %u) wrote back swizzle %u", file, line, tiling_name(mode), stride,
		     st.swizzle_mode);
	struct tiling t = { mode, want_stride, st.swizzle_mode };
	check_get_tiling_at(file, line, fd, handle, &t);
	return t;
}
#define set_tiling(fd, h, mode, stride) set_tiling_at(__FILE__, __LINE__, fd, h, mode, stride)

/* GTT offset via the legacy MMAP_GTT ioctl or MMAP_OFFSET(GTT); both name the same node. */
static inline uint64_t gtt_offset_at(const char *file, int line, int fd, uint32_t handle, int legacy)
{
	uint64_t off = 0;
	if (legacy)
		IGT_CHECK_ERRNO_AT(file, line, __gem_mmap_gtt(fd, handle, &off), "MMAP_GTT", 0);
	else
		IGT_CHECK_ERRNO_AT(file, line, __mmap_offset(fd, handle, I915_MMAP_OFFSET_GTT, &off),
				   "MMAP_OFFSET(GTT)", 0);
	if (off < FAKE_OFFSET_START || off % PAGE_SZ)
		fail("%s:%d: GTT offset 0x%llx not page aligned or below 4 GiB", file, line, (unsigned long long)off);
	return off;
}

static inline uint32_t *gtt_map_at(const char *file, int line, int fd, uint32_t handle, uint64_t size, int legacy)
{
	void *p = NULL;
	uint64_t off = gtt_offset_at(file, line, fd, handle, legacy);
	IGT_CHECK_ERRNO_AT(file, line, __gem_mmap(fd, off, size, PROT_READ | PROT_WRITE, &p), "mmap(GTT)", 0);
	return p;
}
#define gtt_map(fd, h, size, legacy) gtt_map_at(__FILE__, __LINE__, fd, h, size, legacy)

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		fail("out of memory (%zu bytes)", n);
	return p;
}

/* FakeDRM's debugfs-like counters (<mount>/debug/i915_gem_gtt: "evictions N", ...); -1 if absent. */
static inline long long gtt_counter(const char *card0, const char *key)
{
	char path[PATH_MAX], line[512];
	const char *slash = strrchr(card0, '/');
	snprintf(path, sizeof(path), "%.*sdebug/i915_gem_gtt", slash ? (int)(slash - card0 + 1) : 0, card0);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long long v = -1;
	if (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);
		if (p)
			v = strtoll(p + strlen(key), NULL, 10);
	}
	fclose(f);
	return v;
}


#endif /* GTT_LITE_H */
