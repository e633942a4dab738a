import CDrm
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// SYNCOBJ_EVENTFD in the model (drm_syncobj_eventfd_ioctl): the errno
/// order, and when the eventfd is signalled. The eventfds are this
/// process's own (the transport would hand a duplicate of the caller's).
@Suite struct SyncobjEventfdTests {
    let fx = Fixture()

    /// A non-blocking eventfd and its counter (0 when unsignalled).
    final class Counter {
        let fd = fdrm_eventfd_create()
        func take() -> UInt64 {
            var v: UInt64 = 0
            return read(fd, &v, 8) == 8 ? v : 0
        }
        /// What the device gets: its own duplicate.
        func sink() -> SyncobjEventfd { SyncobjEventfd(fd: dup(fd)) }
        deinit { close(fd) }
    }

    @Test func errnoOrder() throws {
        let f = fx.open(inode: 1)
        let h = try fx.dev.syncobjCreate(f, flags: 0)
        var asked = false
        let refuse = { () throws(DrmError) -> SyncobjEventfd in asked = true; throw DrmError.EBADF }
        let available = UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE)
        // Flags before pad before the handle before the fd.
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjEventfd(f, handle: 9, flags: 1, point: 0, pad: 1, eventfd: refuse) }
        #expect(throws: DrmError.EINVAL) {
            try fx.dev.syncobjEventfd(f, handle: 9, flags: UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), point: 0, pad: 0, eventfd: refuse)
        }
        #expect(throws: DrmError.EINVAL) { try fx.dev.syncobjEventfd(f, handle: 9, flags: available, point: 0, pad: 1, eventfd: refuse) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.syncobjEventfd(f, handle: 9, flags: available, point: 0, pad: 0, eventfd: refuse) }
        #expect(!asked)
        #expect(throws: DrmError.EBADF) { try fx.dev.syncobjEventfd(f, handle: h, flags: 0, point: 0, pad: 0, eventfd: refuse) }
        #expect(asked)
    }

    @Test func signalledWhenThePointIs() throws {
        let f = fx.open(inode: 1)
        let h = try fx.dev.syncobjCreate(f, flags: 0)
        let bin = Counter(), pt2 = Counter(), avail3 = Counter(), pt3 = Counter()
        try fx.dev.syncobjEventfd(f, handle: h, flags: 0, point: 0, pad: 0) { () throws(DrmError) in bin.sink() }
        try fx.dev.syncobjEventfd(f, handle: h, flags: 0, point: 2, pad: 0) { () throws(DrmError) in pt2.sink() }
        try fx.dev.syncobjEventfd(f, handle: h, flags: UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE), point: 3, pad: 0) {
            () throws(DrmError) in avail3.sink()
        }
        try fx.dev.syncobjEventfd(f, handle: h, flags: 0, point: 3, pad: 0) { () throws(DrmError) in pt3.sink() }
        #expect(bin.take() == 0 && pt2.take() == 0 && avail3.take() == 0)
        // Point 2 submitted and signalled: a stub at 2 (TIMELINE_SIGNAL).
        try fx.dev.syncobjTimelineSignal(f, count: 1, flags: 0, handles: { [h] }, points: { [2] })
        #expect(bin.take() == 1)          // point 0: the syncobj's fence, signalled
        #expect(pt2.take() == 1)
        #expect(avail3.take() == 0 && pt3.take() == 0)   // 3 not submitted yet
        // Point 3 by an unsignalled request's fence: available, not signalled.
        let rq = Request(seqno: 1, context: GpuContext(id: 0, vm: GpuVm(), file: nil), engine: .rcs0, batchStart: 0,
                         batchIndex: 0, targets: [], dependencies: [])
        try fx.dev.withFile(f) { (s, _) throws(DrmError) in
            s.gpu.file(f).syncobjs[h]!.addPoint(DmaFence(rq), 3) { 77 }
        }
        #expect(avail3.take() == 1)
        #expect(pt3.take() == 0)
        // As dma_fence_signal runs its callbacks: before signal() returns,
        // not on a global queue (whose threads other work may hold).
        rq.signal()
        #expect(pt3.take() == 1)
        #expect(bin.take() == 0 && pt2.take() == 0)   // one-shot
    }
}
