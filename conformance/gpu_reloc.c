/* gpu_reloc: relocations (the kernel patches the batch, writes presumed
 * offsets back into the relocation entries and new offsets into the exec
 * list), NO_RELOC, HANDLE_LUT, and their errnos; softpin placement with
 * canonical addresses, overlap, alignment and the 4 GiB zone. */
#include "igt_lite.h"
#include "gpu_lite.h"

#define NAME "gpu_reloc"

static uint64_t canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16); }

int main(int argc, char **argv)
{
	alarm(30);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	uint32_t batch = gem_create(fd, PAGE_SZ), target = gem_create(fd, PAGE_SZ);

	uint32_t b[] = { MI_STORE_DWORD_IMM, 0, 0, 0x12345678, MI_BATCH_BUFFER_END, 0 };
	gem_pwrite(fd, batch, 0, b, sizeof(b));
	struct drm_i915_gem_relocation_entry r = {
		.target_handle = target, .delta = 8, .offset = 4, .presumed_offset = -1,
		.read_domains = I915_GEM_DOMAIN_INSTRUCTION, .write_domain = I915_GEM_DOMAIN_INSTRUCTION,
	};
	struct drm_i915_gem_exec_object2 obj[2] = {
		{ .handle = target, .flags = EXEC_OBJECT_SUPPORTS_48B_ADDRESS },
		{ .handle = batch, .relocation_count = 1, .relocs_ptr = (uintptr_t)&r, .flags = EXEC_OBJECT_SUPPORTS_48B_ADDRESS },
	};
	CHECK_OK(__exec(fd, 0, obj, 2, 0));
	gem_sync(fd, target);
	CHECK_MSG(r.presumed_offset == obj[0].offset, "presumed_offset 0x%llx, target at 0x%llx",
		  (unsigned long long)r.presumed_offset, (unsigned long long)obj[0].offset);
	CHECK_MSG(obj[1].offset >= 256 * KiB, "relocated batch at 0x%llx, below BATCH_OFFSET_BIAS", (unsigned long long)obj[1].offset);
	uint32_t got[2];
	gem_pread(fd, batch, 4, got, 8);
	CHECK(((uint64_t)got[1] << 32 | got[0]) == canonical(obj[0].offset + 8));
	uint32_t v = 0;
	gem_pread(fd, target, 8, &v, 4);
	CHECK(v == 0x12345678);

	/* NO_RELOC with the offsets given back: nothing moves, nothing is patched. */
	uint64_t before[2] = { obj[0].offset, obj[1].offset };
	CHECK_OK(__exec(fd, 0, obj, 2, I915_EXEC_NO_RELOC));
	CHECK(obj[0].offset == before[0] && obj[1].offset == before[1]);
	/* HANDLE_LUT: the target is an index of the list. */
	r.target_handle = 0;
	r.presumed_offset = -1;
	r.delta = 16;
	CHECK_OK(__exec(fd, 0, obj, 2, I915_EXEC_HANDLE_LUT));
	gem_sync(fd, target);
	gem_pread(fd, target, 16, &v, 4);
	CHECK(v == 0x12345678);
	info("relocation patched the batch; presumed and exec offsets written back; NO_RELOC and HANDLE_LUT work");

	/* Relocation errnos (eb_relocate_entry). */
	struct { const char *what; uint32_t handle, rd, wd; uint64_t offset; uint64_t flags; int err; } bad[] = {
		{ "unknown target", 0x7fff, 0, 0, 4, 0, ENOENT },
		{ "LUT index past the list", 2, 0, 0, 4, I915_EXEC_HANDLE_LUT, ENOENT },
		{ "two write domains", 0, I915_GEM_DOMAIN_RENDER, I915_GEM_DOMAIN_RENDER | I915_GEM_DOMAIN_SAMPLER, 4, I915_EXEC_HANDLE_LUT, EINVAL },
		{ "CPU domain", 0, I915_GEM_DOMAIN_CPU, 0, 4, I915_EXEC_HANDLE_LUT, EINVAL },
		{ "offset past the object", 0, 0, 0, PAGE_SZ - 4, I915_EXEC_HANDLE_LUT, EINVAL },
		{ "unaligned offset", 0, 0, 0, 6, I915_EXEC_HANDLE_LUT, EINVAL },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (struct drm_i915_gem_relocation_entry){ .target_handle = bad[i].handle, .offset = bad[i].offset,
			.presumed_offset = -1, .read_domains = bad[i].rd, .write_domain = bad[i].wd };
		CHECK_MSG(__exec(fd, 0, obj, 2, bad[i].flags) == -bad[i].err, "%s: expected %s", bad[i].what, errname(bad[i].err));
	}
	obj[1].relocs_ptr = 8;
	CHECK_ERRNO(__exec(fd, 0, obj, 2, 0), EFAULT);
	obj[1].relocation_count = 0;
	info("relocation errnos: ENOENT, EINVAL, EFAULT");

	/* Softpin. */
	struct drm_i915_gem_exec_object2 p[2] = { pinned(target, 0x10000, 0), pinned(batch, 0x20000, 0) };
	CHECK_OK(__exec(fd, 0, p, 2, 0));
	CHECK(p[0].offset == 0x10000 && p[1].offset == 0x20000);
	p[0].offset = canonical(0x800000000000ull); /* bit 47: the upper half */
	CHECK_OK(__exec(fd, 0, p, 2, 0));
	CHECK(p[0].offset == 0xffff800000000000ull);
	p[0].offset = 0x800000000000ull;
	CHECK_ERRNO(__exec(fd, 0, p, 2, 0), EINVAL);
	p[0].offset = 0x10800;
	CHECK_ERRNO(__exec(fd, 0, p, 2, 0), EINVAL);
	p[0].offset = 0x20000;
	CHECK_ERRNO(__exec(fd, 0, p, 2, 0), ENOSPC);
	p[0].offset = 0x100000000ull;
	p[0].flags &= ~EXEC_OBJECT_SUPPORTS_48B_ADDRESS;
	CHECK_ERRNO(__exec(fd, 0, p, 2, 0), EINVAL);
	p[0].flags |= EXEC_OBJECT_SUPPORTS_48B_ADDRESS;
	p[0].offset = 0x30000;
	p[0].alignment = 0x20000;
	CHECK_ERRNO(__exec(fd, 0, p, 2, 0), EINVAL);
	p[0].alignment = 0x3000;
	CHECK_ERRNO(__exec(fd, 0, p, 2, 0), EINVAL);
	/* Unpinned: alignment honoured, the 4 GiB zone for objects without 48B. */
	struct drm_i915_gem_exec_object2 u[2] = { { .handle = target, .alignment = 1 << 20 }, pinned(batch, 0x20000, 0) };
	CHECK_OK(__exec(fd, 0, u, 2, 0));
	CHECK_MSG(u[0].offset % (1 << 20) == 0 && u[0].offset + PAGE_SZ <= 4 * GiB, "placed at 0x%llx", (unsigned long long)u[0].offset);
	gem_sync(fd, batch);
	info("softpin: canonical upper half, non-canonical/unaligned/overlap/zone/alignment errnos");

	/* Relocations the CPU may write but not read (gem_exec_reloc@mmap-21:
	 * copy_from_user reads a PROT_WRITE-only page on x86), 2 MiB of them. */
	size_t nrel = (2 << 20) / sizeof(struct drm_i915_gem_relocation_entry);
	struct drm_i915_gem_relocation_entry *wo = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(wo != MAP_FAILED);
	for (size_t i = 0; i < nrel; i++)
		wo[i] = (struct drm_i915_gem_relocation_entry){ .target_handle = target, .offset = 4, .delta = 4,
			.presumed_offset = -1, .read_domains = I915_GEM_DOMAIN_RENDER, .write_domain = I915_GEM_DOMAIN_RENDER };
	CHECK_OK(mprotect(wo, 2 << 20, PROT_WRITE));
	struct drm_i915_gem_exec_object2 w[2] = { { .handle = target }, { .handle = batch, .relocation_count = nrel, .relocs_ptr = (uintptr_t)wo } };
	CHECK_OK(__exec(fd, 0, w, 2, 0));
	gem_sync(fd, batch);
	uint32_t lo = 0;
	gem_pread(fd, batch, 4, &lo, 4);
	CHECK_MSG(lo == (uint32_t)(w[0].offset + 4), "relocated 0x%x, target at 0x%llx", lo, (unsigned long long)w[0].offset);
	munmap(wo, 2 << 20);
	info("%zu relocations in a PROT_WRITE-only mapping", nrel);

	gem_close(fd, batch);
	gem_close(fd, target);
	close(fd);
	pass(NAME, "relocations with write-back, NO_RELOC, HANDLE_LUT, their errnos, softpin placement and errnos");
}
