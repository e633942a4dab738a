import CDrm

/// Valid-looking structs for the ioctls that build state (create, map,
/// tile, name, write), filled with what the device handed out: random bytes
/// alone seldom get an object mapped and faulted. The struct types are the
/// uapi's own, through CDrm.
extension DeviceFuzzer {
    /// The payload of a plausible call of `op`, or nil to fill it field by field.
    mutating func template(_ op: fdrm_op) -> [UInt8]? {
        // The newest handle half the time: it is most likely still open.
        let h = byte() & 1 == 0 ? handles.last ?? 1 : pick(handles)
        switch op {
        case FDRM_OP_I915_GEM_CREATE:
            return bytes(of: drm_i915_gem_create(size: UInt64(byte() % 32 + 1) << 12, handle: 0, pad: 0))
        case FDRM_OP_I915_GEM_MMAP_OFFSET:
            return bytes(of: drm_i915_gem_mmap_offset(handle: h, pad: 0, offset: 0, flags: UInt64(byte() % 4), extensions: 0))
        case FDRM_OP_I915_GEM_PWRITE, FDRM_OP_I915_GEM_PREAD:
            return bytes(of: drm_i915_gem_pwrite(handle: h, pad: 0, offset: UInt64(byte()) << 8, size: UInt64(byte()) << 6,
                                                 data_ptr: FuzzMemory.base + UInt64(byte()) << 8))
        case FDRM_OP_I915_GEM_SET_TILING:
            return bytes(of: drm_i915_gem_set_tiling(handle: h, tiling_mode: UInt32(byte() % 3),
                                                     stride: pick([512, 4096, 128, 8192, 2048]), swizzle_mode: 0))
        case FDRM_OP_I915_GEM_SET_DOMAIN:
            let d = pick([UInt32(I915_GEM_DOMAIN_CPU), UInt32(I915_GEM_DOMAIN_GTT), UInt32(I915_GEM_DOMAIN_WC)])
            return bytes(of: drm_i915_gem_set_domain(handle: h, read_domains: d, write_domain: byte() & 1 == 0 ? d : 0))
        case FDRM_OP_GEM_FLINK, FDRM_OP_GEM_CLOSE, FDRM_OP_I915_GEM_SW_FINISH, FDRM_OP_I915_GEM_BUSY,
             FDRM_OP_I915_GEM_GET_TILING, FDRM_OP_I915_GEM_GET_CACHING, FDRM_OP_FAKEDRM_GEM_SET_READONLY:
            // All of these begin with the handle; the rest stays zero.
            return bytes(of: drm_gem_close(handle: h, pad: 0))
        case FDRM_OP_GEM_OPEN:
            return bytes(of: drm_gem_open(name: pick(names), handle: 0, size: 0))
        case FDRM_OP_I915_GEM_MADVISE:
            // DONTNEED purges at once: now and then, or nothing stays mappable.
            return bytes(of: drm_i915_gem_madvise(handle: h, madv: byte() % 8 == 0 ? 1 : 0, retained: 0))
        case FDRM_OP_I915_GEM_SET_CACHING:
            return bytes(of: drm_i915_gem_caching(handle: h, caching: UInt32(byte() % 3)))
        case FDRM_OP_I915_GETPARAM:
            return bytes(of: drm_i915_getparam(param: Int32(byte() % 64), value: UnsafeMutablePointer(bitPattern: UInt(FuzzMemory.base))))
        default:
            return nil
        }
    }

    private func bytes<T>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
}
