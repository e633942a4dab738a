import CDrm

/// EXECBUFFER2 (i915_gem_execbuffer.c): validation in the kernel's order,
/// placement in the context's ppGTT (softpin, alignment, 4 GiB zone),
/// relocations, then a request queued on the selected engine.
extension DrmDevice {
    static let execUnknownFlags: UInt64 = ~((UInt64(I915_EXEC_USE_EXTENSIONS) << 1) - 1)
    static let execIllegalFlags = execUnknownFlags | UInt64(I915_EXEC_CONSTANTS_MASK) | UInt64(I915_EXEC_RESOURCE_STREAMER)
    static let objectUnknownFlags: UInt64 = ~((UInt64(EXEC_OBJECT_CAPTURE) << 1) - 1)

    /// gen8_canonical_addr: bit 47 sign-extended.
    public static func canonical(_ a: UInt64) -> UInt64 { UInt64(bitPattern: Int64(bitPattern: a << 16) >> 16) }
    static func noncanonical(_ a: UInt64) -> UInt64 { a & (GpuVm.size - 1) }

    /// check_buffer_count and i915_gem_check_execbuffer: what needs no state
    /// but whether the caller has exec fences (`fences`: strict mode).
    public static func checkExecbuffer(_ a: inout drm_i915_gem_execbuffer2,
                                       fences: @autoclosure () -> Bool = false) throws(DrmError) {
        guard a.buffer_count >= 1, a.buffer_count <= UInt32(Int32.max) else { throw DrmError.EINVAL }
        guard a.flags & execIllegalFlags == 0 else { throw DrmError.EINVAL }
        if a.flags & UInt64(I915_EXEC_FENCE_ARRAY | I915_EXEC_USE_EXTENSIONS) == 0,
           a.num_cliprects != 0 || a.cliprects_ptr != 0 { throw DrmError.EINVAL }
        if a.DR4 == 0xFFFF_FFFF { a.DR4 = 0 }
        guard a.DR1 == 0, a.DR4 == 0 else { throw DrmError.EINVAL }
        guard (a.batch_start_offset | a.batch_len) & 7 == 0 else { throw DrmError.EINVAL }
        // Without exec fences (plain mode: HAS_EXEC_FENCE 0) rsvd2 must be
        // clear, as before fences existed; with them it is ignored unless a
        // fence flag names it (IGT's syncobj-channel passes rsvd2 = -1).
        let fenceFlags = UInt64(I915_EXEC_FENCE_IN | I915_EXEC_FENCE_OUT | I915_EXEC_FENCE_SUBMIT)
        if a.flags & fenceFlags == 0, a.rsvd2 != 0, !fences() { throw DrmError.EINVAL }
    }

    /// What a successful or failed execbuf leaves for the caller to copy out:
    /// new object offsets (when `writeBackOffsets`), and presumed offsets
    /// updated in the user's relocation entries (address, value).
    public struct ExecbufOutput {
        public var writeBackOffsets = false
        public var presumed: [(address: UInt64, value: UInt64)] = []
        /// FENCE_OUT: the token of the new sync_file (rsvd2's upper half).
        public var outFence: UInt32?
        public init() {}
    }

    /// Built under the lock, used again under it; the objects ride along.
    private struct Placement: @unchecked Sendable {
        var objects: [GemObject]
        var flags: [UInt64]
        var addresses: [UInt64]
        var sizes: [UInt64]
        var context: GpuContext
        var engine: EngineID
        /// The context's timeline (Request.timeline): the engine-map slot,
        /// or one per engine for the legacy ring map.
        var timeline: Int
        var batch: Int
        var flush: Flush
        /// Relocations into userptr objects, for the client's memory.
        var userRelocs: [(object: GemObject, offset: Int, value: UInt64)] = []
    }

