import CDrm
import FakeDRMDevice

/// The traced form of dispatch: the ioctl's fields going in (after the
/// kernel's zero-extension) and coming out, decoded by its table entry
/// through the real uapi structs, with its result and duration. It wraps
/// the one dispatch path: the observer sees that path's kernel buffer.
extension IoctlDispatcher {
    public func dispatch(cmd: UInt32, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
                         caller: IoctlCaller, trace: Trace) -> Result {
        let start = Trace.now()
        guard let desc = Self.lookup(cmd) else {
            // Not implemented: named as libdrm names it, with its first bytes.
            let r = dispatch(cmd: cmd, input: input, output: output, caller: caller)
            var event = "ioctl(0x" + String(cmd, radix: 16) + ")"
            if let name = fdrm_libdrm_ioctl_name(cmd) {
                event = String(cString: name) + " [not implemented] "
                    + (fdrm_ioc_in(cmd) != 0 ? TraceFields.raw(input) : "{}")
            }
            trace.record(file: caller.file.rawValue, pid: caller.pid, event, errno: r.errno, since: start)
            return r
        }
        let observer = TraceObserver(desc: desc, memory: caller.memory)
        let r = dispatch(cmd: cmd, input: input, output: output, caller: caller, observer: observer)
        var name = desc.shortName
        // MMAP_GTT shares MMAP_OFFSET's number with a shorter struct.
        if desc.cmd == FDRM_IOCTL_I915_GEM_MMAP_OFFSET, fdrm_ioc_size(cmd) == UInt32(MemoryLayout<drm_i915_gem_mmap_gtt>.size) {
            name = "GEM_MMAP_GTT"
        }
        trace.record(file: caller.file.rawValue, pid: caller.pid, name + " " + observer.args, errno: r.errno, result: observer.result, since: start)
        return r
    }
}

/// Decodes the kernel buffer going in, and what the caller got back.
final class TraceObserver: KernelBufferObserver {
    let desc: IoctlDesc
    let memory: any UserMemory
    var args = "", result = ""

    init(desc: IoctlDesc, memory: any UserMemory) { (self.desc, self.memory) = (desc, memory) }

    func enter(_ kdata: UnsafeRawBufferPointer) { args = desc.fields(kdata, false) }

    func leave(_ kdata: UnsafeMutableRawBufferPointer, _ r: IoctlDispatcher.Result) {
        if let after = desc.result {
            result = after(UnsafeRawBufferPointer(kdata), r.errno, memory)
        } else if r.errno == 0, r.outBytes > 0 {
            // What the caller got: its bytes, zero past them.
            UnsafeMutableRawBufferPointer(rebasing: kdata[r.outBytes...]).initializeMemory(as: UInt8.self, repeating: 0)
            result = desc.fields(UnsafeRawBufferPointer(kdata), true)
        }
    }
}

/// "{handle=1, size=4096}" for each ioctl's struct, in or out: the table
/// entries' decoders give the fields, this the format.
enum TraceFields {
    static func format(_ f: Fields) -> String { "{" + f.map { $0.0 + "=" + $0.1 }.joined(separator: ", ") + "}" }

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
