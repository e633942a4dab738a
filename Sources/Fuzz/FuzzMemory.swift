import FakeDRMDevice
import FakeDRMUAPI

/// A fuzzed caller's address space: one small arena at a fixed address.
/// Anything not wholly inside it is EFAULT, as process_vm_readv reports.
final class FuzzMemory: UserMemory {
    static let base: UInt64 = 0x7f00_0000_0000
    static let size = 64 << 10
    private(set) var bytes = [UInt8](repeating: 0, count: FuzzMemory.size)

    private func index(_ addr: UInt64, _ count: Int) throws(DrmError) -> Int {
        guard addr >= Self.base, addr - Self.base <= UInt64(Self.size),
              UInt64(count) <= UInt64(Self.size) - (addr - Self.base) else { throw DrmError.EFAULT }
        return Int(addr - Self.base)
    }

    func read(_ addr: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DrmError) {
        let i = try index(addr, buffer.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[i..<i + buffer.count])) }
    }

    func write(_ addr: UInt64, from buffer: UnsafeRawBufferPointer) throws(DrmError) {
        let i = try index(addr, buffer.count)
        bytes.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[i..<i + buffer.count]).copyMemory(from: buffer) }
    }

    /// Fills the arena from fuzz bytes (extension chains, query items, data).
    func fill(at offset: Int, from src: ArraySlice<UInt8>) {
        let n = min(src.count, Self.size - offset)
        guard n > 0 else { return }
        bytes.replaceSubrange(offset..<offset + n, with: src.prefix(n))
    }
}
