import Foundation
import Testing

/// `fakedrm mount` as a person uses it: refusals, --help, unmounting.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct MountCommandTests {
    @Test func helpExplainsEveryOption() throws {
        let r = try Harness.run([Harness.fakedrm, "mount", "--help"])
        #expect(r.status == 0)
        for opt in ["--foreground", "--aperture-size", "--ggtt-size", "--fences", "--chipset-id", "MOUNTPOINT",
                    "--profile", "intel_dev_info", "--trace-commands", "skipped"] {
            #expect(r.stdout.lowercased().contains(opt.lowercased()), "missing \(opt) in:\n\(r.stdout)")
        }
    }

    @Test func missingMountpointIsRefused() throws {
        let r = try Harness.run([Harness.fakedrm, "mount", "/nonexistent/fakedrm-nowhere"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("No such file or directory"), "\(r.stderr)")
    }

    @Test func nonEmptyMountpointIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-full-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/x", contents: Data())
        let r = try Harness.run([Harness.fakedrm, "mount", dir])
        #expect(r.status != 0)
        #expect(r.stderr.contains("not empty"), "\(r.stderr)")
    }

    @Test func busyMountpointIsRefused() throws {
        let m = try Mounted()
        let r = try Harness.run([Harness.fakedrm, "mount", m.dir])
        #expect(r.status != 0)
        #expect(r.stderr.contains("busy"), "\(r.stderr)")
    }

    @Test func badOptionsAreRefused() throws {
        let r = try Harness.run([Harness.fakedrm, "mount", "/tmp", "--aperture-size", "12X"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("not a number"), "\(r.stderr)")
    }

    @Test func mountIsLiveOnReturnAndSigtermUnmounts() throws {
        let m = try Mounted()
        #expect(m.isMounted)
        #expect(FileManager.default.fileExists(atPath: m.dir + "/card0"))
        #expect(FileManager.default.fileExists(atPath: m.dir + "/renderD128"))
        let pid = try #require(m.daemonPID)
        kill(pid, SIGTERM)
        var waited = 0
        while m.isMounted && waited < 100 { usleep(50_000); waited += 1 }
        #expect(!m.isMounted, "SIGTERM did not unmount")
    }

    @Test func fusermountStopsTheDaemon() throws {
        let m = try Mounted()
        let pid = try #require(m.daemonPID)
        #expect(try Harness.run(["fusermount3", "-u", m.dir]).status == 0)
        var waited = 0
        while kill(pid, 0) == 0 && waited < 100 { usleep(50_000); waited += 1 }
        #expect(kill(pid, 0) != 0, "daemon still running after unmount")
    }

    @Test func aDeadDaemonsMountIsClearedByTheNextMount() throws {
        let m = try Mounted()
        let pid = try #require(m.daemonPID)
        // Its watchdog would detach the mount at once (ReliabilityTests):
        // gone first, the dead mount stays, answering ENOTCONN.
        kill(try #require(m.watchdogPID), SIGKILL)
        usleep(100_000)
        kill(pid, SIGKILL)
        var waited = 0
        while kill(pid, 0) == 0 && waited < 100 { usleep(50_000); waited += 1 }
        var st = stat()
        #expect(stat(m.dir, &st) != 0 && errno == ENOTCONN)
        // It is a fakedrm mount: detached, and the new daemon mounts there.
        let r = try Harness.run([Harness.fakedrm, "mount", m.dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("cleared the dead fakedrm mount"), "\(r.stderr)")
        #expect(m.isMounted && FileManager.default.fileExists(atPath: m.device))
    }

    /// `--profile FILE` (Mesa's intel_dev_info --json keys) reaches
    /// GETPARAM; options still override it; `fakedrm profile` prints what
    /// a mount would use; a bad file says which key and why.
    @Test func profileFileReachesTheDevice() throws {
        #expect(Harness.conformanceBuilt)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-profile-\(getpid()).json").path
        defer { unlink(path) }
        try """
            {"name": "Intel(R) Graphics (ADL GT2)", "platform": "INTEL_PLATFORM_ADL", "ver": 12, "verx10": 120,
             "pci_device_id": 18086, "pci_revision_id": 12, "has_llc": true, "fakedrm": {"fences": 8}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let m = try Mounted(["--profile", path])
        let r = try Harness.run([Harness.conformance("device_info"), m.device])
        #expect(r.stdout.lowercased().contains("0x46a6"), "\(r.stdout)")
        let dumped = try Harness.run([Harness.fakedrm, "profile", "--profile", path, "--fences", "4"])
        #expect(dumped.status == 0, "\(dumped.stderr)")
        for line in ["\"pci_device_id\": 18086", "\"pci_revision_id\": 12", "\"platform\": \"INTEL_PLATFORM_ADL\"",
                     "\"fences\": 4", "\"has_llc\": false"] {
            #expect(dumped.stdout.contains(line), "no '\(line)' in \(dumped.stdout)")
        }
        let builtIn = try Harness.run([Harness.fakedrm, "profile", "--dump"])
        #expect(builtIn.stdout.contains("\"pci_device_id\": 39497") && builtIn.stdout.contains("\"name\": \"Intel(R) Xe Graphics (TGL GT2)\""),
                "\(builtIn.stdout)")
        try "{\"pci_device_id\": 18086, \"ver\": 9}".write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try Harness.run([Harness.fakedrm, "mount", "/tmp", "--profile", path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--profile \(path): ver: expected 12"), "\(bad.stderr)")
        let missing = try Harness.run([Harness.fakedrm, "profile", "--profile", "/nonexistent/p.json"])
        #expect(missing.status != 0 && missing.stderr.contains("--profile /nonexistent/p.json: No such file or directory"),
                "\(missing.stderr)")
    }

    @Test func optionsReachTheDevice() throws {
        let m = try Mounted(["--chipset-id", "0x1916", "--fences", "0"])
        #expect(Harness.conformanceBuilt)
        let r = try Harness.run([Harness.conformance("device_info"), m.device])
        #expect(r.stdout.lowercased().contains("0x1916"), "\(r.stdout)")
    }
}
