import CDrm

/// GEM contexts and VMs (i915_gem_context.c): CONTEXT_CREATE(_EXT),
/// DESTROY, SETPARAM/GETPARAM, VM_CREATE/DESTROY, GET_RESET_STATS.
extension DrmDevice {
    /// One I915_CONTEXT_PARAM_* as given (ENGINES decoded by the uapi layer:
    /// nil is size 0, the legacy map; class/instance pairs otherwise).
    public struct ContextParamArg: Sendable {
        public var param: UInt64, size: UInt32, value: UInt64
        public var engines: [(cls: UInt16, instance: UInt16)]?
        public init(param: UInt64, size: UInt32, value: UInt64, engines: [(cls: UInt16, instance: UInt16)]? = nil) {
            self.param = param
            self.size = size
            self.value = value
            self.engines = engines
        }
    }

    public struct ContextParamValue: Sendable {
        public var size: UInt32 = 0
        public var value: UInt64 = 0
    }

    static let maxUserPriority: Int64 = 1023, minUserPriority: Int64 = -1023

    /// i915_gem_context_create_ioctl: flags, the file's ban, then each
    /// SETPARAM extension applied to the proto-context in order.
    public func contextCreate(_ file: FileID, flags: UInt32, params: [ContextParamArg], privileged: Bool) throws(DrmError) -> UInt32 {
        guard flags & ~(I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS | I915_CONTEXT_CREATE_FLAGS_SINGLE_TIMELINE) == 0 else {
            throw DrmError.EINVAL
        }
        // intel_gt_terminally_wedged (gem_eio@context-create).
        if isWedged { throw DrmError.EIO }
        return try withFile(file) { (s, f) throws(DrmError) -> UInt32 in
            let fg = s.gpu.file(f.id)
            // client_is_banned.
            guard fg.banScore < 9 else { throw DrmError.EIO }
            let ctx = GpuContext(id: 0, vm: GpuVm(), file: fg)
            ctx.singleTimeline = flags & I915_CONTEXT_CREATE_FLAGS_SINGLE_TIMELINE != 0
            do throws(DrmError) {
                for p in params { try setParam(ctx, fg, p, privileged: privileged, proto: true) }
            } catch {
                ctx.vm.users -= 1
                throw error
            }
            let id = fg.contextIDs.allocate()
            let registered = GpuContext(id: id, vm: ctx.vm, file: fg)
            ctx.vm.users -= 1
            registered.engines = ctx.engines
            registered.priority = ctx.priority
            registered.bannable = ctx.bannable
            registered.recoverable = ctx.recoverable
            registered.persistence = ctx.persistence
            registered.noErrorCapture = ctx.noErrorCapture
            registered.singleTimeline = ctx.singleTimeline
            registered.creatorPid = f.pid
            registered.watchdogNs = self.params.requestTimeoutNs
            // Graphics version 13+ finalizes at create; older parts register a proto-context.
            registered.proto = profile.graphicsVersion <= 12
            fg.contexts[id] = registered
            return id
        }
    }

    /// i915_gem_context_destroy_ioctl: pad must be 0, the default context
    /// cannot go (ENOENT); a non-persistent context's requests are
    /// cancelled, a persistent one's (the default) run on.
    public func contextDestroy(_ file: FileID, context: UInt32, pad: UInt32) throws(DrmError) {
        try withFile(file) { (s, f) throws(DrmError) in
            guard pad == 0 else { throw DrmError.EINVAL }
            guard context != 0 else { throw DrmError.ENOENT }
            let fg = s.gpu.file(f.id)
            guard let ctx = fg.contexts.removeValue(forKey: context) else { throw DrmError.ENOENT }
            fg.contextIDs.free(context)
            // context_close: with hangcheck off a persistent context is killed too.
            let killing = !ctx.persistence || !params.enableHangcheck
            ctx.close(killing: killing)
            if killing { preemptFor(killed: ctx) }
            // A persistent context's requests run on, but on an engine with
            // no heartbeat (heartbeat_interval_ms 0) nothing would end them.
            for rq in ctx.requests where !killing && !rq.isDone && heartbeatless(rq) { rq.cancel(.closed) }
        }
    }

    /// i915_gem_context_setparam_ioctl: set_proto_ctx_param on a context not
    /// yet looked up (it stays a proto-context), ctx_setparam otherwise.
    public func contextSetParam(_ file: FileID, context: UInt32, _ p: ContextParamArg, privileged: Bool) throws(DrmError) {
        try withFile(file) { (s, f) throws(DrmError) in
            let fg = s.gpu.file(f.id)
            guard let ctx = fg.contexts[context] else { throw DrmError.ENOENT }
            try setParam(ctx, fg, p, privileged: privileged, proto: ctx.proto)
        }
    }