    /// i915_gem_do_execbuffer after the list is copied in. `fences` runs the
    /// extension and fence-array parsing at its place in the order;
    /// `readRelocations(index)` reads an entry's relocations (EFAULT).
    public func execbuffer(_ file: FileID, _ args: drm_i915_gem_execbuffer2, objects entries: inout [drm_i915_gem_exec_object2],
                           output: inout ExecbufOutput, pid: Int32 = 0, interruption: Interruption? = nil,
                           fences: () throws(DrmError) -> [ExecFence],
                           readRelocations: (drm_i915_gem_exec_object2) throws(DrmError) -> [drm_i915_gem_relocation_entry]) throws(DrmError) {
        // I915_EXEC_SECURE is gone on gen11+.
        if args.flags & UInt64(I915_EXEC_SECURE) != 0 { throw DrmError.ENODEV }
        let execFences = try fences()
        let inFence = try execInFence(file, args)
        let outFence = try execOutFence(file, args)

        var hasReloc = args.flags & UInt64(I915_EXEC_NO_RELOC) == 0
        var plan = try withFile(file) { (s, f) throws(DrmError) -> Placement in
            try place(&s, f, args, &entries, &hasReloc)
        }
        if hasReloc { output.writeBackOffsets = true }
        // eb_lookup_vmas: i915_gem_object_userptr_submit_init, outside the lock.
        try pinUserptrs(plan.objects, caller: pid)
        flush(plan.flush)
        // eb_pin_engine -> eb_throttle: a ring without a page free waits for
        // the request that frees half of it; a signal ends the wait with
        // -EINTR itself, not -ERESTARTSYS (GPU/Ring.swift).
        if let oldest = state.withLock({ _ in plan.context.throttle(on: plan.timeline) }),
           oldest.wait(deadline: nil, interruption: interruption) == .interrupted {
            throw DrmError.EINTR
        }

        // Relocations: read outside the lock (they may sit in a mapping of ours).
        var relocs: [Int: [drm_i915_gem_relocation_entry]] = [:]
        if hasReloc {
            for (i, e) in entries.enumerated() where e.relocation_count > 0 {
                do throws(DrmError) { relocs[i] = try readRelocations(e) } catch {
                    output.writeBackOffsets = false
                    throw error
                }
            }
        }
        let lut = args.flags & UInt64(I915_EXEC_HANDLE_LUT) != 0
        // reloc_vaddr -> i915_gem_object_prepare_write: an object about to
        // take a relocation write first waits for every request using it (a
        // batch reused with new relocations must not change a queued request).
        while let busy = try withFile(file, { (s, _) throws(DrmError) -> [Request]? in
            let written = relocs.keys.filter { i in
                !plan.objects[i].readonly && relocs[i]!.contains { willWrite($0, plan, entries, lut: lut) }
            }
            let pending = written.flatMap { activeRequests(s, plan.objects[$0], writers: false) }
            return pending.isEmpty ? nil : pending
        }) {
            // Interruptible (I915_WAIT_INTERRUPTIBLE): EINTR, nothing submitted.
            try awaitAll(busy, interruption)
        }
        let stale = try withFile(file) { (s, f) throws(DrmError) -> Flush in
            var touched: [GemObject] = []
            for i in relocs.keys.sorted() {
                for (j, r) in relocs[i]!.enumerated() {
                    do throws(DrmError) {
                        if let v = try relocate(r, in: i, &plan, entries, lut: lut) {
                            touched.append(plan.objects[i])
                            output.presumed.append((entries[i].relocs_ptr + UInt64(j * MemoryLayout<drm_i915_gem_relocation_entry>.stride)
                                + UInt64(MemoryLayout<drm_i915_gem_relocation_entry>.offset(of: \.presumed_offset)!), v))
                        }
                    } catch {
                        output.writeBackOffsets = false
                        throw error
                    }
                }
            }
            // eb_request_add: a context closed meanwhile gets ENOENT.
            if plan.context.closed { throw DrmError.ENOENT }
            // i915_reset_gen7_sol_offsets: gen7 only.
            if args.flags & UInt64(I915_EXEC_GEN7_SOL_RESET) != 0 { throw DrmError.EINVAL }
            // i915_request_await_dma_fence (FENCE_IN) joins the fence array's
            // awaits: a fatal error of either skips the request with it.
            // FENCE_SUBMIT (i915_request_await_execution) only orders the start.
            let submitFence = args.flags & UInt64(I915_EXEC_FENCE_SUBMIT) != 0
            var awaited = execFences.compactMap(\.awaited)
            if let inFence, !submitFence { awaited.append(inFence) }
            let rq = submit(&s, plan, args, submitFence: submitFence ? inFence : nil, awaits: DmaFence.merge(awaited))
            signalExecFences(&s, execFences, rq)
            if outFence { output.outFence = makeOutFence(&s, rq, file: file, pid: pid) }
            return touched.reduce(Flush()) { $0 + s.takeCached(of: $1) }
        }
        flush(stale)
    }

