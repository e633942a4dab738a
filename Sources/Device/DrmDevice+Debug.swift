import CDrm

/// Human-readable state, shaped like i915's debugfs files, for people and
/// greps: one line per thing, stable column order.
extension DrmDevice {
    public enum DebugFile: String, CaseIterable, Sendable {
        case name, clients
        case objects = "i915_gem_objects"
        case gtt = "i915_gem_gtt"
        case fences = "i915_gem_fence_regs"
        case swizzle = "i915_swizzle_info"
        case wedged = "i915_wedged"
        case dropCaches = "i915_gem_drop_caches"
        case engineInfo = "i915_engine_info"
        /// i915_gpu_error, also sysfs card0/error under `run`.
        case gpuError = "i915_gpu_error"
        // Fault injection (FaultInjection.swift; parsed and printed in DrmDevice+DebugControl.swift).
        case failFaults = "fail_faults"
        case failIoctl = "fail_ioctl"
        case exhaustAperture = "exhaust_aperture"
        case exhaustFences = "exhaust_fences"

        /// Files that take a write.
        public var isWritable: Bool { self == .wedged || self == .dropCaches || self == .gpuError || isInjection }
        public var isInjection: Bool { [.failFaults, .failIoctl, .exhaustAperture, .exhaustFences].contains(self) }
    }

    public func debugText(_ file: DebugFile) -> String {
        if file.isInjection { return injectionText(file) }
        return state.withLock { s in
            switch file {
            case .name: "i915 dev=\(Self.busID.dropFirst(4)) unique=\(Self.busID.dropFirst(4))\n"
            case .clients: s.clientsText()
            case .objects: s.objectsText()
            case .gtt: s.gttText()
            case .fences: s.fencesText()
            case .swizzle: swizzleText()
            case .wedged: isWedged ? "1\n" : "0\n"
            case .dropCaches: "0x" + hex(DropCaches.all, 8) + "\n"
            case .engineInfo: engineInfoText(s)
            case .gpuError: s.gpu.errorState?.text ?? "No error state collected\n"
            case .failFaults, .failIoctl, .exhaustAperture, .exhaustFences: ""
            }
        }
    }

    /// i915_debugfs.c i915_swizzle_info: gen8+ stops after the two lines (no
    /// register dump, no L-shaped memory).
    func swizzleText() -> String {
        func name(_ mode: UInt32) -> String {
            switch Int32(mode) {
            case I915_BIT_6_SWIZZLE_NONE: "none"
            case I915_BIT_6_SWIZZLE_9: "bit9"
            case I915_BIT_6_SWIZZLE_9_10: "bit9/bit10"
            case I915_BIT_6_SWIZZLE_9_11: "bit9/bit11"
            case I915_BIT_6_SWIZZLE_9_10_11: "bit9/bit10/bit11"
            case I915_BIT_6_SWIZZLE_9_17: "bit9/bit17"
            case I915_BIT_6_SWIZZLE_9_10_17: "bit9/bit10/bit17"
            default: "unknown"
            }
        }
        return "bit6 swizzle for X-tiling = \(name(profile.swizzleX))\nbit6 swizzle for Y-tiling = \(name(profile.swizzleY))\n"
    }

    /// What i915_gem_drop_caches takes (the DROP_* bits IGT writes).
    /// i915_debugfs.c's DROP_* bits.
    public enum DropCaches {
        public static let bound: UInt64 = 1 << 1     // DROP_BOUND
        public static let active: UInt64 = 1 << 3    // DROP_ACTIVE
        public static let idle: UInt64 = 1 << 6      // DROP_IDLE
        public static let resetActive: UInt64 = 1 << 7 // DROP_RESET_ACTIVE
        public static let shrinkAll: UInt64 = 1 << 5 // DROP_SHRINK_ALL
        public static let all: UInt64 = 0x3ff        // DROP_ALL
    }

    /// gt_drop_caches: DROP_ACTIVE, DROP_IDLE and DROP_RESET_ACTIVE wait
    /// until every request in flight has retired (intel_gt_wait_for_idle
    /// with MAX_SCHEDULE_TIMEOUT), interruptibly: EINTR for the writer.
    /// IGT's gem_quiescent_gpu relies on it (gem_exec_schedule@independent
    /// then finds its object idle).
    public func waitForIdle(_ interruption: Interruption?) throws(DrmError) {
        while true {
            let busy = state.withLock { s -> [Request] in
                var seen = Set<ObjectIdentifier>(), out: [Request] = []
                for rqs in s.gpu.active.values {
                    for rq in rqs where !rq.isDone && seen.insert(ObjectIdentifier(rq)).inserted { out.append(rq) }
                }
                return out
            }
            if busy.isEmpty { return }
            try awaitAll(busy, interruption)
        }
    }

    /// Writing i915_gem_drop_caches: DROP_BOUND or DROP_SHRINK_ALL unbind
    /// every GGTT binding (revoking its GTT mappings), as the shrinker would.
    public func dropCaches(_ mask: UInt64) {
        guard mask & (DropCaches.bound | DropCaches.shrinkAll) != 0 else { return }
        withLock(revoking: { (s: inout DeviceState, revoke: inout Flush) in
            for vma in s.ggtt.vmas {
                revoke += vma.revocations
                s.ggtt.unbind(vma)
            }
        })
    }
}

