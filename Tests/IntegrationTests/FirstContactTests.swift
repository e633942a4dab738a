import Foundation
import Testing

/// What real clients meet first, through libdrm itself, under `fakedrm run`
/// (drmOpen looks in /dev/dri): the first_contact example plain and strict,
/// drmGetNodeTypeFromFd with a sysfs node present, the strict library
/// carrying no Swift runtime, and `--trace` naming what is not implemented.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct FirstContactTests {
    static let preload = URL(fileURLWithPath: Harness.fakedrm).deletingLastPathComponent()
        .appendingPathComponent("libfakedrm-preload.so").path

    @Test(arguments: [false, true])
    func firstContactUnderRun(strict: Bool) throws {
        #expect(Harness.conformanceBuilt)
        let r = try Harness.run([Harness.fakedrm, "run"] + (strict ? ["--strict"] : [])
                                + ["--", Harness.conformance("first_contact"), "/dev/dri/card0"], timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS first_contact") && r.stdout.contains("drmOpen by name and bus id"), "\(r.stdout)")
    }

    /// libdrm's drmGetNodeTypeFromFd: fstat says S_IFCHR 226:minor (strict
    /// mode) and /sys/dev/char/226:minor/device/drm exists; here a tmpfs in
    /// a private namespace stands in for the sysfs `run` provides.
    @Test func nodeTypeFromFdInStrictMode() throws {
        let r = try Harness.run(["unshare", "-m", "--propagation", "private", "sh", "-c", """
            set -e
            mount -t tmpfs none /sys/dev/char
            mkdir -p /sys/dev/char/226:0/device/drm /sys/dev/char/226:128/device/drm
            exec \(Harness.fakedrm) run --strict -- \(Harness.conformance("first_contact")) /dev/dri/card0
            """], timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS first_contact"), "\(r.stdout)")
        #expect(!r.stdout.contains("drmGetNodeTypeFromFd: skipped"), "\(r.stdout)")
    }

    /// The library's dynamic section names no Swift library and no toolchain
    /// runpath; a strict client maps no Swift runtime and aborts quietly.
    @Test func preloadCarriesNoSwiftRuntime() throws {
        let d = try Harness.run(["readelf", "-d", Self.preload], timeout: 30)
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stdout.contains("libc.so"), "\(d.stdout)")
        #expect(!d.stdout.lowercased().contains("swift"), "\(d.stdout)")
        let s = try Harness.run(["readelf", "--dyn-syms", "-W", Self.preload], timeout: 30)
        #expect(!s.stdout.contains("swift_"), "\(s.stdout)")
        let r = try Harness.run([Harness.fakedrm, "run", "--strict", "--", Harness.conformance("strict_runtime"), "/dev/dri/card0"],
                                timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS strict_runtime"), "\(r.stdout)")
    }

    /// `--trace` under a real client: the unimplemented ioctls by name.
    @Test func traceNamesWhatIsNotImplemented() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-fc-trace-\(getpid())").path
        defer { unlink(path) }
        let r = try Harness.run([Harness.fakedrm, "run", "--trace", path, "--", Harness.conformance("first_contact"), "/dev/dri/card0"],
                                timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(text.contains("SET_VERSION {drm_di=1.4, drm_dd=-1.-1} = 0"), "\(text.prefix(3000))")
        #expect(text.contains("MODE_GETRESOURCES {} = -1 EOPNOTSUPP"), "\(text.prefix(3000))")
        #expect(text.contains("MODE_CREATE_DUMB {width=64, height=64, bpp=32, flags=0x0} = 0 {handle="), "\(text.prefix(3000))")
    }
}
