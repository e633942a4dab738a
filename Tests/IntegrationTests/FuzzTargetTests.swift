import Foundation
import Testing

/// The in-process fuzz target over the ioctl decoder and device model, for
/// a few seconds: random programs and mutations of them, each on a fresh
/// device, must not crash and must leave no object once their files close.
/// Longer runs: `fakedrm-fuzz 1000000`, or the libFuzzer build (docs/testing.md).
@Suite struct FuzzTargetTests {
    @Test func briefFuzzRunFindsNothing() throws {
        let exe = URL(fileURLWithPath: Harness.fakedrm).deletingLastPathComponent().appendingPathComponent("fakedrm-fuzz").path
        let r = try Harness.run([exe, "3000"], timeout: 300)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("no crash, no leak"), "\(r.stdout)")
        print(r.stdout)
    }
}
