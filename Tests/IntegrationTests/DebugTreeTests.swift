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
        #expect(listing == ["clients", "engine", "exhaust_aperture", "exhaust_fences", "fail_faults", "fail_ioctl", "fakedrm_pool",
                            "i915_engine_info", "i915_gem_drop_caches", "i915_gem_fence_regs", "i915_gem_gtt",
                            "i915_gem_objects", "i915_gpu_error", "i915_params", "i915_swizzle_info", "i915_wedged", "name"])
        // sysfs card0/engine's tree, as run binds it.
        let engines = try FileManager.default.contentsOfDirectory(atPath: m.dir + "/debug/engine").sorted()
        #expect(engines == ["bcs0", "rcs0", "vcs0", "vcs1", "vecs0"])
        let rcs0 = try FileManager.default.contentsOfDirectory(atPath: m.dir + "/debug/engine/rcs0").sorted()
        #expect(rcs0 == [".defaults", "class", "heartbeat_interval_ms", "instance", "max_busywait_duration_ns", "mmio_base",
                         "name", "preempt_timeout_ms", "stop_timeout_ms", "timeslice_duration_ms"])
        #expect(try read(m, "engine/vcs1/mmio_base") == "0x1d0000\n")
        #expect(try read(m, "engine/rcs0/.defaults/heartbeat_interval_ms") == "2500\n")
        #expect(try read(m, "i915_gpu_error") == "No error state collected\n")
        #expect(try read(m, "name").hasPrefix("i915 dev=0000:00:02.0"))
        #expect(try read(m, "i915_gem_fence_regs").hasPrefix("Total fences = 32"))
        #expect(try read(m, "i915_gem_drop_caches") == "0x000003ff\n")
        #expect(try read(m, "i915_swizzle_info") == "bit6 swizzle for X-tiling = none\nbit6 swizzle for Y-tiling = none\n")
        #expect(try read(m, "i915_gem_objects").hasPrefix("0 objects, 0 bytes"))
        #expect(try read(m, "i915_engine_info").hasPrefix("rcs0: class 0 instance 0 mmio 0x2000 queued 0 idle\n"))
        let pool = try read(m, "fakedrm_pool")
        #expect(pool.hasPrefix("readers: ") && pool.contains("\nrequests: ") && pool.contains("\nmanager looks: "), "\(pool)")
        #expect(open(m.dir + "/debug/fakedrm_pool", O_WRONLY) == -1 && errno == EACCES)
    }

    @Test func stateFollowsAClient() throws {
        let m = try Mounted()
        // gem_basic leaves nothing behind: its objects are reclaimed on close.
        #expect(try Harness.run([Harness.conformance("gem_basic"), m.device]).status == 0)
        #expect(try read(m, "i915_gem_objects").hasPrefix("0 objects, 0 bytes"))
        #expect(try read(m, "i915_gem_gtt").contains("binds 1,"))
    }

    @Test func wedgedResetsAndBadInputIsRefused() throws {
        let m = try Mounted()
        // reset=3 (the default): engine resets only, no full reset.
        #expect(try Harness.run(["sh", "-c", "echo 1 > \(m.dir)/debug/i915_wedged"]).status == 0)
        #expect(try read(m, "i915_gem_gtt").contains("resets 0"))
        // reset=1: a full GT reset.
        #expect(try Harness.run(["sh", "-c", "echo 1 > \(m.dir)/debug/i915_params/reset && echo 1 > \(m.dir)/debug/i915_wedged"]).status == 0)
        #expect(try read(m, "i915_gem_gtt").contains("resets 1"))
        #expect(try read(m, "i915_wedged") == "0\n")
        // reset=0: no reset method, the GT wedges; a later full reset unwedges it.
        #expect(try Harness.run(["sh", "-c", "echo 0 > \(m.dir)/debug/i915_params/reset && echo 18446744073709551615 > \(m.dir)/debug/i915_wedged"]).status == 0)
        #expect(try read(m, "i915_wedged") == "1\n")
        #expect(try read(m, "i915_gem_gtt").contains("resets 1"))
        #expect(try Harness.run(["sh", "-c", "echo 2 > \(m.dir)/debug/i915_params/reset && echo 1 > \(m.dir)/debug/i915_wedged"]).status == 0)
        #expect(try read(m, "i915_wedged") == "0\n")
        #expect(try read(m, "i915_gem_gtt").contains("resets 2"))
        #expect(try Harness.run(["sh", "-c", "echo -1 > \(m.dir)/debug/i915_wedged"]).status != 0)
        #expect(try Harness.run(["sh", "-c", "echo nonsense > \(m.dir)/debug/i915_wedged"]).status != 0)
        #expect(try Harness.run(["sh", "-c", "echo 1 > \(m.dir)/debug/clients"]).status != 0)
        #expect(try Harness.run(["sh", "-c", "echo 0x3ff > \(m.dir)/debug/i915_gem_drop_caches"]).status == 0)
    }

    /// debug/i915_params: the kernel's files, modes and formats; writes
    /// parse as kstrto*() do.
    @Test func moduleParams() throws {
        let m = try Mounted()
        let dir = m.dir + "/debug/i915_params"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names.contains("reset") && names.contains("enable_hangcheck") && names.contains("enable_guc"))
        func param(_ n: String) throws -> String { try String(contentsOfFile: dir + "/" + n, encoding: .utf8) }
        #expect(try param("reset") == "3\n")
        #expect(try param("enable_hangcheck") == "Y\n")
        #expect(try param("guc_firmware_path") == "(null)\n")
        var st = stat()
        #expect(stat(dir + "/reset", &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(dir + "/modeset", &st) == 0 && st.st_mode & 0o777 == 0o400)
        let r = try Harness.run(["bash", "-c", """
            cd \(dir)
            echo 4294967295 > reset && cat reset
            printf 0x10 > reset && cat reset
            echo off > enable_hangcheck && cat enable_hangcheck
            echo -1 > reset || echo refused-negative
            echo 4294967296 > reset || echo refused-range
            echo x1 > reset || echo refused-junk
            echo maybe > enable_hangcheck || echo refused-bool
            echo 1 > modeset || echo refused-readonly
            cat reset modeset
            """])
        #expect(r.stdout == "4294967295\n16\nN\nrefused-negative\nrefused-range\nrefused-junk\nrefused-bool\nrefused-readonly\n16\n-1\n",
                "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("Invalid argument") && r.stderr.contains("Numerical result out of range")
                && r.stderr.contains("Permission denied"), "\(r.stderr)")
    }
}
