/* gpu_lite.h - helpers the gpu_* examples share: execbuf, contexts, busy/wait,
 * and the gen8+ command encodings (intel_gpu_commands.h), written out here.
 * Include after igt_lite.h. */
#ifndef GPU_LITE_H
#define GPU_LITE_H

#define MI_INSTR(op, len)            (((op) << 23) | (len))
#define MI_NOOP                      0
#define MI_BATCH_BUFFER_END          MI_INSTR(0x0a, 0)
#define MI_ARB_CHECK                 MI_INSTR(0x05, 0)
#define MI_STORE_DWORD_IMM           MI_INSTR(0x20, 2)   /* + addr lo, hi, data */
#define MI_STORE_QWORD_IMM           (MI_INSTR(0x20, 3) | (1 << 21))
#define MI_LOAD_REGISTER_IMM(n)      MI_INSTR(0x22, 2 * (n) - 1)
#define MI_STORE_REGISTER_MEM        MI_INSTR(0x24, 2)   /* + reg, addr lo, hi */
#define MI_LOAD_REGISTER_MEM         MI_INSTR(0x29, 2)
#define MI_FLUSH_DW_STORE            (MI_INSTR(0x26, 2) | (1 << 14))
#define MI_BATCH_BUFFER_START        (MI_INSTR(0x31, 1) | (1 << 8))
#define MI_BATCH_BUFFER_START_2ND    (MI_BATCH_BUFFER_START | (1 << 22))
#define MI_MATH(n)                   MI_INSTR(0x1a, (n) - 1)
#define MI_SEMAPHORE_WAIT_GTE        (MI_INSTR(0x1c, 2) | (1 << 15) | (1 << 12))
#define ALU(op, a, b)                (((op) << 20) | ((a) << 10) | (b))
#define ALU_LOAD 0x080
#define ALU_ADD 0x100
#define ALU_STORE 0x180
#define ALU_SRCA 0x20
#define ALU_SRCB 0x21
#define ALU_ACCU 0x31
#define PIPE_CONTROL_WRITE_IMM       ((3u << 29) | (3 << 27) | (2 << 24) | 4)  /* 6 dwords */
#define GFX_OP_PIPE_CONTROL(len)     ((3u << 29) | (3 << 27) | (2 << 24) | ((len) - 2))  /* IGT's */
#define GFX_3DSTATE_FAKE(len)        ((3u << 29) | (3 << 27) | (0 << 24) | (0x10 << 16) | ((len) - 2))
#define XY_SRC_COPY_BLT              ((2u << 29) | (0x53 << 22) | (3 << 20) | 8)
#define XY_SRC_COPY_BLT_SRC_TILED    (1 << 15)
#define XY_SRC_COPY_BLT_DST_TILED    (1 << 11)
#define XY_COLOR_BLT                 ((2u << 29) | (0x50 << 22) | (3 << 20) | 5)
#define XY_FAST_COPY_BLT             ((2u << 29) | (0x42 << 22) | 8)
#define BCS_SWCTRL                   0x22200
#define RCS_TIMESTAMP                (0x2000 + 0x358)
#define CS_GPR(base, n)              ((base) + 0x600 + 8 * (n))

static inline int __execbuf(int fd, struct drm_i915_gem_execbuffer2 *eb)
{
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_EXECBUFFER2_WR, eb);
}

/* One batch (the last object) on `flags`' engine of context `ctx`. */
static inline int __exec(int fd, uint32_t ctx, struct drm_i915_gem_exec_object2 *obj, unsigned n, uint64_t flags)
{
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)obj, .buffer_count = n, .flags = flags, .rsvd1 = ctx,
	};
	return __execbuf(fd, &eb);
}

static inline int __gem_busy(int fd, uint32_t handle, uint32_t *busy)
{
	struct drm_i915_gem_busy b = { .handle = handle };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_BUSY, &b);
	*busy = b.busy;
	return r;
}