    /// Lookup, validation and placement (eb_select_context .. eb_validate_vmas).
    private func place(_ s: inout DeviceState, _ f: DrmFile, _ args: drm_i915_gem_execbuffer2,
                       _ entries: inout [drm_i915_gem_exec_object2], _ hasReloc: inout Bool) throws(DrmError) -> Placement {
        let fg = s.gpu.file(f.id)
        let ctx = try s.gpu.context(f.id, UInt32(truncatingIfNeeded: args.rsvd1))
        let engine = try selectEngine(args.flags, ctx, fg)
        let count = entries.count
        let batch = args.flags & UInt64(I915_EXEC_BATCH_FIRST) != 0 ? 0 : count - 1
        var objects: [GemObject] = []
        objects.reserveCapacity(count)
        for i in 0..<count {
            let e = entries[i]
            let obj = try s.lookup(Handle(rawValue: e.handle), in: f)
            // eb_validate_vma; NEEDS_GTT is invalid with a full ppGTT, NEEDS_FENCE ignored (no fences for gen4+ execbuf).
            guard e.flags & (Self.objectUnknownFlags | UInt64(EXEC_OBJECT_NEEDS_GTT)) == 0 else { throw DrmError.EINVAL }
            guard e.alignment == 0 || e.alignment & (e.alignment - 1) == 0 else { throw DrmError.EINVAL }
            if e.flags & UInt64(EXEC_OBJECT_PINNED) != 0, e.offset != Self.canonical(e.offset & ~4095) { throw DrmError.EINVAL }
            if e.flags & UInt64(EXEC_OBJECT_PAD_TO_SIZE) != 0 {
                guard e.pad_to_size & 4095 == 0 else { throw DrmError.EINVAL }
            } else {
                entries[i].pad_to_size = 0
            }
            entries[i].offset = Self.noncanonical(e.offset)
            if i == batch {
                // eb_add_vma: no self-modifying batch, start and length inside it.
                guard e.flags & UInt64(EXEC_OBJECT_WRITE) == 0 else { throw DrmError.EINVAL }
                let start = UInt64(args.batch_start_offset), len = UInt64(args.batch_len)
                guard start < obj.size, len <= obj.size - start else { throw DrmError.EINVAL }
            }
            objects.append(obj)
        }
        if ctx.banned { throw DrmError.EIO }
        // eb_pin_engine: intel_gt_terminally_wedged.
        if isWedged { throw DrmError.EIO }
        // eb_reserve pins every object's pages: ____i915_gem_object_get_pages
        // refuses a purgeable (or purged) object with EFAULT, and shmem an
        // object larger than memory (validate_size).
        for obj in objects {
            guard obj.madv == .willNeed else { throw DrmError.EFAULT }
            if let e = obj.pagesError { throw e }
        }

        // Placement: softpinned objects first, at their address; then the
        // rest keep a valid binding or take the first free hole.
        let vm = ctx.vm
        vm.prune()
        var addresses = [UInt64](repeating: 0, count: count)
        var sizes = [UInt64](repeating: 0, count: count)
        var reserved: [(UInt64, UInt64)] = []
        var placed: [ObjectIdentifier: UInt64] = [:]
        func zoneEnd(_ e: drm_i915_gem_exec_object2) -> UInt64 {
            e.flags & UInt64(EXEC_OBJECT_SUPPORTS_48B_ADDRESS) != 0 ? GpuVm.size : GpuVm.zone4G - 4096
        }
        for i in 0..<count where entries[i].flags & UInt64(EXEC_OBJECT_PINNED) != 0 {
            let e = entries[i], obj = objects[i]
            let size = max(obj.size, e.pad_to_size)
            let at = e.offset
            sizes[i] = size
            if let p = placed[ObjectIdentifier(obj)] {
                guard p == at else { throw DrmError.EINVAL }
                addresses[i] = at
                continue
            }
            // i915_vma_insert with PIN_OFFSET_FIXED: aligned, inside the zone.
            guard e.alignment == 0 || at % e.alignment == 0 else { throw DrmError.EINVAL }
            let (end, overflow) = at.addingReportingOverflow(size)
            guard !overflow, end <= zoneEnd(e) else { throw DrmError.EINVAL }
            // i915_gem_evict_for_node: a node pinned by this execbuf cannot move.
            if reserved.contains(where: { $0.0 < end && at < $0.0 + $0.1 }) { throw DrmError.ENOSPC }
            if let b = vm.binding(of: obj), b.start != at || b.size < size { vm.unbind(b) }
            if vm.binding(of: obj) == nil {
                for b in vm.overlapping(at, size) { vm.unbind(b) }
                vm.bind(obj, at: at, size: size)
            }
            reserved.append((at, size))
            placed[ObjectIdentifier(obj)] = at
            addresses[i] = at
        }
        // eb_reserve: in list order first; when that finds no room, the
        // objects placed so far are unbound and placed again with those
        // confined below 4 GiB first (its second pass), so 48-bit objects do
        // not fill the low zone a batch without 48B needs
        // (gem_exec_capture@many-*: 2845 objects of 2 MiB and a batch).
        let unpinned = (0..<count).filter { entries[$0].flags & UInt64(EXEC_OBJECT_PINNED) == 0 }
        func placeUnpinned(_ order: [Int]) throws(DrmError) {
            for i in order {
                let e = entries[i], obj = objects[i]
                let size = max(obj.size, e.pad_to_size)
                sizes[i] = size
                if let p = placed[ObjectIdentifier(obj)] {
                    addresses[i] = p
                    continue
                }
                // BATCH_OFFSET_BIAS: a relocated batch stays above 256 KiB.
                let bias: UInt64 = i == batch && e.relocation_count > 0 ? 256 << 10 : 0
                if let b = vm.binding(of: obj) {
                    let misplaced = b.size < size || (e.alignment != 0 && b.start % e.alignment != 0) || b.end > zoneEnd(e)
                        || b.start < bias || reserved.contains(where: { $0.0 < b.end && b.start < $0.0 + $0.1 })
                    if misplaced { vm.unbind(b) }
                }
                let at: UInt64
                // eb_pin_vma: an unbound object first tries the offset userspace
                // presumed (implicit softpin), if that range is free and fits.
                let hint = e.offset
                if vm.binding(of: obj) == nil, hint >= bias, hint & 4095 == 0, e.alignment == 0 || hint % e.alignment == 0,
                   hint.addingReportingOverflow(size).overflow == false, hint + size <= zoneEnd(e),
                   vm.overlapping(hint, size).isEmpty, !reserved.contains(where: { $0.0 < hint + size && hint < $0.0 + $0.1 }) {
                    vm.bind(obj, at: hint, size: size)
                }
                if let b = vm.binding(of: obj) {
                    at = b.start
                } else {
                    // What this execbuf reserved is bound already, so the VM's
                    // own bindings are all a hole must avoid.
                    func findHole() -> UInt64? {
                        vm.hole(size: size, alignment: e.alignment, low: bias, high: zoneEnd(e))
                    }
                    // eb_reserve: no hole, so evict what this execbuf does not
                    // hold (i915_gem_evict_vm) and try again; then ENOSPC.
                    var found = findHole()
                    if found == nil {
                        vm.evict(keeping: Set(placed.keys))
                        found = findHole()
                    }
                    guard let hole = found else { throw DrmError.ENOSPC }
                    vm.bind(obj, at: hole, size: size)
                    at = hole
                }
                reserved.append((at, size))
                placed[ObjectIdentifier(obj)] = at
                addresses[i] = at
            }
        }
        let pinnedReserved = reserved, pinnedPlaced = placed
        do throws(DrmError) {
            try placeUnpinned(unpinned)
        } catch where error == .ENOSPC {
            for i in unpinned { if let b = vm.binding(of: objects[i]), pinnedPlaced[ObjectIdentifier(objects[i])] == nil { vm.unbind(b) } }
            reserved = pinnedReserved
            placed = pinnedPlaced
            let confined = unpinned.filter { entries[$0].flags & UInt64(EXEC_OBJECT_SUPPORTS_48B_ADDRESS) == 0 }
            try placeUnpinned(confined + unpinned.filter { entries[$0].flags & UInt64(EXEC_OBJECT_SUPPORTS_48B_ADDRESS) != 0 })
        }
        for i in 0..<count where entries[i].offset != addresses[i] {
            entries[i].offset = Self.canonical(addresses[i])
            hasReloc = true
        }
        for i in 0..<count { entries[i].offset = Self.canonical(addresses[i]) }
        return Placement(objects: objects, flags: entries.map(\.flags), addresses: addresses, sizes: sizes,
                         context: ctx, engine: engine,
                         timeline: ctx.singleTimeline ? Int.min : ctx.engines != nil ? Int(args.flags & UInt64(I915_EXEC_RING_MASK)) : -1 - engine.index, batch: batch, flush: objects.reduce(Flush()) { $0 + s.takeCached(of: $1) })
    }

