import ArgumentParser
import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// Object contents: pread to stdout, pwrite from stdin, set-domain, and
/// seek (for dd, which reads the descriptor from where it stands).
struct IoctlPread: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pread", abstract: "GEM_PREAD: the object's bytes to stdout.",
        discussion: "Without --length, reads to the end of the object (its size is found with 1-byte PREADs).")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle
    @Option(help: "Byte offset in the object.", transform: parseSize) var offset: UInt64 = 0
    @Option(help: "Bytes to read.", transform: parseSize) var length: UInt64?

    func run() throws {
        let n = try length ?? { let size = try objectSize(ioctl, handle); return size - min(offset, size) }()
        var bytes = [UInt8](repeating: 0, count: Int(n))
        var p = drm_i915_gem_pread()
        p.handle = handle
        p.offset = offset
        p.size = n
        try bytes.withUnsafeMutableBytes { b in
            p.data_ptr = UInt64(UInt(bitPattern: b.baseAddress))
            try ioctl.call("GEM_PREAD", FDRM_IOCTL_I915_GEM_PREAD, &p)
        }
        writeAll(1, bytes)
    }
}

/// The size of an object, which no i915 ioctl reports for a handle: the
/// last page a 1-byte PREAD may read (EINVAL past the end, as the kernel's
/// range check), found by doubling and bisection.
func objectSize(_ ioctl: Ioctl, _ handle: Handle) throws -> UInt64 {
    var byte: UInt8 = 0
    func fits(_ pages: UInt64) throws -> Bool {
        var p = drm_i915_gem_pread()
        p.handle = handle
        p.offset = pages << 12 - 1
        p.size = 1
        p.data_ptr = withUnsafeMutablePointer(to: &byte) { UInt64(UInt(bitPattern: $0)) }
        while Glibc.ioctl(ioctl.fd, UInt(FDRM_IOCTL_I915_GEM_PREAD), &p) != 0 {
            if errno == EINVAL { return false }
            if errno != EINTR { throw ioctlFailure("GEM_PREAD", errno) }
        }
        return true
    }
    guard try fits(1) else { return 0 }
    var lo: UInt64 = 1, hi: UInt64 = 2
    while try fits(hi) { (lo, hi) = (hi, hi * 2) }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2
        if try fits(mid) { lo = mid } else { hi = mid }
    }
    return lo << 12
}

struct IoctlPwrite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pwrite", abstract: "GEM_PWRITE: stdin into the object.")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle
    @Option(help: "Byte offset in the object.", transform: parseSize) var offset: UInt64 = 0

    func run() throws {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        var p = drm_i915_gem_pwrite()
        p.handle = handle
        p.offset = offset
        p.size = UInt64(bytes.count)
        try bytes.withUnsafeMutableBytes { b in
            p.data_ptr = UInt64(UInt(bitPattern: b.baseAddress))
            try ioctl.call("GEM_PWRITE", FDRM_IOCTL_I915_GEM_PWRITE, &p)
        }
    }
}

/// The domains set-domain takes.
enum Domain: String, ExpressibleByArgument, CaseIterable {
    case cpu, gtt, wc
    var value: UInt32 { UInt32(self == .cpu ? I915_GEM_DOMAIN_CPU : self == .gtt ? I915_GEM_DOMAIN_GTT : I915_GEM_DOMAIN_WC) }
}

struct IoctlSetDomain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-domain",
        abstract: "SET_DOMAIN: a coherency point; every view of the object sees the others' stores after it.")
    @ParentCommand var ioctl: Ioctl
    @Argument var handle: Handle
    @Argument(help: "cpu, gtt or wc.") var domain: Domain
    @Flag(help: "Also make it the write domain.") var write = false

    func run() throws {
        var d = drm_i915_gem_set_domain()
        d.handle = handle
        d.read_domains = domain.value
        d.write_domain = write ? domain.value : 0
        try ioctl.call("GEM_SET_DOMAIN", FDRM_IOCTL_I915_GEM_SET_DOMAIN, &d)
    }
}

struct IoctlSeek: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seek",
        abstract: "Move the descriptor's file position (not an ioctl): dd then reads from there.",
        discussion: "The position is shared with the shell: `seek $off; dd bs=4096 count=1 <&3` reads the page at $off.")
    @ParentCommand var ioctl: Ioctl
    @Argument(help: "Absolute byte offset.", transform: parseSize) var offset: UInt64

    func run() throws {
        guard lseek(ioctl.fd, off_t(Int64(bitPattern: offset)), SEEK_SET) >= 0 else { throw ioctlFailure("lseek", errno) }
    }
}
