import CDrm
import Glibc
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// A caller's address space: one arena of bytes at `base`; any access that
/// does not lie wholly inside it is EFAULT, as process_vm_readv reports.
final class Arena: UserMemory {
    let base: UInt64 = 0x5000_0000
    private(set) var bytes: [UInt8]
    private var top = 0

    init(size: Int = 1 << 16) { bytes = [UInt8](repeating: 0, count: size) }

    var end: UInt64 { base + UInt64(bytes.count) }

    private func index(_ addr: UInt64, _ count: Int) throws(DrmError) -> Int {
        guard addr >= base, addr - base <= UInt64(bytes.count),
              UInt64(count) <= UInt64(bytes.count) - (addr - base) else { throw DrmError.EFAULT }
        return Int(addr - base)
    }

    func read(_ addr: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DrmError) {
        let i = try index(addr, buffer.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[i..<i + buffer.count])) }
    }

    func write(_ addr: UInt64, from buffer: UnsafeRawBufferPointer) throws(DrmError) {
        let i = try index(addr, buffer.count)
        bytes.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[i..<i + buffer.count]).copyMemory(from: buffer) }
    }

    /// Reserves `count` zeroed bytes (16-byte aligned) and returns their address.
    func alloc(_ count: Int) -> UInt64 {
        let at = (top + 15) & ~15
        precondition(at + count <= bytes.count, "arena exhausted")
        top = at + count
        return base + UInt64(at)
    }

    /// Places a value in fresh arena memory and returns its address.
    func put<T>(_ value: T) -> UInt64 {
        let at = alloc(MemoryLayout<T>.size)
        set(value, at: at)
        return at
    }

    func set<T>(_ value: T, at addr: UInt64) {
        let i = Int(addr - base)
        withUnsafeBytes(of: value) { v in
            bytes.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[i..<i + v.count]).copyMemory(from: v) }
        }
    }

    func get<T>(_ type: T.Type, at addr: UInt64) -> T {
        let i = Int(addr - base)
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i, as: T.self) }
    }

    func slice(_ addr: UInt64, _ count: Int) -> [UInt8] {
        let i = Int(addr - base)
        return Array(bytes[i..<i + count])
    }

    func fill(_ addr: UInt64, _ data: [UInt8]) {
        let i = Int(addr - base)
        bytes.replaceSubrange(i..<i + data.count, with: data)
    }
}

/// _IOC(dir, type, nr, size) as <asm-generic/ioctl.h> builds it.
func ioc(_ dir: UInt32, _ type: UInt32, _ nr: UInt32, _ size: Int) -> UInt32 {
    dir << 30 | UInt32(size) << 16 | type << 8 | nr
}
let iocWrite: UInt32 = 1, iocRead: UInt32 = 2

/// The device's own ioctl number for a table slot.
func drmCmd(_ nr: Int32) -> UInt32 { IoctlDispatcher.byNr[Int(nr)]!.cmd }
func i915Cmd(_ nr: Int32) -> UInt32 { drmCmd(DRM_COMMAND_BASE + nr) }

let errnoEINVAL = DrmError.EINVAL.errno

/// A device, its dispatcher and one client file with its memory.
struct Client {
    let dev: DrmDevice
    let dispatcher: IoctlDispatcher
    let mem = Arena()
    let file: FileID
    let caller: IoctlCaller

    init(dev: DrmDevice = DrmDevice(), minor: Minor = .primary, inode: InodeID = 1, privileged: Bool = false) {
        self.dev = dev
        dispatcher = IoctlDispatcher(device: dev)
        file = dev.open(minor: minor, inode: inode, pid: 1000 + Int32(inode.rawValue), privileged: privileged)
        caller = IoctlCaller(file: file, pid: 1000 + Int32(inode.rawValue), privileged: privileged, memory: mem)
    }

    /// Another client on the same device.
    func peer(minor: Minor = .primary, inode: InodeID, privileged: Bool = false) -> Client {
        Client(dev: dev, minor: minor, inode: inode, privileged: privileged)
    }

    /// ioctl(2) as FUSE delivers it: `_IOC_SIZE(cmd)` bytes of `arg` in,
    /// as many out; `arg` gets back whatever was copied out.
    @discardableResult
    func ioctl<T>(_ cmd: UInt32, _ arg: inout T) -> IoctlDispatcher.Result {
        let size = Int(fdrm_ioc_size(cmd))
        var input = [UInt8](repeating: 0, count: size)
        withUnsafeBytes(of: &arg) { a in
            input.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: a[0..<min(size, a.count)])) }
        }
        var output = [UInt8](repeating: 0, count: size)
        let r = input.withUnsafeBytes { i in
            output.withUnsafeMutableBytes { o in dispatcher.dispatch(cmd: cmd, input: i, output: o, caller: caller) }
        }
        withUnsafeMutableBytes(of: &arg) { a in
            let n = min(r.outBytes, a.count)
            output.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: a[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return r
    }

    /// GEM_CREATE through the dispatcher; returns the handle.
    func create(_ size: UInt64) -> UInt32 {
        var c = drm_i915_gem_create(size: size, handle: 0, pad: 0)
        let r = ioctl(i915Cmd(DRM_I915_GEM_CREATE), &c)
        precondition(r.errno == 0)
        return c.handle
    }
}

/// A C pointer field holding a user address.
func uptr<T>(_ addr: UInt64) -> UnsafeMutablePointer<T>? { UnsafeMutablePointer(bitPattern: UInt(addr)) }

extension DrmDevice {
    /// Objects not yet reclaimed.
    var liveObjects: Int { state.withLock { $0.lifetime.count } }
}
