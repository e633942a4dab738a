import ArgumentParser
import CDrm
import FakeDRMDevice
import FakeDRMTransport
import FakeDRMUAPI
#if canImport(Glibc)
import Glibc
#endif

struct Mount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mount an emulated i915 device on MOUNTPOINT.",
        discussion: """
            Creates MOUNTPOINT/card0 (primary node) and MOUNTPOINT/renderD128 (render \
            node). Returns once the mount is live and serves it from the background, \
            unless --foreground. Stop with SIGINT/SIGTERM to the daemon, or \
            `fusermount3 -u MOUNTPOINT` (`umount MOUNTPOINT` as root).

            Example:
              fakedrm mount /tmp/dri && ls -l /tmp/dri && fusermount3 -u /tmp/dri
            """)

    @Argument(help: "An existing, empty directory that is not already a mount point.")
    var mountpoint: String

    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground instead of daemonizing.")
    var foreground = false

    @OptionGroup var device: DeviceOptions

    func run() throws {
        try checkMountpoint(mountpoint)
        let server = try device.mountServer(at: mountpoint)
        server.daemonize(foreground: foreground)
        let status = server.run()
        if status != 0 { throw ExitCode(1) }
    }
}

/// The clear refusals `mount` owes its user before libfuse gets a say.
func checkMountpoint(_ path: String) throws {
    var st = stat()
    guard stat(path, &st) == 0 else {
        if errno == ENOTCONN, DeadMount.clear(path) {
            note("cleared the dead fakedrm mount on \(path) (its daemon was gone)")
            return try checkMountpoint(path)
        }
        if errno == ENOTCONN {
            throw fail("mountpoint \(path) holds a dead FUSE mount (its daemon is gone); clear it with: fusermount3 -u \(path)")
        }
        throw fail("mountpoint \(path): \(String(cString: strerror(errno)))")
    }
    guard st.st_mode & S_IFMT == S_IFDIR else { throw fail("mountpoint \(path) is not a directory") }
    var parent = stat()
    if stat(path + "/..", &parent) == 0, parent.st_dev != st.st_dev || parent.st_ino == st.st_ino {
        throw fail("mountpoint \(path) is busy: something is already mounted there (fusermount3 -u \(path))")
    }
    guard let dir = opendir(path) else { throw fail("mountpoint \(path): \(String(cString: strerror(errno)))") }
    defer { closedir(dir) }
    while let e = readdir(dir) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { throw fail("mountpoint \(path) is not empty") }
    }
}

/// Prints `fakedrm: message` on stderr.
func note(_ message: String) {
    var line = Array("fakedrm: \(message)\n".utf8)
    _ = write(2, &line, line.count)
}

/// Prints `fakedrm: message` and yields a failing exit.
func fail(_ message: String) -> ExitCode {
    var line = Array("fakedrm: \(message)\n".utf8)
    _ = write(2, &line, line.count)
    return ExitCode(1)
}

/// "268435456", "256M", "256MiB", "4G", "0x1000".
func parseSize(_ text: String) throws -> UInt64 {
    let units: [(String, UInt64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
                                     ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
    for (suffix, scale) in units where text.uppercased().hasSuffix(suffix.uppercased()) {
        let n = try parseNumber(String(text.dropLast(suffix.count)))
        let (v, o) = n.multipliedReportingOverflow(by: scale)
        guard !o else { throw ValidationError("size \(text) is too large") }
        return v
    }
    return try parseNumber(text)
}

/// "9_10,9" → [X, Y] I915_BIT_6_SWIZZLE_* values; one value serves both.
func parseSwizzle(_ text: String) throws -> [UInt32] {
    let modes: [String: UInt32] = ["none": UInt32(I915_BIT_6_SWIZZLE_NONE), "9": UInt32(I915_BIT_6_SWIZZLE_9),
                                   "9_10": UInt32(I915_BIT_6_SWIZZLE_9_10), "9_11": UInt32(I915_BIT_6_SWIZZLE_9_11),
                                   "9_10_11": UInt32(I915_BIT_6_SWIZZLE_9_10_11)]
    let parts = text.split(separator: ",").map { String($0) }
    guard (1...2).contains(parts.count) else { throw ValidationError("--swizzle takes X or X,Y") }
    let values = try parts.map { p in
        guard let v = modes[p.lowercased()] else {
            throw ValidationError("unknown swizzle '\(p)' (none, 9, 9_10, 9_11, 9_10_11; bit-17 modes cannot be emulated)")
        }
        return v
    }
    return [values[0], values.last!]
}

/// Decimal or 0x-prefixed hexadecimal.
func parseNumber(_ text: String) throws -> UInt64 {
    let t = text.trimmingCharacters(in: " ")
    let value = t.lowercased().hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
    guard let value else { throw ValidationError("'\(text)' is not a number") }
    return value
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

/// An octal file mode such as 0660 or 660 (permission bits only).
func parseMode(_ text: String) throws -> mode_t {
    guard let m = mode_t(text.hasPrefix("0o") ? String(text.dropFirst(2)) : text, radix: 8), m <= 0o777 else {
        throw ValidationError("not an octal mode of at most 0777: \(text)")
    }
    return m
}
