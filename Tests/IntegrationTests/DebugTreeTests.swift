import Foundation
import Testing

/// The debugfs-like tree a person greps: MOUNT/debug/*.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct DebugTreeTests {
    func read(_ m: Mounted, _ name: String) throws -> String {
        try String(contentsOfFile: m.dir + "/debug/" + name, encoding: .utf8)
    }

    @Test func filesDescribeTheDevice() throws {
        let m = try Mounted()
        let listing = try FileManager.default.contentsOfDirectory(atPath: m.dir + "/debug").sorted()
        #expect(listing == ["clients", "exhaust_aperture", "exhaust_fences", "fail_faults", "fail_ioctl",
                            "i915_engine_info", "i915_gem_drop_caches", "i915_gem_fence_regs", "i915_gem_gtt",
                            "i915_gem_objects", "i915_wedged", "name"])
        #expect(try read(m, "name").hasPrefix("i915 dev=0000:00:02.0"))
        #expect(try read(m, "i915_gem_fence_regs").hasPrefix("Total fences = 32"))
        #expect(try read(m, "i915_gem_drop_caches") == "0x000003ff\n")
        #expect(try read(m, "i915_gem_objects").hasPrefix("0 objects, 0 bytes"))
        #expect(try read(m, "i915_engine_info").hasPrefix("rcs0: class 0 instance 0 mmio 0x2000 queued 0 idle\n"))
    }

    @Test func stateFollowsAClient() throws {
        let m = try Mounted()
        // gem_basic leaves nothing behind: its objects are reclaimed on close.
        #expect(try Harness.run([Harness.example("gem_basic"), m.device]).status == 0)
        #expect(try read(m, "i915_gem_objects").hasPrefix("0 objects, 0 bytes"))
        #expect(try read(m, "i915_gem_gtt").contains("binds 1,"))
    }

    @Test func wedgedResetsAndBadInputIsRefused() throws {
        let m = try Mounted()
        #expect(try Harness.run(["sh", "-c", "echo 1 > \(m.dir)/debug/i915_wedged"]).status == 0)
        #expect(try read(m, "i915_gem_gtt").contains("resets 1"))
        #expect(try Harness.run(["sh", "-c", "echo nonsense > \(m.dir)/debug/i915_wedged"]).status != 0)
        #expect(try Harness.run(["sh", "-c", "echo 1 > \(m.dir)/debug/clients"]).status != 0)
        #expect(try Harness.run(["sh", "-c", "echo 0x3ff > \(m.dir)/debug/i915_gem_drop_caches"]).status == 0)
    }
}
