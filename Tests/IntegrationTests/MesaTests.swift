import Foundation
import Testing

/// Unmodified Mesa under `fakedrm run --strict`: iris makes a GLES context,
/// clears an FBO, finishes and reads back (syncobjs in every submission);
/// anv creates a Vulkan device; Intel's OpenCL runtime (NEO) finds its GPU.
/// Skipped where Mesa's drivers or the EGL/GLES
/// development files are not installed (.ci/run installs them).
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct MesaTests {
    static let dri = "/usr/lib/x86_64-linux-gnu/dri/iris_dri.so"
    static let anv = "/usr/lib/x86_64-linux-gnu/libvulkan_intel.so"
    static var hasIris: Bool {
        FileManager.default.fileExists(atPath: dri)
            && ((try? Harness.run(["pkg-config", "--exists", "egl", "glesv2"], timeout: 30))?.status == 0)
    }
    static var hasAnv: Bool {
        FileManager.default.fileExists(atPath: anv) && FileManager.default.isExecutableFile(atPath: "/usr/bin/vulkaninfo")
    }

    @Test(.enabled(if: MesaTests.hasIris, "Mesa's iris (libgl1-mesa-dri) or libegl-dev/libgles-dev not installed"))
    func glClearOnIris() throws {
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-glclear-\(getpid())").path
        defer { unlink(bin) }
        let src = Harness.root.appendingPathComponent("conformance/mesa/glclear.c").path
        let cc = try Harness.run(["gcc", "-O1", "-o", bin, src, "-lEGL", "-lGLESv2"], timeout: 120)
        #expect(cc.status == 0, "\(cc.stdout)\(cc.stderr)")
        let r = try Harness.run([Harness.fakedrm, "run", "--strict", "--", "sh", "-c",
                                 "\(bin) && cat /sys/kernel/debug/dri/0/i915_engine_info"], timeout: 120)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("renderer: Mesa Intel(R) Xe Graphics (TGL GT2)"), "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("fb status 8cd5") && r.stdout.contains("gl error 0"), "\(r.stdout)")
        // Every batch iris submitted completed: no hang, no ban.
        #expect(r.stdout.contains(" hangs 0"), "\(r.stdout)")
        #expect(!r.stderr.contains("failed to signal syncobj"), "\(r.stderr)")
    }

    /// Shader-db style: iris compiles and links a GLSL ES 3 program (a loop,
    /// a texture) with the shader cache off and INTEL_DEBUG=fs, draws with it
    /// and finishes; the backend's statistics show the compile ran to the end.
    @Test(.enabled(if: MesaTests.hasIris, "Mesa's iris (libgl1-mesa-dri) or libegl-dev/libgles-dev not installed"))
    func glslCompileOnIris() throws {
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-shader-\(getpid())").path
        defer { unlink(bin) }
        let src = Harness.root.appendingPathComponent("conformance/mesa/shader.c").path
        let cc = try Harness.run(["gcc", "-O1", "-o", bin, src, "-lEGL", "-lGLESv2"], timeout: 120)
        #expect(cc.status == 0, "\(cc.stdout)\(cc.stderr)")
        let r = try Harness.run([Harness.fakedrm, "run", "--strict", "--", "env", "MESA_SHADER_CACHE_DISABLE=true",
                                 "INTEL_DEBUG=fs", "sh", "-c", "\(bin) && cat /sys/kernel/debug/dri/0/i915_engine_info"],
                                timeout: 300)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("program linked: yes") && r.stdout.contains("drawn, gl error 0"), "\(r.stdout)")
        let out = r.stdout + r.stderr
        #expect(out.contains("SIMD8 shader: ") && out.contains(" instructions. 1 loops."), "\(out)")
        #expect(r.stdout.contains(" hangs 0"), "\(r.stdout)")
    }

    @Test(.enabled(if: MesaTests.hasAnv, "Mesa's anv (mesa-vulkan-drivers) or vulkaninfo (vulkan-tools) not installed"))
    func vulkanDeviceOnAnv() throws {
        let r = try Harness.run([Harness.fakedrm, "run", "--strict", "--", "vulkaninfo"], timeout: 300)
        #expect(r.status == 0, "\(r.stdout.suffix(2000))\(r.stderr.suffix(2000))")
        #expect(r.stdout.contains("Intel(R) Xe Graphics (TGL GT2)"), "\(r.stdout.prefix(2000))")
        #expect(!r.stderr.contains("DEVICE_LOST"), "\(r.stderr.suffix(2000))")
    }

    static let neo = "/usr/lib/x86_64-linux-gnu/intel-opencl/libigdrcl.so"
    static var hasNeo: Bool {
        FileManager.default.fileExists(atPath: neo) && FileManager.default.isExecutableFile(atPath: "/usr/bin/clinfo")
    }

    /// NEO probes USERPTR, then sets ENGINES on a context it created: a
    /// proto-context until first used, as on gen12 (it aborted at both before).
    @Test(.enabled(if: MesaTests.hasNeo, "Intel's OpenCL runtime (intel-opencl-icd) or clinfo not installed"))
    func openCLDeviceOnNeo() throws {
        let r = try Harness.run([Harness.fakedrm, "run", "--strict", "--", "clinfo"], timeout: 300)
        #expect(r.status == 0, "\(r.stdout.suffix(2000))\(r.stderr.suffix(2000))")
        #expect(r.stdout.contains("Intel(R) Iris(R) Xe Graphics [0x9a49]"), "\(r.stdout.prefix(2000))")
    }
}
