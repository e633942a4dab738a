import Foundation
import Testing

/// conformance/python/gem_mmap.py: os.open, fcntl.ioctl and mmap.mmap on the
/// device, with the uapi module make generates from libdrm's headers.
@Suite(.serialized, .enabled(if: Harness.canMount && Python.available, "needs root, /dev/fuse and python3"))
struct PythonTests {
    static let example = Harness.root.appendingPathComponent("conformance/python/gem_mmap.py").path

    @Test func onAMount() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Mounted()
        let r = try Harness.run(["python3", Self.example, m.device])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("PASS gem_mmap.py: i915"), "\(r.stdout)")
    }

    @Test(arguments: ["/dev/dri/card0", "/dev/dri/renderD128"])
    func underRun(_ device: String) throws {
        #expect(Harness.conformanceBuilt)
        let r = try Harness.run([Harness.fakedrm, "run", "--", "python3", Self.example, device])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("PASS gem_mmap.py"), "\(r.stdout)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: Igt.preload), "needs the strict preload"))
    func underRunStrict() throws {
        #expect(Harness.conformanceBuilt)
        let r = try Harness.run([Harness.fakedrm, "run", "--strict", "--", "python3", Self.example, "/dev/dri/card0"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("PASS gem_mmap.py"), "\(r.stdout)")
    }

    /// A file that is not the device: the first ioctl fails, the example says so.
    @Test func aNonDeviceIsRefused() throws {
        #expect(Harness.conformanceBuilt)
        let r = try Harness.run(["python3", Self.example, "/dev/null"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("OSError") || r.stderr.contains("Inappropriate ioctl"), "\(r.stderr)")
    }
}

enum Python {
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") }
}