    /// eb_select_engine: the context's engine map, or the legacy ring flags.
    private func selectEngine(_ flags: UInt64, _ ctx: GpuContext, _ fg: FileGpu) throws(DrmError) -> EngineID {
        let idx = Int(flags & UInt64(I915_EXEC_RING_MASK))
        if let map = ctx.engines {
            guard idx < map.count, let e = map[idx] else { throw DrmError.EINVAL }
            return e
        }
        let bsd = flags & UInt64(I915_EXEC_BSD_MASK)
        if idx != Int(I915_EXEC_BSD), bsd != 0 { throw DrmError.EINVAL }
        switch idx {
        case Int(I915_EXEC_DEFAULT), Int(I915_EXEC_RENDER): return .rcs0
        case Int(I915_EXEC_BLT): return .bcs0
        case Int(I915_EXEC_VEBOX): return .vecs0
        case Int(I915_EXEC_BSD):
            switch bsd {
            case UInt64(I915_EXEC_BSD_DEFAULT):
                // gen8_dispatch_bsd_engine: one engine per file, chosen once.
                let pick = fg.bsdEngine ?? Int.random(in: 0..<2)
                fg.bsdEngine = pick
                return pick == 0 ? .vcs0 : .vcs1
            case UInt64(I915_EXEC_BSD_RING1): return .vcs0
            case UInt64(I915_EXEC_BSD_RING2): return .vcs1
            default: throw DrmError.EINVAL
            }
        default: throw DrmError.EINVAL
        }
    }

