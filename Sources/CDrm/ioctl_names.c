/* Every ioctl libdrm's drm.h and i915_drm.h define, by name: the trace
 * names what a client asked for even when the device does not implement
 * it, so "what does this client need next" reads straight off the trace.
 * Numbers come from the headers' own macros (ioctl_list.def). */
#include <stddef.h>
#include "CDrm.h"

static const struct { uint32_t cmd; const char *name; } names[] = {
#define X(n) { DRM_IOCTL_##n, "DRM_IOCTL_" #n },
#include "ioctl_list.def"
#undef X
#ifndef DRM_IOCTL_SYNCOBJ_EVENTFD
	{ FDRM_IOCTL_SYNCOBJ_EVENTFD, "DRM_IOCTL_SYNCOBJ_EVENTFD" }, /* newer than libdrm's drm.h (CDrm.h) */
#endif
};

uint32_t fdrm_libdrm_ioctl_count(void) { return sizeof(names) / sizeof(names[0]); }
uint32_t fdrm_libdrm_ioctl_cmd(uint32_t index) { return names[index].cmd; }
const char *fdrm_libdrm_ioctl_name_at(uint32_t index) { return names[index].name; }

const char *fdrm_libdrm_ioctl_name(uint32_t cmd)
{
	size_t count = sizeof(names) / sizeof(names[0]);
	/* The exact value first (MMAP_GTT and MMAP_OFFSET share a number). */
	for (size_t i = 0; i < count; i++)
		if (names[i].cmd == cmd)
			return names[i].name;
	if (_IOC_TYPE(cmd) != DRM_IOCTL_BASE)
		return NULL;
	for (size_t i = 0; i < count; i++)
		if (_IOC_NR(names[i].cmd) == _IOC_NR(cmd))
			return names[i].name;
	return NULL;
}
