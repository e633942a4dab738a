import Foundation
import Testing

/// The C conformance suite (conformance/: IGT-style programs, each checking
/// one area against the kernel's behaviour) against one live mount.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct ConformanceTests {
    static let mount = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in try Mounted() }

    static let programs = ["gem_basic", "mmap_types", "isolation", "close_survives", "readonly", "coherency",
                           "errno_table", "close_race", "device_info", "client_death", "module_params",
                           "hostile_inputs", "partial_mmap", "gpu_store", "gpu_spin", "gpu_blit", "gpu_reloc",
                           "gpu_errno", "coherency_views", "refused_writeback", "sync_fence", "prime_share",
                           "syncobj_basic", "syncobj_exec", "syncobj_fd", "syncobj_eventfd", "userptr", "gpu_trace", "gpu_predicate", "gpu_interrupt", "gpu_timeslice",
                           "reloc_shared_page", "gpu_vm", "gpu_reset", "gpu_priority"]

    @Test(arguments: programs)
    func program(_ name: String) throws {
        #expect(Harness.conformanceBuilt)
        let m = try Self.mount.get()
        let r = try Harness.run([Harness.conformance(name), m.device], timeout: 60)
        #expect(r.status == 0, "\(name) failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS \(name)"), "\(r.stdout)")
    }

    /// The short programs in examples/ work as their comments say.
    @Test func examplesRun() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Self.mount.get()
        let gem = try Harness.run([Harness.example("hello_gem"), m.device])
        #expect(gem.status == 0 && gem.stdout.contains("reads back: \"hello from a GEM object\""), "\(gem.stdout)\(gem.stderr)")
        let gpu = try Harness.run([Harness.example("hello_gpu"), m.device])
        #expect(gpu.status == 0 && gpu.stdout.contains("stored 0xC0FFEE"), "\(gpu.stdout)\(gpu.stderr)")
    }

    /// The runner script a person uses prints the plain closing line.
    @Test func runAll() throws {
        #expect(Harness.conformanceBuilt)
        let m = try Self.mount.get()
        let r = try Harness.run([Harness.root.appendingPathComponent("conformance/run_all.sh").path, m.device], timeout: 300)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("\(Self.programs.count) passed, 0 failed") || r.stdout.contains(" passed, 0 failed"))
    }
}
