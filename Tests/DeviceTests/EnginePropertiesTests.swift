import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// sysfs card0/engine/<name> tunables (sysfs_engines.c) and what the
/// engines do with them; the GPU error state a hang leaves (i915_gpu_error.c).
extension GpuTests {
    /// A loop with no arbitration point: only a reset ends it.
    static let selfLoop: [UInt32] = [Self.bbStart, 0x10000, 0]

    func setEngine(_ e: EngineID, _ file: String, _ text: String) throws(DrmError) {
        try fx.dev.writeEngineFile(e, file, Array(text.utf8))
    }

    @Test func engineTunablesParseAsKstrtoullAndKeepTheirBounds() throws {
        let p = EngineProperties()
        #expect(try p.store(.preemptTimeout, Array("250\n".utf8)) == 250)
        #expect(try p.store(.preemptTimeout, Array("0x10".utf8)) == 16)
        #expect(try p.store(.preemptTimeout, Array("010".utf8)) == 8)
        #expect(try p.store(.preemptTimeout, Array("+0".utf8)) == 0)
        for bad in ["", "\n", "abc", "08", "0x", "1 2", "-1"] {
            #expect(throws: DrmError.EINVAL, "\(bad)") { try p.store(.stopTimeout, Array(bad.utf8)) }
        }
        #expect(throws: DrmError.ERANGE) { try p.store(.stopTimeout, Array("18446744073709551616".utf8)) }
        #expect(throws: DrmError.EINVAL) { try p.store(.maxBusywait, Array("8000001".utf8)) }
        #expect(try p.store(.heartbeatInterval, Array("4294967291".utf8)) == 4_294_967_291)
        #expect(throws: DrmError.EINVAL) { try p.store(.heartbeatInterval, Array("4294967292".utf8)) }
        #expect(try p.store(.preemptTimeout, Array("4294967292".utf8)) == 4_294_967_292)
        #expect(throws: DrmError.EINVAL) { try p.store(.timesliceDuration, Array("4294967293".utf8)) }
        // A refused store leaves the value.
        #expect(p[.stopTimeout] == 100)

        #expect(fx.dev.engineFile(.vcs1, "mmio_base") == "0x1d0000\n")
        #expect(fx.dev.engineFile(.rcs0, "heartbeat_interval_ms") == "2500\n")
        try setEngine(.rcs0, "heartbeat_interval_ms", "500")
        #expect(fx.dev.engineFile(.rcs0, "heartbeat_interval_ms") == "500\n")
        #expect(fx.dev.engineFile(.rcs0, "heartbeat_interval_ms", defaults: true) == "2500\n")
        #expect(fx.dev.engineFile(.rcs0, "name", defaults: true) == nil)
        #expect(throws: DrmError.EACCES) { try setEngine(.rcs0, "name", "x") }
    }

