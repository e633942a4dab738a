#if canImport(Glibc)
import Glibc
#endif

/// Who may open what, as on a kernel's /dev/dri and debugfs, for a mount
/// other users can reach (`--allow-other`, which adds FUSE's
/// `default_permissions`: the kernel checks these modes against each
/// caller). The device nodes are owned by the daemon's user (root's nodes
/// on a kernel), with udev's modes and groups: card0 0660 `video`,
/// renderD128 0666 `render`. The debug tree is debugfs: a 0700 directory of
/// 0600 (written) and 0400 files, owned by the daemon's user.
public struct NodePermissions: Sendable, Equatable {
    public var primaryMode: mode_t = 0o660
    public var primaryGroup: gid_t
    public var renderMode: mode_t = 0o666
    public var renderGroup: gid_t

    /// udev's groups where the system has them, else the daemon's group.
    public init() {
        primaryGroup = Self.gid(named: "video") ?? getgid()
        renderGroup = Self.gid(named: "render") ?? primaryGroup
    }

    /// A group by name or number.
    public static func gid(named name: String) -> gid_t? {
        if let n = gid_t(name) { return n }
        guard let g = getgrnam(name) else { return nil }
        return g.pointee.gr_gid
    }
}
