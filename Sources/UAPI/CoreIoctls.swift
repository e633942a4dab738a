import CDrm
import FakeDRMDevice

/// The DRM core ioctls beyond GEM (drm_ioctl.c's drm_ioctls[]): what a
/// client calls first, and the KMS and syncobj ioctls a display-less i915
/// without DRIVER_MODESET refuses.
extension IoctlDispatcher {
    func core(op: UInt32, _ k: UnsafeMutableRawBufferPointer, _ c: IoctlCaller) throws(DrmError) {
        let dev = device
        switch fdrm_op(op) {
        case FDRM_OP_GET_CLIENT:
            try with(k, drm_client.self) { (g: inout drm_client) throws(DrmError) in
                let r = try dev.getClient(c.file, index: g.idx)
                g.auth = r.auth ? 1 : 0
                g.pid = UInt(c.pid)
                g.uid = UInt(r.uid)
                g.magic = 0
                g.iocs = 0
            }
        case FDRM_OP_GET_STATS:
            // drm_getstats: zeroed, "to prevent userspace from eating its stack garbage".
            k.initializeMemory(as: UInt8.self, repeating: 0)
        case FDRM_OP_SET_VERSION:
            try with(k, drm_set_version.self) { (v: inout drm_set_version) throws(DrmError) in
                let interface = (v.drm_di_major, v.drm_di_minor), driver = (v.drm_dd_major, v.drm_dd_minor)
                (v.drm_di_major, v.drm_di_minor) = DrmDevice.interfaceVersion
                (v.drm_dd_major, v.drm_dd_minor) = (DrmDevice.version.major, DrmDevice.version.minor)
                try dev.setVersion(c.file, interface: interface, driver: driver)
            }
        case FDRM_OP_NOOP:
            break
        case FDRM_OP_INVALID:
            throw DrmError.EINVAL
        case FDRM_OP_NO_MODESET, FDRM_OP_NO_SYNCOBJ:
            throw DrmError.EOPNOTSUPP
        case FDRM_OP_MODE_CREATE_DUMB:
            // The outputs are zeroed first and stay zero on error (drm_dumb_buffers.c).
            try with(k, drm_mode_create_dumb.self) { (d: inout drm_mode_create_dumb) throws(DrmError) in
                (d.handle, d.pitch, d.size) = (0, 0, 0)
                (d.handle, d.pitch, d.size) = try dev.createDumb(c.file, width: d.width, height: d.height, bpp: d.bpp)
            }
        case FDRM_OP_MODE_MAP_DUMB:
            try with(k, drm_mode_map_dumb.self) { (m: inout drm_mode_map_dumb) throws(DrmError) in
                m.offset = 0
                m.offset = try dev.mapDumb(c.file, handle: m.handle)
            }
        case FDRM_OP_MODE_DESTROY_DUMB:
            // drm_gem_handle_delete, as GEM_CLOSE.
            try with(k, drm_mode_destroy_dumb.self) { (d: inout drm_mode_destroy_dumb) throws(DrmError) in
                try dev.gemClose(c.file, handle: d.handle)
            }
        default:
            throw DrmError.EINVAL
        }
    }
}
