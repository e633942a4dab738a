/* first_contact: what a real client calls before any GEM, through libdrm itself: drmOpen by name (GET_UNIQUE empty before SET_VERSION) and by bus id, drmSetInterfaceVersion and drmGetBusid ("pci:0000:00:02.0"), GET_CLIENT, GET_STATS, GET_CAP, SET_CLIENT_CAP, magic/auth, SET/DROP_MASTER with drm_master's unique, KMS ioctls EOPNOTSUPP (a display-less i915 has no DRIVER_MODESET), syncobjs, dumb buffers, and drmGetNodeTypeFromFd. drmOpen needs the device at /dev/dri (fakedrm run). */
#include "igt_lite.h"

#include <sys/stat.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#define NAME "first_contact"
#define BUS_ID "pci:0000:00:02.0"

static int rows;

/* libdrm calls that return -1 and set errno (the others return -errno). */
#define M1(call) ((call) == 0 ? 0 : -errno)

/* ioctl(2) with a zeroed struct of `size` bytes: 0 or -errno. */
static int raw(int fd, unsigned long req)
{
	uint8_t buf[256] = { 0 };
	return drm_ioctl(fd, req, buf);
}

#define EXPECT(call, err) do { \
	int r_ = (call), e_ = (err); \
	rows++; \
	CHECK_MSG(r_ == -e_, "%s gave %s, expected %s", #call, r_ ? errname(-r_) : "0", e_ ? errname(e_) : "0"); \
} while (0)

static void unique_is(int fd, const char *want, const char *what)
{
	char *id = drmGetBusid(fd);
	CHECK_MSG(id && strcmp(id, want) == 0, "%s: drmGetBusid gave \"%s\", expected \"%s\"", what, id ? id : "(null)", want);
	drmFreeBusid(id);
	rows++;
}

static int set_version(int fd, int di_major, int di_minor, int dd_major, int dd_minor, struct drm_set_version *out)
{
	*out = (struct drm_set_version){ di_major, di_minor, dd_major, dd_minor };
	return drm_ioctl(fd, DRM_IOCTL_SET_VERSION, out);
}

/* The first open of card0 while no file is master becomes master. A client
 * that just closed the device may not be released yet (FUSE sends RELEASE
 * after close returns): open again until this open is the master. */
