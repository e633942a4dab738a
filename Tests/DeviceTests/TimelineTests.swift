import CDrm
import Dispatch
import Testing
@testable import FakeDRMDevice

/// Each slot of a context's engine map is an intel_context with its own
/// timeline: two slots naming one engine are independent rings, so a
/// spinner on one does not hold the other's requests back (IGT
/// gem_exec_schedule@preempt-engines ends its spinners slot by slot, in an
/// order of its own). The legacy ring map keeps one timeline per engine.
extension GpuTests {
    @Test func engineMapSlotsAreIndependentTimelines() throws {
        let f = fx.open(inode: 1)
        let rcs = (UInt16(I915_ENGINE_CLASS_RENDER.rawValue), UInt16(0))
        let engines = DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_ENGINES), size: 16, value: 1, engines: [rcs, rcs])
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [engines], privileged: false)
        let spinner = try create(f, [Self.arbCheck, Self.bbStart, 0x10000, 0])
        let target = try create(f), store = try create(f, [Self.sdi, 0x40000, 0, 0x5107, Self.bbe])
        try exec(f, [(spinner, 0x10000, 0)], ring: 0, ctx: ctx)
        try exec(f, [(target, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (store, 0x20000, 0)], ring: 1, ctx: ctx)
        try wait(f, target, ms: 2000)
        #expect(try read(f, target, 0) == 0x5107)
        #expect(throws: DrmError.ETIME) { try wait(f, spinner, ms: 0) }
        try cpuStore(f, spinner, 0, Self.bbe)
        try wait(f, spinner)
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
    }

    /// Each slot has a ring of its own (eb_throttle counts its timeline's
    /// requests): 40 requests queued on each of two slots of one engine
    /// fit, where one ring holds about 64 before execbuf waits.
    @Test func eachSlotHasItsOwnRing() throws {
        let f = fx.open(inode: 1)
        let rcs = (UInt16(I915_ENGINE_CLASS_RENDER.rawValue), UInt16(0))
        let engines = DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_ENGINES), size: 16, value: 1, engines: [rcs, rcs])
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [engines], privileged: false)
        let batch = try create(f, [Self.bbe])
        let plug = cork()
        let done = DispatchSemaphore(value: 0)
        let me = self
        DispatchQueue(label: "submitter").async {
            for n in 0..<80 { try? me.exec(f, [(batch, 0x10000, 0)], ctx: ctx, ring: UInt64(n % 2), cork: plug) }
            done.signal()
        }
        let submitted = done.wait(timeout: .now() + .seconds(5))
        #expect(submitted == .success)
        plug.signal()
        if submitted == .timedOut { done.wait() }
        try wait(f, batch)
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
    }
}
