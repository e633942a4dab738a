import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Address space for small objects' backing, carved out of large anonymous
/// reservations. One mapping per object would stop the daemon at
/// vm.max_map_count (65530 by default) objects and cost a VMA each; here a
/// reservation of `chunkBytes` serves a quarter million one-page objects.
///
/// Blocks come in power-of-two page counts (the class), handed out by a bump
/// pointer and reused last-freed first. Nothing is populated until touched,
/// and a freed block's pages go back to the kernel at once, so the resident
/// cost is only the pages clients wrote. Virtual space is never unmapped.
final class BackingArena: Sendable {
    static let shared = BackingArena()

    /// Objects up to this size are packed; larger ones map their own.
    static let maxPackedBytes = 2 << 20
    static let chunkBytes = 1 << 30

    private struct State {
        /// Freed block addresses per class (log2 of the page count).
        var free: [[UInt]] = Array(repeating: [], count: classOf(maxPackedBytes) + 1)
        var cursor: UInt = 0
        var remaining = 0
    }

    /// A DeviceLock, so ThreadSanitizer sees its sections as ordered.
    private let state = DeviceLock(State())

    /// Unmaps large written objects. An object usually dies under the device
    /// lock (its last reference goes with GEM_CLOSE or a file's release), and
    /// dropping the pages of a large written object takes milliseconds that
    /// every other client would wait through. A packed block is at most
    /// `maxPackedBytes` and is dropped at once, so its pages are back when
    /// the close returns.
    private let reaper = DispatchQueue(label: "fakedrm.backing-reaper")

    private static func classOf(_ bytes: Int) -> Int {
        let pages = Page.count(covering: bytes)
        return pages <= 1 ? 0 : Int.bitWidth - (pages - 1).leadingZeroBitCount
    }

    /// A zero-filled block of at least `bytes`, or nil when `bytes` is too
    /// large to pack or no address space could be reserved.
    func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard bytes > 0, bytes <= Self.maxPackedBytes else { return nil }
        let c = Self.classOf(bytes), blockBytes = Page.size << c
        let addr = state.withLock { s -> UInt in
            if let a = s.free[c].popLast() { return a }
            if s.remaining < blockBytes {
                let p = mmap(nil, Self.chunkBytes, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                guard let p, p != MAP_FAILED else { return 0 }
                // A huge page would make a one-page object's write cost 2 MiB
                // and span its neighbours.
                _ = madvise(p, Self.chunkBytes, MADV_NOHUGEPAGE)
                s.cursor = UInt(bitPattern: p)
                s.remaining = Self.chunkBytes
            }
            defer {
                s.cursor += UInt(blockBytes)
                s.remaining -= blockBytes
            }
            return s.cursor
        }
        return UnsafeMutableRawPointer(bitPattern: addr)
    }

    /// Returns a block from `allocate`: its pages go back to the kernel (the
    /// next owner reads zeros) and its addresses to the class's free list.
    /// A block never `written` holds no page (reads map the zero page).
    func free(_ base: UnsafeMutableRawPointer, bytes: Int, written: Bool) {
        let c = Self.classOf(bytes)
        if written { _ = madvise(base, Page.size << c, MADV_DONTNEED) }
        state.withLock { $0.free[c].append(UInt(bitPattern: base)) }
    }

    /// Unmaps a large object's own mapping: at once if no page was ever
    /// written (nothing to drop), else on the reaper.
    func unmap(_ base: UnsafeMutableRawPointer, bytes: Int, written: Bool) {
        guard written else { return _ = munmap(base, bytes) }
        let addr = UInt(bitPattern: base)
        reaper.async { _ = munmap(UnsafeMutableRawPointer(bitPattern: addr), bytes) }
    }
}
