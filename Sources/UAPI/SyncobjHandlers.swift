import CDrm
import FakeDRMDevice

/// The syncobj ioctls: decode, read the caller's handle and point arrays
/// when the model asks (the kernel's copy order), write results back.
extension IoctlDispatcher {
    func syncobj(op: UInt32, _ k: UnsafeMutableRawBufferPointer, _ c: IoctlCaller) throws(DrmError) {
        let dev = device
        switch fdrm_op(op) {
        case FDRM_OP_SYNCOBJ_CREATE:
            try with(k, drm_syncobj_create.self) { (a: inout drm_syncobj_create) throws(DrmError) in
                a.handle = try dev.syncobjCreate(c.file, flags: a.flags)
            }
        case FDRM_OP_SYNCOBJ_DESTROY:
            try with(k, drm_syncobj_destroy.self) { (a: inout drm_syncobj_destroy) throws(DrmError) in
                try dev.syncobjDestroy(c.file, handle: a.handle, pad: a.pad)
            }
        case FDRM_OP_SYNCOBJ_HANDLE_TO_FD, FDRM_OP_SYNCOBJ_FD_TO_HANDLE:
            // 6.x appends a u64 point to drm_syncobj_handle; libdrm's header
            // predates it, so it is read past the struct when the caller sent it.
            let size = MemoryLayout<drm_syncobj_handle>.size
            let point = k.count >= size + 8 ? k.loadUnaligned(fromByteOffset: size, as: UInt64.self) : 0
            try with(k, drm_syncobj_handle.self) { (a: inout drm_syncobj_handle) throws(DrmError) in
                try dev.syncobjFdIoctl(c.file, toFd: fdrm_op(op) == FDRM_OP_SYNCOBJ_HANDLE_TO_FD, handle: a.handle,
                                       flags: a.flags, pad: a.pad, point: point)
            }
        case FDRM_OP_SYNCOBJ_TRANSFER:
            try with(k, drm_syncobj_transfer.self) { (a: inout drm_syncobj_transfer) throws(DrmError) in
                try dev.syncobjTransfer(c.file, src: a.src_handle, srcPoint: a.src_point, dst: a.dst_handle,
                                        dstPoint: a.dst_point, flags: a.flags, pad: a.pad)
            }
        case FDRM_OP_SYNCOBJ_WAIT:
            try with(k, drm_syncobj_wait.self) { (a: inout drm_syncobj_wait) throws(DrmError) in
                let (ptr, n) = (a.handles, a.count_handles)
                if let first = try dev.syncobjWait(c.file, count: n, flags: a.flags, timeline: false, timeoutNsec: a.timeout_nsec,
                                                   handles: { () throws(DrmError) in try array(UInt32.self, ptr, n, c) },
                                                   points: { () throws(DrmError) in nil }) {
                    a.first_signaled = first
                }
            }
        case FDRM_OP_SYNCOBJ_TIMELINE_WAIT:
            try with(k, drm_syncobj_timeline_wait.self) { (a: inout drm_syncobj_timeline_wait) throws(DrmError) in
                let (ptr, pts, n) = (a.handles, a.points, a.count_handles)
                if let first = try dev.syncobjWait(c.file, count: n, flags: a.flags, timeline: true, timeoutNsec: a.timeout_nsec,
                                                   handles: { () throws(DrmError) in try array(UInt32.self, ptr, n, c) },
                                                   points: { () throws(DrmError) in pts == 0 ? nil : try array(UInt64.self, pts, n, c) }) {
                    a.first_signaled = first
                }
            }
        case FDRM_OP_SYNCOBJ_RESET, FDRM_OP_SYNCOBJ_SIGNAL:
            try with(k, drm_syncobj_array.self) { (a: inout drm_syncobj_array) throws(DrmError) in
                let (ptr, n) = (a.handles, a.count_handles)
                try dev.syncobjResetOrSignal(c.file, signal: fdrm_op(op) == FDRM_OP_SYNCOBJ_SIGNAL, count: n, pad: a.pad,
                                             handles: { () throws(DrmError) in try array(UInt32.self, ptr, n, c) })
            }
        case FDRM_OP_SYNCOBJ_TIMELINE_SIGNAL:
            try with(k, drm_syncobj_timeline_array.self) { (a: inout drm_syncobj_timeline_array) throws(DrmError) in
                let (ptr, pts, n) = (a.handles, a.points, a.count_handles)
                try dev.syncobjTimelineSignal(c.file, count: n, flags: a.flags,
                                              handles: { () throws(DrmError) in try array(UInt32.self, ptr, n, c) },
                                              points: { () throws(DrmError) in pts == 0 ? nil : try array(UInt64.self, pts, n, c) })
            }
        case FDRM_OP_SYNCOBJ_QUERY:
            try with(k, drm_syncobj_timeline_array.self) { (a: inout drm_syncobj_timeline_array) throws(DrmError) in
                let (ptr, n) = (a.handles, a.count_handles)
                let points = try dev.syncobjQuery(c.file, count: n, flags: a.flags,
                                                  handles: { () throws(DrmError) in try array(UInt32.self, ptr, n, c) })
                for (i, p) in points.enumerated() { try c.memory.store(p, at: a.points &+ UInt64(i * 8)) }
            }
        default:
            throw DrmError.EINVAL
        }
    }
}

/// kmalloc_array then copy_from_user of `count` elements: ENOMEM past
/// KMALLOC_MAX_SIZE (4 MiB), EFAULT.
private func array<T>(_ type: T.Type, _ ptr: UInt64, _ count: UInt32, _ c: IoctlCaller) throws(DrmError) -> [T] where T: FixedWidthInteger {
    guard UInt64(count) * UInt64(MemoryLayout<T>.size) <= 4 << 20 else { throw DrmError.ENOMEM }
    var out = [T](repeating: 0, count: Int(count))
    let failure: DrmError? = out.withUnsafeMutableBytes { buf in
        do throws(DrmError) { try c.memory.read(ptr, into: buf) } catch { return error }
        return nil
    }
    if let failure { throw failure }
    return out
}
