import Synchronization

/// A byte range of one open's page cache, to be unmapped and dropped.
public struct Invalidation: Sendable, Hashable {
    public let inode: UInt64
    public let offset: UInt64
    public let length: UInt64

    public init(inode: UInt64, offset: UInt64, length: UInt64) {
        self.inode = inode
        self.offset = offset
        self.length = length
    }
}

/// Pages to put into an open's page cache just before a fault is answered,
/// so the rest of a chunk costs no further faults (i915 remaps a whole view
/// on the first fault). Ranges never include the page that faulted.
public final class Prefault: @unchecked Sendable {
    public let inode: UInt64
    public let offset: UInt64
    /// The bytes, in a buffer that goes back to the pool with this value.
    public let bytes: UnsafeMutableRawBufferPointer

    init(inode: UInt64, offset: UInt64, count: Int) {
        self.inode = inode
        self.offset = offset
        bytes = PrefaultPool.shared.take(count)
    }

    deinit { PrefaultPool.shared.give(bytes) }
}

/// Reuses chunk-sized buffers: a fresh 1 MiB allocation per fault would
/// cost 256 page faults of its own and bloat the malloc arenas.
final class PrefaultPool: Sendable {
    static let shared = PrefaultPool()
    static let size = GttView.minChunkPages << 12
    /// Addresses of free buffers (integers: raw pointers are not Sendable).
    private let free = Mutex<[UInt]>([])

    func take(_ count: Int) -> UnsafeMutableRawBufferPointer {
        if count <= Self.size, let a = free.withLock({ $0.popLast() }) {
            return UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: a), count: count)
        }
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, Self.size), alignment: 4096)
        return UnsafeMutableRawBufferPointer(start: p, count: count)
    }

    func give(_ b: UnsafeMutableRawBufferPointer) {
        guard let p = b.baseAddress else { return }
        let kept = free.withLock { list in
            guard b.count <= Self.size, list.count < 4 else { return false }
            list.append(UInt(bitPattern: p))
            return true
        }
        if !kept { p.deallocate() }
    }
}

/// How the model revokes what clients have cached: the analogue of
/// unmap_mapping_range. The FUSE transport implements it with
/// fuse_lowlevel_notify_inval_inode (dirty pages come back as writebacks
/// first); tests record the calls. The model calls it only with its lock
/// released, since the writebacks it waits for take that lock.
public protocol PageCacheControl: Sendable {
    /// Revoke now and wait until done (dirty pages written back).
    func invalidate(_ ranges: [Invalidation])
    /// A writeback of `range` was refused (readonly object) while it is in
    /// flight: the cached pages hold stores the object never took. Put
    /// `contents`, the object's true bytes, back and drop the pages soon.
    func refuse(_ range: Invalidation, contents: [UInt8])
}

/// Discards revocations: for a model with no clients that cache.
public struct NoPageCache: PageCacheControl {
    public init() {}
    public func invalidate(_ ranges: [Invalidation]) {}
    public func refuse(_ range: Invalidation, contents: [UInt8]) {}
}
