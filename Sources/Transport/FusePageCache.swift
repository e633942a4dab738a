import CFuse
import Dispatch
import FakeDRMDevice
import FakeDRMUAPI
import Synchronization

/// Revocation through the kernel: fuse_lowlevel_notify_inval_inode unmaps
/// the range from every process mapping that inode, writes dirty pages back
/// (as WRITEs other loop threads serve) and drops them.
final class FusePageCache: PageCacheControl, @unchecked Sendable {
    /// Set once, before the session loop starts.
    private let session = Atomic<UInt>(0)
    private let queue = DispatchQueue(label: "fakedrm.invalidate")
    private let trace: Trace?
    private let channel: any FuseChannel

    init(trace: Trace? = nil, channel: any FuseChannel = Libfuse()) {
        self.trace = trace
        self.channel = channel
    }

    func attach(_ se: OpaquePointer) { session.store(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(se))), ordering: .releasing) }
    func detach() { session.store(0, ordering: .releasing) }

    /// Ranges this daemon is invalidating right now: a WRITE inside one may
    /// be a launder, whose folio stays locked until we reply.
    private let inFlight = Mutex<[Invalidation]>([])

    /// Export inodes (dma-bufs) whose file offset 0 is this device offset.
    private let shifts = Mutex<[InodeID: UInt64]>([:])

    func shift(inode: InodeID, by offset: UInt64?) { shifts.withLock { $0[inode] = offset } }

    /// A device-offset range of a dma-buf's inode in its file's offsets,
    /// clipped to the file (a whole-space range reaches it too); nil off it.
    private func translated(_ r: Invalidation) -> Invalidation? {
        guard DrmDevice.exportToken(inode: r.inode) != nil else { return r }
        guard let base = shifts.withLock({ $0[r.inode] }), r.offset &+ r.length > base else { return nil }
        let start = max(r.offset, base)
        return Invalidation(inode: r.inode, offset: start - base, length: r.offset + r.length - start)
    }

    func invalidate(_ ranges: [Invalidation]) {
        guard !ranges.isEmpty, let se = self.se else { return }
        for r in ranges.compactMap(translated) {
            inFlight.withLock { $0.append(r) }
            // ENOENT: the kernel already forgot the inode, nothing is cached.
            _ = channel.notifyInvalInode(se, r.inode.rawValue, Int64(r.offset), Int64(r.length))
            trace?.note("REVOKE {inode=\(r.inode), offset=0x\(String(r.offset, radix: 16)), length=\(r.length)}")
            inFlight.withLock { list in
                if let i = list.firstIndex(of: r) { list.remove(at: i) }
            }
        }
    }

    /// Stores the true bytes of refused writebacks, off the worker that
    /// answers the WRITE, in order.
    private let stores = DispatchQueue(label: "fakedrm.refuse")

    /// How long a refused WRITE waits for its store before it is answered
    /// anyway: only a page some thread holds locked takes longer.
    static let storeWait = DispatchTimeInterval.milliseconds(50)

    /// Stores answered before they went in, not yet dropped.
    private let late = Atomic<Int>(0)

    /// Writes the true bytes into the cached pages before the refused WRITE
    /// is answered, so msync's caller already sees them and the pages are
    /// clean and right.
    ///
    /// The store takes each page's lock, and a page under writeback may be
    /// held locked by a thread that waits for this very WRITE: a write fault
    /// on it (fuse_page_mkwrite locks the folio, then waits for writeback),
    /// for one the daemon's own copy-out of a PREAD into the client's
    /// mapping of this object. So the store runs on its own thread and the
    /// WRITE waits for it only `storeWait` (not at all while an earlier
    /// store is late: this one is queued behind it); past that it is answered, which
    /// lets the holder go, the store goes in after it, and the pages are
    /// dropped after that (the next fault reads the truth), so a late store
    /// never outlives its page's node.
    ///
    /// A launder (a WRITE inside one of our invalidations) holds its folio
    /// locked until we reply, so it cannot take the store at all; the
    /// invalidation drops that page instead, and one more is queued in case
    /// it had already passed it.
    func refuse(_ range: Invalidation, contents: [UInt8]) {
        guard se != nil, let range = translated(range) else { return }
        let whole = PageRange(bytes: range.offset, count: range.length)
        let pages = Invalidation(inode: range.inode, offset: whole.byteOffset, length: whole.byteLength)
        let overlaps = inFlight.withLock { list in
            list.contains { $0.inode == range.inode && $0.offset < range.offset + range.length && range.offset < $0.offset + $0.length }
        }
        if overlaps {
            invalidateSoon([pages])
            return
        }
        let stored = DispatchSemaphore(value: 0)
        stores.async {
            self.store(range, contents)
            stored.signal()
        }
        // Once one store is late, the ones queued behind it are too: do
        // not wait for them (a WRITE of many pages would wait for each).
        if late.load(ordering: .acquiring) == 0, stored.wait(timeout: .now() + Self.storeWait) == .success { return }
        late.add(1, ordering: .relaxed)
        trace?.note("REFUSE {inode=\(range.inode), offset=0x\(String(range.offset, radix: 16)), length=\(range.length)}: page locked, stored after the answer")
        stores.async {
            self.invalidate([pages])
            self.late.subtract(1, ordering: .releasing)
        }
    }

    /// fuse_lowlevel_notify_store of `contents` at `range`.
    private func store(_ range: Invalidation, _ contents: [UInt8]) {
        guard let se = self.se else { return }
        _ = contents.withUnsafeBytes { channel.notifyStore(se, range.inode.rawValue, Int64(range.offset), $0) }
    }

    /// The same as `invalidate`, from the one invalidation thread, in order:
    /// for revocations that need not hold up their caller.
    func invalidateSoon(_ ranges: [Invalidation]) {
        guard !ranges.isEmpty else { return }
        queue.async { self.invalidate(ranges) }
    }

    private var se: OpaquePointer? {
        let raw = session.load(ordering: .acquiring)
        return raw == 0 ? nil : OpaquePointer(bitPattern: raw)
    }
}
