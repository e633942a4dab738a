import Foundation
import Testing

/// Races, killed clients and a killed daemon against live mounts, driven by
/// the C examples (each bounded by its own alarm and the harness timeout).
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct TortureTests {
    static let mount = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in try Mounted() }

    /// race_canary: FLINK/OPEN vs close, SET_TILING vs faults, a never-allowed
    /// prober. shared_fd_race: three processes on one open closing each
    /// other's handles under faults. client_kill: clients SIGKILLed mid-ioctl and mid-fault.
    /// reclaim_fork: reclaim spares an object only a fork child maps.
    @Test(arguments: ["race_canary", "shared_fd_race", "client_kill", "reclaim_fork"])
    func example(_ name: String) throws {
        #expect(Harness.conformanceBuilt)
        let m = try Self.mount.get()
        let r = try Harness.run([Harness.conformance(name), m.device], timeout: 120)
        #expect(r.status == 0, "\(name) failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS \(name)"), "\(r.stdout)")
        print(r.stdout.split(separator: "\n").filter { $0.hasPrefix("#") || $0.hasPrefix("PASS") }.joined(separator: "\n"))
    }

    /// The daemon is SIGKILLed under clients holding fds and mappings and
    /// children spinning in ioctls and faults: they get errors, none hangs;
    /// its watchdog detaches the mount, and a new `fakedrm mount` serves there.
    @Test func daemonKilledUnderItsClients() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Mounted()
        let pid = try #require(m.daemonPID)
        let r = try Harness.run([Harness.conformance("daemon_death"), m.device, "\(pid)"], timeout: 60)
        if r.status != 0 { m.abortConnection() }
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS daemon_death"), "\(r.stdout)")
        #expect(kill(pid, 0) != 0)
        for _ in 0..<200 where m.isMounted { usleep(10_000) }
        #expect(!m.isMounted, "the watchdog should have detached the dead mount")

        let again = try Harness.run([Harness.fakedrm, "mount", m.dir])
        #expect(again.status == 0, "\(again.stderr)")
        let normal = try Harness.run([Harness.conformance("gem_basic"), m.device])
        #expect(normal.status == 0, "\(normal.stdout)")
    }

    /// With its watchdog gone too (killed first), a killed daemon leaves a
    /// dead mount answering ENOTCONN; the next `fakedrm mount` clears it.
    @Test func deadMountWithoutWatchdogIsCleared() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Mounted()
        let pid = try #require(m.daemonPID)
        let watchdog = try #require(m.watchdogPID)
        kill(watchdog, SIGKILL)
        usleep(100_000)
        let r = try Harness.run([Harness.conformance("daemon_death"), m.device, "\(pid)"], timeout: 60)
        if r.status != 0 { m.abortConnection() }
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        var st = stat()
        #expect(stat(m.dir, &st) != 0 && errno == ENOTCONN, "the dead mount should answer ENOTCONN")

        let again = try Harness.run([Harness.fakedrm, "mount", m.dir])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("cleared the dead fakedrm mount"), "\(again.stderr)")
        let normal = try Harness.run([Harness.conformance("gem_basic"), m.device])
        #expect(normal.status == 0, "\(normal.stdout)")
    }
}
