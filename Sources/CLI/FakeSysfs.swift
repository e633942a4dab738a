import FakeDRMDevice
#if canImport(Glibc)
import Glibc
#endif

/// The device's sysfs presence in `run`'s namespace, as i915 on a PCI bus
/// has it: the PCI function 0000:00:02.0 (vendor, device, class, config,
/// resource with BAR 2 = the aperture, driver -> i915), its drm/card0 and
/// drm/renderD128 with dev and uevent, /sys/class/drm, /sys/dev/char/226:N,
/// /sys/bus/pci/{devices,drivers/i915} and /sys/module/i915/parameters.
/// Each sysfs directory that needs a new entry is covered with a tmpfs
/// carrying the host's entries over (PrivateMounts.cover), so the host's
/// sysfs is never written and every other device stays visible; a host
/// 0000:00:02.0 is replaced.
struct FakeSysfs {
    let profile: DeviceProfile
    /// The daemon's debug tree: its i915_params directory is bound at
    /// /sys/module/i915/parameters, its engine directory at card0/engine,
    /// its i915_gpu_error at card0/error.
    let debug: String
    var params: String { debug + "/i915_params" }

    static let slot = String(DrmDevice.busID.dropFirst(4)) // 0000:00:02.0
    static let device = "/sys/devices/pci0000:00/" + slot

    /// Directories that are ours to write: tmpfs covers and what we made in them.
    private var ours: Set<String> = []

    init(profile: DeviceProfile, debug: String) {
        self.profile = profile
        self.debug = debug
    }

    /// Builds the tree; a piece that cannot be made is reported, not fatal.
    mutating func build() {
        do {
            try makeDevice()
            try makeMinor("card0", minor: 0, extra: gtFiles())
            try makeMinor("renderD128", minor: 128, extra: [:])
            try makeEngines()
            try bind(debug + "/i915_gpu_error", at: Self.device + "/drm/card0/error")
            try link("/sys/bus/pci/devices/" + Self.slot, to: "../../../devices/pci0000:00/" + Self.slot)
            try directory("/sys/bus/pci/drivers/i915", fresh: true)
            try link("/sys/bus/pci/drivers/i915/" + Self.slot, to: "../../../../devices/pci0000:00/" + Self.slot)
            try link("/sys/bus/pci/drivers/i915/module", to: "../../../../module/i915")
            try directory("/sys/class/drm", fresh: true)
            try file("/sys/class/drm/version", "drm 1.1.0 20060810\n")
            for (name, minor) in [("card0", 0), ("renderD128", 128)] {
                let target = "devices/pci0000:00/\(Self.slot)/drm/\(name)"
                try link("/sys/class/drm/" + name, to: "../../" + target)
                try link("/sys/dev/char/226:\(minor)", to: "../../" + target)
            }
            try directory("/sys/module/i915/parameters", fresh: true)
            guard mount(params, "/sys/module/i915/parameters", nil, UInt(MS_BIND), nil) == 0 else {
                throw fail("cannot bind \(params): \(String(cString: strerror(errno)))")
            }
        } catch {
            warn("the device's sysfs entries are incomplete (libdrm's drmGetDevice2 and libpciaccess may not find it)")
        }
    }

    /// Detaches the daemon's binds (they pin the FUSE mount).
    static func unmount() {
        _ = umount2("/sys/module/i915/parameters", Int32(MNT_DETACH))
        _ = umount2(device + "/drm/card0/engine", Int32(MNT_DETACH))
        _ = umount2(device + "/drm/card0/error", Int32(MNT_DETACH))
    }

    // MARK: the PCI function

