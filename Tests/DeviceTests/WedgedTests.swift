import Testing
@testable import FakeDRMDevice

/// A wedged GPU (reset 0 and a hang, or a write to i915_wedged): the
/// ioctls that would queue work fail with EIO (intel_gt_terminally_wedged).
@Suite struct WedgedTests {
    let fx = Fixture()

    @Test func contextCreateFailsOnAWedgedGpu() throws {
        let f = fx.open(inode: 1)
        #expect(try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false) == 1)
        try fx.dev.params.write("reset", Array("0".utf8))
        try fx.dev.writeDebug(.wedged, "1")
        #expect(fx.dev.isWedged)
        #expect(throws: DrmError.EIO) { try fx.dev.contextCreate(f, flags: 0, params: [], privileged: false) }
        // Unknown flags still come first.
        #expect(throws: DrmError.EINVAL) { try fx.dev.contextCreate(f, flags: 1 << 5, params: [], privileged: false) }
    }
}