    /// Whether eb_relocate_entry would write this relocation (its target
    /// found and not already where userspace presumed); errors are left to
    /// relocate(), in the kernel's order.
    private func willWrite(_ r: drm_i915_gem_relocation_entry, _ plan: Placement,
                           _ entries: [drm_i915_gem_exec_object2], lut: Bool) -> Bool {
        let target = lut ? (r.target_handle < UInt32(entries.count) ? Int(r.target_handle) : nil)
                         : entries.firstIndex { $0.handle == r.target_handle }
        guard let t = target else { return false }
        return Self.canonical(plan.addresses[t]) != r.presumed_offset
    }

    /// eb_relocate_entry: returns the presumed offset to write back, or nil
    /// when the relocation already held the right value.
    private func relocate(_ r: drm_i915_gem_relocation_entry, in i: Int, _ plan: inout Placement,
                          _ entries: [drm_i915_gem_exec_object2], lut: Bool) throws(DrmError) -> UInt64? {
        let target: Int
        if lut {
            guard r.target_handle < UInt32(entries.count) else { throw DrmError.ENOENT }
            target = Int(r.target_handle)
        } else {
            guard let t = entries.firstIndex(where: { $0.handle == r.target_handle }) else { throw DrmError.ENOENT }
            target = t
        }
        guard r.write_domain & (r.write_domain &- 1) == 0 else { throw DrmError.EINVAL }
        guard (r.write_domain | r.read_domains) & ~FDRM_GEM_GPU_DOMAINS == 0 else { throw DrmError.EINVAL }
        if r.write_domain != 0 { plan.flags[target] |= UInt64(EXEC_OBJECT_WRITE) }
        let addr = Self.canonical(plan.addresses[target])
        if addr == r.presumed_offset { return nil }
        let obj = plan.objects[i]
        guard r.offset <= obj.size - 8 else { throw DrmError.EINVAL }
        guard r.offset & 3 == 0 else { throw DrmError.EINVAL }
        let value = Self.canonical(UInt64(bitPattern: Int64(Int32(bitPattern: r.delta))) &+ plan.addresses[target])
        if !obj.readonly {
            if obj.mayBeCached { obj.twins.willStore(obj.backing, bytes: Int(r.offset)..<Int(r.offset) + 8) }
            obj.backing.willWrite()
            obj.backing.base.storeBytes(of: value, toByteOffset: Int(r.offset), as: UInt64.self)
            if obj.userptr != nil { plan.userRelocs.append((obj, Int(r.offset), value)) }
        }
        return addr
    }

