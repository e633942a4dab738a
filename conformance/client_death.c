/* client_death: clients killed while holding handles, flink names and dirty GTT mappings leave nothing behind once released (debug/i915_gem_objects), and a bystander's object and mapping are untouched. */
#include "igt_lite.h"
#include <sys/wait.h>

#define NAME "client_death"
#define CLIENTS 3
#define OBJS 4
#define SIZE (256 << 10)

/* A client that maps and dirties its objects, then dies without a word. */
static void doomed_client(const char *device, int c)
{
	int fd = drm_open(device);
	for (int i = 0; i < OBJS; i++) {
		uint32_t h = gem_create(fd, SIZE);
		if (i == 0) {
			struct drm_gem_flink fl = { .handle = h };
			ioctl(fd, DRM_IOCTL_GEM_FLINK, &fl);
		}
		uint32_t *p = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_GTT), SIZE, PROT_READ | PROT_WRITE);
		for (size_t d = 0; d < SIZE / 4; d += 1024)
			p[d] = (uint32_t)(c << 16 | i);
	}
	raise(SIGKILL);
}

int main(int argc, char **argv)
{
	alarm(20);
	if (argc < 2)
		skip(NAME, "usage: %s DEVICE", argv[0]);
	long before = live_objects(argv[1]);
	if (before < 0)
		skip(NAME, "no debug/i915_gem_objects beside %s", argv[1]);

	/* A bystander with data in its own mapping. */
	int fd = drm_open(argv[1]);
	uint32_t h = gem_create(fd, SIZE);
	uint32_t *mine = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_GTT), SIZE, PROT_READ | PROT_WRITE);
	for (size_t d = 0; d < SIZE / 4; d++)
		mine[d] = (uint32_t)d ^ 0x5a5a5a5a;

	for (int c = 0; c < CLIENTS; c++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			doomed_client(argv[1], c);
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "client %d did not die by SIGKILL", c);
	}

	/* The kernel releases a dead client's files, then FUSE sends RELEASE. */
	long now = -1;
	for (int i = 0; i < 200; i++) {
		now = live_objects(argv[1]);
		if (now == before + 1)
			break;
		usleep(10 * 1000);
	}
	CHECK_MSG(now == before + 1, "%ld objects live after the clients died, expected %ld (the bystander's)", now, before + 1);

	for (size_t d = 0; d < SIZE / 4; d++)
		CHECK_MSG(mine[d] == ((uint32_t)d ^ 0x5a5a5a5a), "bystander map dword %zu changed", d);
	uint32_t *copy = malloc(SIZE);
	gem_pread(fd, h, 0, copy, SIZE);
	CHECK_MSG(memcmp(copy, (void *)mine, SIZE) == 0, "bystander PREAD differs from its map");
	free(copy);
	CHECK_OK(munmap(mine, SIZE));
	close(fd);
	pass(NAME, "%d clients killed holding %d mapped, dirtied objects each: all reclaimed; the bystander kept its data", CLIENTS, OBJS);
}
