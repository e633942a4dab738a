import CDrm
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// A reset forced through i915_wedged (intel_gt_handle_error with an engine
/// mask): each reset engine's active request is guilty (__i915_request_reset):
/// its fence gets EIO, its context a guilty count, and a context that is not
/// RECOVERABLE is banned; requests on engines outside the mask run on.
extension GpuTests {
    /// A spinner with an arbitration point, softpinned at 0x10000.
    static let spinner: [UInt32] = [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10000, 0]

    func context(_ f: FileID, recoverable: Bool) throws -> UInt32 {
        try fx.dev.contextCreate(f, flags: 0, params: [
            DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_RECOVERABLE), size: 0, value: recoverable ? 1 : 0),
        ], privileged: false)
    }

    /// gem_ctx_exec@basic-norecovery: the spinner's context is banned by the
    /// reset when not recoverable (its next execbuf EIO), not when it is.
    @Test(arguments: [false, true])
    func forcedResetBlamesTheActiveRequest(recoverable: Bool) throws {
        let f = fx.open(inode: 1)
        let ctx = try context(f, recoverable: recoverable)
        let spin = try create(f, Self.spinner)
        try exec(f, [(spin, 0x10000, 0)], ctx: ctx)
        // An innocent bystander on another engine, outside the mask.
        let other = try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false)
        let bystander = try create(f, Self.spinner)
        try exec(f, [(bystander, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: other)
        usleep(20_000) // both running
        fx.dev.handleError(engineMask: 1 << 0) // rcs0
        try wait(f, spin)
        #expect(throws: DrmError.ETIME) { try wait(f, bystander, ms: 20) }
        #expect(try fx.dev.resetStats(f, context: ctx, flags: 0, pad: 0, privileged: true) == (0, 1, 0))
        #expect(try fx.dev.resetStats(f, context: other, flags: 0, pad: 0, privileged: true) == (0, 0, 0))
        let ok = try create(f, [Self.bbe])
        if recoverable {
            try exec(f, [(ok, 0x20000, 0)], ctx: ctx)
            try wait(f, ok)
        } else {
            #expect(throws: DrmError.EIO) { try exec(f, [(ok, 0x20000, 0)], ctx: ctx) }
        }
        // The blitter's spinner falls to a reset of every engine (vcs1 is bit
        // 12, VCS2: TGL's second VDBox).
        fx.dev.handleError(engineMask: ~0)
        try wait(f, bystander)
        #expect(try fx.dev.resetStats(f, context: other, flags: 0, pad: 0, privileged: true) == (0, 1, 0))
    }
}
