import CDrm
import FakeDRMDevice

/// The DRM core's ioctls (drm_ioctl.c's drm_ioctls[]): what a client calls
/// first, dumb buffers, and the KMS and syncobj ioctls a display-less i915
/// without DRIVER_MODESET refuses. Each handler decodes, calls the model,
/// encodes; the rules and errnos are the model's.
enum Core {
    static func version(_ dev: DrmDevice, _ v: inout drm_version, _ c: IoctlCaller) throws(DrmError) {
        let ver = DrmDevice.version
        v.version_major = ver.major
        v.version_minor = ver.minor
        v.version_patchlevel = ver.patchlevel
        try copyField(ver.name, to: v.name, length: &v.name_len, c.memory)
        try copyField(ver.date, to: v.date, length: &v.date_len, c.memory)
        try copyField(ver.desc, to: v.desc, length: &v.desc_len, c.memory)
    }

    static func versionFields(_ v: drm_version, out: Bool) -> Fields {
        out ? [("version", "\(v.version_major).\(v.version_minor).\(v.version_patchlevel)"),
               ("name_len", "\(v.name_len)"), ("date_len", "\(v.date_len)"), ("desc_len", "\(v.desc_len)")]
            : [("name_len", "\(v.name_len)"), ("date_len", "\(v.date_len)"), ("desc_len", "\(v.desc_len)")]
    }

    static func getUnique(_ dev: DrmDevice, _ u: inout drm_unique, _ c: IoctlCaller) throws(DrmError) {
        let unique = try dev.getUnique(c.file)
        if u.unique_len >= UInt(unique.count), let p = u.unique {
            try c.memory.write(address(p), bytes: unique[...])
        }
        u.unique_len = UInt(unique.count)
    }

    static func getUniqueFields(_ u: drm_unique, out: Bool) -> Fields { [("unique_len", "\(u.unique_len)")] }

    static func getMagic(_ dev: DrmDevice, _ a: inout drm_auth, _ c: IoctlCaller) throws(DrmError) {
        a.magic = try dev.getMagic(c.file)
    }

    static func getMagicFields(_ a: drm_auth, out: Bool) -> Fields { out ? [("magic", "\(a.magic)")] : [] }

    static func authMagic(_ dev: DrmDevice, _ a: inout drm_auth, _ c: IoctlCaller) throws(DrmError) {
        try dev.authMagic(c.file, magic: a.magic)
    }

    static func authMagicFields(_ a: drm_auth, out: Bool) -> Fields { [("magic", "\(a.magic)")] }

    static func getCap(_ dev: DrmDevice, _ g: inout drm_get_cap, _ c: IoctlCaller) throws(DrmError) {
        g.value = try dev.getCap(c.file, cap: g.capability)
    }

    static func getCapFields(_ g: drm_get_cap, out: Bool) -> Fields {
        out ? [("value", "\(g.value)")] : [("capability", TraceFields.hex(g.capability))]
    }

    static func setClientCap(_ dev: DrmDevice, _ g: inout drm_set_client_cap, _ c: IoctlCaller) throws(DrmError) {
        try dev.setClientCap(c.file, cap: g.capability, value: g.value)
    }

    static func setClientCapFields(_ g: drm_set_client_cap, out: Bool) -> Fields {
        [("capability", "\(g.capability)"), ("value", "\(g.value)")]
    }

    static func setMaster(_ dev: DrmDevice, _ c: IoctlCaller) throws(DrmError) {
        try dev.setMaster(c.file, pid: c.pid, privileged: c.privileged)
    }

    static func dropMaster(_ dev: DrmDevice, _ c: IoctlCaller) throws(DrmError) {
        try dev.dropMaster(c.file, pid: c.pid, privileged: c.privileged)
    }

    static func getClient(_ dev: DrmDevice, _ g: inout drm_client, _ c: IoctlCaller) throws(DrmError) {
        let r = try dev.getClient(c.file, index: g.idx)
        g.auth = r.auth ? 1 : 0
        g.pid = UInt(c.pid)
        g.uid = UInt(r.uid)
        g.magic = 0
        g.iocs = 0
    }

    static func getClientFields(_ g: drm_client, out: Bool) -> Fields {
        out ? [("auth", "\(g.auth)"), ("pid", "\(g.pid)"), ("uid", "\(g.uid)")] : [("idx", "\(g.idx)")]
    }

    /// drm_getstats: zeroed, "to prevent userspace from eating its stack garbage".
    static func getStats(_ dev: DrmDevice, _ s: inout drm_stats, _ c: IoctlCaller) throws(DrmError) {
        s = drm_stats()
    }

    static func setVersion(_ dev: DrmDevice, _ v: inout drm_set_version, _ c: IoctlCaller) throws(DrmError) {
        let interface = (v.drm_di_major, v.drm_di_minor), driver = (v.drm_dd_major, v.drm_dd_minor)
        (v.drm_di_major, v.drm_di_minor) = DrmDevice.interfaceVersion
        (v.drm_dd_major, v.drm_dd_minor) = (DrmDevice.version.major, DrmDevice.version.minor)
        try dev.setVersion(c.file, interface: interface, driver: driver)
    }

