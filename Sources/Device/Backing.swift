#if canImport(Glibc)
import Glibc
#endif

/// An object's backing store: anonymous memory reserved up front and
/// populated by the kernel on first touch, so a 2 GiB object touched in one
/// page costs one page. Purging hands the pages back (reads see zeros).
/// Small objects share the reservations of `BackingArena`; large ones map
/// their own.
///
/// Copies in and out are not serialised with each other: like the hardware,
/// concurrent access to one object from two paths is the client's race.
public final class Backing: @unchecked Sendable {
    public let size: Int
    public let base: UnsafeMutableRawPointer
    private let packed: Bool
    /// Whether anything was ever stored. Until then a read is zeros without
    /// touching the pages: the daemon's first read of an anonymous page is
    /// a page fault of its own, and fresh objects are faulted in whole.
    /// Set under the device lock, before the store.
    public private(set) var written = false
    /// False for an object whose pages can never be had (larger than
    /// memory, or no address space for it): nothing is reserved, `base`
    /// must not be used, and the device refuses every path that needs the
    /// pages (GemObject.pagesError) before it gets here.
    public let reserved: Bool

    public init?(size: Int) {
        self.size = size
        reserved = true
        if let p = BackingArena.shared.allocate(size) {
            base = p
            packed = true
            return
        }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != MAP_FAILED else { return nil }
        base = p
        packed = false
    }

    /// No backing at all, for an object whose pages are never handed out.
    public init(unreservedSize size: Int) {
        self.size = size
        reserved = false
        packed = false
        base = UnsafeMutableRawPointer(bitPattern: 4096)! // never dereferenced
    }

    deinit {
        guard reserved else { return }
        if packed { BackingArena.shared.free(base, bytes: size, written: written) } else { BackingArena.shared.unmap(base, bytes: size, written: written) }
    }

    public func copyOut(at offset: Int, into dst: UnsafeMutableRawPointer, count: Int) {
        // memset, not initializeMemory: a per-byte loop in a debug build (13% of
        // a debug daemon's time under gem_tiled_blits, faulting fresh objects).
        if written { dst.copyMemory(from: base + offset, byteCount: count) } else { memset(dst, 0, count) }
    }

    public func copyIn(at offset: Int, from src: UnsafeRawPointer, count: Int) {
        guard reserved else { return }
        written = true
        (base + offset).copyMemory(from: src, byteCount: count)
    }

    /// Announces a store through `base` (PWRITE copies there directly).
    public func willWrite() { written = reserved }

    /// Drops every page (I915_MADV_DONTNEED purge, truncate).
    public func purge() { if reserved { _ = madvise(base, size, MADV_DONTNEED) } }
}
