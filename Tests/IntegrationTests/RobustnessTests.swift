import Foundation
import Testing

/// Random and mutated ioctl payloads from several processes: the daemon keeps
/// serving and does not grow.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct RobustnessTests {
    @Test func fuzzedDaemonKeepsServingAndDoesNotGrow() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Mounted()
        let first = try Harness.run([Harness.conformance("ioctl_fuzz"), m.device], timeout: 240)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let afterFirst = try #require(m.daemonRSS)
        let second = try Harness.run([Harness.conformance("ioctl_fuzz"), m.device], timeout: 240)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let afterSecond = try #require(m.daemonRSS)
        // The first storm grows the worker pool and malloc arenas; a second,
        // equal storm must not leave more behind (every object is reclaimed
        // once its files are released).
        #expect(afterSecond < afterFirst + 8 * 1024, "daemon RSS \(afterFirst) KiB -> \(afterSecond) KiB")
        let normal = try Harness.run([Harness.conformance("gem_basic"), m.device])
        #expect(normal.status == 0, "\(normal.stdout)")
        print("fuzz: daemon RSS after storm 1: \(afterFirst) KiB, after storm 2: \(afterSecond) KiB")
    }
}
