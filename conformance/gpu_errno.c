/* gpu_errno: the errno table of EXECBUFFER2 (i915_gem_execbuffer2_ioctl's
 * order: buffer count, flags, cliprects, DR1/DR4, alignment of the batch
 * range, the exec list copy, SECURE, fences, context, engine, handles, object
 * flags, batch range), of contexts (CREATE_EXT, DESTROY, SETPARAM/GETPARAM),
 * VMs and GET_RESET_STATS, and the GETPARAMs userspace probes. */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_errno"

static int fd;
static uint32_t batch;
static int rows;

static int exec_with(uint64_t flags, void (*tweak)(struct drm_i915_gem_execbuffer2 *, struct drm_i915_gem_exec_object2 *))
{
	struct drm_i915_gem_exec_object2 obj[2] = { { .handle = batch }, { .handle = batch } };
	struct drm_i915_gem_execbuffer2 eb = { .buffers_ptr = (uintptr_t)&obj[1], .buffer_count = 1, .flags = flags };
	if (tweak)
		tweak(&eb, obj);
	return __execbuf(fd, &eb);
}

#define EXEC(name, flags, tweak, err) do { \
	int r_ = exec_with(flags, tweak); \
	CHECK_MSG(r_ == -(err), "execbuf %s = %d, expected -%s", name, r_, errname(err)); \
	rows++; \
} while (0)

