import CFuse
import Dispatch
import FakeDRMDevice
import Synchronization

/// Revocation through the kernel: fuse_lowlevel_notify_inval_inode unmaps
/// the range from every process mapping that inode, writes dirty pages back
/// (as WRITEs other loop threads serve) and drops them.
final class FusePageCache: PageCacheControl, @unchecked Sendable {
    /// Set once, before the session loop starts.
    private let session = Atomic<UInt>(0)
    private let queue = DispatchQueue(label: "fakedrm.invalidate")
    let issued = Atomic<Int>(0)

    func attach(_ se: OpaquePointer) { session.store(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(se))), ordering: .releasing) }
    func detach() { session.store(0, ordering: .releasing) }

    func invalidate(_ ranges: [Invalidation]) {
        guard !ranges.isEmpty else { return }
        let raw = session.load(ordering: .acquiring)
        guard raw != 0, let se = OpaquePointer(bitPattern: raw) else { return }
        for r in ranges {
            // ENOENT: the kernel already forgot the inode, nothing is cached.
            _ = fuse_lowlevel_notify_inval_inode(se, fuse_ino_t(r.inode), off_t(r.offset), off_t(r.length))
            issued.add(1, ordering: .relaxed)
        }
    }

    func invalidateLater(_ ranges: [Invalidation]) {
        guard !ranges.isEmpty else { return }
        queue.async { self.invalidate(ranges) }
    }
}
