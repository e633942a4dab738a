import CDrm

/// A GEM context (i915_gem_context): the VM its batches address, the
/// engine map execbuf indexes, scheduling and reset-policy params, and the
/// hang accounting GET_RESET_STATS reports. Touched under the device lock.
final class GpuContext {
    let id: UInt32
    var vm: GpuVm
    /// I915_CONTEXT_PARAM_ENGINES: nil is the legacy ring map; a nil slot
    /// is an invalid (I915_ENGINE_CLASS_INVALID) hole.
    var engines: [EngineID?]?
    var priority: Int64 = 0
    var bannable = true
    var recoverable = true
    var persistence = true
    var noErrorCapture = false
    /// The request watchdog (i915_params request_timeout_ms when the context
    /// was created; intel_context_set_gem), 0 for none; nil for a file's
    /// default context, which takes the parameter's value at each request.
    var watchdogNs: UInt64?
    var singleTimeline = false
    /// Who created it (ctx->name is "comm[pid]": ContextName.swift); nil
    /// for a file's default context.
    var creatorPid: Int32?
    /// Still a proto-context: on gen12 and older CONTEXT_CREATE registers a
    /// proto-context that the first lookup (execbuf, GETPARAM, reset stats)
    /// finalizes; until then SETPARAM may still set what only creation may
    /// (ENGINES, VM), as set_proto_ctx_param (i915_gem_context_setparam_ioctl).
    var proto = false
    /// Hangs this context caused (batch_active) and suffered (batch_pending).
    var guilty: UInt32 = 0
    var innocent: UInt32 = 0
    var banned = false
    var closed = false
    /// Times of the last two hangs: a third within 120 s bans (mark_guilty).
    var hangTimes: [UInt64] = []
    /// Requests submitted and not yet retired, oldest first.
    var requests: [Request] = []
    /// Saved engine registers (GPRs...) per engine: the context image.
    var registers: [Int: [UInt32: UInt32]] = [:]
    /// The file it belongs to (its ban score).
    weak var file: FileGpu?

    init(id: UInt32, vm: GpuVm, file: FileGpu?) {
        self.id = id
        self.vm = vm
        self.file = file
        vm.users += 1
    }
}

/// The GPU state of one drm_file (i915_drm_client / file_priv): its
/// contexts (0 is the default one, made on first use) and VM ids.
final class FileGpu {
    var contexts: [UInt32: GpuContext] = [:]
    var vms: [UInt32: GpuVm] = [:]
    var contextIDs = IDAllocator()
    var vmIDs = IDAllocator()
    /// client_mark_guilty's ban score: at 9 context creation fails with EIO.
    var banScore = 0
    /// The BSD engine a file's I915_EXEC_BSD submissions go to.
    var bsdEngine: Int?
    /// The file's syncobj handles (syncobj_idr, from 1), released with it.
    var syncobjs: [SyncobjHandle: Syncobj] = [:]
    var syncobjIDs = IDAllocator()

    init() {
        contexts[0] = GpuContext(id: 0, vm: GpuVm(), file: nil)
        contexts[0]?.file = self
    }
}

extension FileGpu {
    /// i915_gem_close_object: once the file holds no handle to `obj`, its
    /// VMAs in the file's address spaces close (unbound here at once; the
    /// kernel unbinds a closed VMA when it idles, before DROP_IDLE returns).
    /// A running request keeps its own address map (Request.targets).
    func closeVmas(of obj: GemObject) {
        var seen = Set<ObjectIdentifier>()
        for vm in contexts.values.map(\.vm) + vms.values where seen.insert(ObjectIdentifier(vm)).inserted {
            if let b = vm.binding(of: obj) { vm.unbind(b) }
        }
    }
}

/// Everything GPU-related the device lock guards.
struct GpuState {
    var files: [FileID: FileGpu] = [:]
    var nextSeqno: UInt64 = 0
    /// dma_fence_context_alloc for timeline chains.
    var fenceContexts: UInt64 = 0
    /// Engine resets (GET_RESET_STATS reset_count).
    var resets: UInt32 = 0
    var stats = Stats()
    /// Requests not yet retired per object (its dma_resv fences).
    var active: [ObjectIdentifier: [Request]] = [:]
    var lastHang = ""
    /// The first hang's error state since it was last cleared (ErrorState.swift).
    var errorState: GpuErrorState?


    struct Stats {
        var submitted = 0, completed = 0, hangs = 0, cancelled = 0
        var commands = 0, skipped = 0
    }

    mutating func file(_ id: FileID) -> FileGpu {
        if let f = files[id] { return f }
        let f = FileGpu()
        files[id] = f
        return f
    }

    /// i915_gem_context_lookup.
    mutating func context(_ file: FileID, _ id: UInt32) throws(DrmError) -> GpuContext {
        guard let ctx = self.file(file).contexts[id] else { throw DrmError.ENOENT }
        ctx.proto = false // finalize_create_context_locked
        return ctx
    }

    /// Closing a file closes its contexts: their requests are cancelled.
    mutating func close(file id: FileID) {
        guard let f = files.removeValue(forKey: id) else { return }
        // Deviation: the kernel lets a persistent context's requests run
        // on after its file closes (a dead client's spinner would spin on
        // until a heartbeat reset); here they stop with the file.
        for ctx in f.contexts.values { ctx.close(killing: true) }
    }
}

extension GpuContext {
    /// Context close (context_close -> kill_context): with `killing`, its
    /// queued and running requests stop; a persistent context's otherwise
    /// run to their end (kill_engines revokes only non-persistent ones).
    func close(killing: Bool) {
        closed = true
        if killing { for rq in requests { rq.cancel(.closed) } }
        vm.users -= 1
    }
}
