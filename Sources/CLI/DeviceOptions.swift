import ArgumentParser
import CDrm
import FakeDRMDevice
import FakeDRMTransport
import FakeDRMUAPI
#if canImport(Glibc)
import Glibc
#endif

/// The device's shape and FUSE options, shared by every command that starts a daemon.
struct DeviceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("CPU-mappable part of the GGTT (bytes; K, M, G suffixes).", valueName: "size"),
            transform: parseSize)
    var apertureSize: UInt64 = DeviceProfile().apertureSize

    @Option(help: ArgumentHelp("Size of the whole GGTT (bytes; K, M, G suffixes).", valueName: "size"),
            transform: parseSize)
    var ggttSize: UInt64 = DeviceProfile().ggttSize

    @Option(help: "Number of fence registers (0 disables tiling: SET/GET_TILING give EOPNOTSUPP).")
    var fences: Int = DeviceProfile().fences

    @Option(help: ArgumentHelp("PCI device id reported as CHIPSET_ID (default 0x9a49, Tiger Lake GT2).",
                               valueName: "id"), transform: parseNumber)
    var chipsetId: UInt64 = UInt64(DeviceProfile().chipsetID)

    @Option(help: ArgumentHelp("Bit-6 swizzle of X and Y tiling, as X[,Y]: none, 9, 9_10, 9_11, 9_10_11 (default none, as gen8+; 9_10,9 is a gen6/7 dual-channel part). GET_TILING reports it and GTT views apply it.",
                               valueName: "x[,y]"), transform: parseSwizzle)
    var swizzle: [UInt32] = [DeviceProfile().swizzleX, DeviceProfile().swizzleY]

    @Option(help: ArgumentHelp("What the engines do with a batch: software (execute it on the software command streamer) or noop (validate, place, relocate and signal without executing a command, as Mesa's drm-shim).",
                               valueName: "mode"))
    var gpu: GpuMode = .software

    @Option(help: ArgumentHelp("Log every ioctl, fault, writeback and revocation to FILE (like strace, for the device).",
                               valueName: "file"))
    var trace: String?

    @Flag(help: "Let other users open the device (FUSE allow_other; needs user_allow_other in /etc/fuse.conf unless root). The kernel then checks each caller against the nodes' modes (default_permissions): --mode/--group for card0, --render-mode/--render-group for renderD128, and the debug tree is root's (0700).")
    var allowOther = false

    @Option(help: ArgumentHelp("card0's mode with --allow-other (octal; udev's default 0660).", valueName: "mode"),
            transform: parseMode)
    var mode: mode_t = NodePermissions().primaryMode

    @Option(help: ArgumentHelp("renderD128's mode with --allow-other (octal; udev's default 0666).", valueName: "mode"),
            transform: parseMode)
    var renderMode: mode_t = NodePermissions().renderMode

    @Option(help: ArgumentHelp("card0's group with --allow-other, a name or number (default: video, as udev, else the daemon's group).",
                               valueName: "group"))
    var group: String?

    @Option(help: ArgumentHelp("renderD128's group with --allow-other, a name or number (default: render, as udev, else --group's).",
                               valueName: "group"))
    var renderGroup: String?

    func validate() throws {
        guard apertureSize >= 1 << 20, apertureSize % 4096 == 0 else {
            throw ValidationError("--aperture-size must be a multiple of 4 KiB and at least 1 MiB")
        }
        guard ggttSize >= apertureSize, ggttSize % 4096 == 0 else {
            throw ValidationError("--ggtt-size must be a multiple of 4 KiB and at least --aperture-size")
        }
        guard (0...64).contains(fences) else { throw ValidationError("--fences must be between 0 and 64") }
        guard chipsetId <= 0xFFFF else { throw ValidationError("--chipset-id must fit in 16 bits") }
        for g in [group, renderGroup].compactMap({ $0 }) where NodePermissions.gid(named: g) == nil {
            throw ValidationError("no group \(g)")
        }
    }

    /// Owners and modes for other users, with --allow-other.
    var permissions: NodePermissions? {
        guard allowOther else { return nil }
        var p = NodePermissions()
        p.primaryMode = mode
        p.renderMode = renderMode
        if let group, let gid = NodePermissions.gid(named: group) {
            p.primaryGroup = gid
            if renderGroup == nil, NodePermissions.gid(named: "render") == nil { p.renderGroup = gid }
        }
        if let renderGroup, let gid = NodePermissions.gid(named: renderGroup) { p.renderGroup = gid }
        return p
    }

    /// The profile these options describe.
    var profile: DeviceProfile {
        var profile = DeviceProfile()
        profile.apertureSize = apertureSize
        profile.ggttSize = ggttSize
        profile.fences = fences
        profile.chipsetID = UInt16(chipsetId)
        profile.swizzleX = swizzle[0]
        profile.swizzleY = swizzle[1]
        profile.gpu = gpu
        return profile
    }

    /// The trace file, opened (and truncated) now: before the daemon
    /// changes directory, so a relative path means what its user meant.
    func openTrace() throws -> Trace? {
        guard let trace else { return nil }
        do { return try Trace(path: trace) } catch { throw ValidationError("--trace \(error)") }
    }

    /// Mount options for libfuse.
    var fuseOptions: [String] {
        var options = ["fsname=fakedrm", "subtype=fakedrm"]
        // Other users: the kernel checks them against each node's mode.
        if allowOther { options += ["allow_other", "default_permissions"] }
        return options
    }

    /// A daemon with these options, mounted on `mountpoint`: the one path
    /// `mount` and `run` share, so every option reaches both.
    func mountServer(at mountpoint: String) throws -> FuseServer {
        let server = FuseServer(profile: profile, trace: try openTrace(), permissions: permissions)
        do {
            try server.mount(at: mountpoint, options: fuseOptions)
        } catch {
            throw fail("\(error)")
        }
        return server
    }
}
extension GpuMode: ExpressibleByArgument {}
