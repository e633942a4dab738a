import CDrm
import Dispatch
import Testing
@testable import FakeDRMDevice

/// i915_gem_drop_caches with DROP_ACTIVE / DROP_IDLE (gt_drop_caches ->
/// intel_gt_wait_for_idle): the write returns once every request in flight
/// has retired, as IGT's gem_quiescent_gpu expects
/// (gem_exec_schedule@independent asserts its object idle after it).
extension GpuTests {
    /// gem_quiescent_gpu's mask: DROP_ACTIVE | DROP_RETIRE | DROP_IDLE | DROP_FREED.
    static let quiescent = "0x5c"

    @Test func dropActiveWaitsForTheGpuToIdle() throws {
        let f = fx.open(inode: 1)
        let target = try create(f), batch = try storeBatch(f, at: 0x40000, 0x77)
        let plug = cork()
        try exec(f, [(target, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)], ctx: 0, cork: plug)
        let done = DispatchSemaphore(value: 0)
        let dev = fx.dev
        DispatchQueue(label: "writer").async {
            try? dev.writeDebug(.dropCaches, Self.quiescent)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + .milliseconds(100)) == .timedOut)
        plug.signal()
        #expect(done.wait(timeout: .now() + .seconds(5)) == .success)
        #expect(try fx.dev.gemBusy(f, handle: target) == 0)
        #expect(try read(f, target, 0) == 0x77)
    }

    /// The writer's signal ends the wait: EINTR, the request still queued.
    /// Without a wait bit the write returns at once.
    @Test func dropActiveWaitIsInterruptible() throws {
        let f = fx.open(inode: 1)
        let target = try create(f), batch = try storeBatch(f, at: 0x40000, 0x77)
        let plug = cork()
        try exec(f, [(target, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)], ctx: 0, cork: plug)
        try fx.dev.writeDebug(.dropCaches, "0x2")
        let interruption = Interruption()
        DispatchQueue(label: "signal").asyncAfter(deadline: .now() + .milliseconds(20)) { interruption.interrupt() }
        #expect(throws: DrmError.EINTR) { try fx.dev.writeDebug(.dropCaches, Self.quiescent, interruption: interruption) }
        #expect(try fx.dev.gemBusy(f, handle: target) != 0)
        #expect(throws: DrmError.EINVAL) { try fx.dev.writeDebug(.dropCaches, "bogus") }
        plug.signal()
        try wait(f, target)
    }
}
