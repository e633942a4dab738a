import CDrm
import FakeDRMDevice

/// The strict-mode ioctls (include/fakedrm.h) the preload library issues:
/// on a device file through the table like any other, and on the mount's
/// root directory, which has no drm_file: there only PROBE and the
/// VMA_OPEN/VMA_CLOSE of mappings that may outlive every fd of their open
/// (their table entries' `root` handlers).
enum Strict {
    /// Names this daemon in PROBE, so a library never mixes up two mounts.
    static let instance = UInt64.random(in: 1...UInt64.max)

    static func probe(_ dev: DrmDevice, _ p: inout drm_fakedrm_probe, _ c: IoctlCaller) throws(DrmError) {
        guard p.ino == 0 else { throw DrmError.EINVAL }
        // The library asks: this open is in strict mode (Exports/).
        dev.markStrict(c.file)
        p.version = UInt32(FAKEDRM_PROBE_VERSION)
        p.minor = Int32(try dev.minor(of: c.file).number)
        p.instance = instance
    }

    /// On the root: which device node the stat'ed inode `ino` is (-1: none).
    static func probeRoot(_ dev: DrmDevice, _ p: inout drm_fakedrm_probe, _ c: RootCaller) throws(DrmError) {
        p.version = UInt32(FAKEDRM_PROBE_VERSION)
        p.minor = c.minor(InodeID(rawValue: p.ino)).map { Int32($0.number) } ?? -1
        p.instance = instance
    }

    static func mmap(_ dev: DrmDevice, _ m: inout drm_fakedrm_mmap, _ c: IoctlCaller) throws(DrmError) {
        let r = try dev.strictMmap(c.file, offset: m.offset, size: m.size, prot: Int32(bitPattern: m.prot))
        (m.cookie, m.readonly) = (r.cookie.rawValue, r.readonly ? 1 : 0)
    }

    static func vmaOpen(_ dev: DrmDevice, _ v: inout drm_fakedrm_vma, _ c: IoctlCaller) throws(DrmError) {
        try dev.vmaOpen(cookie: Cookie(rawValue: v.cookie))
    }

    static func vmaClose(_ dev: DrmDevice, _ v: inout drm_fakedrm_vma, _ c: IoctlCaller) throws(DrmError) {
        try dev.vmaClose(cookie: Cookie(rawValue: v.cookie))
    }

    /// On the root, VMA_OPEN and VMA_CLOSE act on another open's mapping:
    /// only a caller of the same uid as the open that made it, or root, may
    /// (EPERM, the model's).
    static func vmaOpenRoot(_ dev: DrmDevice, _ v: inout drm_fakedrm_vma, _ c: RootCaller) throws(DrmError) {
        try dev.vmaOpen(cookie: Cookie(rawValue: v.cookie), uid: c.uid)
    }

    static func vmaCloseRoot(_ dev: DrmDevice, _ v: inout drm_fakedrm_vma, _ c: RootCaller) throws(DrmError) {
        try dev.vmaClose(cookie: Cookie(rawValue: v.cookie), uid: c.uid)
    }

    static func gemMmap(_ dev: DrmDevice, _ g: inout drm_fakedrm_gem_mmap, _ c: IoctlCaller) throws(DrmError) {
        let r = try dev.legacyMmap(c.file, handle: Handle(rawValue: g.args.handle), offset: g.args.offset, size: g.args.size, flags: g.args.flags,
                                   pid: c.pid)
        (g.map_offset, g.cookie, g.token) = (r.mapOffset, r.cookie.rawValue, r.token)
    }
}
