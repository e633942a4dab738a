import Foundation
import Testing

/// Every C example (an adapted IGT-style test) against one live mount.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct ExampleTests {
    static let mount = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in try Mounted() }

    static let examples = ["gem_basic", "mmap_types", "isolation", "close_survives", "readonly", "coherency",
                           "errno_table", "close_race", "device_info", "client_death", "module_params",
                           "hostile_inputs", "partial_mmap", "gpu_store", "gpu_spin", "gpu_blit", "gpu_reloc",
                           "gpu_errno", "coherency_views", "refused_writeback", "sync_fence", "prime_share",
                           "syncobj_basic", "syncobj_exec", "syncobj_fd", "userptr", "gpu_trace", "gpu_interrupt"]

    @Test(arguments: examples)
    func example(_ name: String) throws {
        #expect(Harness.examplesBuilt)
        let m = try Self.mount.get()
        let r = try Harness.run([Harness.example(name), m.device], timeout: 60)
        #expect(r.status == 0, "\(name) failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS \(name)"), "\(r.stdout)")
    }

    /// The runner script a person uses prints the plain closing line.
    @Test func runAll() throws {
        #expect(Harness.examplesBuilt)
        let m = try Self.mount.get()
        let r = try Harness.run([Harness.root.appendingPathComponent("examples/run_all.sh").path, m.device], timeout: 300)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("\(Self.examples.count) passed, 0 failed") || r.stdout.contains(" passed, 0 failed"))
    }
}
