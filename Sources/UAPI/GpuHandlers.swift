import CDrm
import FakeDRMDevice

/// The GPU's ioctls: EXECBUFFER2, contexts, VMs, reset stats, REG_READ.
/// User memory (exec lists, relocations, extension chains, engine maps) is
/// read here, outside the device lock; the rules are the model's.
extension IoctlDispatcher {
    func gpu(op: UInt32, _ k: UnsafeMutableRawBufferPointer, _ c: IoctlCaller) throws(DrmError) {
        let dev = device
        switch fdrm_op(op) {
        case FDRM_OP_I915_GEM_EXECBUFFER2:
            try with(k, drm_i915_gem_execbuffer2.self) { (e: inout drm_i915_gem_execbuffer2) throws(DrmError) in try execbuffer(&e, c) }
        case FDRM_OP_I915_GEM_CONTEXT_CREATE:
            try with(k, drm_i915_gem_context_create_ext.self) { (g: inout drm_i915_gem_context_create_ext) throws(DrmError) in
                try DrmDevice.checkContextCreateFlags(g.flags)
                var params: [DrmDevice.ContextParamArg] = []
                if g.flags & I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS != 0 {
                    try UserExtensions.walk(g.extensions, c.memory) { (name, addr) throws(DrmError) in
                        guard name == UInt32(I915_CONTEXT_CREATE_EXT_SETPARAM) else { throw DrmError.EINVAL }
                        let ext = try c.memory.load(drm_i915_gem_context_create_ext_setparam.self, at: addr)
                        guard ext.param.ctx_id == 0 else { throw DrmError.EINVAL }
                        params.append(try paramArg(ext.param, c))
                    }
                }
                g.ctx_id = try dev.contextCreate(c.file, flags: g.flags, params: params, privileged: c.privileged)
            }
        case FDRM_OP_I915_GEM_CONTEXT_DESTROY:
            try with(k, drm_i915_gem_context_destroy.self) { (d: inout drm_i915_gem_context_destroy) throws(DrmError) in
                try dev.contextDestroy(c.file, context: d.ctx_id, pad: d.pad)
            }
        case FDRM_OP_I915_GEM_CONTEXT_SETPARAM:
            try with(k, drm_i915_gem_context_param.self) { (p: inout drm_i915_gem_context_param) throws(DrmError) in
                try dev.contextSetParam(c.file, context: p.ctx_id,
                                        DrmDevice.ContextParamArg(param: p.param, size: p.size, value: p.value), privileged: c.privileged)
            }
        case FDRM_OP_I915_GET_RESET_STATS:
            try with(k, drm_i915_reset_stats.self) { (r: inout drm_i915_reset_stats) throws(DrmError) in
                (r.reset_count, r.batch_active, r.batch_pending) =
                    try dev.resetStats(c.file, context: r.ctx_id, flags: r.flags, pad: r.pad, privileged: c.privileged)
            }
        case FDRM_OP_I915_GEM_VM_CREATE:
            try with(k, drm_i915_gem_vm_control.self) { (v: inout drm_i915_gem_vm_control) throws(DrmError) in
                guard v.flags == 0 else { throw DrmError.EINVAL }
                // i915_user_extensions with no extension defined: any is EINVAL.
                try UserExtensions.walk(v.extensions, c.memory) { (_, _) throws(DrmError) in throw DrmError.EINVAL }
                v.vm_id = try dev.vmCreate(c.file, flags: v.flags)
            }
        case FDRM_OP_I915_GEM_VM_DESTROY:
            try with(k, drm_i915_gem_vm_control.self) { (v: inout drm_i915_gem_vm_control) throws(DrmError) in
                try dev.vmDestroy(c.file, id: v.vm_id, flags: v.flags, extensions: v.extensions)
            }
        case FDRM_OP_I915_REG_READ:
            try with(k, drm_i915_reg_read.self) { (r: inout drm_i915_reg_read) throws(DrmError) in r.val = try dev.regRead(offset: r.offset) }
        default:
            try syncobj(op: op, k, c)
        }
    }

    /// A context param as given; ENGINES' map read from the caller
    /// (set_proto_ctx_engines' size rules; load-balance/bond extensions are
    /// not supported: ENODEV).
    private func paramArg(_ p: drm_i915_gem_context_param, _ c: IoctlCaller) throws(DrmError) -> DrmDevice.ContextParamArg {
        var arg = DrmDevice.ContextParamArg(param: p.param, size: p.size, value: p.value)
        guard p.param == UInt64(I915_CONTEXT_PARAM_ENGINES), p.size != 0 else { return arg }
        let header = MemoryLayout<i915_context_param_engines>.size, entry = MemoryLayout<i915_engine_class_instance>.size
        guard Int(p.size) >= header, (Int(p.size) - header) % entry == 0 else { throw DrmError.EINVAL }
        let n = (Int(p.size) - header) / entry
        guard n <= Int(I915_EXEC_RING_MASK) + 1 else { throw DrmError.EINVAL }
        var list: [(cls: UInt16, instance: UInt16)] = []
        for i in 0..<n {
            let e = try c.memory.load(i915_engine_class_instance.self, at: p.value + UInt64(header + i * entry))
            list.append((e.engine_class, e.engine_instance))
        }
        let ext = try c.memory.load(UInt64.self, at: p.value)
        if ext != 0 { throw DrmError.ENODEV }
        arg.engines = list
        return arg
    }

    /// CONTEXT_GETPARAM: SSEU copies out through `value`.
    func contextGetParam(_ p: inout drm_i915_gem_context_param, _ c: IoctlCaller) throws(DrmError) {
        if p.param == UInt64(I915_CONTEXT_PARAM_SSEU) {
            _ = try device.contextGetParam(c.file, context: p.ctx_id, param: UInt64(I915_CONTEXT_PARAM_GTT_SIZE), size: 0)
            let size = UInt32(MemoryLayout<drm_i915_gem_context_param_sseu>.size)
            if p.size != 0 {
                guard p.size >= size else { throw DrmError.EINVAL }
                var u = try c.memory.load(drm_i915_gem_context_param_sseu.self, at: p.value)
                guard u.rsvd == 0, u.flags == 0 else { throw DrmError.EINVAL }
                let r = try device.contextSSEU(class: u.engine.engine_class, instance: u.engine.engine_instance)
                u.slice_mask = r.slices
                u.subslice_mask = r.subslices
                u.min_eus_per_subslice = r.eus
                u.max_eus_per_subslice = r.eus
                try c.memory.store(u, at: p.value)
            }
            p.size = size
            return
        }
        let r = try device.contextGetParam(c.file, context: p.ctx_id, param: p.param, size: p.size)
        p.size = r.size
        p.value = r.value
    }
}
