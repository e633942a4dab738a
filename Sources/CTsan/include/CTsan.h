/* Happens-before annotations for ThreadSanitizer around locks it cannot see.
 *
 * Swift's Synchronization.Mutex on Linux is a futex word driven by atomics
 * TSan does not model as a lock, so every access its critical sections make
 * looks racy to TSan. Telling TSan "acquired" after taking such a lock and
 * "released" before dropping it restores the real happens-before edges, and
 * only those: a real race outside the lock still shows. Without TSan in the
 * process both calls do nothing. */
#ifndef CTSAN_H
#define CTSAN_H

void fdrm_tsan_acquire(void *addr);
void fdrm_tsan_release(void *addr);

#endif
