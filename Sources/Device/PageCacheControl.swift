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

/// How the model revokes what clients have cached: the analogue of
/// unmap_mapping_range. The FUSE transport implements it with
/// fuse_lowlevel_notify_inval_inode (dirty pages come back as writebacks
/// first); tests record the calls. The model calls it only with its lock
/// released, since the writebacks it waits for take that lock.
public protocol PageCacheControl: Sendable {
    /// Revoke now and wait until done (dirty pages written back).
    func invalidate(_ ranges: [Invalidation])
    /// Revoke soon, from another thread: for callers that are themselves
    /// serving a fault or writeback of that range.
    func invalidateLater(_ ranges: [Invalidation])
}

/// Discards revocations: for a model with no clients that cache.
public struct NoPageCache: PageCacheControl {
    public init() {}
    public func invalidate(_ ranges: [Invalidation]) {}
    public func invalidateLater(_ ranges: [Invalidation]) {}
}
