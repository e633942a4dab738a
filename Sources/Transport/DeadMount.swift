import CFuse
#if canImport(Glibc)
import Glibc
#endif

/// A mount whose daemon died (SIGKILL, crash) stays in the mount table and
/// answers ENOTCONN until someone unmounts it. One of our own (file system
/// type fuse.fakedrm) can only be a dead fakedrm: the next `fakedrm mount`
/// on it detaches it instead of asking its user to.
public enum DeadMount {
    /// The mount's type as /proc/self/mountinfo has it, for a path that
    /// itself cannot be resolved (stat on it fails with ENOTCONN).
    public static func type(of path: String) -> String? {
        let slash = path.lastIndex(of: "/")
        let parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let real = realpath(parent, nil) else { return nil }
        defer { free(real) }
        let full = String(cString: real) == "/" ? "/" + name : String(cString: real) + "/" + name
        var buf = [CChar](repeating: 0, count: 256)
        guard cfuse_mount_type(full, &buf, buf.count) == 0 else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Detaches a dead fakedrm mount on `path`: umount2(MNT_DETACH) as root,
    /// else `fusermount3 -u -z`. Clients still holding its files keep
    /// getting ENOTCONN; the path is free at once. False if it is no
    /// fakedrm mount or could not be detached.
    public static func clear(_ path: String) -> Bool {
        guard type(of: path) == "fuse.fakedrm" else { return false }
        if umount2(path, Int32(MNT_DETACH)) == 0 { return true }
        var pid: pid_t = 0
        let args: [String] = ["fusermount3", "-u", "-z", path]
        let argv = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawnp(&pid, "fusermount3", nil, nil, argv, environ) == 0 else { return false }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status == 0
    }
}
