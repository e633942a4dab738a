import Foundation
import Testing

/// Issue 11 items 3-5: what a client can make the daemon keep, measured on
/// a live mount (conformance/hostile_memory reads the daemon's resident set
/// and fails past its bounds).
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct HostileMemoryTests {
    @Test func perOpenFaultStateAndDebugReadersStaySmall() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Mounted()
        let pid = try #require(m.daemonPID)
        let r = try Harness.run([Harness.conformance("hostile_memory"), m.device, "\(pid)"], timeout: 180)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS hostile_memory"), "\(r.stdout)")
        print(r.stdout.split(separator: "\n").filter { $0.hasPrefix("#") }.joined(separator: "\n"))
    }
}
