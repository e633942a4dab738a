/* libfakedrm-preload.so: FakeDRM's strict mode, an LD_PRELOAD library.
 * Programs need nothing from it; tests ask whether it is loaded. */
#ifndef FAKEDRM_PRELOAD_H
#define FAKEDRM_PRELOAD_H

/* Returns 1. Look it up with dlsym(RTLD_DEFAULT, "fakedrm_strict_active"):
 * found means strict mode is on in this process. */
int fakedrm_strict_active(void);

#endif
