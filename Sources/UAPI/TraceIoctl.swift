import CDrm
import FakeDRMDevice

/// The traced form of dispatch: the ioctl's fields going in (after the
/// kernel's zero-extension) and coming out, decoded through the real uapi
/// structs, with its result and duration.
extension IoctlDispatcher {
    public func dispatch(cmd: UInt32, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
                         caller: IoctlCaller, trace: Trace) -> Result {
        let start = Trace.now()
        let desc = fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE ? fdrm_ioctl_lookup(fdrm_ioc_nr(cmd))?.pointee : nil
        guard let desc else {
            // Not implemented: named as libdrm names it, with its first bytes.
            let r = dispatch(cmd: cmd, input: input, output: output, caller: caller)
            var event = "ioctl(0x" + String(cmd, radix: 16) + ")"
            if let name = fdrm_libdrm_ioctl_name(cmd) {
                event = String(cString: name) + " [not implemented] "
                    + (fdrm_ioc_in(cmd) != 0 ? TraceFields.raw(input) : "{}")
            }
            trace.record(file: caller.file, pid: caller.pid, event, errno: r.errno, since: start)
            return r
        }
        let size = max(Int(fdrm_ioc_size(desc.cmd)), input.count, output.count)
        return withUnsafeTemporaryAllocation(byteCount: max(size, 1), alignment: 16) { k in
            k.initializeMemory(as: UInt8.self, repeating: 0)
            if fdrm_ioc_in(cmd) != 0 { k.copyMemory(from: input) }
            var name = IoctlNames.name(nr: fdrm_ioc_nr(cmd)) ?? "?"
            // MMAP_GTT shares MMAP_OFFSET's number with a shorter struct.
            if desc.op == FDRM_OP_I915_GEM_MMAP_OFFSET.rawValue, fdrm_ioc_size(cmd) == UInt32(MemoryLayout<drm_i915_gem_mmap_gtt>.size) {
                name = "GEM_MMAP_GTT"
            }
            let args = TraceFields.decode(op: desc.op, UnsafeRawBufferPointer(k), out: false)
            let r = dispatch(cmd: cmd, input: input, output: output, caller: caller)
            var result = ""
            if r.errno == 0, desc.op == FDRM_OP_I915_GETPARAM.rawValue {
                // The value went through the caller's pointer: read it back.
                let g = UnsafeRawBufferPointer(k).loadUnaligned(as: drm_i915_getparam.self)
                if let v = try? caller.memory.load(Int32.self, at: address(g.value)) { result = "{*value=\(v)}" }
            } else if desc.op == FDRM_OP_I915_QUERY.rawValue {
                // Each item's answer is its length, or -errno, in the caller's array.
                result = TraceFields.queryItems(UnsafeRawBufferPointer(k).loadUnaligned(as: drm_i915_query.self), caller.memory)
            } else if r.errno == 0, r.outBytes > 0 {
                k.initializeMemory(as: UInt8.self, repeating: 0)
                UnsafeMutableRawBufferPointer(rebasing: k[0..<r.outBytes]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: output[0..<r.outBytes]))
                result = TraceFields.decode(op: desc.op, UnsafeRawBufferPointer(k), out: true)
            }
            trace.record(file: caller.file, pid: caller.pid, name + " " + args, errno: r.errno, result: result, since: start)
            return r
        }
    }
}

