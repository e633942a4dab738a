/// "Revoke only after the lock drops", by construction. What a locked
/// section decides to revoke (a coherency point's cached pages, an unbind's
/// GTT mappings, a freed object's nodes) is collected into a `Flush` and sent
/// once the device lock is released, whether the section returned or threw:
/// a revocation waits for write-backs, and a write-back takes the lock.
///
/// The data paths (PREAD/PWRITE, execbuf, the engine) place their flushes
/// by hand between lock sections, on purpose: each must land between two
/// steps (after rendering, before the copy; after placement, before the
/// relocations are read). The fault path defers past its reply instead
/// (`fault(_:inode:offset:into:deferring:)`).
extension DrmDevice {
    func withLock<R, E: Error>(revoking body: (inout DeviceState, inout Flush) throws(E) -> sending R) throws(E) -> R {
        var revoke = Flush()
        defer { flush(revoke) }
        return try state.withLock { (s: inout DeviceState) throws(E) -> sending R in try body(&s, &revoke) }
    }

    /// `withFile`, collecting revocations as `withLock(revoking:)`.
    func withFile<R>(_ id: FileID, revoking body: (inout DeviceState, DrmFile, inout Flush) throws(DrmError) -> sending R)
        throws(DrmError) -> R {
        try withLock(revoking: { (s: inout DeviceState, revoke: inout Flush) throws(DrmError) -> sending R in
            guard let file = s.files[id] else { throw DrmError.ENODEV }
            file.stats.ioctls += 1
            return try body(&s, file, &revoke)
        })
    }
}

extension Flush {
    static func += (a: inout Flush, b: Flush) {
        a.ranges += b.ranges
        a.taken += b.taken
    }

    static func += (a: inout Flush, ranges: [Invalidation]) { a.ranges += ranges }
}
