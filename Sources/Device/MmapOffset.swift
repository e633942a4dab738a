/// A fake-offset node for one (object, mmap type) pair: i915's
/// `struct i915_mmap_offset` with its `drm_vma_offset_node`.
public final class MmapOffset {
    /// First page in the offset space, and length in pages.
    public let start: UInt64
    public let pages: UInt64
    let object: GemObject

    /// drm_vma_node allow list with allow_once semantics: MMAP_OFFSET allows
    /// the calling file once, every GEM_CLOSE of the object by it revokes.
    var allowed = IDSet()
    /// Files that were ever allowed, and so may hold a mapping made while
    /// allowed (which i915 keeps working after GEM_CLOSE). Faults are checked
    /// against this set, since the daemon never sees mmap() itself.
    var everAllowed = IDSet()
    /// Inodes whose page cache may hold pages of this node: the kernel's
    /// userfault list, so coherency points and revocation touch only those.
    var userfault = IDSet()
    /// Last: it fits in the padding after `userfault` (96 allocated bytes, not 112).
    public let type: MmapType

    init(type: MmapType, start: UInt64, pages: UInt64, object: GemObject) {
        self.type = type
        self.start = start
        self.pages = pages
        self.object = object
    }

    public var byteOffset: UInt64 { start << 12 }
    public var byteLength: UInt64 { pages << 12 }
}