/// "{handle=1, size=4096}" for each ioctl's struct, in or out.
enum TraceFields {
    static func decode(op: UInt32, _ k: UnsafeRawBufferPointer, out: Bool) -> String {
        func s<T>(_ t: T.Type) -> T { k.loadUnaligned(as: T.self) }
        let f: [(String, String)]
        switch fdrm_op(op) {
        case FDRM_OP_VERSION:
            let v = s(drm_version.self)
            f = out ? [("version", "\(v.version_major).\(v.version_minor).\(v.version_patchlevel)"),
                       ("name_len", "\(v.name_len)"), ("date_len", "\(v.date_len)"), ("desc_len", "\(v.desc_len)")]
                    : [("name_len", "\(v.name_len)"), ("date_len", "\(v.date_len)"), ("desc_len", "\(v.desc_len)")]
        case FDRM_OP_GET_UNIQUE: f = [("unique_len", "\(s(drm_unique.self).unique_len)")]
        case FDRM_OP_GET_MAGIC: f = out ? [("magic", "\(s(drm_auth.self).magic)")] : []
        case FDRM_OP_AUTH_MAGIC: f = [("magic", "\(s(drm_auth.self).magic)")]
        case FDRM_OP_GET_CAP:
            let g = s(drm_get_cap.self)
            f = out ? [("value", "\(g.value)")] : [("capability", hex(g.capability))]
        case FDRM_OP_SET_CLIENT_CAP:
            let g = s(drm_set_client_cap.self)
            f = [("capability", "\(g.capability)"), ("value", "\(g.value)")]
        case FDRM_OP_GEM_CLOSE: f = [("handle", "\(s(drm_gem_close.self).handle)")]
        case FDRM_OP_GEM_FLINK:
            let g = s(drm_gem_flink.self)
            f = out ? [("name", "\(g.name)")] : [("handle", "\(g.handle)")]
        case FDRM_OP_GEM_OPEN:
            let g = s(drm_gem_open.self)
            f = out ? [("handle", "\(g.handle)"), ("size", "\(g.size)")] : [("name", "\(g.name)")]
        case FDRM_OP_PRIME_HANDLE_TO_FD, FDRM_OP_PRIME_FD_TO_HANDLE:
            let p = s(drm_prime_handle.self)
            f = [("handle", "\(p.handle)"), ("flags", hex(p.flags)), ("fd", "\(p.fd)")]
        case FDRM_OP_I915_GETPARAM:
            let g = s(drm_i915_getparam.self)
            f = [("param", "\(g.param)"), ("value", hex(address(g.value)))]
        case FDRM_OP_I915_GEM_CREATE:
            let c = s(drm_i915_gem_create.self)
            f = out ? [("handle", "\(c.handle)"), ("size", "\(c.size)")] : [("size", "\(c.size)")]
        case FDRM_OP_I915_GEM_CREATE_EXT:
            let c = s(drm_i915_gem_create_ext.self)
            f = out ? [("handle", "\(c.handle)"), ("size", "\(c.size)")]
                    : [("size", "\(c.size)"), ("flags", hex(c.flags)), ("extensions", hex(c.extensions))]
        case FDRM_OP_I915_GEM_PREAD:
            let p = s(drm_i915_gem_pread.self)
            f = [("handle", "\(p.handle)"), ("offset", "\(p.offset)"), ("size", "\(p.size)"), ("data_ptr", hex(p.data_ptr))]
        case FDRM_OP_I915_GEM_PWRITE:
            let p = s(drm_i915_gem_pwrite.self)
            f = [("handle", "\(p.handle)"), ("offset", "\(p.offset)"), ("size", "\(p.size)"), ("data_ptr", hex(p.data_ptr))]
        case FDRM_OP_I915_GEM_MMAP:
            let m = s(drm_i915_gem_mmap.self)
            f = [("handle", "\(m.handle)"), ("offset", "\(m.offset)"), ("size", "\(m.size)"), ("flags", hex(m.flags))]
        case FDRM_OP_I915_GEM_MMAP_OFFSET:
            let m = s(drm_i915_gem_mmap_offset.self)
            f = out ? [("offset", hex(m.offset))]
                    : [("handle", "\(m.handle)"), ("flags", MmapType(rawValue: m.flags)?.name ?? "\(m.flags)"),
                       ("extensions", hex(m.extensions))]
        case FDRM_OP_I915_GEM_SET_DOMAIN:
            let d = s(drm_i915_gem_set_domain.self)
            f = [("handle", "\(d.handle)"), ("read_domains", hex(d.read_domains)), ("write_domain", hex(d.write_domain))]
        case FDRM_OP_I915_GEM_SW_FINISH: f = [("handle", "\(s(drm_i915_gem_sw_finish.self).handle)")]
        case FDRM_OP_I915_GEM_SET_TILING:
            let t = s(drm_i915_gem_set_tiling.self)
            f = (out ? [] : [("handle", "\(t.handle)")])
                + [("tiling_mode", "\(t.tiling_mode)"), ("stride", "\(t.stride)")] + (out ? [("swizzle_mode", "\(t.swizzle_mode)")] : [])
        case FDRM_OP_I915_GEM_GET_TILING:
            let t = s(drm_i915_gem_get_tiling.self)
            f = out ? [("tiling_mode", "\(t.tiling_mode)"), ("swizzle_mode", "\(t.swizzle_mode)"),
                       ("phys_swizzle_mode", "\(t.phys_swizzle_mode)")] : [("handle", "\(t.handle)")]
        case FDRM_OP_I915_GEM_GET_APERTURE:
            let a = s(drm_i915_gem_get_aperture.self)
            f = out ? [("aper_size", "\(a.aper_size)"), ("aper_available_size", "\(a.aper_available_size)")] : []
        case FDRM_OP_I915_GEM_MADVISE:
            let m = s(drm_i915_gem_madvise.self)
            f = out ? [("retained", "\(m.retained)")] : [("handle", "\(m.handle)"), ("madv", "\(m.madv)")]
        case FDRM_OP_I915_GEM_SET_CACHING:
            let c = s(drm_i915_gem_caching.self)
            f = [("handle", "\(c.handle)"), ("caching", "\(c.caching)")]
        case FDRM_OP_I915_GEM_GET_CACHING:
            let c = s(drm_i915_gem_caching.self)
            f = out ? [("caching", "\(c.caching)")] : [("handle", "\(c.handle)")]
        case FDRM_OP_I915_GEM_BUSY:
            let b = s(drm_i915_gem_busy.self)
            f = out ? [("busy", hex(b.busy))] : [("handle", "\(b.handle)")]
        case FDRM_OP_I915_GEM_WAIT:
            let w = s(drm_i915_gem_wait.self)
            f = [("bo_handle", "\(w.bo_handle)"), ("flags", hex(w.flags)), ("timeout_ns", "\(w.timeout_ns)")]
        case FDRM_OP_I915_QUERY:
            let q = s(drm_i915_query.self)
            f = [("num_items", "\(q.num_items)"), ("flags", hex(q.flags)), ("items_ptr", hex(q.items_ptr))]
        case FDRM_OP_I915_GEM_CONTEXT_GETPARAM:
            let p = s(drm_i915_gem_context_param.self)
            f = out ? [("value", "\(p.value)"), ("size", "\(p.size)")] : [("ctx_id", "\(p.ctx_id)"), ("param", hex(p.param))]
        case FDRM_OP_I915_GEM_EXECBUFFER2:
            let e = s(drm_i915_gem_execbuffer2.self)
            f = out ? [("rsvd2", hex(e.rsvd2))]
                    : [("buffers_ptr", hex(e.buffers_ptr)), ("buffer_count", "\(e.buffer_count)"),
                       ("batch_start_offset", "\(e.batch_start_offset)"), ("batch_len", "\(e.batch_len)"),
                       ("flags", hex(e.flags)), ("ctx_id", "\(UInt32(truncatingIfNeeded: e.rsvd1))")]
        case FDRM_OP_I915_GEM_CONTEXT_CREATE:
            let c = s(drm_i915_gem_context_create_ext.self)
            f = out ? [("ctx_id", "\(c.ctx_id)")] : [("flags", hex(c.flags)), ("extensions", hex(c.extensions))]
        case FDRM_OP_I915_GEM_CONTEXT_DESTROY: f = [("ctx_id", "\(s(drm_i915_gem_context_destroy.self).ctx_id)")]
        case FDRM_OP_I915_GEM_CONTEXT_SETPARAM:
            let p = s(drm_i915_gem_context_param.self)
            f = [("ctx_id", "\(p.ctx_id)"), ("param", hex(p.param)), ("size", "\(p.size)"), ("value", "\(p.value)")]
        case FDRM_OP_FAKEDRM_GEM_SET_READONLY:
            let r = s(drm_fakedrm_gem_set_readonly.self)
            f = [("handle", "\(r.handle)"), ("flags", hex(r.flags))]
        case FDRM_OP_I915_GEM_THROTTLE, FDRM_OP_SET_MASTER, FDRM_OP_DROP_MASTER, FDRM_OP_FAKEDRM_GPU_RESET,
             FDRM_OP_GET_STATS, FDRM_OP_NOOP, FDRM_OP_INVALID, FDRM_OP_NO_MODESET, FDRM_OP_NO_SYNCOBJ:
            f = []
        case FDRM_OP_SET_VERSION:
            let v = s(drm_set_version.self)
            f = [("drm_di", "\(v.drm_di_major).\(v.drm_di_minor)"), ("drm_dd", "\(v.drm_dd_major).\(v.drm_dd_minor)")]
        case FDRM_OP_GET_CLIENT:
            let g = s(drm_client.self)
            f = out ? [("auth", "\(g.auth)"), ("pid", "\(g.pid)"), ("uid", "\(g.uid)")] : [("idx", "\(g.idx)")]
        case FDRM_OP_MODE_CREATE_DUMB:
            let d = s(drm_mode_create_dumb.self)
            f = out ? [("handle", "\(d.handle)"), ("pitch", "\(d.pitch)"), ("size", "\(d.size)")]
                    : [("width", "\(d.width)"), ("height", "\(d.height)"), ("bpp", "\(d.bpp)"), ("flags", hex(d.flags))]
        case FDRM_OP_MODE_MAP_DUMB:
            let m = s(drm_mode_map_dumb.self)
            f = out ? [("offset", hex(m.offset))] : [("handle", "\(m.handle)")]
        case FDRM_OP_MODE_DESTROY_DUMB: f = [("handle", "\(s(drm_mode_destroy_dumb.self).handle)")]
        case FDRM_OP_I915_GEM_USERPTR:
            let u = s(drm_i915_gem_userptr.self)
            f = [("user_ptr", hex(u.user_ptr)), ("user_size", "\(u.user_size)"), ("flags", hex(u.flags))]
                + (out ? [("handle", "\(u.handle)")] : [])
        default:
            // An ioctl without a decoder yet: its first bytes, raw.
            return raw(k)
        }
        return "{" + f.map { $0.0 + "=" + $0.1 }.joined(separator: ", ") + "}"
    }

