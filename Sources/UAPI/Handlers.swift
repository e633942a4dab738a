import CDrm
import FakeDRMDevice

/// One case per ioctl: decode the uapi struct, call the model, encode the
/// result. Rules and errnos live in the model; user pointers are followed
/// here, outside the device lock.
extension IoctlDispatcher {
    func handle(op: UInt32, _ k: UnsafeMutableRawBufferPointer, _ c: IoctlCaller) throws(DrmError) {
        let dev = device
        switch fdrm_op(op) {
        case FDRM_OP_VERSION:
            try with(k, drm_version.self) { (v: inout drm_version) throws(DrmError) in
                let ver = DrmDevice.version
                v.version_major = ver.major
                v.version_minor = ver.minor
                v.version_patchlevel = ver.patchlevel
                try copyField(ver.name, to: v.name, length: &v.name_len, c.memory)
                try copyField(ver.date, to: v.date, length: &v.date_len, c.memory)
                try copyField(ver.desc, to: v.desc, length: &v.desc_len, c.memory)
            }
        case FDRM_OP_GET_UNIQUE:
            try with(k, drm_unique.self) { (u: inout drm_unique) throws(DrmError) in
                let unique = try dev.getUnique(c.file)
                if u.unique_len >= UInt(unique.count), let p = u.unique {
                    try c.memory.write(address(p), bytes: unique[...])
                }
                u.unique_len = UInt(unique.count)
            }
        case FDRM_OP_GET_MAGIC:
            try with(k, drm_auth.self) { (a: inout drm_auth) throws(DrmError) in a.magic = try dev.getMagic(c.file) }
        case FDRM_OP_AUTH_MAGIC:
            try with(k, drm_auth.self) { (a: inout drm_auth) throws(DrmError) in try dev.authMagic(c.file, magic: a.magic) }
        case FDRM_OP_GET_CAP:
            try with(k, drm_get_cap.self) { (g: inout drm_get_cap) throws(DrmError) in g.value = try dev.getCap(c.file, cap: g.capability) }
        case FDRM_OP_SET_CLIENT_CAP:
            try with(k, drm_set_client_cap.self) { (g: inout drm_set_client_cap) throws(DrmError) in
                try dev.setClientCap(c.file, cap: g.capability, value: g.value)
            }
        case FDRM_OP_SET_MASTER:
            try dev.setMaster(c.file, pid: c.pid, privileged: c.privileged)
        case FDRM_OP_DROP_MASTER:
            try dev.dropMaster(c.file, pid: c.pid, privileged: c.privileged)
        case FDRM_OP_GEM_CLOSE:
            try with(k, drm_gem_close.self) { (g: inout drm_gem_close) throws(DrmError) in try dev.gemClose(c.file, handle: g.handle) }
        case FDRM_OP_GEM_FLINK:
            try with(k, drm_gem_flink.self) { (g: inout drm_gem_flink) throws(DrmError) in g.name = try dev.gemFlink(c.file, handle: g.handle) }
        case FDRM_OP_GEM_OPEN:
            try with(k, drm_gem_open.self) { (g: inout drm_gem_open) throws(DrmError) in
                (g.handle, g.size) = try dev.gemOpen(c.file, name: g.name)
            }
        case FDRM_OP_GET_CLIENT, FDRM_OP_GET_STATS, FDRM_OP_SET_VERSION, FDRM_OP_NOOP, FDRM_OP_INVALID,
             FDRM_OP_NO_MODESET, FDRM_OP_NO_SYNCOBJ, FDRM_OP_MODE_CREATE_DUMB, FDRM_OP_MODE_MAP_DUMB,
             FDRM_OP_MODE_DESTROY_DUMB:
            try core(op: op, k, c)
        case FDRM_OP_PRIME_HANDLE_TO_FD, FDRM_OP_PRIME_FD_TO_HANDLE:
            // A dma-buf fd cannot be installed in the caller from here.
            throw DrmError.EOPNOTSUPP
        case FDRM_OP_I915_GETPARAM:
            try with(k, drm_i915_getparam.self) { (g: inout drm_i915_getparam) throws(DrmError) in
                let value = try dev.getParam(g.param)
                try c.memory.store(value, at: address(g.value))
            }
        case FDRM_OP_I915_GEM_CREATE:
            try with(k, drm_i915_gem_create.self) { (g: inout drm_i915_gem_create) throws(DrmError) in
                (g.handle, g.size) = try dev.gemCreate(c.file, size: g.size)
            }
        case FDRM_OP_I915_GEM_CREATE_EXT:
            try with(k, drm_i915_gem_create_ext.self) { (g: inout drm_i915_gem_create_ext) throws(DrmError) in
                try createExt(&g, c)
            }
        case FDRM_OP_I915_GEM_PREAD:
            try with(k, drm_i915_gem_pread.self) { (p: inout drm_i915_gem_pread) throws(DrmError) in
                let ptr = p.data_ptr
                try dev.pread(c.file, handle: p.handle, offset: p.offset, size: p.size, dataPtr: ptr) { (src: UnsafeRawBufferPointer) throws(DrmError) in
                    try c.memory.write(ptr, from: src)
                }
            }
        case FDRM_OP_I915_GEM_PWRITE:
            try with(k, drm_i915_gem_pwrite.self) { (p: inout drm_i915_gem_pwrite) throws(DrmError) in
                let ptr = p.data_ptr
                try dev.pwrite(c.file, handle: p.handle, offset: p.offset, size: p.size, dataPtr: ptr) { (dst: UnsafeMutableRawBufferPointer) throws(DrmError) in
                    try c.memory.read(ptr, into: dst)
                }
            }
        case FDRM_OP_I915_GEM_MMAP:
            // The legacy CPU mmap maps memory inside the caller; a daemon cannot.
            throw DrmError.EOPNOTSUPP
        case FDRM_OP_I915_GEM_MMAP_OFFSET:
            try with(k, drm_i915_gem_mmap_offset.self) { (m: inout drm_i915_gem_mmap_offset) throws(DrmError) in
                // No extension is defined for MMAP_OFFSET: any is EINVAL once read.
                try UserExtensions.walk(m.extensions, c.memory) { (_, _) throws(DrmError) in throw DrmError.EINVAL }
                m.offset = try dev.mmapOffset(c.file, handle: m.handle, flags: m.flags)
            }
        case FDRM_OP_I915_GEM_SET_DOMAIN:
            try with(k, drm_i915_gem_set_domain.self) { (d: inout drm_i915_gem_set_domain) throws(DrmError) in
                try dev.setDomain(c.file, handle: d.handle, readDomains: d.read_domains, writeDomain: d.write_domain, pid: c.pid)
            }
        case FDRM_OP_I915_GEM_SW_FINISH:
            try with(k, drm_i915_gem_sw_finish.self) { (d: inout drm_i915_gem_sw_finish) throws(DrmError) in try dev.swFinish(c.file, handle: d.handle) }
        case FDRM_OP_I915_GEM_SET_TILING:
            try with(k, drm_i915_gem_set_tiling.self) { (t: inout drm_i915_gem_set_tiling) throws(DrmError) in
                let r = try dev.setTiling(c.file, handle: t.handle, mode: t.tiling_mode, stride: t.stride)
                (t.tiling_mode, t.stride, t.swizzle_mode) = (r.mode, r.stride, r.swizzle)
            }
        case FDRM_OP_I915_GEM_GET_TILING:
            try with(k, drm_i915_gem_get_tiling.self) { (t: inout drm_i915_gem_get_tiling) throws(DrmError) in
                let r = try dev.getTiling(c.file, handle: t.handle)
                (t.tiling_mode, t.swizzle_mode, t.phys_swizzle_mode) = (r.mode, r.swizzle, r.swizzle)
            }
        case FDRM_OP_I915_GEM_GET_APERTURE:
            try with(k, drm_i915_gem_get_aperture.self) { (a: inout drm_i915_gem_get_aperture) throws(DrmError) in
                (a.aper_size, a.aper_available_size) = dev.aperture
            }
        case FDRM_OP_I915_GEM_MADVISE:
            try with(k, drm_i915_gem_madvise.self) { (m: inout drm_i915_gem_madvise) throws(DrmError) in
                m.retained = try dev.madvise(c.file, handle: m.handle, madv: m.madv) ? 1 : 0
            }
        case FDRM_OP_I915_GEM_SET_CACHING:
            try with(k, drm_i915_gem_caching.self) { (g: inout drm_i915_gem_caching) throws(DrmError) in
                try dev.setCaching(c.file, handle: g.handle, caching: g.caching)
            }
        case FDRM_OP_I915_GEM_GET_CACHING:
            try with(k, drm_i915_gem_caching.self) { (g: inout drm_i915_gem_caching) throws(DrmError) in
                g.caching = try dev.getCaching(c.file, handle: g.handle)
            }
        case FDRM_OP_I915_GEM_BUSY:
            try with(k, drm_i915_gem_busy.self) { (b: inout drm_i915_gem_busy) throws(DrmError) in
                b.busy = try dev.gemBusy(c.file, handle: b.handle)
            }
        case FDRM_OP_I915_GEM_WAIT:
            try with(k, drm_i915_gem_wait.self) { (w: inout drm_i915_gem_wait) throws(DrmError) in
                try dev.gemWait(c.file, handle: w.bo_handle, flags: w.flags, timeoutNs: &w.timeout_ns)
            }
        case FDRM_OP_I915_GEM_THROTTLE:
            try dev.throttle()
        case FDRM_OP_I915_QUERY:
            try with(k, drm_i915_query.self) { (q: inout drm_i915_query) throws(DrmError) in try query(q, c) }
        case FDRM_OP_I915_GEM_CONTEXT_GETPARAM:
            try with(k, drm_i915_gem_context_param.self) { (p: inout drm_i915_gem_context_param) throws(DrmError) in
                try contextGetParam(&p, c)
            }
        case FDRM_OP_FAKEDRM_GEM_SET_READONLY:
            try with(k, drm_fakedrm_gem_set_readonly.self) { (r: inout drm_fakedrm_gem_set_readonly) throws(DrmError) in
                try dev.setReadonly(c.file, handle: r.handle, flags: r.flags)
            }
        case FDRM_OP_FAKEDRM_GPU_RESET:
            dev.gpuReset()
        case FDRM_OP_FAKEDRM_PROBE, FDRM_OP_FAKEDRM_MMAP, FDRM_OP_FAKEDRM_VMA_OPEN, FDRM_OP_FAKEDRM_VMA_CLOSE,
             FDRM_OP_FAKEDRM_GEM_MMAP:
            try strict(op: op, k, c)
        case FDRM_OP_I915_GEM_USERPTR:
            try userptr(k, c)
        default:
            try gpu(op: op, k, c)
        }
    }
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