static void count0(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->buffer_count = 0; }
static void cliprects(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->num_cliprects = 1; }
static void dr1(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->DR1 = 1; }
static void dr4_uxa(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->DR4 = 0xffffffff; }
static void start7(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->batch_start_offset = 4; }
static void len4(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->batch_len = 4; }
static void badptr(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->buffers_ptr = 8; }
static void ctx99(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->rsvd1 = 99; }
static void nohandle(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)eb; o[1].handle = 0x7fff; }
static void objflags(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)eb; o[1].flags = 1 << 20; }
static void needsgtt(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)eb; o[1].flags = EXEC_OBJECT_NEEDS_GTT; }
static void align3(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)eb; o[1].alignment = 3; }
static void batchwrite(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)eb; o[1].flags = EXEC_OBJECT_WRITE; }
static void pastend(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->batch_start_offset = PAGE_SZ; }
static void lentoolong(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->batch_len = PAGE_SZ + 8; }
static void rsvd2(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o) { (void)o; eb->rsvd2 = 1; }
static void fencearray(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o)
{
	static struct drm_i915_gem_exec_fence f = { .handle = 1, .flags = I915_EXEC_FENCE_WAIT };
	(void)o;
	eb->cliprects_ptr = (uintptr_t)&f;
	eb->num_cliprects = 1;
}
static void batchfirst(struct drm_i915_gem_execbuffer2 *eb, struct drm_i915_gem_exec_object2 *o)
{
	eb->buffers_ptr = (uintptr_t)o;
	eb->buffer_count = 2;
	o[1].handle = 0x7fff; /* not the batch with BATCH_FIRST, still looked up */
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	fd = drm_open(path);
	batch = gem_create(fd, PAGE_SZ);
	uint32_t bbe = MI_BATCH_BUFFER_END;
	gem_pwrite(fd, batch, 0, &bbe, 4);

	EXEC("valid", 0, NULL, 0);
	EXEC("valid, DR4 = ~0 (UXA)", 0, dr4_uxa, 0);
	EXEC("buffer_count 0", 0, count0, EINVAL);
	EXEC("unknown flag", 1ull << 22, NULL, EINVAL);
	EXEC("I915_EXEC_CONSTANTS_MASK", 1 << 6, NULL, EINVAL);
	EXEC("RESOURCE_STREAMER", 1 << 15, NULL, EINVAL);
	EXEC("cliprects", 0, cliprects, EINVAL);
	EXEC("DR1", 0, dr1, EINVAL);
	EXEC("batch_start_offset % 8", 0, start7, EINVAL);
	EXEC("batch_len % 8", 0, len4, EINVAL);
	EXEC("exec list at 8", 0, badptr, EFAULT);
	EXEC("SECURE (gen11+)", I915_EXEC_SECURE, NULL, ENODEV);
	EXEC("FENCE_IN|FENCE_SUBMIT", I915_EXEC_FENCE_IN | I915_EXEC_FENCE_SUBMIT, NULL, EINVAL);
	EXEC("FENCE_IN of no sync_file", I915_EXEC_FENCE_IN, NULL, EINVAL);
	EXEC("FENCE_ARRAY naming no syncobj", I915_EXEC_FENCE_ARRAY, fencearray, ENOENT);
	EXEC("unknown context", 0, ctx99, ENOENT);
	EXEC("ring 5", 5, NULL, EINVAL);
	EXEC("BSD_RING1 on the render ring", I915_EXEC_RENDER | I915_EXEC_BSD_RING1, NULL, EINVAL);
	EXEC("BSD ring 3", I915_EXEC_BSD | (3 << I915_EXEC_BSD_SHIFT), NULL, EINVAL);
	EXEC("BSD default", I915_EXEC_BSD, NULL, 0);
	EXEC("unknown handle", 0, nohandle, ENOENT);
	EXEC("BATCH_FIRST, unknown second handle", I915_EXEC_BATCH_FIRST, batchfirst, ENOENT);
	EXEC("unknown object flag", 0, objflags, EINVAL);
	EXEC("NEEDS_GTT with a full ppGTT", 0, needsgtt, EINVAL);
	EXEC("alignment 3", 0, align3, EINVAL);
	EXEC("batch flagged WRITE", 0, batchwrite, EINVAL);
	EXEC("batch_start_offset past the object", 0, pastend, EINVAL);
	EXEC("batch_len past the object", 0, lentoolong, EINVAL);
	EXEC("rsvd2 without fences", 0, rsvd2, EINVAL);
	EXEC("GEN7_SOL_RESET on gen12", I915_EXEC_GEN7_SOL_RESET, NULL, EINVAL);
	info("%d EXECBUFFER2 rows", rows);

	/* Contexts. */
	uint32_t ctx = 0;
	CHECK_ERRNO(__ctx_create(fd, 1 << 2, 0, &ctx), EINVAL);
	struct drm_i915_gem_context_create_ext_setparam sp = {
		.base = { .name = I915_CONTEXT_CREATE_EXT_SETPARAM },
		.param = { .param = I915_CONTEXT_PARAM_PRIORITY, .value = (uint64_t)-5 },
	};
	CHECK_OK(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &ctx));
	uint64_t v = 0;
	CHECK_OK(__ctx_getparam(fd, ctx, I915_CONTEXT_PARAM_PRIORITY, &v));
	CHECK((int64_t)v == -5);
	sp.param.ctx_id = 1;
	CHECK_ERRNO(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &ctx), EINVAL);
	sp.param.ctx_id = 0;
	sp.base.name = I915_CONTEXT_CREATE_EXT_CLONE;
	CHECK_ERRNO(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &ctx), EINVAL);
	CHECK_ERRNO(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, 8, &ctx), EFAULT);
	/* ENGINES: a map of bcs0 and a hole; index 1 is invalid, 2 past the end. */
	struct { uint64_t ext; struct i915_engine_class_instance e[2]; } map = {
		0, { { I915_ENGINE_CLASS_COPY, 0 }, { (uint16_t)I915_ENGINE_CLASS_INVALID, (uint16_t)I915_ENGINE_CLASS_INVALID_NONE } },
	};
	sp = (struct drm_i915_gem_context_create_ext_setparam){
		.base = { .name = I915_CONTEXT_CREATE_EXT_SETPARAM },
		.param = { .param = I915_CONTEXT_PARAM_ENGINES, .size = sizeof(map), .value = (uintptr_t)&map },
	};
	uint32_t ectx = 0;
	CHECK_OK(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &ectx));
	struct drm_i915_gem_exec_object2 o = { .handle = batch };
	CHECK_OK(__exec(fd, ectx, &o, 1, 0));
	CHECK_ERRNO(__exec(fd, ectx, &o, 1, 1), EINVAL);
	CHECK_ERRNO(__exec(fd, ectx, &o, 1, 2), EINVAL);
	/* Reading ENGINES back was dropped from the kernel. */
	struct drm_i915_gem_context_param gp = { .ctx_id = ectx, .param = I915_CONTEXT_PARAM_ENGINES };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_CONTEXT_GETPARAM, &gp), EINVAL);
	map.e[1].engine_class = 7;
	CHECK_ERRNO(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &ctx), ENOENT);
	sp.param.size = 10;
	CHECK_ERRNO(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &ctx), EINVAL);
	CHECK_ERRNO(__ctx_setparam(fd, ectx, I915_CONTEXT_PARAM_ENGINES, 0), EINVAL);
	CHECK_ERRNO(__ctx_setparam(fd, ectx, I915_CONTEXT_PARAM_VM, 0), EINVAL);
	CHECK_ERRNO(__ctx_setparam(fd, ectx, I915_CONTEXT_PARAM_PRIORITY, 2000), EINVAL);
	CHECK_ERRNO(__ctx_setparam(fd, ectx, I915_CONTEXT_PARAM_BAN_PERIOD, 0), EINVAL);
	CHECK_ERRNO(__ctx_setparam(fd, 99, I915_CONTEXT_PARAM_PRIORITY, 0), ENOENT);
	CHECK_OK(__ctx_setparam(fd, ectx, I915_CONTEXT_PARAM_PERSISTENCE, 0));
	CHECK_OK(__ctx_getparam(fd, ectx, I915_CONTEXT_PARAM_PERSISTENCE, &v));
	CHECK(v == 0);
	CHECK_OK(__ctx_getparam(fd, 0, I915_CONTEXT_PARAM_GTT_SIZE, &v));
	CHECK(v == 1ull << 48);
	CHECK_ERRNO(__ctx_getparam(fd, 99, I915_CONTEXT_PARAM_GTT_SIZE, &v), ENOENT);
	CHECK_ERRNO(__ctx_destroy(fd, 0), ENOENT);
	CHECK_ERRNO(__ctx_destroy(fd, 99), ENOENT);
	struct drm_i915_gem_context_destroy dd = { .ctx_id = ectx, .pad = 1 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_CONTEXT_DESTROY, &dd), EINVAL);
	CHECK_OK(__ctx_destroy(fd, ectx));
	CHECK_ERRNO(__ctx_destroy(fd, ectx), ENOENT);
	info("context create/destroy/setparam/getparam errnos");

	/* VMs: a context made on a VM id shares it with the context it came from. */
	CHECK_OK(__ctx_getparam(fd, ctx, I915_CONTEXT_PARAM_VM, &v));
	CHECK(v != 0);
	sp = (struct drm_i915_gem_context_create_ext_setparam){
		.base = { .name = I915_CONTEXT_CREATE_EXT_SETPARAM }, .param = { .param = I915_CONTEXT_PARAM_VM, .value = v },
	};
	uint32_t shared = 0;
	CHECK_OK(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &shared));
	struct drm_i915_gem_vm_control vc = { 0 };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_VM_CREATE, &vc));
	CHECK(vc.vm_id != 0);
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_VM_DESTROY, &vc));
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_VM_DESTROY, &vc), ENOENT);
	vc.flags = 1;
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GEM_VM_CREATE, &vc), EINVAL);
	sp.param.value = 0x7777;
	CHECK_ERRNO(__ctx_create(fd, I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS, (uintptr_t)&sp, &ctx), ENOENT);

	struct drm_i915_reset_stats rs;
	CHECK_OK(__reset_stats(fd, 0, &rs));
	CHECK_ERRNO(__reset_stats(fd, 99, &rs), ENOENT);
	rs = (struct drm_i915_reset_stats){ .flags = 1 };
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_GET_RESET_STATS, &rs), EINVAL);

	/* What submission probes read. */
	CHECK(getparam(fd, I915_PARAM_HAS_EXECBUF2) == 1);
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_SOFTPIN) == 1);
	CHECK(getparam(fd, I915_PARAM_HAS_CONTEXT_ISOLATION) == 1);
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_FENCE) == 0);
	CHECK(getparam(fd, I915_PARAM_HAS_EXEC_FENCE_ARRAY) == 1);
	struct drm_i915_reg_read rr = { .offset = 0x2358 | I915_REG_READ_8B_WA };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_REG_READ, &rr));
	CHECK(rr.val != 0);
	rr.offset = 0x1234;
	CHECK_ERRNO(drm_ioctl(fd, DRM_IOCTL_I915_REG_READ, &rr), EINVAL);

	/* The execbuf and its list inside a PROT_WRITE-only mapping of an object
	 * (IGT's gem_exec_params@mmapped): the CPU reads it, so the kernel does. */
	uint32_t holder = gem_create(fd, PAGE_SZ);
	uint64_t types[] = { I915_MMAP_OFFSET_GTT, I915_MMAP_OFFSET_WC, I915_MMAP_OFFSET_WB };
	for (int i = 0; i < 3; i++) {
		void *p = NULL;
		CHECK_OK(__gem_mmap(fd, mmap_offset(fd, holder, types[i]), PAGE_SZ, PROT_WRITE, &p));
		struct drm_i915_gem_execbuffer2 *eb = p;
		struct drm_i915_gem_exec_object2 *eo = (void *)(eb + 1);
		*eo = (struct drm_i915_gem_exec_object2){ .handle = batch };
		*eb = (struct drm_i915_gem_execbuffer2){ .buffers_ptr = (uintptr_t)eo, .buffer_count = 1 };
		CHECK_OK(__execbuf(fd, eb));
		CHECK_OK(munmap(p, PAGE_SZ));
	}
	gem_close(fd, holder);

	gem_sync(fd, batch);
	gem_close(fd, batch);
	close(fd);
	pass(NAME, "%d EXECBUFFER2 rows, contexts, VMs, reset stats and params as the kernel answers", rows);
}
