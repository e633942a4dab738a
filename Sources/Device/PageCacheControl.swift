/// A byte range of one open's page cache, to be unmapped and dropped.
public struct Invalidation: Sendable, Hashable {
    public let inode: InodeID
    public let offset: UInt64
    public let length: UInt64

    public init(inode: InodeID, offset: UInt64, length: UInt64) {
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
