import CDrm
import Synchronization
@testable import FakeDRMDevice

/// A PageCacheControl that records every revocation the model asks for.
final class RecordingCache: PageCacheControl {
    private let now = DeviceLock<[Invalidation]>([]) // TSan-visible, as the device lock
    private let refused = DeviceLock<[Refusal]>([])

    struct Refusal: Equatable {
        let range: Invalidation
        let contents: [UInt8]
    }

    /// Runs inside each revocation, as the kernel's launder does (a writeback
    /// of the dirty pages before they go).
    let launder = DeviceLock<(@Sendable ([Invalidation]) -> Void)?>(nil)

    func invalidate(_ ranges: [Invalidation]) {
        now.withLock { $0 += ranges }
        launder.withLock { $0 }?(ranges)
    }
    func refuse(_ range: Invalidation, contents: [UInt8]) { refused.withLock { $0.append(Refusal(range: range, contents: contents)) } }

    /// Immediate revocations since the last call, as a set.
    func take() -> Set<Invalidation> { now.withLock { r in defer { r = [] }; return Set(r) } }
    /// Refused writebacks since the last call.
    func takeRefused() -> [Refusal] { refused.withLock { r in defer { r = [] }; return r } }
}

/// What the model holds for one offset node, copied out under the lock.
struct NodeInfo: Sendable, Equatable {
    let type: MmapType
    let start: UInt64
    let pages: UInt64
    let allowed: Set<FileID>
    let everAllowed: Set<FileID>
    let userfault: Set<InodeID>
}

/// A device with a recording cache and a few helpers around its API.
struct Fixture {
    let cache = RecordingCache()
    let dev: DrmDevice

    init(profile: DeviceProfile = DeviceProfile(), commandTrace: (any CommandTraceSink)? = nil) {
        dev = DrmDevice(profile: profile, cache: cache, commandTrace: commandTrace)
    }

    /// A render-node open through its own inode.
    func open(inode: InodeID, minor: Minor = .render, pid: Int32 = 100, privileged: Bool = false) -> FileID {
        dev.open(minor: minor, inode: inode, pid: pid, privileged: privileged)
    }
}

/// A user address that passes access_ok (the model never dereferences it).
let userPtr: UInt64 = 0x10000

extension DrmDevice {
    func node(at byteOffset: UInt64) -> NodeInfo? {
        state.withLock { s in
            guard let hit = s.offsets.lookup(page: byteOffset >> 12) else { return nil }
            let m = hit.value, l = m.lists
            return NodeInfo(type: m.type, start: m.start, pages: m.pages, allowed: l.allowed.asSet,
                            everAllowed: l.everAllowed.asSet, userfault: l.userfault.asSet)
        }
    }

    /// The backing bytes of the object behind a node, read directly.
    func backingBytes(atNode byteOffset: UInt64, offset: Int, count: Int) -> [UInt8]? {
        state.withLock { s in
            guard let hit = s.offsets.lookup(page: byteOffset >> 12) else { return nil }
            var out = [UInt8](repeating: 0, count: count)
            out.withUnsafeMutableBytes { hit.value.object.backing.copyOut(at: offset, into: $0.baseAddress!, count: count) }
            return out
        }
    }

    var liveObjects: Int { state.withLock { $0.lifetime.count } }

    /// A page fault of `count` bytes through `inode`.
    func faultBytes(_ file: FileID, inode: InodeID, offset: UInt64, count: Int = 4096) throws(DrmError) -> [UInt8] {
        var buf = [UInt8](repeating: 0xEE, count: count)
        let failure: DrmError? = buf.withUnsafeMutableBytes { b in
            do throws(DrmError) { try fault(file, inode: inode, offset: offset, into: b) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        return buf
    }

    /// PWRITE of `bytes` at `offset`.
    func write(_ file: FileID, handle: Handle, offset: UInt64 = 0, _ bytes: [UInt8]) throws(DrmError) {
        try pwrite(file, handle: handle, offset: offset, size: UInt64(bytes.count), dataPtr: userPtr) { dst in
            dst.copyBytes(from: bytes)
        }
    }

    /// PREAD of `count` bytes at `offset`.
    func read(_ file: FileID, handle: Handle, offset: UInt64 = 0, count: Int) throws(DrmError) -> [UInt8] {
        var out: [UInt8] = []
        try pread(file, handle: handle, offset: offset, size: UInt64(count), dataPtr: userPtr) { src in
            out = Array(src)
        }
        return out
    }

    /// A FUSE WRITE (writeback of dirty mapped pages) through `inode`.
    func writeBack(inode: InodeID, offset: UInt64, _ bytes: [UInt8]) throws(DrmError) {
        let failure: DrmError? = bytes.withUnsafeBytes { b in
            do throws(DrmError) { try writeback(inode: inode, offset: offset, data: b) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }
}

/// Exec-list entries softpinned at their addresses (48-bit), with extra flags.
func pinnedEntries(_ objs: [(Handle, UInt64, UInt64)]) -> [drm_i915_gem_exec_object2] {
    objs.map { h, addr, flags in
        var e = drm_i915_gem_exec_object2()
        e.handle = h.rawValue
        e.offset = addr
        e.flags = flags | UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
        return e
    }
}

extension DrmDevice {
    /// EXECBUFFER2 of `entries` on `ring`, with no fences; every entry that
    /// has a relocation_count reads `relocs`.
    func execbuffer(_ f: FileID, _ entries: inout [drm_i915_gem_exec_object2], ring: UInt64,
                    relocs: [drm_i915_gem_relocation_entry] = []) throws(DrmError) {
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = UInt32(entries.count)
        args.flags = ring
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        try execbuffer(f, args, objects: &entries, output: &out, fences: { [] }, readRelocations: { _ in relocs })
    }
}

/// A recognisable byte pattern.
func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
}

/// Bytes with no period: `pattern` repeats every 256 bytes, so rows of a
/// stride that is a multiple of 256 read alike and a swap of two goes unseen.
func noise(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

/// Deterministic generator for randomized tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