static inline int __gem_wait(int fd, uint32_t handle, int64_t *timeout_ns)
{
	struct drm_i915_gem_wait w = { .bo_handle = handle, .timeout_ns = *timeout_ns };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_WAIT, &w);
	*timeout_ns = w.timeout_ns;
	return r;
}

static inline void gem_sync(int fd, uint32_t handle)
{
	int64_t t = -1;
	HCHECK_OK(__gem_wait(fd, handle, &t));
}

static inline int __ctx_create(int fd, uint32_t flags, uint64_t ext, uint32_t *id)
{
	struct drm_i915_gem_context_create_ext c = { .flags = flags, .extensions = ext };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_CONTEXT_CREATE_EXT, &c);
	*id = c.ctx_id;
	return r;
}

static inline uint32_t ctx_create(int fd)
{
	uint32_t id = 0;
	HCHECK_OK(__ctx_create(fd, 0, 0, &id));
	return id;
}

static inline int __ctx_destroy(int fd, uint32_t id)
{
	struct drm_i915_gem_context_destroy d = { .ctx_id = id };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_CONTEXT_DESTROY, &d);
}

static inline int __ctx_setparam(int fd, uint32_t ctx, uint64_t param, uint64_t value)
{
	struct drm_i915_gem_context_param p = { .ctx_id = ctx, .param = param, .value = value };
	return drm_ioctl(fd, DRM_IOCTL_I915_GEM_CONTEXT_SETPARAM, &p);
}

static inline int __ctx_getparam(int fd, uint32_t ctx, uint64_t param, uint64_t *value)
{
	struct drm_i915_gem_context_param p = { .ctx_id = ctx, .param = param };
	int r = drm_ioctl(fd, DRM_IOCTL_I915_GEM_CONTEXT_GETPARAM, &p);
	*value = p.value;
	return r;
}

static inline int __reset_stats(int fd, uint32_t ctx, struct drm_i915_reset_stats *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->ctx_id = ctx;
	return drm_ioctl(fd, DRM_IOCTL_I915_GET_RESET_STATS, rs);
}

/* A softpinned object of the 48-bit ppGTT. */
static inline struct drm_i915_gem_exec_object2 pinned(uint32_t handle, uint64_t offset, uint64_t flags)
{
	return (struct drm_i915_gem_exec_object2){
		.handle = handle, .offset = offset, .flags = flags | EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS,
	};
}

/* A spinner in `handle`, to be softpinned at `addr`: MI_ARB_CHECK and a jump
 * back to itself, then MI_BATCH_BUFFER_END (map[4]). The CPU ends it through
 * the returned WB map (map[0] = MI_BATCH_BUFFER_END); the engine sees stores
 * that sit in the map's page cache. */
static inline volatile uint32_t *spinner_map(int fd, uint32_t handle, uint64_t addr)
{
	volatile uint32_t *map = gem_mmap(fd, mmap_offset(fd, handle, I915_MMAP_OFFSET_WB), PAGE_SZ, PROT_READ | PROT_WRITE);
	map[0] = MI_ARB_CHECK;
	map[1] = MI_BATCH_BUFFER_START;
	map[2] = (uint32_t)addr;
	map[3] = (uint32_t)(addr >> 32);
	map[4] = MI_BATCH_BUFFER_END;
	gem_set_domain(fd, handle, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	return map;
}

/* The engines a legacy ring selector names on Tiger Lake. */
static const struct { const char *name; uint64_t flags; } gpu_engines[] = {
	{ "rcs0", I915_EXEC_RENDER },
	{ "bcs0", I915_EXEC_BLT },
	{ "vcs0", I915_EXEC_BSD | I915_EXEC_BSD_RING1 },
	{ "vcs1", I915_EXEC_BSD | I915_EXEC_BSD_RING2 },
	{ "vecs0", I915_EXEC_VEBOX },
};

#endif
