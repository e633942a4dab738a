/// A fake-offset node for one (object, mmap type) pair: i915's
/// `struct i915_mmap_offset` with its `drm_vma_offset_node`.
///
/// Who may map and fault it, and whose page cache may hold it, live here
/// behind methods named after drm_vma_manager.c's; nothing else touches the
/// three lists.
public final class MmapOffset {
    /// First page in the offset space, and length in pages.
    public let start: UInt64
    public let pages: UInt64
    let object: GemObject

    /// The drm_vma_node allow list, with allow_once semantics: MMAP_OFFSET
    /// allows the calling file once, every GEM_CLOSE of the object by it revokes.
    private var allowed = IDSet<FileID>()
    /// Files ever allowed, which may hold a mapping made while allowed (i915
    /// keeps it working after GEM_CLOSE). The daemon never sees mmap(), so
    /// faults are checked against this list, not `allowed`.
    private var everAllowed = IDSet<FileID>()
    /// Inodes whose page cache may hold pages of this node: the kernel's
    /// userfault list, so coherency points and revocation touch only those.
    private var userfault = IDSet<InodeID>()
    /// Last: it fits in the padding after `userfault` (96 allocated bytes, not 112).
    public let type: MmapType

    init(type: MmapType, start: UInt64, pages: UInt64, object: GemObject) {
        self.type = type
        self.start = start
        self.pages = pages
        self.object = object
    }

    public var byteOffset: UInt64 { start << Page.shift }
    public var byteLength: UInt64 { pages << Page.shift }

    // MARK: the allow list (drm_vma_node_allow_once / _revoke / _is_allowed)

    /// drm_vma_node_allow_once. Returns whether `file` is new to the node
    /// (may not fault it before).
    @discardableResult
    func allowOnce(_ file: FileID) -> Bool {
        allowed.insert(file)
        return allowFaults(file)
    }

    /// `file` may fault the node but not mmap it: the legacy GEM_MMAP, where
    /// the kernel maps the shmem file and no offset node is involved.
    /// Returns whether `file` is new to the node.
    @discardableResult
    func allowFaults(_ file: FileID) -> Bool {
        guard !everAllowed.contains(file) else { return false }
        everAllowed.insert(file)
        return true
    }

    /// drm_vma_node_revoke: a GEM_CLOSE of the object by `file`. Mappings it
    /// made stay usable (`mayFault`), as in i915.
    func revoke(_ file: FileID) { allowed.remove(file) }

    /// drm_vma_node_is_allowed: what mmap() checks.
    func isAllowed(_ file: FileID) -> Bool { allowed.contains(file) }

    /// Whether `file` may hold a mapping of the node: what a fault checks.
    func mayFault(_ file: FileID) -> Bool { everAllowed.contains(file) }

    /// Whether any of `files` may hold a mapping of the node.
    func mayFault(anyOf files: Set<FileID>) -> Bool { !everAllowed.isDisjoint(with: files) }

    /// `file` holds no mapping any more (released, or none found by the
    /// reclaim scan): it loses the node entirely.
    func forget(_ file: FileID) {
        everAllowed.remove(file)
        allowed.remove(file)
    }

    /// The files that may hold a mapping.
    var holders: IDSet<FileID> { everAllowed }

    // MARK: the userfault list (i915_gem_object's userfault, per open)

    /// A fault put pages of the node in `inode`'s page cache. Returns whether
    /// the inode is new to the list.
    @discardableResult
    func noteUserfault(_ inode: InodeID) -> Bool {
        guard !userfault.contains(inode) else { return false }
        userfault.insert(inode)
        return true
    }

    /// Whether `inode`'s page cache may hold pages of the node.
    func isCached(in inode: InodeID) -> Bool { userfault.contains(inode) }

    /// `inode`'s pages of the node are gone (revoked, or the open released).
    func dropUserfault(_ inode: InodeID) { userfault.remove(inode) }

    /// Inodes whose page cache may hold pages of the node.
    var cachedIn: IDSet<InodeID> { userfault }

    /// The three lists, read only: the debug tree and tests.
    var lists: (allowed: IDSet<FileID>, everAllowed: IDSet<FileID>, userfault: IDSet<InodeID>) { (allowed, everAllowed, userfault) }
}
