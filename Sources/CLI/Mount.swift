import ArgumentParser
import CDrm
import FakeDRMDevice
import FakeDRMTransport
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

    @Flag(help: "Let other users open the device (FUSE allow_other; needs user_allow_other in /etc/fuse.conf unless root).")
    var allowOther = false

    func validate() throws {
        guard apertureSize >= 1 << 20, apertureSize % 4096 == 0 else {
            throw ValidationError("--aperture-size must be a multiple of 4 KiB and at least 1 MiB")
        }
        guard ggttSize >= apertureSize, ggttSize % 4096 == 0 else {
            throw ValidationError("--ggtt-size must be a multiple of 4 KiB and at least --aperture-size")
        }
        guard (0...64).contains(fences) else { throw ValidationError("--fences must be between 0 and 64") }
        guard chipsetId <= 0xFFFF else { throw ValidationError("--chipset-id must fit in 16 bits") }
    }

    func run() throws {
        try checkMountpoint(mountpoint)
        var profile = DeviceProfile()
        profile.apertureSize = apertureSize
        profile.ggttSize = ggttSize
        profile.fences = fences
        profile.chipsetID = UInt16(chipsetId)
        profile.swizzleX = swizzle[0]
        profile.swizzleY = swizzle[1]
        let server = FuseServer(profile: profile)
        var options = ["fsname=fakedrm", "subtype=fakedrm"]
        if allowOther { options.append("allow_other") }
        do {
            try server.mount(at: mountpoint, options: options)
        } catch {
            throw fail("\(error)")
        }
        server.daemonize(foreground: foreground)
        let status = server.run()
        if status != 0 { throw ExitCode(1) }
    }
}

/// The clear refusals `mount` owes its user before libfuse gets a say.
func checkMountpoint(_ path: String) throws {
    var st = stat()
    guard stat(path, &st) == 0 else {
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
