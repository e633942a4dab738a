/// The DRM core ioctls a client meets before any GEM: GET_UNIQUE and
/// SET_VERSION (libdrm's drmOpen), GET_CLIENT, and dumb buffers, with
/// drm_ioctl.c's and i915's rules.
extension DrmDevice {
    /// DRM_IF_MAJOR / DRM_IF_MINOR (drm_internal.h): interface 1.4, proper
    /// PCI domains in the bus id.
    public static let interfaceVersion: (major: Int32, minor: Int32) = (1, 4)

    /// drm_getunique: the unique of the file's drm_master, empty until a
    /// SET_VERSION of interface 1.1 or later set it. libdrm's drmOpenByName
    /// skips a node whose unique is already set (see drm_ioctl.c's comment).
    public func getUnique(_ file: FileID) throws(DrmError) -> [UInt8] {
        try withFile(file) { (_, f) throws(DrmError) in Array((f.master?.unique ?? "").utf8) }
    }

    /// drm_setversion (DRM_MASTER): checks the interface and driver versions
    /// asked for; interface 1.1+ sets the master's unique to the PCI bus id
    /// (drm_set_busid → drm_pci_set_busid). The caller writes back
    /// `interfaceVersion` and the driver's major.minor whatever the outcome.
    public func setVersion(_ file: FileID, interface: (major: Int32, minor: Int32),
                           driver: (major: Int32, minor: Int32)) throws(DrmError) {
        try withFile(file) { (_, f) throws(DrmError) in
            if interface.major != -1 {
                guard interface.major == Self.interfaceVersion.major, interface.minor >= 0,
                      interface.minor <= Self.interfaceVersion.minor else { throw DrmError.EINVAL }
                if interface.minor >= 1 { f.master?.unique = Self.busID }
            }
            if driver.major != -1 {
                guard driver.major == Self.version.major, driver.minor >= 0,
                      driver.minor <= Self.version.minor else { throw DrmError.EINVAL }
            }
        }
    }

    /// drm_getclient, hollowed out as upstream's: index 0 is the caller
    /// (auth, the calling pid, overflowuid), any other EINVAL.
    public func getClient(_ file: FileID, index: Int32) throws(DrmError) -> (auth: Bool, uid: UInt32) {
        try withFile(file) { (_, f) throws(DrmError) in
            guard index == 0 else { throw DrmError.EINVAL }
            return (f.authenticated, 65534)
        }
    }

    /// drm_mode_create_dumb's checks, then i915_gem_dumb_create: 8, 16 or
    /// 32 bpp, the pitch 64-byte aligned and, with no display (its
    /// intel_plane_fb_max_stride is 0), page aligned; a GEM object of
    /// pitch x height bytes. Returns (handle, pitch, size).
    public func createDumb(_ file: FileID, width: UInt32, height: UInt32, bpp: UInt32) throws(DrmError)
        -> (handle: Handle, pitch: UInt32, size: UInt64) {
        guard width != 0, height != 0, bpp != 0, bpp <= UInt32.max - 8 else { throw DrmError.EINVAL }
        let cpp = (bpp + 7) / 8
        guard cpp <= UInt32.max / width else { throw DrmError.EINVAL }
        let stride = cpp * width
        guard height <= UInt32.max / stride else { throw DrmError.EINVAL }
        // PAGE_ALIGN of a u32 that wraps to 0.
        guard Page.roundUp(height * stride) != 0 else { throw DrmError.EINVAL }
        guard [1, 2, 4].contains(cpp) else { throw DrmError.EINVAL }
        var pitch = (width &* cpp &+ 63) & ~UInt32(63)
        pitch = Page.roundUp(pitch)
        guard pitch >= width else { throw DrmError.EINVAL }
        let created = try gemCreate(file, size: UInt64(pitch) * UInt64(height))
        return (created.handle, pitch, created.size)
    }

    /// i915_gem_dumb_mmap_offset: the WC node on a PAT system (every one
    /// emulated here), as MMAP_OFFSET(WC) gives it.
    public func mapDumb(_ file: FileID, handle: Handle) throws(DrmError) -> UInt64 {
        try mmapOffset(file, handle: handle, flags: MmapType.wc.rawValue)
    }
}

/// A drm_master: what files opened while it was current share, here the
/// unique SET_VERSION sets.
final class DrmMaster {
    var unique: String?
}
