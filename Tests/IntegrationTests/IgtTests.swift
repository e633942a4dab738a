import Foundation
import Testing

/// Debian's intel-gpu-tools: unmodified libigt programs under
/// `fakedrm run --strict`. libigt opens /dev/dri/card0, checks VERSION is
/// "i915" and that fstat says S_IFCHR 226:0 (the strict preload), then writes
/// i915_gem_drop_caches under /sys/kernel/debug/dri/0, at start and at exit.
@Suite(.serialized, .enabled(if: Harness.canMount && Igt.available, "needs root, /dev/fuse, intel-gpu-tools and the strict preload"))
struct IgtTests {

    func igt(_ program: String, _ args: [String], options: [String] = []) throws -> Harness.Output {
        try Harness.run([Harness.fakedrm, "run", "--strict"] + options + ["--", "\(Igt.benchmarks)/\(program)"] + args,
                        timeout: 120)
    }

    /// The numbers a benchmark printed, one a line.
    func results(_ out: Harness.Output) -> [Double] {
        out.stdout.split(separator: "\n").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// GEM_CREATE + SET_DOMAIN(GTT) + GEM_CLOSE of 4 KiB objects for 2 s.
    @Test func gemCreate() throws {
        let r = try igt("gem_create", ["-s", "4096", "-r", "1"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let rates = results(r)
        #expect(rates.count == 1 && rates[0] > 0, "\(r.stdout)")
    }

    /// PREAD / PWRITE of 1 byte .. 8 MiB from one 8 MiB object, GTT and CPU domains.
    @Test(arguments: [["-D", "read", "-d", "gtt"], ["-D", "write", "-d", "cpu"]])
    func gemPrw(_ args: [String]) throws {
        let r = try igt("gem_prw", ["-r", "1"] + args)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(results(r).count == 24, "one line per size, 2^0 .. 2^23:\n\(r.stdout)")
    }

    /// SET_CACHING(NONE), then SET_DOMAIN CPU <-> GTT for 2 s, reading and writing.
    @Test(arguments: [[String](), ["-c", "w", "-g", "w"]])
    func gemSetDomain(_ args: [String]) throws {
        let r = try igt("gem_set_domain", ["-r", "1", "-s", "65536"] + args, options: ["--aperture-size", "8M"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let rates = results(r)
        #expect(rates.count == 1 && rates[0] > 0, "\(r.stdout)")
    }

    /// Programs that submit batches run on the software GPU: empty batches
    /// on every engine, blitter copies, relocations; each prints its rates.
    @Test(arguments: [["gem_exec_nop"], ["gem_blt", "-r", "1"], ["gem_exec_reloc", "-r", "1"]])
    func gpuExecutes(_ command: [String]) throws {
        let r = try igt(command[0], Array(command.dropFirst()))
        #expect(r.status == 0, "\(command): \(r.status)\n\(r.stdout)\(r.stderr)")
        #expect(!results(r).isEmpty, "\(r.stdout)")
    }

    /// Programs that need a display skip (exit 77) when libigt finds it
    /// missing; they never hang or crash.
    @Test(arguments: ["kms_vblank"])
    func displaySkips(_ program: String) throws {
        let r = try igt(program, [])
        #expect(r.status == 77, "\(program): \(r.status)\n\(r.stdout)\(r.stderr)")
    }
}

enum Igt {
    static let benchmarks = "/usr/libexec/igt-gpu-tools/benchmarks"
    static var preload: String {
        URL(fileURLWithPath: Harness.fakedrm).deletingLastPathComponent().appendingPathComponent("libfakedrm-preload.so").path
    }
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: benchmarks + "/gem_create")
            && FileManager.default.fileExists(atPath: preload)
    }
}