    private mutating func makeDevice() throws {
        let d = Self.device, id = hex4(profile.chipsetID)
        try directory(d, fresh: true)
        try file(d + "/vendor", "0x8086\n")
        try file(d + "/device", "0x\(id)\n")
        try file(d + "/subsystem_vendor", "0x8086\n")
        try file(d + "/subsystem_device", "0x\(id)\n")
        try file(d + "/class", "0x030000\n")
        try file(d + "/revision", "0x" + hex2(UInt8(truncatingIfNeeded: profile.revision)) + "\n")
        try file(d + "/boot_vga", "1\n")
        try file(d + "/enable", "1\n")
        try file(d + "/irq", "0\n")
        try file(d + "/numa_node", "-1\n")
        try file(d + "/uevent", """
            DRIVER=i915
            PCI_CLASS=30000
            PCI_ID=8086:\(id.uppercased())
            PCI_SUBSYS_ID=8086:\(id.uppercased())
            PCI_SLOT_NAME=\(Self.slot)
            MODALIAS=pci:v00008086d0000\(id.uppercased())sv00008086sd0000\(id.uppercased())bc03sc00i00

            """)
        try file(d + "/config", Self.config(profile))
        try file(d + "/resource", Self.resource(profile))
        try link(d + "/driver", to: "../../../bus/pci/drivers/i915")
        try link(d + "/subsystem", to: "../../../bus/pci")
        try directory(d + "/drm", fresh: true)
    }

    /// The BARs of an integrated Intel GPU: 0 GTTMMADR (16M, 64-bit), 2
    /// GMADR (the aperture, 64-bit prefetchable), 4 an I/O port range.
    static func bars(_ p: DeviceProfile) -> [(start: UInt64, size: UInt64, flags: UInt64)] {
        [(0x60_0000_0000, 16 << 20, 0x140204), (0, 0, 0),
         (0x40_0000_0000, p.apertureSize, 0x14220c), (0, 0, 0),
         (0x3000, 64, 0x40101), (0, 0, 0)]
    }

    /// sysfs `resource`: start, end, flags of every resource (PCI_NUM_RESOURCES
    /// lines), as resource_show prints them.
    static func resource(_ p: DeviceProfile) -> String {
        var out = ""
        let bars = bars(p)
        for i in 0..<17 {
            let b = i < bars.count ? bars[i] : (start: UInt64(0), size: UInt64(0), flags: UInt64(0))
            let end = b.size == 0 ? 0 : b.start + b.size - 1
            out += "0x\(hex16(b.start)) 0x\(hex16(end)) 0x\(hex16(b.flags))\n"
        }
        return out
    }

    /// The standard type-0 header in 256 bytes of config space.
    static func config(_ p: DeviceProfile) -> [UInt8] {
        var c = [UInt8](repeating: 0, count: 256)
        func put16(_ off: Int, _ v: UInt16) { c[off] = UInt8(v & 0xff); c[off + 1] = UInt8(v >> 8) }
        func put32(_ off: Int, _ v: UInt32) { put16(off, UInt16(v & 0xffff)); put16(off + 2, UInt16(v >> 16)) }
        put16(0x00, 0x8086)
        put16(0x02, p.chipsetID)
        put16(0x04, 0x0007) // I/O, memory, bus master
        c[0x08] = UInt8(truncatingIfNeeded: p.revision)
        c[0x0a] = 0x00 // subclass: VGA-compatible
        c[0x0b] = 0x03 // class: display controller
        for (i, b) in bars(p).enumerated() where b.size != 0 {
            if b.flags & 0x100 != 0 { // I/O
                put32(0x10 + 4 * i, UInt32(b.start) | 1)
            } else { // 64-bit memory, prefetchable when flagged
                let low = UInt32(truncatingIfNeeded: b.start) | 0x4 | (b.flags & 0x2000 != 0 ? 0x8 : 0)
                put32(0x10 + 4 * i, low)
                put32(0x14 + 4 * i, UInt32(b.start >> 32))
            }
        }
        put16(0x2c, 0x8086)
        put16(0x2e, p.chipsetID)
        c[0x3d] = 1 // INTA
        return c
    }

    // MARK: drm minors

