import ArgumentParser
import CDrm
import FakeDRMDevice

/// Device-wide queries and the simulated reset.
struct IoctlGetParam: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "getparam", abstract: "I915_GETPARAM: prints the value.",
        discussion: "PARAM is a number or one of: " + IoctlGetParam.names.map { $0.0 }.joined(separator: ", ") + ".")
    @ParentCommand var ioctl: Ioctl
    @Argument(help: "I915_PARAM_* name (without the prefix) or number.") var param: String

    static let names: [(String, Int32)] = [
        ("CHIPSET_ID", I915_PARAM_CHIPSET_ID), ("HAS_GEM", I915_PARAM_HAS_GEM),
        ("NUM_FENCES_AVAIL", I915_PARAM_NUM_FENCES_AVAIL), ("HAS_LLC", I915_PARAM_HAS_LLC),
        ("HAS_ALIASING_PPGTT", I915_PARAM_HAS_ALIASING_PPGTT), ("MMAP_VERSION", I915_PARAM_MMAP_VERSION),
        ("REVISION", I915_PARAM_REVISION), ("MMAP_GTT_VERSION", I915_PARAM_MMAP_GTT_VERSION),
        ("MMAP_GTT_COHERENT", I915_PARAM_MMAP_GTT_COHERENT),
    ]

    func run() throws {
        let key = param.uppercased().replacingPrefix("I915_PARAM_")
        guard let number = Self.names.first(where: { $0.0 == key })?.1 ?? Int32(param) else {
            throw ValidationError("unknown parameter '\(param)'")
        }
        var value: Int32 = 0
        var g = drm_i915_getparam()
        g.param = number
        try withUnsafeMutablePointer(to: &value) { v in
            g.value = v
            try ioctl.call("GETPARAM", FDRM_IOCTL_I915_GETPARAM, &g)
        }
        ioctl.emit(["value": value])
    }
}

struct IoctlVersion: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "VERSION: prints driver name, version, date and description.")
    @ParentCommand var ioctl: Ioctl

    func run() throws {
        var v = drm_version()
        try ioctl.call("VERSION", FDRM_IOCTL_VERSION, &v) // lengths first, as libdrm does
        var name = [CChar](repeating: 0, count: Int(v.name_len) + 1)
        var date = [CChar](repeating: 0, count: Int(v.date_len) + 1)
        var desc = [CChar](repeating: 0, count: Int(v.desc_len) + 1)
        try name.withUnsafeMutableBufferPointer { n in
            try date.withUnsafeMutableBufferPointer { d in
                try desc.withUnsafeMutableBufferPointer { s in
                    (v.name, v.date, v.desc) = (n.baseAddress, d.baseAddress, s.baseAddress)
                    try ioctl.call("VERSION", FDRM_IOCTL_VERSION, &v)
                }
            }
        }
        let str = { (b: [CChar]) in String(decoding: b.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        ioctl.emit(["name": str(name), "version": "\(v.version_major).\(v.version_minor).\(v.version_patchlevel)",
                    "date": str(date), "desc": str(desc)])
    }
}

struct IoctlReset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset", abstract: "FAKEDRM_GPU_RESET: a simulated GPU reset (revokes fenced GTT mappings).")
    @ParentCommand var ioctl: Ioctl

    func run() throws {
        var none: UInt8 = 0
        try ioctl.call("FAKEDRM_GPU_RESET", FDRM_IOCTL_FAKEDRM_GPU_RESET, &none)
    }
}

extension String {
    func replacingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
