#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>
#include "CFuse.h"

int cfuse_loop_mt(struct fuse_session *se, unsigned max_threads)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_max_threads(cfg, max_threads);
	fuse_loop_cfg_set_idle_threads(cfg, max_threads / 2 ? max_threads / 2 : 1);
	int ret = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return ret;
}

int cfuse_peek(pid_t pid, void *dst, uint64_t addr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)addr, len };
	if (len == 0)
		return 0;
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int cfuse_poke(pid_t pid, uint64_t addr, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)addr, len };
	if (len == 0)
		return 0;
	ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}