    /// drm/<name> with dev, uevent, device and subsystem, and `extra` files.
    private mutating func makeMinor(_ name: String, minor: Int, extra: [String: String]) throws {
        let d = Self.device + "/drm/" + name
        try directory(d, fresh: true)
        try file(d + "/dev", "226:\(minor)\n")
        try file(d + "/uevent", "MAJOR=226\nMINOR=\(minor)\nDEVNAME=dri/\(name)\nDEVTYPE=drm_minor\n")
        try link(d + "/device", to: "../../../" + Self.slot)
        try link(d + "/subsystem", to: "../../../../../class/drm")
        for (f, text) in extra.sorted(by: { $0.key < $1.key }) { try file(d + "/" + f, text, mode: 0o644) }
    }

    /// card0/engine: the daemon's (DrmDevice+EngineProperties.swift), each
    /// engine's identity (IGT's gem_engine_mmio_base reads mmio_base and has
    /// no fallback for vcs1), its tunables (heartbeat_interval_ms,
    /// preempt_timeout_ms... which the engines obey) and .defaults.
    private mutating func makeEngines() throws {
        let dir = Self.device + "/drm/card0/engine"
        try directory(dir, fresh: true)
        try bind(debug + "/engine", at: dir)
    }

    private func bind(_ source: String, at target: String) throws {
        guard mount(source, target, nil, UInt(MS_BIND), nil) == 0 else {
            throw fail("cannot bind \(source) at \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// i915's RPS files (i915_sysfs.c/intel_gt_sysfs_pm.c), a Tiger Lake
    /// GT2's values. Writes are kept, not checked. `error`: where the
    /// daemon's i915_gpu_error is bound (the GPU error state).
    private func gtFiles() -> [String: String] {
        ["gt_act_freq_mhz": "0\n", "gt_cur_freq_mhz": "100\n", "gt_boost_freq_mhz": "1350\n",
         "gt_max_freq_mhz": "1350\n", "gt_min_freq_mhz": "100\n", "gt_RP0_freq_mhz": "1350\n",
         "gt_RP1_freq_mhz": "400\n", "gt_RPn_freq_mhz": "100\n", "error": "No error state collected\n"]
    }

    // MARK: making entries

    /// Makes `dir` a directory we may write in: an existing one is covered
    /// with its entries carried over, unless `fresh` asks for an empty one of
    /// ours in its place. What leads to it is made the same way.
    private mutating func directory(_ dir: String, fresh: Bool = false) throws {
        if ours.contains(dir) { return }
        var st = stat()
        if !fresh, lstat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            let lost = try PrivateMounts.cover(dir)
            if !lost.isEmpty { warn("these \(dir) entries could not be carried into the namespace: \(lost.joined(separator: " "))") }
        } else {
            try directory(Self.parent(dir))
            try remove(dir)
            guard mkdir(dir, 0o755) == 0 else { throw failure("mkdir", dir) }
        }
        ours.insert(dir)
    }

    private mutating func file(_ path: String, _ text: String, mode: mode_t = 0o444) throws {
        try file(path, Array(text.utf8), mode: mode)
    }

    private mutating func file(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o444) throws {
        try directory(Self.parent(path))
        try remove(path)
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create", path) }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw failure("write", path) }
    }

    private mutating func link(_ path: String, to target: String) throws {
        try directory(Self.parent(path))
        try remove(path)
        guard symlink(target, path) == 0 else { throw failure("symlink", path) }
    }

    /// Removes a carried-over host entry (a bind, a copied symlink) from one
    /// of our directories.
    private func remove(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        _ = umount2(path, Int32(MNT_DETACH))
        let ok = st.st_mode & S_IFMT == S_IFDIR ? rmdir(path) == 0 : unlink(path) == 0
        guard ok else { throw failure("replace", path) }
    }

    private func failure(_ what: String, _ path: String) -> Error {
        fail("cannot \(what) \(path) in the namespace: \(String(cString: strerror(errno)))")
    }

    static func parent(_ path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    }
}

private func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - s.count)) + s
}

private func hex2(_ v: UInt8) -> String { v < 16 ? "0" + String(v, radix: 16) : String(v, radix: 16) }

/// Four lower-case hex digits.
private func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
