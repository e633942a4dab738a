/// A binding of (part of) an object into the mappable GGTT: i915_vma.
final class Vma {
    let object: GemObject
    let view: GttView
    /// First GGTT page of the binding, and pages reserved: the view, or for
    /// a tiled object its fence size (whole tile rows), whichever is larger.
    let start: Int
    let reserved: Int
    /// Fence register detiling this binding, if any.
    var fence: Int?
    /// Inodes with pages of this binding cached: its userfault list.
    var userfault: Set<InodeID> = []
    /// The GTT offset node the binding served (the merged design's vma->mmo),
    /// so revocation needs no walk over the object's nodes.
    var mmo: MmapOffset?
    /// The tick of its last use; setting it moves the binding to the most
    /// recently used end of its aperture's LRU list.
    var lastUse: UInt64 = 0 { didSet { lru?.touch(self) } }
    /// The LRU list it is on while bound, and its place there.
    unowned(unsafe) var lru: VmaLRU?
    unowned(unsafe) var lruPrev: Vma?
    unowned(unsafe) var lruNext: Vma?
    var lruListed = false

    init(object: GemObject, view: GttView, start: Int, reserved: Int? = nil) {
        self.object = object
        self.view = view
        self.start = start
        self.reserved = max(reserved ?? 0, view.pages)
    }

    var end: Int { start + reserved }

    /// The client-visible ranges to revoke when this binding goes.
    var revocations: [Invalidation] {
        guard let mmo else { return [] }
        return userfault.map {
            Invalidation(inode: $0, offset: mmo.byteOffset + UInt64(view.offset) << Page.shift, length: UInt64(view.pages) << Page.shift)
        }
    }
}
