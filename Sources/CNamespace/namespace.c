#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include "CNamespace.h"

int cns_unshare(int user)
{
	int flags = CLONE_NEWNS | (user ? CLONE_NEWUSER : 0);
	return unshare(flags) == 0 ? 0 : -errno;
}
