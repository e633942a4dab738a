import ArgumentParser
import CDrm

/// Fence tiling: set-tiling and get-tiling, with modes as words.
enum TilingMode: String, ExpressibleByArgument, CaseIterable {
    case none, x, y

    var value: UInt32 { UInt32(self == .x ? I915_TILING_X : self == .y ? I915_TILING_Y : I915_TILING_NONE) }
    static func name(_ v: UInt32) -> String { allCases.first { $0.value == v }?.rawValue ?? "\(v)" }
}

/// I915_BIT_6_SWIZZLE_* as the names `mount --swizzle` takes.
func swizzleName(_ v: UInt32) -> String {
    ["none", "9", "9_10", "9_11", "9_10_11", "unknown", "9_17", "9_10_17"][safe: Int(v)] ?? "\(v)"
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

struct IoctlSetTiling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-tiling",
        abstract: "SET_TILING: prints the object's tiling, stride and swizzle afterwards.")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle
    @Argument(help: "none, x or y.") var mode: TilingMode
    @Argument(help: "Row pitch in bytes (default: one tile, 512 for x, 128 for y).") var stride: UInt32?

    func run() throws {
        var t = drm_i915_gem_set_tiling()
        t.handle = handle
        t.tiling_mode = mode.value
        t.stride = stride ?? (mode == .x ? 512 : mode == .y ? 128 : 0)
        try ioctl.call("GEM_SET_TILING", FDRM_IOCTL_I915_GEM_SET_TILING, &t)
        ioctl.emit(["tiling": TilingMode.name(t.tiling_mode), "stride": t.stride, "swizzle": swizzleName(t.swizzle_mode)])
    }
}

struct IoctlGetTiling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-tiling", abstract: "GET_TILING: prints the object's tiling and swizzle.")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle

    func run() throws {
        var t = drm_i915_gem_get_tiling()
        t.handle = handle
        try ioctl.call("GEM_GET_TILING", FDRM_IOCTL_I915_GEM_GET_TILING, &t)
        ioctl.emit(["tiling": TilingMode.name(t.tiling_mode), "swizzle": swizzleName(t.swizzle_mode)])
    }
}
