/* gpu_vm: what a ppGTT binding is once its execbuf is done. It stays: a later batch of
 * the same VM stores into the object at its address without listing it, and a batch of
 * another file's VM (with the same VM id) does not reach it (IGT gem_vm_create@isolation).
 * It goes when the file closes its last handle, even while another file keeps the object
 * (a flinked one): a new object takes its offset (IGT gem_ppgtt@flink-and-close-vma-leak). */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_vm"

static uint32_t vm_create(int fd)
{
	struct drm_i915_gem_vm_control c = { 0 };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_VM_CREATE, &c));
	return c.vm_id;
}

static uint32_t batch(int fd, const uint32_t *cs, unsigned n)
{
	uint32_t h = gem_create(fd, PAGE_SZ);
	gem_pwrite(fd, h, 0, cs, n * 4);
	return h;
}

/* gem_vm_create.c's write_to_address: a batch alone in its list stores `value` at `addr`. */
static void write_to_address(int fd, uint32_t ctx, uint64_t addr, uint32_t value)
{
	uint32_t cs[] = { MI_STORE_DWORD_IMM, (uint32_t)addr, (uint32_t)(addr >> 32), value, MI_BATCH_BUFFER_END };
	struct drm_i915_gem_exec_object2 obj = { .handle = batch(fd, cs, 5) };
	CHECK_OK(__exec(fd, ctx, &obj, 1, 0));
	CHECK(obj.offset != addr);
	gem_sync(fd, obj.handle);
	gem_close(fd, obj.handle);
}

/* An execbuf of one batch, placed by the device: its offset. */
static uint64_t exec_and_get_offset(int fd, uint32_t handle)
{
	uint32_t bbe = MI_BATCH_BUFFER_END;
	gem_pwrite(fd, handle, 0, &bbe, 4);
	struct drm_i915_gem_exec_object2 obj = { .handle = handle };
	CHECK_OK(__exec(fd, 0, &obj, 1, 0));
	return obj.offset;
}

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path), other = drm_open(path);
	uint32_t bbe = MI_BATCH_BUFFER_END;

	/* isolation */
	uint32_t ctx[2] = { ctx_create(fd), ctx_create(other) };
	uint32_t vm[2] = { vm_create(fd), vm_create(other) };
	CHECK_MSG(vm[0] == vm[1], "VM ids %u and %u: each file counts from 1", vm[0], vm[1]);
	CHECK_OK(__ctx_setparam(fd, ctx[0], I915_CONTEXT_PARAM_VM, vm[0]));
	CHECK_OK(__ctx_setparam(other, ctx[1], I915_CONTEXT_PARAM_VM, vm[1]));
	struct drm_i915_gem_exec_object2 obj[2] = {
		{ .handle = gem_create(fd, PAGE_SZ), .offset = 1 << 20 }, { .handle = batch(fd, &bbe, 1) },
	};
	CHECK_OK(__exec(fd, ctx[0], obj, 2, 0));
	gem_sync(fd, obj[1].handle);
	uint32_t result = 0;
	write_to_address(fd, ctx[0], obj[0].offset, 1);
	gem_pread(fd, obj[0].handle, 0, &result, 4);
	CHECK_MSG(result == 1, "a store to an object bound by an earlier execbuf of the VM: %u", result);
	write_to_address(other, ctx[1], obj[0].offset, 2);
	gem_pread(fd, obj[0].handle, 0, &result, 4);
	CHECK_MSG(result == 1, "another file's VM %u reached this one's object: %u", vm[1], result);
	info("a binding stays in its VM (0x%llx), and only there", (unsigned long long)obj[0].offset);
	gem_close(fd, obj[0].handle);
	gem_close(fd, obj[1].handle);

	/* flink and close */
	uint32_t bo = gem_create(fd, PAGE_SZ), name = gem_flink(fd, bo);
	uint32_t flinked = gem_open(other, name, NULL);
	uint64_t offset = exec_and_get_offset(other, flinked);
	gem_sync(other, flinked);
	gem_close(other, flinked);
	uint32_t fresh = gem_create(other, PAGE_SZ);
	uint64_t offset_new = exec_and_get_offset(other, fresh);
	CHECK_MSG(offset == offset_new, "closed flinked object still bound: new object at 0x%llx, not 0x%llx",
		  (unsigned long long)offset_new, (unsigned long long)offset);
	gem_sync(other, fresh);
	gem_close(other, fresh);
	gem_close(fd, bo);
	close(other);
	close(fd);
	pass(NAME, "a binding outlives its execbuf in its own VM only, and leaves it with the file's last handle");
}
