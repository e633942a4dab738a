/* reloc_shared_page: forked children share one open and one WC mapping of
 * each batch (gem_exec_gttfill@all-engines). Each writes its own 64 bytes of
 * page 0 through the mapping and has the kernel relocate a qword in them,
 * while the others do the same to the rest of that page. After GEM_WAIT
 * every child must read its relocations back through the mapping: a
 * relocation is a store of the kernel's own and must survive the other
 * children's dirty copies of the page, as on hardware, where their CPU
 * stores reach memory byte by byte. */
#include "igt_lite.h"
#include "gpu_lite.h"

#include <sys/wait.h>

#define NAME "reloc_shared_page"
#define BATCHES 8
#define BATCH_SZ (64 * PAGE_SZ) /* above one readahead window: tracked by page */
#define CHILDREN 4
#define RUN_NS 1500000000ll

static struct igt_bad *bad;
static int fd;
static uint32_t handles[BATCHES];
static volatile uint32_t *maps[BATCHES];

static uint64_t canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16); }

static void child(unsigned c)
{
	const unsigned at = c * 64, slot = at + 16; /* BBE at `at`, the relocated qword at `slot` */
	uint64_t placed[BATCHES];
	unsigned long rounds = 0;
	for (int64_t end = now_ns() + RUN_NS; now_ns() < end; rounds++) {
		for (unsigned i = 0; i < BATCHES; i++) {
			volatile uint32_t *b = maps[i] + at / 4;
			for (unsigned k = 0; k < 16; k++)
				b[k] = k == 0 ? MI_BATCH_BUFFER_END : 0;
			struct drm_i915_gem_relocation_entry r = {
				.target_handle = handles[i], .delta = c + 1, .offset = slot, .presumed_offset = -1,
				.read_domains = I915_GEM_DOMAIN_INSTRUCTION,
			};
			struct drm_i915_gem_exec_object2 obj = {
				.handle = handles[i], .relocation_count = 1, .relocs_ptr = (uintptr_t)&r,
			};
			struct drm_i915_gem_execbuffer2 eb = {
				.buffers_ptr = (uintptr_t)&obj, .buffer_count = 1, .batch_start_offset = at,
				.flags = I915_EXEC_BLT,
			};
			if (__execbuf(fd, &eb)) {
				igt_bad_note(bad, "child %u: execbuf: %s", c, strerror(errno));
				return;
			}
			placed[i] = obj.offset;
		}
		for (unsigned i = 0; i < BATCHES; i++) {
			gem_sync(fd, handles[i]);
			volatile uint32_t *q = maps[i] + slot / 4;
			uint64_t got = (uint64_t)q[1] << 32 | q[0], want = canonical(placed[i] + c + 1);
			if (got != want) {
				igt_bad_note(bad, "child %u round %lu batch %u: the relocation reads 0x%llx, not 0x%llx",
					     c, rounds, i, (unsigned long long)got, (unsigned long long)want);
				return;
			}
		}
	}
	info("child %u: %lu rounds", c, rounds);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	fd = drm_open(path);
	bad = mmap(NULL, sizeof *bad, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(bad != MAP_FAILED);
	for (unsigned i = 0; i < BATCHES; i++) {
		handles[i] = gem_create(fd, BATCH_SZ);
		maps[i] = gem_mmap(fd, mmap_offset(fd, handles[i], I915_MMAP_OFFSET_WC), BATCH_SZ, PROT_READ | PROT_WRITE);
	}
	pid_t pids[CHILDREN];
	for (unsigned c = 0; c < CHILDREN; c++) {
		pids[c] = fork();
		CHECK(pids[c] >= 0);
		if (pids[c] == 0) {
			child(c);
			_exit(0);
		}
	}
	for (unsigned c = 0; c < CHILDREN; c++) {
		int st;
		CHECK(waitpid(pids[c], &st, 0) == pids[c]);
		CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %u died (status 0x%x)", c, st);
	}
	CHECK_MSG(bad->count == 0, "%lu children lost a relocation; the first: %s", (unsigned long)bad->count, bad->first);
	pass(NAME, "%d children relocating into one page of %d shared batches kept every relocation", CHILDREN, BATCHES);
	return 0;
}
