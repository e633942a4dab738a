/* sysfs_device: under `fakedrm run`, the device has a sysfs node and a PCI function: libpciaccess (pci_system_init, pci_device_find_by_slot, BAR 2 = the aperture) and libdrm (drmGetDevice2, drmGetDevices2, drmGetNodeTypeFromFd; strict mode, where the files stat as 226:N) find it. SKIP elsewhere. */
#include "igt_lite.h"

#include <libgen.h>
#include <pciaccess.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <xf86drm.h>

#define NAME "sysfs_device"
#define SYSDEV "/sys/dev/char/226:0"

static unsigned long read_hex(const char *path)
{
	FILE *f = fopen(path, "r");
	CHECK_MSG(f, "%s: %s", path, strerror(errno));
	unsigned long v = 0;
	CHECK_MSG(fscanf(f, "%lx", &v) == 1, "%s: no number", path);
	fclose(f);
	return v;
}

static void read_text(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	CHECK_MSG(f, "%s: %s", path, strerror(errno));
	size_t got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
}

/* 0, or -errno of the open or the write. */
static int write_text(const char *path, const char *text)
{
	int f = open(path, O_WRONLY);
	if (f < 0)
		return -errno;
	int r = write(f, text, strlen(text)) < 0 ? -errno : 0;
	close(f);
	return r;
}

/* The last component of a symlink's target. */
static const char *link_base(const char *path)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	CHECK_MSG(n > 0, "readlink %s: %s", path, strerror(errno));
	buf[n] = 0;
	return basename(buf);
}

/* The mappable aperture, as the debug tree's i915_gem_gtt states it. */
static uint64_t aperture(void)
{
	char text[256];
	read_text("/sys/kernel/debug/dri/0/i915_gem_gtt", text, sizeof(text));
	unsigned long long bytes = 0;
	CHECK_MSG(sscanf(text, "aperture: %llu bytes", &bytes) == 1, "i915_gem_gtt: %s", text);
	return bytes;
}