    /// intel_engine_lookup_user for an engine map's entry: nil for the
    /// invalid/none placeholder, ENOENT for no such engine.
    static func userEngine(class cls: UInt16, instance: UInt16) throws(DrmError) -> EngineID? {
        if cls == UInt16(truncatingIfNeeded: I915_ENGINE_CLASS_INVALID.rawValue),
           instance == UInt16(truncatingIfNeeded: I915_ENGINE_CLASS_INVALID_NONE) { return nil }
        guard let id = EngineID.lookup(class: cls, instance: instance) else { throw DrmError.ENOENT }
        return id
    }

    /// The same for the uapi layer, which looks each entry up as it copies
    /// it (the kernel's order: ENOENT before the extensions' EFAULT).
    public func lookupUserEngine(class cls: UInt16, instance: UInt16) throws(DrmError) {
        _ = try Self.userEngine(class: cls, instance: instance)
    }

    /// set_proto_ctx_param (proto) and ctx_setparam (registered): VM and
    /// ENGINES only before registration.
    private func setParam(_ ctx: GpuContext, _ fg: FileGpu, _ p: ContextParamArg, privileged: Bool, proto: Bool) throws(DrmError) {
        switch p.param {
        case UInt64(I915_CONTEXT_PARAM_NO_ERROR_CAPTURE):
            guard p.size == 0 else { throw DrmError.EINVAL }
            ctx.noErrorCapture = p.value != 0
        case UInt64(I915_CONTEXT_PARAM_BANNABLE):
            guard p.size == 0 else { throw DrmError.EINVAL }
            guard privileged || p.value != 0 else { throw DrmError.EPERM }
            ctx.bannable = p.value != 0
        case UInt64(I915_CONTEXT_PARAM_RECOVERABLE):
            guard p.size == 0 else { throw DrmError.EINVAL }
            ctx.recoverable = p.value != 0
        case UInt64(I915_CONTEXT_PARAM_PRIORITY):
            // validate_priority; raising above default needs CAP_SYS_NICE (root here).
            guard p.size == 0 else { throw DrmError.EINVAL }
            let prio = Int64(bitPattern: p.value)
            guard prio <= Self.maxUserPriority, prio >= Self.minUserPriority else { throw DrmError.EINVAL }
            guard prio <= 0 || privileged else { throw DrmError.EPERM }
            ctx.priority = prio
        case UInt64(I915_CONTEXT_PARAM_PERSISTENCE):
            guard p.size == 0 else { throw DrmError.EINVAL }
            ctx.persistence = p.value != 0
        case UInt64(I915_CONTEXT_PARAM_SSEU):
            // set_sseu: reconfiguration exists on gen11 only.
            guard p.size >= UInt32(MemoryLayout<drm_i915_gem_context_param_sseu>.size) else { throw DrmError.EINVAL }
            throw DrmError.ENODEV
        case UInt64(I915_CONTEXT_PARAM_VM) where proto:
            guard p.size == 0 else { throw DrmError.EINVAL }
            guard p.value >> 32 == 0, let vm = fg.vms[UInt32(p.value)] else { throw DrmError.ENOENT }
            ctx.vm.users -= 1
            ctx.vm = vm
            vm.users += 1
        case UInt64(I915_CONTEXT_PARAM_ENGINES) where proto:
            // set_proto_ctx_engines: "Cannot set engines twice".
            guard ctx.engines == nil, let list = p.engines, list.count <= Int(I915_EXEC_RING_MASK) + 1 else {
                throw DrmError.EINVAL
            }
            var map: [EngineID?] = []
            for e in list { map.append(try Self.userEngine(class: e.cls, instance: e.instance)) }
            ctx.engines = map
        case UInt64(I915_CONTEXT_PARAM_PROTECTED_CONTENT) where proto:
            throw DrmError.ENODEV // no PXP
        default:
            throw DrmError.EINVAL
        }
    }

