#include "CTsan.h"

/* The TSan runtime's annotation entry points (compiler-rt tsan_interface.h).
 * Weak: they resolve only when the runtime is linked in (--sanitize=thread). */
extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));

void fdrm_tsan_acquire(void *addr)
{
	if (__tsan_acquire)
		__tsan_acquire(addr);
}

void fdrm_tsan_release(void *addr)
{
	if (__tsan_release)
		__tsan_release(addr);
}