int main(int argc, char **argv)
{
	alarm(20);
	const char *path = igt_init(argc, argv, NAME);
	int fd = drm_open(path);
	if (access(SYSDEV "/device/drm", F_OK))
		skip(NAME, "no %s/device/drm: run under fakedrm run", SYSDEV);
	unsigned chipset = (unsigned)igt_getparam(fd, I915_PARAM_CHIPSET_ID);

	/* The sysfs files, as IGT and libdrm read them. */
	CHECK(read_hex(SYSDEV "/device/vendor") == 0x8086);
	CHECK(read_hex(SYSDEV "/device/device") == chipset);
	CHECK(read_hex(SYSDEV "/device/class") == 0x030000);
	CHECK(strcmp(link_base(SYSDEV "/device/driver"), "i915") == 0);
	CHECK(strcmp(link_base(SYSDEV "/device/subsystem"), "pci") == 0);
	char text[512];
	read_text(SYSDEV "/dev", text, sizeof(text));
	CHECK_MSG(strcmp(text, "226:0\n") == 0, "dev: %s", text);
	read_text("/sys/dev/char/226:128/dev", text, sizeof(text));
	CHECK_MSG(strcmp(text, "226:128\n") == 0, "renderD128 dev: %s", text);
	read_text("/sys/class/drm/card0/uevent", text, sizeof(text));
	CHECK_MSG(strstr(text, "DEVNAME=dri/card0\n"), "card0 uevent: %s", text);
	read_text(SYSDEV "/device/uevent", text, sizeof(text));
	CHECK_MSG(strstr(text, "PCI_SLOT_NAME=0000:00:02.0\n") && strstr(text, "DRIVER=i915\n"), "uevent: %s", text);
	CHECK(read_hex(SYSDEV "/gt_RP0_freq_mhz") > 0);
	/* sysfs_engines.c: IGT's gem_engine_mmio_base reads mmio_base (no fallback for vcs1). */
	CHECK(read_hex(SYSDEV "/engine/rcs0/mmio_base") == 0x2000);
	CHECK(read_hex(SYSDEV "/engine/vcs1/mmio_base") == 0x1d0000);
	read_text(SYSDEV "/engine/vecs0/name", text, sizeof(text));
	CHECK_MSG(strcmp(text, "vecs0\n") == 0, "engine/vecs0/name: %s", text);
	/* The tunables (gem_engine_properties_configure writes them, then reads back). */
	read_text(SYSDEV "/engine/bcs0/.defaults/preempt_timeout_ms", text, sizeof(text));
	CHECK_MSG(strcmp(text, "640\n") == 0, ".defaults/preempt_timeout_ms: %s", text);
	CHECK_OK(write_text(SYSDEV "/engine/bcs0/preempt_timeout_ms", "250"));
	read_text(SYSDEV "/engine/bcs0/preempt_timeout_ms", text, sizeof(text));
	CHECK_MSG(strcmp(text, "250\n") == 0, "preempt_timeout_ms after writing 250: %s", text);
	CHECK_OK(write_text(SYSDEV "/engine/bcs0/preempt_timeout_ms", "640"));
	CHECK_ERRNO(write_text(SYSDEV "/engine/bcs0/heartbeat_interval_ms", "soon"), EINVAL);
	CHECK_ERRNO(write_text(SYSDEV "/engine/bcs0/max_busywait_duration_ns", "8000001"), EINVAL);
	CHECK_ERRNO(write_text(SYSDEV "/engine/bcs0/stop_timeout_ms", "18446744073709551616"), ERANGE);
	CHECK_ERRNO(write_text(SYSDEV "/engine/bcs0/mmio_base", "0"), EACCES);
	/* The GPU error state: empty until a hang; a write clears it. */
	CHECK_OK(write_text(SYSDEV "/error", "1"));
	read_text(SYSDEV "/error", text, sizeof(text));
	CHECK_MSG(strcmp(text, "No error state collected\n") == 0, "error: %s", text);
	unsigned dom, bus, dev, func;
	CHECK(sscanf(link_base(SYSDEV "/device"), "%4x:%2x:%2x.%1x", &dom, &bus, &dev, &func) == 4);
	read_text("/sys/module/i915/parameters/reset", text, sizeof(text));
	CHECK_MSG(strcmp(text, "3\n") == 0, "/sys/module/i915/parameters/reset: %s", text);

	/* by-path, next to card0. */
	char dir[PATH_MAX], by[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(by, sizeof(by), "%s/by-path/pci-0000:00:02.0-card", dirname(dir));
	CHECK(strcmp(link_base(by), "card0") == 0);

	/* libpciaccess: what igt_device_get_pci_device and gem_mappable_aperture_size do. */
	CHECK_OK(pci_system_init());
	struct pci_device *pci = pci_device_find_by_slot(dom, bus, dev, func);
	CHECK_MSG(pci, "pci_device_find_by_slot(%04x:%02x:%02x.%x) found nothing", dom, bus, dev, func);
	CHECK_OK(pci_device_probe(pci));
	CHECK(pci->vendor_id == 0x8086 && pci->device_id == chipset);
	CHECK_MSG(pci->device_class == 0x030000, "class 0x%06x", pci->device_class);
	CHECK_MSG(pci->regions[2].size == aperture(), "BAR 2 is %llu bytes, the aperture %llu",
		  (unsigned long long)pci->regions[2].size, (unsigned long long)aperture());
	CHECK(pci->regions[2].is_prefetchable && pci->regions[2].is_64);
	/* Mesa-style: every display-class device, by class match. */
	struct pci_id_match match = { PCI_MATCH_ANY, PCI_MATCH_ANY, PCI_MATCH_ANY, PCI_MATCH_ANY, 0x030000, 0xffff00, 0 };
	struct pci_device_iterator *it = pci_id_match_iterator_create(&match);
	int vgas = 0;
	for (struct pci_device *p; (p = pci_device_next(it));)
		vgas += p->vendor_id == 0x8086 && p->device_id == chipset;
	pci_iterator_destroy(it);
	CHECK(vgas == 1);
	pci_system_cleanup();
	info("libpciaccess: %04x:%02x:%02x.%x 8086:%04x, BAR 2 %llu MiB", dom, bus, dev, func, chipset,
	     (unsigned long long)(aperture() >> 20));

	/* libdrm: needs the file to stat as a DRM character device (strict mode). */
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	drmDevicePtr d = NULL;
	if (!S_ISCHR(st.st_mode)) {
		CHECK_ERRNO(drmGetDevice2(fd, 0, &d), EINVAL);
		pass(NAME, "sysfs and libpciaccess find the device; drmGetDevice2 needs strict mode (the file is no character device)");
	}
	CHECK_OK(drmGetDevice2(fd, 0, &d));
	CHECK(d->bustype == DRM_BUS_PCI);
	CHECK(d->businfo.pci->domain == dom && d->businfo.pci->bus == bus && d->businfo.pci->dev == dev &&
	      d->businfo.pci->func == func);
	CHECK(d->deviceinfo.pci->vendor_id == 0x8086 && d->deviceinfo.pci->device_id == chipset);
	CHECK(d->available_nodes & (1 << DRM_NODE_PRIMARY));
	CHECK(d->available_nodes & (1 << DRM_NODE_RENDER));
	CHECK_MSG(strcmp(d->nodes[DRM_NODE_RENDER], "/dev/dri/renderD128") == 0, "render node %s", d->nodes[DRM_NODE_RENDER]);
	drmFreeDevice(&d);
	drmDevicePtr all[8];
	int n = drmGetDevices2(0, all, 8);
	CHECK_MSG(n == 1, "drmGetDevices2: %d", n);
	CHECK(all[0]->bustype == DRM_BUS_PCI && all[0]->deviceinfo.pci->device_id == chipset);
	drmFreeDevices(all, n);
	/* Helpers that check /sys/dev/char/226:N/device/drm. */
	CHECK(drmGetNodeTypeFromFd(fd) == DRM_NODE_PRIMARY);
	int rfd = drm_open(render_path(path));
	CHECK(drmGetNodeTypeFromFd(rfd) == DRM_NODE_RENDER);
	char *primary = drmGetPrimaryDeviceNameFromFd(rfd);
	CHECK_MSG(primary && strcmp(primary, "/dev/dri/card0") == 0, "primary of renderD128: %s", primary);
	free(primary);
	close(rfd);
	pass(NAME, "sysfs, libpciaccess and libdrm's drmGetDevice2/drmGetDevices2/drmGetNodeTypeFromFd find 0000:00:02.0 8086:%04x", chipset);
}
