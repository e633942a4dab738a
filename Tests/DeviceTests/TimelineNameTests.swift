import CDrm
import Glibc
import Testing
@testable import FakeDRMDevice

/// i915_fence_get_timeline_name: a context's fences are named after it
/// ("comm[pid]" of its creator), whatever the engine (gem_ctx_shared@single-timeline).
extension ExportTests {
    @Test func aContextsFencesShareItsNameOnEveryEngine() throws {
        let pid = getpid()
        let f = fx.open(inode: 1, pid: pid)
        fx.dev.markStrict(f)
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)],
                                           privileged: false)
        let spin: [UInt32] = [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10000, 0]
        var names: [String] = []
        var batches: [Handle] = []
        for ring in [I915_EXEC_RENDER, I915_EXEC_BLT] {
            let batch = try create(f, spin)
            batches.append(batch)
            let token = try #require(try exec(f, batch: batch, flags: UInt64(ring) | UInt64(I915_EXEC_FENCE_OUT), pid: pid, ctx: ctx))
            #expect(fx.dev.openExport(token, pid: pid))
            names.append(try fx.dev.syncFileInfo(token).fences[0].objName)
            fx.dev.releaseExport(token)
        }
        #expect(names[0].hasSuffix("[\(pid)]") && !names[0].hasPrefix("?"))
        let expected = contextName(pid: pid)
        #expect(names == [expected, expected])
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
    }
}