    /// i915_gem_context_getparam_ioctl. VM hands out a new VM id for the
    /// context's VM; ENGINES is no longer readable ("drm/i915: Drop getparam
    /// support for I915_CONTEXT_PARAM_ENGINES"): EINVAL, as other unknowns.
    public func contextGetParam(_ file: FileID, context: UInt32, param: UInt64, size: UInt32) throws(DrmError) -> ContextParamValue {
        try withFile(file) { (s, f) throws(DrmError) -> ContextParamValue in
            let fg = s.gpu.file(f.id)
            let ctx = try s.gpu.context(f.id, context)
            var r = ContextParamValue()
            switch param {
            case UInt64(I915_CONTEXT_PARAM_GTT_SIZE): r.value = GpuVm.size
            case UInt64(I915_CONTEXT_PARAM_NO_ERROR_CAPTURE): r.value = ctx.noErrorCapture ? 1 : 0
            case UInt64(I915_CONTEXT_PARAM_BANNABLE): r.value = ctx.bannable ? 1 : 0
            case UInt64(I915_CONTEXT_PARAM_RECOVERABLE): r.value = ctx.recoverable ? 1 : 0
            case UInt64(I915_CONTEXT_PARAM_PRIORITY): r.value = UInt64(bitPattern: ctx.priority)
            case UInt64(I915_CONTEXT_PARAM_PERSISTENCE): r.value = ctx.persistence ? 1 : 0
            case UInt64(I915_CONTEXT_PARAM_PROTECTED_CONTENT): r.value = 0
            case UInt64(I915_CONTEXT_PARAM_VM):
                let id = fg.vmIDs.allocate()
                fg.vms[id] = ctx.vm
                ctx.vm.users += 1
                r.value = UInt64(id)
            default:
                throw DrmError.EINVAL
            }
            return r
        }
    }

    /// i915_gem_vm_create_ioctl (extensions are refused by the uapi layer).
    public func vmCreate(_ file: FileID, flags: UInt32) throws(DrmError) -> UInt32 {
        guard flags == 0 else { throw DrmError.EINVAL }
        return try withFile(file) { (s, f) throws(DrmError) -> UInt32 in
            let fg = s.gpu.file(f.id)
            let id = fg.vmIDs.allocate()
            let vm = GpuVm()
            vm.users = 1
            fg.vms[id] = vm
            return id
        }
    }

    /// i915_gem_vm_destroy_ioctl.
    public func vmDestroy(_ file: FileID, id: UInt32, flags: UInt32, extensions: UInt64) throws(DrmError) {
        guard flags == 0, extensions == 0 else { throw DrmError.EINVAL }
        try withFile(file) { (s, f) throws(DrmError) in
            let fg = s.gpu.file(f.id)
            guard let vm = fg.vms.removeValue(forKey: id) else { throw DrmError.ENOENT }
            fg.vmIDs.free(id)
            vm.users -= 1
        }
    }

    /// i915_gem_context_reset_stats_ioctl: the global reset count for
    /// CAP_SYS_ADMIN only, then the context's guilty and innocent counts.
    public func resetStats(_ file: FileID, context: UInt32, flags: UInt32, pad: UInt32,
                           privileged: Bool) throws(DrmError) -> (resets: UInt32, active: UInt32, pending: UInt32) {
        guard flags == 0, pad == 0 else { throw DrmError.EINVAL }
        return try withFile(file) { (s, f) throws(DrmError) in
            let ctx = try s.gpu.context(f.id, context)
            return (privileged ? s.gpu.resets : 0, ctx.guilty, ctx.innocent)
        }
    }

    /// The SSEU a context's engine reports (TGL GT2: one slice, 6 subslices, 16 EUs each).
    public func contextSSEU(class cls: UInt16, instance: UInt16) throws(DrmError) -> (slices: UInt64, subslices: UInt64, eus: UInt16) {
        guard EngineID.lookup(class: cls, instance: instance) != nil else { throw DrmError.EINVAL }
        return (0x1, 0x3F, 16)
    }
}

extension DrmDevice {
    /// I915_CONTEXT_CREATE_FLAGS_UNKNOWN: checked before anything else.
    public static func checkContextCreateFlags(_ flags: UInt32) throws(DrmError) {
        guard flags & ~(I915_CONTEXT_CREATE_FLAGS_USE_EXTENSIONS | I915_CONTEXT_CREATE_FLAGS_SINGLE_TIMELINE) == 0 else {
            throw DrmError.EINVAL
        }
    }

    /// i915_reg_read_ioctl: only RING_TIMESTAMP of the render engine is on
    /// the whitelist (flags in the low bits: I915_REG_READ_8B_WA).
    public func regRead(offset: UInt64) throws(DrmError) -> UInt64 {
        let reg = offset & ~UInt64(7)
        guard reg == UInt64(EngineID.rcs0.mmioBase + 0x358), offset & 7 <= UInt64(I915_REG_READ_8B_WA) else { throw DrmError.EINVAL }
        return Registers.timestampTicks()
    }
}
