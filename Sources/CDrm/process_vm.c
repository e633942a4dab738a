#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>
#include "fdrm_process_vm.h"

int fdrm_process_vm_read(pid_t pid, void *dst, uint64_t addr, size_t len)
{
	size_t done = 0;
	while (done < len) {
		struct iovec local = { (char *)dst + done, len - done };
		struct iovec remote = { (void *)(uintptr_t)(addr + done), len - done };
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EFAULT;
		done += (size_t)n;
	}
	return 0;
}
