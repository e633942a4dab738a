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
            let r = dispatch(cmd: cmd, input: input, output: output, caller: caller)
            trace.record(file: caller.file, pid: caller.pid, "ioctl(0x" + String(cmd, radix: 16) + ")", errno: r.errno, since: start)
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
        case FDRM_OP_I915_GEM_THROTTLE, FDRM_OP_SET_MASTER, FDRM_OP_DROP_MASTER, FDRM_OP_FAKEDRM_GPU_RESET:
            f = []
        default:
            // An ioctl without a decoder yet: its first bytes, raw.
            return "{" + k.prefix(32).map { hex($0, 2) }.joined() + "}"
        }
        return "{" + f.map { $0.0 + "=" + $0.1 }.joined(separator: ", ") + "}"
    }

    static func hex<T: BinaryInteger>(_ v: T, _ width: Int = 0) -> String {
        let s = String(v, radix: 16)
        return (width == 0 ? "0x" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
