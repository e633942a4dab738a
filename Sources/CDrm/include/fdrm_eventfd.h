#ifndef FDRM_EVENTFD_H
#define FDRM_EVENTFD_H
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/types.h>

/* SYNCOBJ_EVENTFD: a duplicate of the caller's eventfd `fd` (pidfd_open of
 * the caller's thread group + pidfd_getfd; needs CAP_SYS_PTRACE over it, the
 * daemon is root), or -errno as eventfd_ctx_fdget has it: -EBADF for no such
 * fd, -EINVAL for an fd that is not an eventfd. */
int fdrm_eventfd_get(pid_t tid, int fd);

/* eventfd_signal: adds 1 to the counter (a duplicate shares the file). */
void fdrm_eventfd_signal(int fd);

/* A new non-blocking eventfd (Swift's Glibc module lacks eventfd(2)): tests. */
static inline int fdrm_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

#endif
