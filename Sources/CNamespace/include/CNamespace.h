/* The namespace calls Swift's Glibc module hides (GNU extensions of sched.h). */
#ifndef CNAMESPACE_H
#define CNAMESPACE_H

/* unshare(2) into a new mount namespace; with `user`, into a new user
 * namespace as well (the caller must be single-threaded). 0 or -errno. */
int cns_unshare(int user);

#endif
