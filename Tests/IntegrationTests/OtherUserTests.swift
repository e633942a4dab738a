import Foundation
import Testing

/// Issue 11 item 6: another user against a mount made with --allow-other.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct OtherUserTests {
    /// conformance/other_user drops to uid 65534: card0 refused, renderD128
    /// usable, the debug tree root's, root's strict-mode mappings untouchable.
    @Test func nobodyGetsWhatTheKernelWouldGiveIt() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Mounted(["--allow-other"])
        let r = try Harness.run([Harness.conformance("other_user"), m.device], timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS other_user"), "\(r.stdout)")
    }

    /// The nodes' modes and groups: udev's by default, the options' when given;
    /// a plain mount (only its user can reach it) keeps every node open to it.
    @Test func modesAndGroupsFollowTheOptions() throws {
        func mode(_ path: String) -> (mode_t, gid_t) {
            var st = stat()
            return stat(path, &st) == 0 ? (st.st_mode & 0o7777, st.st_gid) : (0, 0)
        }
        let video = getgrnam("video").map { $0.pointee.gr_gid } ?? getgid()
        let m = try Mounted(["--allow-other"])
        #expect(mode(m.device) == (0o660, video))
        #expect(mode(m.dir + "/renderD128").0 == 0o666)
        #expect(mode(m.dir + "/debug").0 == 0o700)
        #expect(mode(m.dir + "/debug/i915_gem_objects").0 == 0o400)
        #expect(mode(m.dir + "/debug/i915_wedged").0 == 0o600)
        #expect(mode(m.dir + "/debug/fakedrm_pool").0 == 0o400)
        let custom = try Mounted(["--allow-other", "--mode", "0640", "--group", "12345", "--render-mode", "660",
                                  "--render-group", "23456"])
        #expect(mode(custom.device) == (0o640, 12345))
        #expect(mode(custom.dir + "/renderD128") == (0o660, 23456))
        let plain = try Mounted()
        #expect(mode(plain.device).0 == 0o666)
        let bad = try Harness.run([Harness.fakedrm, "mount", "--allow-other", "--group", "no-such-group-here", "/nonexistent"])
        #expect(bad.status != 0 && bad.stderr.contains("no group"), "\(bad.stderr)")
    }
}