    /// eb_submit: builds the request, orders it after conflicting ones
    /// (implicit sync unless EXEC_OBJECT_ASYNC), and queues it.
    @discardableResult
    private func submit(_ s: inout DeviceState, _ plan: Placement, _ args: drm_i915_gem_execbuffer2,
                        submitFence: DmaFence?, awaits: DmaFence) -> Request {
        var seen = Set<ObjectIdentifier>()
        var targets: [Request.Target] = []
        var deps: [Request] = []
        var writes = Set<ObjectIdentifier>()
        for (i, obj) in plan.objects.enumerated() where plan.flags[i] & UInt64(EXEC_OBJECT_WRITE) != 0 {
            writes.insert(ObjectIdentifier(obj))
        }
        for (i, obj) in plan.objects.enumerated() {
            let write = writes.contains(ObjectIdentifier(obj))
            if plan.flags[i] & UInt64(EXEC_OBJECT_ASYNC) == 0 {
                for rq in activeRequests(s, obj, writers: !write) where !deps.contains(where: { $0 === rq }) { deps.append(rq) }
            }
            guard seen.insert(ObjectIdentifier(obj)).inserted else { continue }
            if !obj.readonly { obj.backing.willWrite() }
            var t = Request.Target(object: obj, backing: obj.backing, start: plan.addresses[i], size: plan.sizes[i],
                                   write: write, readonly: obj.readonly)
            t.capture = plan.objects.indices.contains { plan.objects[$0] === obj && plan.flags[$0] & UInt64(EXEC_OBJECT_CAPTURE) != 0 }
            targets.append(t)
        }
        // I915_CONTEXT_CREATE_FLAGS_SINGLE_TIMELINE: one timeline for all the
        // context's engines; the previous request on another engine must
        // complete first (__i915_request_add_to_timeline awaits it).
        if plan.context.singleTimeline, let prev = plan.context.requests.last(where: { !$0.isDone }),
           prev.engine != plan.engine, !deps.contains(where: { $0 === prev }) {
            deps.append(prev)
        }
        targets.sort { $0.start < $1.start }
        let batchObj = plan.objects[plan.batch]
        let batchIndex = targets.firstIndex { $0.object === batchObj } ?? 0
        s.gpu.nextSeqno += 1
        let rq = Request(seqno: s.gpu.nextSeqno, context: plan.context, engine: plan.engine,
                         batchStart: plan.addresses[plan.batch] + UInt64(args.batch_start_offset), batchIndex: batchIndex,
                         targets: targets, dependencies: deps, submitDependencies: submitFence?.requests ?? [],
                         awaits: awaits)
        rq.userRelocs = plan.userRelocs
        rq.timeline = plan.timeline
        for t in targets { s.gpu.active[ObjectIdentifier(t.object), default: []].append(rq) }
        plan.context.requests.append(rq)
        s.gpu.stats.submitted += 1
        // i915_request_add -> __i915_request_queue: the context's priority,
        // passed on to what the request waits for.
        schedule(s, rq, priority: plan.context.priority)
        let engine = engines[plan.engine.index]
        engine.submit(rq, ready: QueuedRequest.isReady(rq, deps: deps, awaited: awaits)) { [self] in runEngine(engine) }
        return rq
    }
}
