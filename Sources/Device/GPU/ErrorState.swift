import Glibc

/// The GPU error state of a hang (i915_gpu_error.c), as
/// /sys/class/drm/card0/error and debugfs i915_gpu_error print it: the first
/// hang since the state was last cleared (a write clears it), with the
/// contents of the hung request's EXEC_OBJECT_CAPTURE objects, taken at the
/// hang, each as `<engine> --- user = 0x<upper> <lower>` and its words in
/// ascii85 after '~' (uncompressed: CONFIG_DRM_I915_COMPRESS_ERROR off; a
/// zero word is 'z').
struct GpuErrorState {
    /// The capture's bytes at most (a hang keeps the objects that fit, in
    /// address order): the kernel's capture allocates as it goes too.
    static let captureLimit = 512 << 20

    let text: String

    /// The state of a hang of `rq`, or of a reset with no request to blame.
    init(_ rq: Request?, reason: String) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = "i915 GPU error state (FakeDRM)\n"
        t += "Time: " + String(ts.tv_sec) + " s " + String(ts.tv_nsec / 1000) + " us\n"
        guard let rq else {
            text = t + "Capture: " + reason + "\n"
            return
        }
        t += "Capture: " + rq.engine.name + " ctx " + String(rq.context.id) + " seqno " + String(rq.seqno) + ": " + reason + "\n"
        var budget = Self.captureLimit
        func vma(_ name: String, _ target: Request.Target, always: Bool = false) {
            guard always || Int(target.size) <= budget else { return }
            budget -= min(budget, Int(target.size))
            t += rq.engine.name + " --- " + name + " = 0x" + Self.hex8(UInt32(target.start >> 32)) + " "
                + Self.hex8(UInt32(truncatingIfNeeded: target.start)) + "\n~"
            Self.ascii85(target.backing, count: Int(target.size), into: &t)
            t += "\n"
        }
        // The user's objects, then the batch as intel_engine_coredump_add_request
        // takes it, whatever the budget: readers strip the file's trailing
        // newlines (IGT's igt_sysfs_get), so a user blob must never be last.
        for target in rq.targets where target.capture { vma("user", target) }
        if rq.targets.indices.contains(rq.batchIndex) { vma("batch", rq.targets[rq.batchIndex], always: true) }
        text = t
    }

    static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// i915_gpu_error.c ascii85_encode, word by word (little-endian words).
    static func ascii85(_ backing: Backing, count: Int, into out: inout String) {
        guard backing.written else {
            out += String(repeating: "z", count: count / 4)
            return
        }
        var chunk = [UInt8]()
        chunk.reserveCapacity(count / 4 * 5)
        let words = UnsafeRawPointer(backing.base)
        for i in 0..<count / 4 {
            var v = words.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
            if v == 0 {
                chunk.append(UInt8(ascii: "z"))
                continue
            }
            var five = [UInt8](repeating: 0, count: 5)
            for k in (0..<5).reversed() {
                five[k] = UInt8(v % 85) + 33
                v /= 85
            }
            chunk += five
        }
        out += String(decoding: chunk, as: UTF8.self)
    }
}
