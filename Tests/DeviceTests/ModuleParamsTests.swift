import CDrm
import Testing
@testable import FakeDRMDevice

/// i915_params: kstrto*() parsing, formats, and what `reset` changes.
@Suite struct ModuleParamsTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func integersParseAsKstrtoint() throws {
        #expect(try ModuleParams.parse(bytes("12\n"), as: .int) == .int(12))
        #expect(try ModuleParams.parse(bytes("-1"), as: .int) == .int(-1))
        #expect(try ModuleParams.parse(bytes("+7"), as: .int) == .int(7))
        #expect(try ModuleParams.parse(bytes("0x1f"), as: .int) == .int(31))
        #expect(try ModuleParams.parse(bytes("010"), as: .int) == .int(8))
        #expect(try ModuleParams.parse(bytes("-2147483648"), as: .int) == .int(Int32.min))
        #expect(throws: DrmError.ERANGE) { try ModuleParams.parse(self.bytes("2147483648"), as: .int) }
        #expect(throws: DrmError.EINVAL) { try ModuleParams.parse(self.bytes(""), as: .int) }
        #expect(throws: DrmError.EINVAL) { try ModuleParams.parse(self.bytes(" 1"), as: .int) }
        #expect(throws: DrmError.EINVAL) { try ModuleParams.kstrtoint(self.bytes("1\n\n")) }
        #expect(throws: DrmError.EINVAL) { try ModuleParams.kstrtoint(self.bytes("08")) }
        #expect(throws: DrmError.EINVAL) { try ModuleParams.kstrtoint(self.bytes("-+1")) }
        // i915_param_int_write: "support boolean values too", so junk after
        // a leading 0/1/y/n still parses, as a bool.
        #expect(try ModuleParams.parse(bytes("Y"), as: .int) == .int(1))
        #expect(try ModuleParams.parse(bytes("08"), as: .int) == .int(0))
    }

    @Test func unsignedRefusesNegativeAndOverflow() throws {
        #expect(try ModuleParams.parse(bytes("4294967295\n"), as: .uint) == .uint(UInt32.max))
        #expect(throws: DrmError.ERANGE) { try ModuleParams.parse(self.bytes("4294967296"), as: .uint) }
        #expect(throws: DrmError.ERANGE) { try ModuleParams.parse(self.bytes("99999999999999999999999"), as: .uint) }
        #expect(throws: DrmError.EINVAL) { try ModuleParams.parse(self.bytes("-1"), as: .uint) }
        #expect(try ModuleParams.parse(bytes("off"), as: .uint) == .uint(0))
    }

    @Test func boolsParseAsKstrtobool() throws {
        for t in ["y", "Y\n", "1", "true", "on", "ON"] { #expect(try ModuleParams.parse(bytes(t), as: .bool) == .bool(true)) }
        for f in ["n", "N", "0", "false", "off", "oF"] { #expect(try ModuleParams.parse(bytes(f), as: .bool) == .bool(false)) }
        for bad in ["", "o", "2", "maybe"] {
            #expect(throws: DrmError.EINVAL) { try ModuleParams.parse(self.bytes(bad), as: .bool) }
        }
    }

    @Test func filesShowTheKernelsFormats() throws {
        let p = ModuleParams()
        #expect(p.text("reset") == "3\n")
        #expect(p.text("modeset") == "-1\n")
        #expect(p.text("enable_hangcheck") == "Y\n")
        #expect(p.text("guc_firmware_path") == "(null)\n")
        #expect(p.text("no_such_param") == nil)
        try p.write("enable_hangcheck", bytes("0\n"))
        #expect(p.text("enable_hangcheck") == "N\n")
        #expect(throws: DrmError.EACCES) { try p.write("modeset", self.bytes("1")) }
        #expect(throws: DrmError.EINVAL) { try p.write("reset", self.bytes("x")) }
        #expect(p.text("reset") == "3\n")
    }

    @Test func resetParamDecidesHasGpuResetAndWhatAResetDoes() throws {
        let dev = DrmDevice()
        #expect(try dev.getParam(I915_PARAM_HAS_GPU_RESET) == 2)
        // Engine resets: no full reset, nothing wedged.
        dev.handleError(engineMask: 1)
        #expect(dev.debugText(.gtt).contains("resets 0"))
        try dev.params.write("reset", bytes("1"))
        #expect(try dev.getParam(I915_PARAM_HAS_GPU_RESET) == 1)
        dev.handleError(engineMask: 1)
        #expect(dev.debugText(.gtt).contains("resets 1"))
        try dev.params.write("reset", bytes("0"))
        #expect(try dev.getParam(I915_PARAM_HAS_GPU_RESET) == 0)
        dev.handleError(engineMask: 0)
        #expect(!dev.isWedged)
        dev.handleError(engineMask: ~0)
        #expect(dev.isWedged && dev.debugText(.wedged) == "1\n")
        #expect(throws: DrmError.EIO) { try dev.throttle() }
        #expect(dev.debugText(.gtt).contains("resets 1"))
        // A wedged GT takes a full reset even when engine resets are allowed.
        try dev.params.write("reset", bytes("3"))
        dev.handleError(engineMask: 1)
        #expect(!dev.isWedged && dev.debugText(.wedged) == "0\n")
        #expect(dev.debugText(.gtt).contains("resets 2"))
        try dev.throttle()
    }
}