    /// The heartbeat and preempt timeout the engine obeys are the files':
    /// a loop without an arbitration point is reset after two heartbeats
    /// and the preempt timeout (5.64 s by default).
    @Test func aLoopIsResetAfterTheConfiguredHeartbeat() throws {
        let f = fx.open(inode: 1)
        try setEngine(.bcs0, "heartbeat_interval_ms", "100")
        try setEngine(.bcs0, "preempt_timeout_ms", "50")
        let loop = try create(f, Self.selfLoop)
        let start = DispatchTime.now()
        try exec(f, [(loop, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT))
        try wait(f, loop, ms: 3000)
        let ms = (DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000
        #expect(ms >= 250 && ms < 3000)
        #expect(try fx.dev.resetStats(f, context: 0, flags: 0, pad: 0, privileged: true).active == 1)
    }

    /// gem_ctx_persistence@heartbeat-*: a closed persistent context's
    /// requests run on while the engine has a heartbeat; turning it off
    /// retires them, and a persistent context closed on an engine without
    /// one is killed at once.
    @Test func noHeartbeatRetiresClosedPersistentContexts() throws {
        let f = fx.open(inode: 1)
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false)
        let loop = try create(f, Self.selfLoop)
        try exec(f, [(loop, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: ctx)
        try fx.dev.contextDestroy(f, context: ctx, pad: 0)
        #expect(throws: DrmError.ETIME) { try wait(f, loop, ms: 50) }
        try setEngine(.bcs0, "heartbeat_interval_ms", "0")
        try wait(f, loop, ms: 2000)

        let again = try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false)
        let loop2 = try create(f, [Self.bbStart, 0x20000, 0])
        try exec(f, [(loop2, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: again)
        #expect(throws: DrmError.ETIME) { try wait(f, loop2, ms: 50) }
        try fx.dev.contextDestroy(f, context: again, pad: 0)
        try wait(f, loop2, ms: 2000)
    }

    /// i915_gpu_error: the first hang's state until a write clears it, with
    /// each EXEC_OBJECT_CAPTURE object's words in ascii85 (gem_exec_capture).
    @Test func aHangKeepsTheCapturedObjectsInTheErrorState() throws {
        let f = fx.open(inode: 1)
        try setEngine(.bcs0, "heartbeat_interval_ms", "50")
        try setEngine(.bcs0, "preempt_timeout_ms", "10")
        #expect(fx.dev.debugText(.gpuError) == "No error state collected\n")
        let target = try create(f, [1, 2, 0, 0x5A5A_5A5A])
        let other = try create(f, [7])
        let loop = try create(f, Self.selfLoop)
        try exec(f, [(target, 0x30000, UInt64(EXEC_OBJECT_CAPTURE)), (other, 0x40000, 0), (loop, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT))
        try wait(f, loop, ms: 3000)
        let state = fx.dev.debugText(.gpuError)
        // 1 and 2 are "!!!!\"" and "!!!!#"; a zero word is 'z'.
        let blob = "bcs0 --- user = 0x00000000 00030000\n~!!!!\"!!!!#z"
        #expect(state.contains(blob), "\(state.prefix(400))")
        #expect(state.ranges(of: "--- user = ").count == 1) // `other` was not asked for
        #expect(state.contains("bcs0 --- batch = 0x00000000 00010000\n~"))
        // A second hang keeps the first's state; a write clears it.
        let loop2 = try create(f, [Self.bbStart, 0x20000, 0])
        try exec(f, [(loop2, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT))
        try wait(f, loop2, ms: 3000)
        #expect(fx.dev.debugText(.gpuError) == state)
        try fx.dev.writeDebug(.gpuError, "Begone!")
        #expect(fx.dev.debugText(.gpuError) == "No error state collected\n")
    }

    /// i915_params request_timeout_ms: a context created after it is set
    /// cancels each request that runs longer (gem_watchdog); the fence
    /// carries -EINTR. Contexts made before keep the old timeout.
    @Test func theRequestWatchdogEndsLongRequests() throws {
        let f = fx.open(inode: 1)
        let before = try nonPersistentContext(f)
        try fx.dev.params.write("request_timeout_ms", Array("100".utf8))
        let ctx = try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false)
        let loop = try create(f, [Self.arbCheck, Self.bbStart, 0x10000, 0])
        try exec(f, [(loop, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: ctx)
        let rq = try #require(try fx.dev.withFile(f) { (s, _) throws(DrmError) in s.gpu.file(f).contexts[ctx]!.requests.last })
        try wait(f, loop, ms: 3000)
        #expect(rq.fenceError.load(ordering: .relaxed) == EINTR)
        #expect(try fx.dev.resetStats(f, context: ctx, flags: 0, pad: 0, privileged: true).active == 0)
        // 20 s for the older context: still running after 300 ms.
        let old = try create(f, [Self.arbCheck, Self.bbStart, 0x20000, 0])
        try exec(f, [(old, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: before)
        #expect(throws: DrmError.ETIME) { try wait(f, old, ms: 300) }
        try fx.dev.contextDestroy(f, context: before, pad: 0)
    }

    /// i915_wedged: a manual reset captures an error state, hang or not
    /// (I915_ERROR_CAPTURE; i915_hangman@error-state-basic).
    @Test func aManualResetLeavesAnErrorState() throws {
        #expect(fx.dev.debugText(.gpuError) == "No error state collected\n")
        try fx.dev.writeDebug(.wedged, "1\n")
        #expect(fx.dev.debugText(.gpuError).contains("Capture: Manually reset engine mask to 0x1\n"))
        try fx.dev.writeDebug(.gpuError, "")
        #expect(fx.dev.debugText(.gpuError) == "No error state collected\n")
    }
}
