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
    /// The hardware: --profile FILE and the options that change it.
    @OptionGroup(title: "Device profile") var hardware: ProfileOptions

    @Option(help: ArgumentHelp("Log every ioctl, fault, writeback and revocation to FILE (like strace, for the device).",
                               valueName: "file"))
    var trace: String?

    @Flag(help: "With --trace: also log each command the engines execute (decoded: MI_STORE_DWORD_IMM addr=... value=..., XY_SRC_COPY_BLT src=... dst=... WxH) or skip (render, compute and media state: \"skipped (not executed)\"), as lines `CMD ENGINE ctx=N seqno=N ADDRESS: ...` between each request's start and completed/hung line. A looping batch (a spinner) is traced once per loop.")
    var traceCommands = false

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
        if traceCommands, trace == nil { throw ValidationError("--trace-commands writes into the --trace file: give --trace FILE too") }
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

    /// The profile these options describe (validated when parsed).
    var profile: DeviceProfile { (try? hardware.resolved()) ?? DeviceProfile() }

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
        let server = FuseServer(profile: try hardware.resolved(), trace: try openTrace(), traceCommands: traceCommands,
                                permissions: permissions)
        do {
            try server.mount(at: mountpoint, options: fuseOptions)
        } catch {
            throw fail("\(error)")
        }
        return server
    }
}
