/* prime_share: PRIME dma-bufs (drm_prime.c, i915_gem_dmabuf.c). Strict mode
 * (the preload library makes the fd): GET_CAP(PRIME) says import|export;
 * PRIME_HANDLE_TO_FD's and PRIME_FD_TO_HANDLE's errnos; import on the same
 * open gives the exporter's handle, on another open a new handle to the same
 * object, and the same one again on a second import; lseek gives the size;
 * the fd goes to another process by SCM_RIGHTS, which imports it, writes
 * through its own mapping, and the exporter sees the bytes after SET_DOMAIN
 * (PREAD) and through an mmap of the dma-buf after DMA_BUF_IOCTL_SYNC; the
 * dma-buf keeps the object alive after GEM_CLOSE until its last fd closes;
 * a userptr's dma-buf cannot be mapped (ENODEV).
 * Plain mode answers as a kernel without PRIME: GET_CAP 0, EOPNOTSUPP. */
#include "igt_lite.h"

#include <linux/dma-buf.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define NAME "prime_share"
#define SIZE (4 * PAGE_SZ)

static int handle_to_fd(int fd, uint32_t handle, uint32_t flags, int *out)
{
	struct drm_prime_handle p = { .handle = handle, .flags = flags, .fd = -1 };
	int r = drm_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);
	*out = p.fd;
	return r;
}

static int fd_to_handle(int fd, int dmabuf, uint32_t *out)
{
	struct drm_prime_handle p = { .fd = dmabuf };
	int r = drm_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);
	*out = p.handle;
	return r;
}

static uint64_t cap_prime(int fd)
{
	struct drm_get_cap c = { .capability = DRM_CAP_PRIME };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_GET_CAP, &c));
	return c.value;
}

static void send_fd(int sock, int fd)
{
	char byte = 0, ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	CHECK(sendmsg(sock, &msg, 0) == 1);
}

static int recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	CHECK(recvmsg(sock, &msg, 0) == 1);
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	return fd;
}

