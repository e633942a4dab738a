import CNamespace
#if canImport(Glibc)
import Glibc
#endif

/// The mount namespace `fakedrm run` gives its command: /dev/dri and
/// /sys/kernel/debug/dri/<minor> are the daemon's there, and no mount made in
/// it reaches the host's namespace.
enum PrivateMounts {
    static let devDri = "/dev/dri"
    static let debugfs = "/sys/kernel/debug"

    /// Enters a new mount namespace whose mounts are all private. A non-root
    /// caller enters a new user namespace too, as root in it (mapped to its
    /// own uid and gid): that is what lets it mount tmpfs, binds and FUSE
    /// (Linux 4.18+). Must run before any thread is started.
    static func enter() throws {
        let rootless = geteuid() != 0
        let uid = geteuid(), gid = getegid()
        let rc = cns_unshare(rootless ? 1 : 0)
        guard rc == 0 else {
            let why = String(cString: strerror(-rc))
            if rootless {
                throw fail("cannot create a user namespace (\(why)): run as root, or allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, or the AppArmor restriction kernel.apparmor_restrict_unprivileged_userns)")
            }
            throw fail("cannot create a mount namespace: \(why)")
        }
        if rootless {
            // setgroups must be denied before an unprivileged gid_map write.
            try write("deny", to: "/proc/self/setgroups")
            try write("0 \(uid) 1", to: "/proc/self/uid_map")
            try write("0 \(gid) 1", to: "/proc/self/gid_map")
        }
        guard mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
            throw fail("cannot make the namespace's mounts private: \(String(cString: strerror(errno)))")
        }
    }

    /// An empty /dev/dri of this namespace only. A host /dev/dri is simply
    /// covered by the mount that follows. Without one, /dev becomes a tmpfs
    /// holding a bind of every host /dev entry plus an empty dri, so nothing
    /// is ever created in the host's /dev.
    static func makeDevDri() throws {
        var st = stat()
        if stat(devDri, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { return }
        try rebuildDev()
        guard mkdir(devDri, 0o755) == 0 else { throw fail("cannot create \(devDri) in the namespace: \(String(cString: strerror(errno)))") }
    }

    /// Covers /dev with a tmpfs that carries the old entries over.
    private static func rebuildDev() throws {
        let lost = try cover("/dev", except: ["dri"], mode: 0o755, flags: UInt(MS_NOSUID))
        if !lost.isEmpty { warn("these /dev entries could not be carried into the namespace: \(lost.joined(separator: " "))") }
    }

    /// Covers `dir` with a tmpfs of this namespace that carries the old
    /// entries over (but `except`): files as binds, directories as recursive
    /// binds, symlinks copied. The old directory stays reachable through an
    /// open descriptor (/proc/self/fd/N/name resolves through the covered
    /// mount). Returns the names that could not be carried.
    static func cover(_ dir: String, except: Set<String> = [], mode: mode_t = 0o755, flags: UInt = 0) throws -> [String] {
        let old = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard old >= 0 else { throw fail("cannot open \(dir): \(String(cString: strerror(errno)))") }
        defer { close(old) }
        let entries = listDirectory(dir).filter { !except.contains($0) }
        guard mount("tmpfs", dir, "tmpfs", flags, "mode=" + String(mode, radix: 8)) == 0 else {
            throw fail("cannot mount a tmpfs on \(dir) in the namespace: \(String(cString: strerror(errno)))")
        }
        var lost: [String] = []
        for name in entries {
            let src = "/proc/self/fd/\(old)/\(name)", dst = "\(dir)/\(name)"
            var st = stat()
            guard lstat(src, &st) == 0 else { lost.append(name); continue }
            let ok: Bool
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(src, &target, target.count - 1)
                ok = n >= 0 && symlink(target, dst) == 0
            case S_IFDIR:
                ok = mkdir(dst, st.st_mode & 0o7777) == 0 && mount(src, dst, nil, UInt(MS_BIND | MS_REC), nil) == 0
            default:
                let fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
                if fd >= 0 { close(fd) }
                ok = fd >= 0 && mount(src, dst, nil, UInt(MS_BIND), nil) == 0
            }
            if !ok { lost.append(name) }
        }
        return lost
    }

    /// /sys/kernel/debug as a tmpfs of this namespace (libigt requires it to
    /// be a mount point) with dri/0 and dri/128 bound to the daemon's debug
    /// directory, as the kernel has one per minor. Without a
    /// /sys/kernel/debug to cover it only says so: COMMAND still runs.
    static func mountDebugTree(_ debugDirectory: String) {
        var st = stat()
        guard stat(debugfs, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            warn("no \(debugfs) here (a kernel without debugfs): the debug tree is only at \(debugDirectory)")
            return
        }
        guard mount("tmpfs", debugfs, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=700") == 0 else {
            warn("cannot mount a tmpfs on \(debugfs) (\(String(cString: strerror(errno)))): the debug tree is only at \(debugDirectory)")
            return
        }
        _ = mkdir(debugfs + "/dri", 0o755)
        for minor in [0, 128] {
            let dir = "\(debugfs)/dri/\(minor)"
            guard mkdir(dir, 0o755) == 0, mount(debugDirectory, dir, nil, UInt(MS_BIND), nil) == 0 else {
                warn("cannot bind \(debugDirectory) on \(dir): \(String(cString: strerror(errno)))")
                return
            }
        }
    }

    /// sw_sync where IGT looks for it (/sys/kernel/debug/sync/sw_sync): the
    /// mount's timeline file bound there (strict mode: its fences are fds
    /// the preload library makes). Call after mountDebugTree.
    static func mountSwSync(_ file: String) {
        let dir = debugfs + "/sync", target = dir + "/sw_sync"
        _ = mkdir(dir, 0o755)
        let fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0o666)
        if fd >= 0 { close(fd) }
        guard fd >= 0, mount(file, target, nil, UInt(MS_BIND), nil) == 0 else {
            warn("cannot bind \(file) on \(target): \(String(cString: strerror(errno)))")
            return
        }
    }

    /// Detaches the debug tree (its binds pin the FUSE mount).
    static func unmountDebugTree() {
        _ = umount2(debugfs, Int32(MNT_DETACH))
    }

    static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        var bytes = Array(text.utf8)
        guard fd >= 0, Glibc.write(fd, &bytes, bytes.count) == bytes.count else {
            let why = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw fail("cannot write '\(text)' to \(path): \(why)")
        }
        close(fd)
    }
}

/// Prints `fakedrm: warning: message`.
func warn(_ message: String) {
    var line = Array("fakedrm: warning: \(message)\n".utf8)
    _ = write(2, &line, line.count)
}