    static func setVersionFields(_ v: drm_set_version, out: Bool) -> Fields {
        [("drm_di", "\(v.drm_di_major).\(v.drm_di_minor)"), ("drm_dd", "\(v.drm_dd_major).\(v.drm_dd_minor)")]
    }

    /// drm_noop: 0 once permitted.
    static func noop(_ dev: DrmDevice, _ c: IoctlCaller) throws(DrmError) {}

    /// drm_invalid_op: EINVAL once permitted.
    static func invalid(_ dev: DrmDevice, _ c: IoctlCaller) throws(DrmError) { throw DrmError.EINVAL }

    /// KMS without DRIVER_MODESET (the model says).
    static func noModeset(_ dev: DrmDevice, _ c: IoctlCaller) throws(DrmError) { try dev.checkFeature(.modeset) }

    /// PRIME: a dma-buf fd cannot be installed in the caller from here.
    /// PRIME: in strict mode the daemon makes a dma-buf export whose token
    /// the library swaps for an fd (include/fakedrm.h); the model answers
    /// plain opens as a kernel without PRIME (EOPNOTSUPP).
    static func primeHandleToFd(_ dev: DrmDevice, _ p: inout drm_prime_handle, _ c: IoctlCaller) throws(DrmError) {
        p.fd = Int32(bitPattern: try dev.primeHandleToFd(c.file, handle: Handle(rawValue: p.handle), flags: p.flags, pid: c.pid))
    }

    static func primeFdToHandle(_ dev: DrmDevice, _ p: inout drm_prime_handle, _ c: IoctlCaller) throws(DrmError) {
        p.handle = try dev.primeFdToHandle(c.file, token: UInt32(bitPattern: p.fd)).rawValue
    }

    static func primeFields(_ p: drm_prime_handle, out: Bool) -> Fields {
        [("handle", "\(p.handle)"), ("flags", TraceFields.hex(p.flags)), ("fd", "\(p.fd)")]
    }

    /// The outputs are zeroed first and stay zero on error (drm_dumb_buffers.c).
    static func createDumb(_ dev: DrmDevice, _ d: inout drm_mode_create_dumb, _ c: IoctlCaller) throws(DrmError) {
        (d.handle, d.pitch, d.size) = (0, 0, 0)
        let made = try dev.createDumb(c.file, width: d.width, height: d.height, bpp: d.bpp)
        (d.handle, d.pitch, d.size) = (made.handle.rawValue, made.pitch, made.size)
    }

    static func createDumbFields(_ d: drm_mode_create_dumb, out: Bool) -> Fields {
        out ? [("handle", "\(d.handle)"), ("pitch", "\(d.pitch)"), ("size", "\(d.size)")]
            : [("width", "\(d.width)"), ("height", "\(d.height)"), ("bpp", "\(d.bpp)"), ("flags", TraceFields.hex(d.flags))]
    }

    static func mapDumb(_ dev: DrmDevice, _ m: inout drm_mode_map_dumb, _ c: IoctlCaller) throws(DrmError) {
        m.offset = 0
        m.offset = try dev.mapDumb(c.file, handle: Handle(rawValue: m.handle))
    }

    static func mapDumbFields(_ m: drm_mode_map_dumb, out: Bool) -> Fields {
        out ? [("offset", TraceFields.hex(m.offset))] : [("handle", "\(m.handle)")]
    }

    /// drm_gem_handle_delete, as GEM_CLOSE.
    static func destroyDumb(_ dev: DrmDevice, _ d: inout drm_mode_destroy_dumb, _ c: IoctlCaller) throws(DrmError) {
        try dev.gemClose(c.file, handle: Handle(rawValue: d.handle))
    }

    static func destroyDumbFields(_ d: drm_mode_destroy_dumb, out: Bool) -> Fields { [("handle", "\(d.handle)")] }
}

/// A user pointer as an address.
@inline(__always)
func address(_ p: UnsafeMutableRawPointer?) -> UInt64 { UInt64(UInt(bitPattern: p)) }
@inline(__always)
func address<T>(_ p: UnsafeMutablePointer<T>?) -> UInt64 { UInt64(UInt(bitPattern: p)) }

/// drm_copy_field: copy at most the caller's length (no NUL), then report
/// the full length.
func copyField(_ value: String, to buf: UnsafeMutablePointer<CChar>?, length: inout UInt, _ memory: any UserMemory) throws(DrmError) {
    let bytes = Array(value.utf8)
    let n = min(bytes.count, Int(clamping: length))
    length = UInt(bytes.count)
    if n > 0, let buf { try memory.write(address(buf), bytes: bytes[0..<n]) }
}