/* The other process: import what it was sent, check, write its own pattern. */
static void child(const char *path, int sock)
{
	int dmabuf = recv_fd(sock);
	int fd = drm_open(path);
	uint32_t h = 0;
	CHECK_OK(fd_to_handle(fd, dmabuf, &h));
	uint32_t v = 0;
	gem_pread(fd, h, SIZE - 4, &v, 4);
	CHECK_MSG(v == 0x5eed0001, "child reads 0x%x", v);
	uint32_t *p = gem_mmap(fd, mmap_offset(fd, h, I915_MMAP_OFFSET_WB), SIZE, PROT_READ | PROT_WRITE);
	gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	for (unsigned i = 0; i < SIZE / 4; i++)
		p[i] = 0xc1d00000 + i;
	gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	char done = 1;
	CHECK(write(sock, &done, 1) == 1);
	CHECK(read(sock, &done, 1) == 1);
	exit(0);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int strict = strict_mode();
	int fd = drm_open(path);
	long base = strict ? live_objects(path) : 0;
	uint32_t h = gem_create(fd, SIZE), h2;
	int dmabuf;

	if (!strict) {
		CHECK(cap_prime(fd) == 0);
		CHECK_ERRNO(handle_to_fd(fd, h, DRM_CLOEXEC, &dmabuf), EOPNOTSUPP);
		CHECK_ERRNO(fd_to_handle(fd, 0, &h2), EOPNOTSUPP);
		pass(NAME, "plain: GET_CAP(PRIME) 0, PRIME ioctls EOPNOTSUPP");
	}
	CHECK(cap_prime(fd) == (DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT));

	/* Errnos, in drm_prime's order. */
	CHECK_ERRNO(handle_to_fd(fd, h, 0x4, &dmabuf), EINVAL);
	CHECK_ERRNO(handle_to_fd(fd, h + 100, DRM_CLOEXEC, &dmabuf), ENOENT);
	CHECK_ERRNO(fd_to_handle(fd, -1, &h2), EBADF);
	CHECK_ERRNO(fd_to_handle(fd, 1000, &h2), EBADF);
	CHECK_ERRNO(fd_to_handle(fd, fd, &h2), EINVAL);
	info("errnos: flags EINVAL, handle ENOENT, no fd EBADF, not a dma-buf EINVAL");

	uint32_t pattern[SIZE / 4];
	for (unsigned i = 0; i < SIZE / 4; i++)
		pattern[i] = 0x5eed0000 + (i == SIZE / 4 - 1);
	gem_pwrite(fd, h, 0, pattern, SIZE);
	CHECK_OK(handle_to_fd(fd, h, DRM_CLOEXEC | DRM_RDWR, &dmabuf));
	CHECK(dmabuf > 2 && fcntl(dmabuf, F_GETFD) == FD_CLOEXEC);
	CHECK(lseek(dmabuf, 0, SEEK_END) == SIZE);
	CHECK(lseek(dmabuf, 0, SEEK_SET) == 0);
	CHECK(lseek(dmabuf, 1, SEEK_SET) == -1 && errno == EINVAL);

	/* Same open: the exporter's handle. Another open: a new handle, stable. */
	CHECK_OK(fd_to_handle(fd, dmabuf, &h2));
	CHECK_MSG(h2 == h, "self import gave %u, exported %u", h2, h);
	int fd2 = drm_open(path);
	uint32_t a = 0, b = 0;
	CHECK_OK(fd_to_handle(fd2, dmabuf, &a));
	CHECK_OK(fd_to_handle(fd2, dmabuf, &b));
	CHECK_MSG(a != 0 && a == b, "imports on a second open: %u then %u", a, b);
	int again;
	CHECK_OK(handle_to_fd(fd, h, DRM_CLOEXEC, &again));
	CHECK(again != dmabuf);
	struct stat s1, s2;
	CHECK(fstat(dmabuf, &s1) == 0 && fstat(again, &s2) == 0 && s1.st_ino == s2.st_ino);
	close(again);
	info("import: same open same handle, another open a new handle (twice the same)");

	/* To another process by SCM_RIGHTS: it imports and writes; we see it. */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child(path, sv[1]);
	}
	close(sv[1]);
	send_fd(sv[0], dmabuf);
	char done;
	CHECK(read(sv[0], &done, 1) == 1);
	gem_set_domain(fd, h, I915_GEM_DOMAIN_CPU, I915_GEM_DOMAIN_CPU);
	uint32_t v = 0;
	gem_pread(fd, h, 8, &v, 4);
	CHECK_MSG(v == 0xc1d00002, "exporter reads 0x%x after the child's write", v);
	gem_pread(fd2, a, SIZE - 4, &v, 4);
	CHECK_MSG(v == 0xc1d00000 + SIZE / 4 - 1, "second open reads 0x%x", v);
	/* The dma-buf's own mapping: the object linearly (WB). */
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	CHECK(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) == 0);
	sync.flags = 0x100;
	CHECK(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) == -1 && errno == EINVAL);
	volatile uint32_t *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	CHECK(m != MAP_FAILED);
	CHECK_MSG(m[0] == 0xc1d00000 && m[SIZE / 4 - 1] == 0xc1d00000 + SIZE / 4 - 1, "dma-buf map reads 0x%x", m[0]);
	m[1] = 0xdeadbeef;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	CHECK(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) == 0);
	gem_pread(fd2, a, 4, &v, 4);
	CHECK_MSG(v == 0xdeadbeef, "a store through the dma-buf map reads 0x%x elsewhere", v);
	CHECK(write(sv[0], &done, 1) == 1);
	int st;
	waitpid(pid, &st, 0);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
	munmap((void *)m, SIZE);
	info("SCM_RIGHTS to another process: its writes seen by PREAD and by the dma-buf's mmap");

	/* A userptr exports, but its dma-buf has no shmem file to map
	 * (i915_gem_dmabuf_mmap: a range past it EINVAL first, then ENODEV). */
	void *mem = NULL;
	CHECK(posix_memalign(&mem, PAGE_SZ, SIZE) == 0);
	struct drm_i915_gem_userptr up = { .user_ptr = (uintptr_t)mem, .user_size = SIZE };
	CHECK_OK(drm_ioctl(fd, DRM_IOCTL_I915_GEM_USERPTR, &up));
	int ubuf = -1;
	CHECK_OK(handle_to_fd(fd, up.handle, DRM_CLOEXEC, &ubuf));
	CHECK(mmap(NULL, 2 * SIZE, PROT_READ, MAP_SHARED, ubuf, 0) == MAP_FAILED && errno == EINVAL);
	CHECK_MSG(mmap(NULL, SIZE, PROT_READ, MAP_SHARED, ubuf, 0) == MAP_FAILED && errno == ENODEV,
		  "mmap of a userptr's dma-buf: %s", strerror(errno));
	close(ubuf);
	gem_close(fd, up.handle);
	free(mem);
	info("a userptr's dma-buf: mmap ENODEV");

	/* Lifetime: every handle closed, the dma-buf keeps the object. */
	gem_close(fd, h);
	gem_close(fd2, a);
	int fd3 = drm_open(path);
	uint32_t c = 0;
	CHECK_OK(fd_to_handle(fd3, dmabuf, &c));
	gem_pread(fd3, c, 4, &v, 4);
	CHECK_MSG(v == 0xdeadbeef, "after GEM_CLOSE of the exporter's handle: 0x%x", v);
	gem_close(fd3, c);
	close(dmabuf);
	CHECK_ERRNO(fd_to_handle(fd3, dmabuf, &c), EBADF);
	close(fd3);
	close(fd2);
	close(fd);
	long live = base;
	for (int i = 0; i < 100 && base >= 0; i++) {
		live = live_objects(path);
		if (live == base)
			break;
		usleep(10000);
	}
	CHECK_MSG(live == base, "%ld objects live, %ld before", live, base);
	pass(NAME, "strict: export, import, SCM_RIGHTS, mmap, lifetime past GEM_CLOSE");
}