static int open_master(const char *path)
{
	for (int i = 0; i < 300; i++) {
		int fd = drm_open(path);
		if (drmIsMaster(fd))
			return fd;
		close(fd);
		usleep(10000);
	}
	fail("no open of %s became master in 3 s (another client holds the device?)", path);
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *path = igt_init(argc, argv, NAME);
	int fd = open_master(path);
	int render = drm_open(render_path(path));

	drmVersionPtr v = drmGetVersion(fd);
	CHECK(v && strcmp(v->name, "i915") == 0);
	drmFreeVersion(v);

	/* GET_UNIQUE before SET_VERSION: empty, which drmOpenByName requires. */
	unique_is(fd, "", "before SET_VERSION");
	int by_dev = strcmp(path, "/dev/dri/card0") == 0;
	if (by_dev) {
		int byname = drmOpen("i915", NULL);
		CHECK_MSG(byname >= 0, "drmOpen(\"i915\", NULL) found no node");
		drmVersionPtr bv = drmGetVersion(byname);
		CHECK(bv && strcmp(bv->name, "i915") == 0);
		drmFreeVersion(bv);
		drmClose(byname);
		rows++;
	} else {
		info("drmOpen by name and bus id: skipped, the device is not at /dev/dri (run under fakedrm run)");
	}

	/* drm_setversion: interface 1.4 sets the master's unique to the PCI bus id. */
	struct drm_set_version sv;
	EXPECT(set_version(fd, 1, 4, -1, -1, &sv), 0);
	CHECK_MSG(sv.drm_di_major == 1 && sv.drm_di_minor == 4 && sv.drm_dd_major == 1 && sv.drm_dd_minor == 6,
		  "SET_VERSION wrote back %d.%d %d.%d", sv.drm_di_major, sv.drm_di_minor, sv.drm_dd_major, sv.drm_dd_minor);
	unique_is(fd, BUS_ID, "after SET_VERSION 1.4");
	drmSetVersion lv = { 1, 4, -1, -1 };
	EXPECT(drmSetInterfaceVersion(fd, &lv), 0);
	EXPECT(set_version(fd, 2, 0, -1, -1, &sv), EINVAL);
	CHECK(sv.drm_di_major == 1 && sv.drm_di_minor == 4 && sv.drm_dd_major == 1 && sv.drm_dd_minor == 6);
	EXPECT(set_version(fd, 1, 5, -1, -1, &sv), EINVAL);
	EXPECT(set_version(fd, -1, 0, 1, 7, &sv), EINVAL);
	EXPECT(set_version(fd, -1, 0, 2, 0, &sv), EINVAL);
	EXPECT(set_version(fd, -1, 0, 1, 6, &sv), 0);
	EXPECT(set_version(fd, -1, 0, -1, 0, &sv), 0);
	int fd2 = drm_open(path);
	EXPECT(set_version(fd2, 1, 4, -1, -1, &sv), EACCES); /* DRM_MASTER */
	EXPECT(set_version(render, 1, 4, -1, -1, &sv), EACCES);
	/* fd2 refers to the same drm_master: it sees the unique. */
	unique_is(fd2, BUS_ID, "another open of the same master");
	if (by_dev) {
		/* A set unique makes drmOpenByName skip the node, as on a kernel device. */
		int byname = drmOpen("i915", NULL);
		CHECK_MSG(byname < 0, "drmOpen(\"i915\", NULL) opened a node whose master has a unique");
		int bybus = drmOpen(NULL, BUS_ID);
		CHECK_MSG(bybus >= 0, "drmOpen(NULL, \"%s\") found no node", BUS_ID);
		drmClose(bybus);
		rows += 2;
	}

	/* GET_CLIENT (index 0: the caller), GET_STATS (zeroed). */
	int auth = -1, pid = 0, uid = 0;
	unsigned long magic = 1, iocs = 1;
	EXPECT(drmGetClient(fd, 0, &auth, &pid, &uid, &magic, &iocs), 0);
	CHECK_MSG(auth == 1 && pid == getpid() && uid == 65534 && magic == 0 && iocs == 0,
		  "GET_CLIENT 0: auth %d pid %d uid %d magic %lu iocs %lu", auth, pid, uid, magic, iocs);
	EXPECT(drmGetClient(fd, 1, &auth, &pid, &uid, &magic, &iocs), EINVAL);
	struct drm_stats st;
	memset(&st, 0xa5, sizeof(st));
	EXPECT(drm_ioctl(fd, DRM_IOCTL_GET_STATS, &st), 0);
	CHECK(st.count == 0);
	EXPECT(raw(render, DRM_IOCTL_GET_CLIENT), EACCES);

	/* GET_CAP / SET_CLIENT_CAP: modesetting ones need DRIVER_MODESET. */
	uint64_t cap = 7;
	EXPECT(M1(drmGetCap(fd, DRM_CAP_TIMESTAMP_MONOTONIC, &cap)), 0);
	CHECK(cap == 1);
	EXPECT(M1(drmGetCap(render, DRM_CAP_DUMB_BUFFER, &cap)), EOPNOTSUPP);
	EXPECT(M1(drmGetCap(fd, DRM_CAP_CURSOR_WIDTH, &cap)), EOPNOTSUPP);
	EXPECT(M1(drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1)), EOPNOTSUPP);
	EXPECT(M1(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1)), EOPNOTSUPP);

	/* KMS: EOPNOTSUPP after the permission checks (render: EACCES, DRM_MASTER: EACCES). */
	errno = 0;
	CHECK_MSG(drmModeGetResources(fd) == NULL && errno == EOPNOTSUPP, "drmModeGetResources: %s", errname(errno));
	rows++;
	static const struct { unsigned long req; const char *name; int master; } kms[] = {
		{ DRM_IOCTL_MODE_GETRESOURCES, "GETRESOURCES", 0 }, { DRM_IOCTL_MODE_GETCRTC, "GETCRTC", 0 },
		{ DRM_IOCTL_MODE_GETCONNECTOR, "GETCONNECTOR", 0 }, { DRM_IOCTL_MODE_GETENCODER, "GETENCODER", 0 },
		{ DRM_IOCTL_MODE_GETPLANERESOURCES, "GETPLANERESOURCES", 0 }, { DRM_IOCTL_MODE_GETPLANE, "GETPLANE", 0 },
		{ DRM_IOCTL_MODE_GETPROPERTY, "GETPROPERTY", 0 }, { DRM_IOCTL_MODE_OBJ_GETPROPERTIES, "OBJ_GETPROPERTIES", 0 },
		{ DRM_IOCTL_MODE_GETFB, "GETFB", 0 }, { DRM_IOCTL_MODE_GETFB2, "GETFB2", 0 }, { DRM_IOCTL_MODE_ADDFB, "ADDFB", 0 },
		{ DRM_IOCTL_MODE_ADDFB2, "ADDFB2", 0 }, { DRM_IOCTL_MODE_RMFB, "RMFB", 0 },
		{ DRM_IOCTL_MODE_GETGAMMA, "GETGAMMA", 0 }, { DRM_IOCTL_MODE_CREATEPROPBLOB, "CREATEPROPBLOB", 0 },
		{ DRM_IOCTL_WAIT_VBLANK, "WAIT_VBLANK", 0 }, { DRM_IOCTL_CRTC_GET_SEQUENCE, "CRTC_GET_SEQUENCE", 0 },
		{ DRM_IOCTL_MODE_SETCRTC, "SETCRTC", 1 }, { DRM_IOCTL_MODE_ATOMIC, "ATOMIC", 1 },
		{ DRM_IOCTL_MODE_PAGE_FLIP, "PAGE_FLIP", 1 }, { DRM_IOCTL_MODE_SETPLANE, "SETPLANE", 1 },
		{ DRM_IOCTL_MODE_CURSOR, "CURSOR", 1 }, { DRM_IOCTL_MODE_DIRTYFB, "DIRTYFB", 1 },
		{ DRM_IOCTL_MODE_CREATE_LEASE, "CREATE_LEASE", 1 },
	};
	for (size_t i = 0; i < sizeof(kms) / sizeof(kms[0]); i++) {
		int r = raw(fd, kms[i].req);
		CHECK_MSG(r == -EOPNOTSUPP, "MODE %s on the master: %s, expected EOPNOTSUPP", kms[i].name, errname(-r));
		r = raw(fd2, kms[i].req);
		int want = kms[i].master ? EACCES : EOPNOTSUPP;
		CHECK_MSG(r == -want, "MODE %s on another open: %s, expected %s", kms[i].name, errname(-r), errname(want));
		r = raw(render, kms[i].req);
		CHECK_MSG(r == -EACCES, "MODE %s on the render node: %s, expected EACCES", kms[i].name, errname(-r));
		rows += 3;
	}
	/* drm_noop and drm_invalid_op entries. */
	EXPECT(raw(fd, DRM_IOCTL_MODE_ATTACHMODE), 0);
	EXPECT(raw(fd2, DRM_IOCTL_MODE_ATTACHMODE), EACCES);
	EXPECT(raw(fd, DRM_IOCTL_SET_UNIQUE), geteuid() == 0 ? EINVAL : EACCES);
	EXPECT(raw(fd, DRM_IOCTL_BLOCK), geteuid() == 0 ? 0 : EACCES);

	/* Syncobjs: i915 has DRIVER_SYNCOBJ(_TIMELINE) (syncobj_basic has the rest). */
	EXPECT(M1(drmGetCap(render, DRM_CAP_SYNCOBJ, &cap)), 0);
	CHECK(cap == 1);
	uint32_t so;
	EXPECT(M1(drmSyncobjCreate(render, DRM_SYNCOBJ_CREATE_SIGNALED, &so)), 0);
	EXPECT(M1(drmSyncobjWait(render, &so, 1, 0, 0, NULL)), 0);
	EXPECT(raw(fd, DRM_IOCTL_SYNCOBJ_WAIT), 0); /* no handles */
	EXPECT(M1(drmSyncobjDestroy(render, so)), 0);

	/* Dumb buffers: i915_gem_dumb_create, pitch page aligned without a display. */
	struct drm_mode_create_dumb cd = { .width = 64, .height = 64, .bpp = 32, .handle = 99, .pitch = 99, .size = 99 };
	EXPECT(drm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd), 0);
	CHECK_MSG(cd.pitch == 4096 && cd.size == 4096 * 64 && cd.handle != 0, "CREATE_DUMB: handle %u pitch %u size %llu",
		  cd.handle, cd.pitch, (unsigned long long)cd.size);
	struct drm_mode_map_dumb md = { .handle = cd.handle };
	EXPECT(drm_ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &md), 0);
	CHECK(md.offset == mmap_offset(fd, cd.handle, I915_MMAP_OFFSET_WC));
	uint32_t *px = gem_mmap(fd, md.offset, cd.size, PROT_READ | PROT_WRITE);
	px[4096 / 4 * 63] = 0x00ff00ffu;
	CHECK_OK(munmap(px, cd.size));
	gem_set_domain(fd, cd.handle, I915_GEM_DOMAIN_CPU, 0);
	uint32_t pix = 0;
	gem_pread(fd, cd.handle, 4096 * 63, &pix, 4);
	CHECK_MSG(pix == 0x00ff00ffu, "a pixel stored through the dumb mapping reads 0x%08x", pix);
	struct drm_mode_destroy_dumb dd = { .handle = cd.handle };
	EXPECT(drm_ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &dd), 0);
	EXPECT(drm_ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &dd), EINVAL);
	struct drm_mode_create_dumb bad = { .width = 64, .height = 64, .bpp = 24 };
	EXPECT(drm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &bad), EINVAL);
	bad = (struct drm_mode_create_dumb){ .width = 0, .height = 64, .bpp = 32 };
	EXPECT(drm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &bad), EINVAL);
	bad = (struct drm_mode_create_dumb){ .width = 64, .height = 64, .bpp = 32 };
	EXPECT(drm_ioctl(render, DRM_IOCTL_MODE_CREATE_DUMB, &bad), EACCES);

	/* Magic and master. */
	drm_magic_t m = 0;
	EXPECT(drmGetMagic(fd2, &m), 0);
	EXPECT(drmAuthMagic(fd2, m), EACCES);
	EXPECT(drmAuthMagic(fd, m), 0);
	EXPECT(drmGetMagic(render, &m), EACCES);
	if (geteuid() == 0) {
		EXPECT(M1(drmDropMaster(fd)), 0);
		EXPECT(M1(drmSetMaster(fd2)), 0);
		EXPECT(M1(drmSetMaster(fd)), EBUSY);
		/* fd2 was never master: a new drm_master, without a unique yet. */
		unique_is(fd2, "", "a new master");
		EXPECT(set_version(fd2, 1, 1, -1, -1, &sv), 0);
		unique_is(fd2, BUS_ID, "a new master after SET_VERSION 1.1");
		EXPECT(M1(drmDropMaster(fd2)), 0);
		EXPECT(M1(drmSetMaster(fd)), 0);
		unique_is(fd, BUS_ID, "the first master back");
	}

	/* libdrm's node type: fstat must say S_IFCHR 226:minor (strict mode) and
	 * /sys/dev/char/226:minor/device/drm must exist (fakedrm run's sysfs). */
	if (access("/sys/dev/char/226:0/device/drm", F_OK) == 0 && strict_mode()) {
		CHECK_MSG(drmGetNodeTypeFromFd(fd) == DRM_NODE_PRIMARY, "drmGetNodeTypeFromFd(card0): %s", strerror(errno));
		CHECK_MSG(drmGetNodeTypeFromFd(render) == DRM_NODE_RENDER, "drmGetNodeTypeFromFd(renderD128): %s", strerror(errno));
		rows += 2;
	} else {
		info("drmGetNodeTypeFromFd: skipped (needs strict mode and /sys/dev/char/226:0/device/drm)");
	}

	close(fd2);
	close(render);
	close(fd);
	pass(NAME, "%d rows: drmOpen%s, SET_VERSION/GET_UNIQUE, GET_CLIENT, caps, KMS EOPNOTSUPP, syncobjs, dumb buffers, master",
	     rows, by_dev ? " by name and bus id" : " skipped");
	return 0;
}
