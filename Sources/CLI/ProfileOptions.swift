import ArgumentParser
import CDrm
import FakeDRMDevice
#if canImport(Glibc)
import Glibc
#endif

/// What hardware the device is: a profile file (`--profile`, Mesa's
/// `intel_dev_info --json` keys) or the built-in Tiger Lake GT2, with the
/// options given on the command line on top of either.
struct ProfileOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Device profile: a JSON file with the keys of Mesa's `intel_dev_info --json` (pci_device_id, pci_revision_id, ver, gt, name, platform, slice/subslice/EU masks; gen 12.0 parts only) and a \"fakedrm\" object (aperture_size, ggtt_size, fences, swizzle_x, swizzle_y, has_llc, gpu). Default: the built-in Tiger Lake GT2 (`fakedrm profile` prints it, to edit). The options below override the file.",
                               valueName: "file"))
    var profile: String?

    @Option(help: ArgumentHelp("CPU-mappable part of the GGTT (bytes; K, M, G suffixes; default 256M).", valueName: "size"),
            transform: parseSize)
    var apertureSize: UInt64?

    @Option(help: ArgumentHelp("Size of the whole GGTT (bytes; K, M, G suffixes; default 4G).", valueName: "size"),
            transform: parseSize)
    var ggttSize: UInt64?

    @Option(help: "Number of fence registers (default 32; 0 disables tiling: SET/GET_TILING give EOPNOTSUPP).")
    var fences: Int?

    @Option(help: ArgumentHelp("PCI device id reported as CHIPSET_ID (default 0x9a49, Tiger Lake GT2).",
                               valueName: "id"), transform: parseNumber)
    var chipsetId: UInt64?

    @Option(help: ArgumentHelp("Bit-6 swizzle of X and Y tiling, as X[,Y]: none, 9, 9_10, 9_11, 9_10_11 (default none, as gen8+; 9_10,9 is a gen6/7 dual-channel part). GET_TILING reports it and GTT views apply it.",
                               valueName: "x[,y]"), transform: parseSwizzle)
    var swizzle: [UInt32]?

    @Option(help: ArgumentHelp("What the engines do with a batch: software (execute it on the software command streamer, the default) or noop (validate, place, relocate and signal without executing a command, as Mesa's drm-shim).",
                               valueName: "mode"))
    var gpu: GpuMode?

    func validate() throws {
        if let chipsetId, chipsetId > 0xFFFF { throw ValidationError("--chipset-id must fit in 16 bits") }
        _ = try resolved()
    }

    /// The file's profile (or the built-in one) with the options applied.
    func resolved() throws -> DeviceProfile {
        var p = DeviceProfile()
        if let path = profile {
            let text = try Self.read(path)
            do { p = try DeviceProfile(json: text) } catch { throw ValidationError("--profile \(path): \(error)") }
        }
        if let apertureSize { p.apertureSize = apertureSize }
        if let ggttSize { p.ggttSize = ggttSize }
        if let fences { p.fences = fences }
        if let chipsetId { p.chipsetID = UInt16(chipsetId) }
        if let swizzle { (p.swizzleX, p.swizzleY) = (swizzle[0], swizzle[1]) }
        if let gpu { p.gpu = gpu }
        do { try p.validate() } catch {
            throw ValidationError((profile.map { "--profile \($0) with the options given: " } ?? "") + "\(error)")
        }
        return p
    }

    /// The whole file, or a refusal that says why.
    static func read(_ path: String) throws -> String {
        guard let f = fopen(path, "r") else {
            throw ValidationError("--profile \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n > 0 { bytes += buf[..<n] }
            if n < buf.count { break }
            guard bytes.count < 16 << 20 else { throw ValidationError("--profile \(path): larger than 16 MiB, not a profile") }
        }
        if ferror(f) != 0 { throw ValidationError("--profile \(path): \(String(cString: strerror(errno)))") }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension GpuMode: ExpressibleByArgument {}

/// `fakedrm profile`: the profile a mount with the same options would use,
/// as JSON that `--profile` reads back.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Print the device profile as JSON (to edit and load with --profile).",
        discussion: """
            Prints the built-in Tiger Lake GT2 profile, or the one --profile FILE and \
            the other options describe, with the key names of Mesa's \
            `intel_dev_info --json` and a "fakedrm" object for the emulation's own \
            settings. A file is checked as a mount would check it: a bad key says \
            which key and what was expected.

            Example:
              fakedrm profile > adl.json    # edit pci_device_id, name, platform...
              fakedrm mount --profile adl.json /tmp/dri
            """)

    @Flag(help: "Print the profile (the default; kept for scripts).")
    var dump = false

    @OptionGroup var hardware: ProfileOptions

    func run() throws {
        let json = try hardware.resolved().json
        var bytes = Array(json.utf8)
        _ = write(1, &bytes, bytes.count)
    }
}
