#ifndef FDRM_PROCESS_VM_H
#define FDRM_PROCESS_VM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* process_vm_readv of one range of `pid` into dst (Swift's Glibc module
 * does not export it). Returns 0 when every byte was read, else -errno. */
int fdrm_process_vm_read(pid_t pid, void *dst, uint64_t addr, size_t len);

#endif
