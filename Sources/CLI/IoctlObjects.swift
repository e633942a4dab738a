import ArgumentParser
import CDrm
import FakeDRMDevice

/// Object lifetime and naming: create, flink, open, close, readonly.
struct IoctlCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "GEM_CREATE: a new object; prints its handle.")
    @ParentCommand var ioctl: Ioctl
    @Argument(help: "Size in bytes (K, M, G suffixes), rounded up to 4 KiB.", transform: parseSize) var size: UInt64

    func run() throws {
        var c = drm_i915_gem_create()
        c.size = size
        try ioctl.call("GEM_CREATE", FDRM_IOCTL_I915_GEM_CREATE, &c)
        ioctl.json ? ioctl.emit(["handle": c.handle, "size": c.size]) : ioctl.emit(["handle": c.handle])
    }
}

struct IoctlFlink: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flink", abstract: "GEM_FLINK: a global name for the object; prints it.")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle

    func run() throws {
        var f = drm_gem_flink()
        f.handle = handle
        try ioctl.call("GEM_FLINK", FDRM_IOCTL_GEM_FLINK, &f)
        ioctl.emit(["name": f.name])
    }
}

struct IoctlOpen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "GEM_OPEN: a handle on a flinked object; prints handle and size.")
    @ParentCommand var ioctl: Ioctl
    @Argument(help: "A name from flink.") var name: UInt32

    func run() throws {
        var o = drm_gem_open()
        o.name = name
        try ioctl.call("GEM_OPEN", FDRM_IOCTL_GEM_OPEN, &o)
        ioctl.emit(["handle": o.handle, "size": o.size])
    }
}

struct IoctlClose: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close", abstract: "GEM_CLOSE: drop a handle.")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle

    func run() throws {
        var c = drm_gem_close()
        c.handle = handle
        try ioctl.call("GEM_CLOSE", FDRM_IOCTL_GEM_CLOSE, &c)
    }
}

struct IoctlReadonly: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readonly", abstract: "FAKEDRM_GEM_SET_READONLY: make the object readonly, for good.")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle

    func run() throws {
        var r = drm_fakedrm_gem_set_readonly()
        r.handle = handle
        try ioctl.call("FAKEDRM_GEM_SET_READONLY", FDRM_IOCTL_FAKEDRM_GEM_SET_READONLY, &r)
    }
}

/// The view an mmap-offset asks for.
enum MmapView: String, ExpressibleByArgument, CaseIterable {
    case gtt, wc, wb, uc
}

struct IoctlMmapOffset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmap-offset",
        abstract: "MMAP_GTT (gtt) or MMAP_OFFSET (wc, wb, uc): allow this open on the object's node; prints the fake offset.",
        discussion: "Reads of the descriptor at that offset are then served like page faults (xxd -s OFFSET <&N).")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle
    @Option(help: "The view: gtt (through the aperture, detiled), wc, wb or uc.") var type: MmapView = .gtt

    func run() throws {
        if type == .gtt {
            var m = drm_i915_gem_mmap_gtt()
            m.handle = handle
            try ioctl.call("GEM_MMAP_GTT", FDRM_IOCTL_I915_GEM_MMAP_GTT, &m)
            return ioctl.emit(["offset": m.offset])
        }
        var m = drm_i915_gem_mmap_offset()
        m.handle = handle
        m.flags = UInt64(type == .wc ? I915_MMAP_OFFSET_WC : type == .wb ? I915_MMAP_OFFSET_WB : I915_MMAP_OFFSET_UC)
        try ioctl.call("GEM_MMAP_OFFSET", FDRM_IOCTL_I915_GEM_MMAP_OFFSET, &m)
        ioctl.emit(["offset": m.offset])
    }
}