func hex<T: BinaryInteger>(_ v: T, _ width: Int = 0) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

extension DeviceState {
    func clientsText() -> String {
        files.values.sorted(by: { $0.id < $1.id }).reduce(clientsHeader) { $0 + clientLine($1) }
    }

    var clientsHeader: String { "  file   pid  dev master auth handles  mapped  faults denied writebacks\n" }

    func clientLine(_ f: DrmFile) -> String {
        pad("\(f.id)", 6) + pad("\(f.pid)", 6) + pad("\(f.minor.number)", 5)
            + pad(f.isMaster ? "y" : "n", 7) + pad(f.authenticated ? "y" : "n", 5)
            + pad("\(f.handles.count)", 8) + pad("\(f.mappable.count)", 8)
            + pad("\(f.stats.faults)", 8) + pad("\(f.stats.deniedFaults)", 7) + pad("\(f.stats.writebacks)", 11) + "\n"
    }

    /// Every object reachable from a file: by handle, or kept for mappings.
    var liveObjects: [GemObject] {
        var seen = Set<ObjectIdentifier>(), out: [GemObject] = []
        for f in files.values {
            for o in Array(f.handles.values) + Array(f.mappable.values) where seen.insert(ObjectIdentifier(o)).inserted {
                out.append(o)
            }
        }
        return out.sorted { $0.serial < $1.serial }
    }

    func objectsText() -> String {
        liveObjects.reduce(objectsHeader) { $0 + objectLine($1) }
    }

    var objectsHeader: String {
        "\(lifetime.count) objects, \(lifetime.bytes) bytes\n"
            + (lifetime.userptrCount > 0 ? "\(lifetime.userptrCount) userptr objects\n" : "")
            + "object       size handles name tiling stride  madv readonly caching  nodes (type@offset: allowed/ever/userfault)\n"
    }

    func objectLine(_ o: GemObject) -> String {
        let tiling = o.tiling.mode == UInt32(I915_TILING_X) ? "X" : o.tiling.mode == UInt32(I915_TILING_Y) ? "Y" : "none"
        let madv = o.madv == .willNeed ? "need" : o.madv == .dontNeed ? "dont" : "purged"
        return pad("\(o.serial)", 6) + pad("\(o.size)", 11) + pad("\(o.handleCount)", 8) + pad("\(o.flinkName?.rawValue ?? 0)", 5)
            + pad(tiling, 7) + pad("\(o.tiling.stride)", 7) + pad(madv, 6) + pad(o.readonly ? "y" : "n", 9)
            + pad("\(o.caching)", 8) + " "
            + (o.userptr.map { "userptr@0x\(hex($0.address)) pid \($0.tgid)" + (o.mmos.isEmpty ? "" : ", ") } ?? "")
            + o.mmos.map { m in let l = m.lists; return "\(m.type.name)@0x\(hex(m.byteOffset)): \(l.allowed.count)/\(l.everAllowed.count)/\(l.userfault.count)" }
            .joined(separator: ", ") + "\n"
    }

    func gttText() -> String {
        ggtt.vmas.reduce(gttHeader) { $0 + bindingLine($1) }
    }

    var gttHeader: String {
        let used = ggtt.vmas.reduce(0) { $0 + $1.view.pages }
        return "aperture: \(ggtt.mappablePages << Page.shift) bytes, \(used << Page.shift) bound, \(ggtt.vmas.count) bindings; "
            + "binds \(ggtt.stats.binds), evictions \(ggtt.stats.evictions), fence steals \(ggtt.stats.fenceSteals), resets \(ggtt.stats.resets)\n"
            + "      ggtt range        object  view                 fence  userfault inodes\n"
    }

    func bindingLine(_ v: Vma) -> String {
        "  [0x" + hex(v.start << Page.shift, 8) + " - 0x" + hex(v.end << Page.shift, 8) + "]" + pad("\(v.object.serial)", 7) + "  "
            + v.view.description.padding(20) + pad(v.fence.map { "\($0)" } ?? "-", 6) + "  "
            + v.userfault.sorted().map { "\($0)" }.joined(separator: ",") + "\n"
    }

    func fencesText() -> String {
        var out = "Total fences = \(ggtt.fences.count)\n"
        for (i, f) in ggtt.fences.enumerated() {
            out += "Fence \(i): "
            guard let vma = f.vma else {
                out += "unused\n"
                continue
            }
            let mode = f.tiling.mode == UInt32(I915_TILING_Y) ? "Y" : "X"
            let reg = f.value
            out += "object \(vma.object.serial) ggtt 0x\(hex(f.start, 8)) size 0x\(hex(f.size)) \(mode) stride \(f.tiling.stride)"
                + " reg 0x\(hex(reg.hi, 16)):0x\(hex(reg.lo, 16))\n"
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
