import CDrm
import FakeDRMDevice

/// The GPU's ioctls: EXECBUFFER2, contexts, VMs, reset stats, REG_READ.
/// User memory (exec lists, relocations, extension chains, engine maps) is
/// read here, outside the device lock; the rules are the model's.
enum Gpu {
    static func execbuffer2Fields(_ e: drm_i915_gem_execbuffer2, out: Bool) -> Fields {
        out ? [("rsvd2", TraceFields.hex(e.rsvd2))]
            : [("buffers_ptr", TraceFields.hex(e.buffers_ptr)), ("buffer_count", "\(e.buffer_count)"),
               ("batch_start_offset", "\(e.batch_start_offset)"), ("batch_len", "\(e.batch_len)"),
               ("flags", ExecbufTrace.flags(e.flags)), ("ctx_id", "\(UInt32(truncatingIfNeeded: e.rsvd1))")]
    }

    /// After the call: rsvd2 (the out-fence), then the exec list as the
    /// caller sees it now (offsets written back), with each relocation.
    static func execbuffer2Result(_ e: drm_i915_gem_execbuffer2, errno: Int32, _ memory: any UserMemory) -> String {
        (errno == 0 ? "{rsvd2=" + TraceFields.hex(e.rsvd2) + "} " : "") + ExecbufTrace.objects(e, memory)
    }

    static func contextCreate(_ dev: DrmDevice, _ g: inout drm_i915_gem_context_create_ext, _ c: IoctlCaller) throws(DrmError) {
        try DrmDevice.checkContextCreateFlags(g.flags)
        var params: [DrmDevice.ContextParamArg] = []
        if g.flags & I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS != 0 {
            try UserExtensions.walk(g.extensions, c.memory) { (name, addr) throws(DrmError) in
                guard name == UInt32(I915_CONTEXT_CREATE_EXT_SETPARAM) else { throw DrmError.EINVAL }
                let ext = try c.memory.load(drm_i915_gem_context_create_ext_setparam.self, at: addr)
                guard ext.param.ctx_id == 0 else { throw DrmError.EINVAL }
                params.append(try paramArg(dev, ext.param, c))
            }
        }
        g.ctx_id = try dev.contextCreate(c.file, flags: g.flags, params: params, privileged: c.privileged)
    }

    static func contextCreateFields(_ c: drm_i915_gem_context_create_ext, out: Bool) -> Fields {
        out ? [("ctx_id", "\(c.ctx_id)")] : [("flags", TraceFields.hex(c.flags)), ("extensions", TraceFields.hex(c.extensions))]
    }

    static func contextDestroy(_ dev: DrmDevice, _ d: inout drm_i915_gem_context_destroy, _ c: IoctlCaller) throws(DrmError) {
        try dev.contextDestroy(c.file, context: d.ctx_id, pad: d.pad)
    }

    static func contextDestroyFields(_ d: drm_i915_gem_context_destroy, out: Bool) -> Fields { [("ctx_id", "\(d.ctx_id)")] }

    static func contextSetParam(_ dev: DrmDevice, _ p: inout drm_i915_gem_context_param, _ c: IoctlCaller) throws(DrmError) {
        try dev.contextSetParam(c.file, context: p.ctx_id, try paramArg(dev, p, c), privileged: c.privileged)
    }

    static func contextSetParamFields(_ p: drm_i915_gem_context_param, out: Bool) -> Fields {
        [("ctx_id", "\(p.ctx_id)"), ("param", TraceFields.hex(p.param)), ("size", "\(p.size)"), ("value", "\(p.value)")]
    }

    static func contextGetParamFields(_ p: drm_i915_gem_context_param, out: Bool) -> Fields {
        out ? [("value", "\(p.value)"), ("size", "\(p.size)")] : [("ctx_id", "\(p.ctx_id)"), ("param", TraceFields.hex(p.param))]
    }

    static func resetStats(_ dev: DrmDevice, _ r: inout drm_i915_reset_stats, _ c: IoctlCaller) throws(DrmError) {
        (r.reset_count, r.batch_active, r.batch_pending) =
            try dev.resetStats(c.file, context: r.ctx_id, flags: r.flags, pad: r.pad, privileged: c.privileged)
    }