    static func raw(_ k: UnsafeRawBufferPointer) -> String { "{" + k.prefix(32).map { hex($0, 2) }.joined() + "}" }

    /// QUERY's items after the call: "[MEMORY_REGIONS length=232, TOPOLOGY_INFO -EINVAL]"
    /// (at most 16; an array the daemon cannot read shows as EFAULT).
    static func queryItems(_ q: drm_i915_query, _ memory: any UserMemory) -> String {
        let stride = UInt64(MemoryLayout<drm_i915_query_item>.stride)
        var items: [String] = []
        for i in 0..<min(UInt64(q.num_items), 16) {
            guard let item = try? memory.load(drm_i915_query_item.self, at: q.items_ptr &+ i &* stride) else {
                items.append("EFAULT")
                break
            }
            let name = queryNames[item.query_id] ?? "query_id=\(item.query_id)"
            items.append(item.length < 0 ? name + " -" + DrmError.name(of: -item.length)
                                         : name + " length=\(item.length)" + (item.flags != 0 ? " flags=" + hex(item.flags) : ""))
        }
        if q.num_items > 16 { items.append("...") }
        return "{items=[" + items.joined(separator: ", ") + "]}"
    }

    static let queryNames: [UInt64: String] = [
        UInt64(DRM_I915_QUERY_TOPOLOGY_INFO): "TOPOLOGY_INFO", UInt64(DRM_I915_QUERY_ENGINE_INFO): "ENGINE_INFO",
        UInt64(DRM_I915_QUERY_PERF_CONFIG): "PERF_CONFIG", UInt64(DRM_I915_QUERY_MEMORY_REGIONS): "MEMORY_REGIONS",
        UInt64(DRM_I915_QUERY_HWCONFIG_BLOB): "HWCONFIG_BLOB", UInt64(DRM_I915_QUERY_GEOMETRY_SUBSLICES): "GEOMETRY_SUBSLICES",
    ]

    static func hex<T: BinaryInteger>(_ v: T, _ width: Int = 0) -> String {
        let s = String(v, radix: 16)
        return (width == 0 ? "0x" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
