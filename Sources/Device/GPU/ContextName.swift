import Glibc

/// i915_gem_create_context's ctx->name, "%s[%d]" of its creator's comm and
/// pid: what its fences report as their timeline (i915_fence_get_timeline_name),
/// one name for all its engines. Read when asked (SYNC_IOC_FILE_INFO), not
/// at creation: a context costs no /proc read.
func contextName(pid: Int32) -> String {
    var comm = "?"
    if let f = fopen("/proc/\(pid)/comm", "re") {
        var buf = [CChar](repeating: 0, count: 32)
        if fgets(&buf, 32, f) != nil {
            comm = String(decoding: buf.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        fclose(f)
    }
    return comm + "[" + String(pid) + "]"
}