    static func vmCreate(_ dev: DrmDevice, _ v: inout drm_i915_gem_vm_control, _ c: IoctlCaller) throws(DrmError) {
        guard v.flags == 0 else { throw DrmError.EINVAL }
        // i915_user_extensions with no extension defined: any is EINVAL.
        try UserExtensions.walk(v.extensions, c.memory) { (_, _) throws(DrmError) in throw DrmError.EINVAL }
        v.vm_id = try dev.vmCreate(c.file, flags: v.flags)
    }

    static func vmDestroy(_ dev: DrmDevice, _ v: inout drm_i915_gem_vm_control, _ c: IoctlCaller) throws(DrmError) {
        try dev.vmDestroy(c.file, id: v.vm_id, flags: v.flags, extensions: v.extensions)
    }

    static func regRead(_ dev: DrmDevice, _ r: inout drm_i915_reg_read, _ c: IoctlCaller) throws(DrmError) {
        r.val = try dev.regRead(offset: r.offset)
    }

    /// DRM_IOCTL_FAKEDRM_GPU_RESET.
    static func reset(_ dev: DrmDevice, _ c: IoctlCaller) throws(DrmError) { dev.gpuReset() }

    /// A context param as given, by SETPARAM or CREATE_EXT's extension;
    /// ENGINES' map read from the caller as set_proto_ctx_engines reads it:
    /// the size rules (size 0 too: no "default map" any more), each entry
    /// copied and looked up (ENOENT) before the extensions are read
    /// (EFAULT); whether those, load balancing and bonds, are supported is
    /// the model's (ENODEV).
    private static func paramArg(_ dev: DrmDevice, _ p: drm_i915_gem_context_param, _ c: IoctlCaller) throws(DrmError) -> DrmDevice.ContextParamArg {
        var arg = DrmDevice.ContextParamArg(param: p.param, size: p.size, value: p.value)
        guard p.param == UInt64(I915_CONTEXT_PARAM_ENGINES) else { return arg }
        let header = MemoryLayout<i915_context_param_engines>.size, entry = MemoryLayout<i915_engine_class_instance>.size
        guard Int(p.size) >= header, (Int(p.size) - header) % entry == 0 else { throw DrmError.EINVAL }
        let n = (Int(p.size) - header) / entry
        guard n <= Int(I915_EXEC_RING_MASK) + 1 else { throw DrmError.EINVAL }
        var list: [(cls: UInt16, instance: UInt16)] = []
        for i in 0..<n {
            let e = try c.memory.load(i915_engine_class_instance.self, at: p.value + UInt64(header + i * entry))
            try dev.lookupUserEngine(class: e.engine_class, instance: e.engine_instance)
            list.append((e.engine_class, e.engine_instance))
        }
        let ext = try c.memory.load(UInt64.self, at: p.value)
        if ext != 0 { try dev.checkEngineMapExtension(name: try c.memory.load(i915_user_extension.self, at: ext).name) }
        arg.engines = list
        return arg
    }

    /// CONTEXT_GETPARAM: SSEU copies out through `value`.
    static func contextGetParam(_ dev: DrmDevice, _ p: inout drm_i915_gem_context_param, _ c: IoctlCaller) throws(DrmError) {
        if p.param == UInt64(I915_CONTEXT_PARAM_SSEU) {
            _ = try dev.contextGetParam(c.file, context: p.ctx_id, param: UInt64(I915_CONTEXT_PARAM_GTT_SIZE), size: 0)
            let size = UInt32(MemoryLayout<drm_i915_gem_context_param_sseu>.size)
            if p.size != 0 {
                guard p.size >= size else { throw DrmError.EINVAL }
                var u = try c.memory.load(drm_i915_gem_context_param_sseu.self, at: p.value)
                guard u.rsvd == 0, u.flags == 0 else { throw DrmError.EINVAL }
                let r = try dev.contextSSEU(class: u.engine.engine_class, instance: u.engine.engine_instance)
                u.slice_mask = r.slices
                u.subslice_mask = r.subslices
                u.min_eus_per_subslice = r.eus
                u.max_eus_per_subslice = r.eus
                try c.memory.store(u, at: p.value)
            }
            p.size = size
            return
        }
        let r = try dev.contextGetParam(c.file, context: p.ctx_id, param: p.param, size: p.size)
        p.size = r.size
        p.value = r.value
    }
}
