import CDrm
import FakeDRMDevice

/// The syncobj ioctls (drm_syncobj.c): decode, read the caller's handle and
/// point arrays when the model asks (the kernel's copy order), write results
/// back. Every rule and errno is the model's (DrmDevice+Syncobj.swift).
enum Syncobj {
    static func create(_ dev: DrmDevice, _ a: inout drm_syncobj_create, _ c: IoctlCaller) throws(DrmError) {
        a.handle = try dev.syncobjCreate(c.file, flags: a.flags).rawValue
    }

    static func createFields(_ a: drm_syncobj_create, out: Bool) -> Fields {
        out ? [("handle", "\(a.handle)")] : [("flags", TraceFields.hex(a.flags))]
    }

    static func destroy(_ dev: DrmDevice, _ a: inout drm_syncobj_destroy, _ c: IoctlCaller) throws(DrmError) {
        try dev.syncobjDestroy(c.file, handle: SyncobjHandle(rawValue: a.handle), pad: a.pad)
    }

    static func destroyFields(_ a: drm_syncobj_destroy, out: Bool) -> Fields { [("handle", "\(a.handle)")] }

    /// The struct is the kernel's (6.16+, with `point`: CDrm's
    /// fdrm_syncobj_handle); a caller's shorter one arrives zero-extended.
    /// In strict mode `fd` carries export tokens both ways: the preload
    /// library swaps them for fds (include/fakedrm.h).
    static func handleToFd(_ dev: DrmDevice, _ a: inout fdrm_syncobj_handle, _ c: IoctlCaller) throws(DrmError) {
        let token = try dev.syncobjHandleToFd(c.file, handle: SyncobjHandle(rawValue: a.args.handle), flags: a.args.flags, pad: a.args.pad,
                                              point: fdrm_syncobj_handle_point(&a), pid: c.pid)
        a.args.fd = Int32(bitPattern: token)
    }

    static func fdToHandle(_ dev: DrmDevice, _ a: inout fdrm_syncobj_handle, _ c: IoctlCaller) throws(DrmError) {
        if let h = try dev.syncobjFdToHandle(c.file, token: UInt32(bitPattern: a.args.fd), handle: SyncobjHandle(rawValue: a.args.handle),
                                             flags: a.args.flags, pad: a.args.pad, point: fdrm_syncobj_handle_point(&a)) {
            a.args.handle = h.rawValue
        }
    }

    static func handleFields(_ a: fdrm_syncobj_handle, out: Bool) -> Fields {
        var fields: Fields = [("handle", "\(a.args.handle)"), ("flags", TraceFields.hex(a.args.flags)), ("fd", "\(a.args.fd)")]
        var copy = a
        let point = fdrm_syncobj_handle_point(&copy)
        if point != 0 { fields.append(("point", "\(point)")) }
        return fields
    }

    static func transfer(_ dev: DrmDevice, _ a: inout drm_syncobj_transfer, _ c: IoctlCaller) throws(DrmError) {
        try dev.syncobjTransfer(c.file, src: SyncobjHandle(rawValue: a.src_handle), srcPoint: a.src_point, dst: SyncobjHandle(rawValue: a.dst_handle),
                                dstPoint: a.dst_point, flags: a.flags, pad: a.pad)
    }

    static func transferFields(_ a: drm_syncobj_transfer, out: Bool) -> Fields {
        [("src", "\(a.src_handle)@\(a.src_point)"), ("dst", "\(a.dst_handle)@\(a.dst_point)"), ("flags", TraceFields.hex(a.flags))]
    }

    /// The eventfd is the caller's: the daemon takes a duplicate of it
    /// (pidfd_getfd, CDrm's eventfd.c) once the model has checked the rest.
    static func eventfd(_ dev: DrmDevice, _ a: inout fdrm_syncobj_eventfd, _ c: IoctlCaller) throws(DrmError) {
        let (fd, pid) = (a.fd, c.pid)
        try dev.syncobjEventfd(c.file, handle: SyncobjHandle(rawValue: a.handle), flags: a.flags, point: a.point, pad: a.pad) { () throws(DrmError) in
            let local = fdrm_eventfd_get(pid, fd)
            guard local >= 0 else { throw DrmError(-local) }
            return SyncobjEventfd(fd: local)
        }
    }

    static func eventfdFields(_ a: fdrm_syncobj_eventfd, out: Bool) -> Fields {
        [("handle", "\(a.handle)"), ("point", "\(a.point)"), ("flags", TraceFields.hex(a.flags)), ("fd", "\(a.fd)")]
    }

    static func wait(_ dev: DrmDevice, _ a: inout drm_syncobj_wait, _ c: IoctlCaller) throws(DrmError) {
        let (ptr, n) = (a.handles, a.count_handles)
        if let first = try dev.syncobjWait(c.file, count: n, flags: a.flags, timeline: false, timeoutNsec: a.timeout_nsec,
                                           interruption: c.interruption,
                                           handles: { () throws(DrmError) in try handles(ptr, n, c) },
                                           points: { () throws(DrmError) in nil }) {
            a.first_signaled = first
        }
    }

    static func waitFields(_ a: drm_syncobj_wait, out: Bool) -> Fields {
        out ? [("first_signaled", "\(a.first_signaled)")]
            : [("count_handles", "\(a.count_handles)"), ("flags", TraceFields.hex(a.flags)), ("timeout_nsec", "\(a.timeout_nsec)")]
    }

    static func timelineWait(_ dev: DrmDevice, _ a: inout drm_syncobj_timeline_wait, _ c: IoctlCaller) throws(DrmError) {
        let (ptr, pts, n) = (a.handles, a.points, a.count_handles)
        if let first = try dev.syncobjWait(c.file, count: n, flags: a.flags, timeline: true, timeoutNsec: a.timeout_nsec,
                                           interruption: c.interruption,
                                           handles: { () throws(DrmError) in try handles(ptr, n, c) },
                                           points: { () throws(DrmError) in pts == 0 ? nil : try array(UInt64.self, pts, n, c) }) {
            a.first_signaled = first
        }
    }

    static func timelineWaitFields(_ a: drm_syncobj_timeline_wait, out: Bool) -> Fields {
        out ? [("first_signaled", "\(a.first_signaled)")]
            : [("count_handles", "\(a.count_handles)"), ("flags", TraceFields.hex(a.flags)), ("timeout_nsec", "\(a.timeout_nsec)")]
    }

    static func reset(_ dev: DrmDevice, _ a: inout drm_syncobj_array, _ c: IoctlCaller) throws(DrmError) {
        try resetOrSignal(dev, &a, c, signal: false)
    }

    static func signal(_ dev: DrmDevice, _ a: inout drm_syncobj_array, _ c: IoctlCaller) throws(DrmError) {
        try resetOrSignal(dev, &a, c, signal: true)
    }

    private static func resetOrSignal(_ dev: DrmDevice, _ a: inout drm_syncobj_array, _ c: IoctlCaller, signal: Bool) throws(DrmError) {
        let (ptr, n) = (a.handles, a.count_handles)
        try dev.syncobjResetOrSignal(c.file, signal: signal, count: n, pad: a.pad,
                                     handles: { () throws(DrmError) in try handles(ptr, n, c) })
    }

    static func arrayFields(_ a: drm_syncobj_array, out: Bool) -> Fields { [("count_handles", "\(a.count_handles)")] }

    static func timelineSignal(_ dev: DrmDevice, _ a: inout drm_syncobj_timeline_array, _ c: IoctlCaller) throws(DrmError) {
        let (ptr, pts, n) = (a.handles, a.points, a.count_handles)
        try dev.syncobjTimelineSignal(c.file, count: n, flags: a.flags,
                                      handles: { () throws(DrmError) in try handles(ptr, n, c) },
                                      points: { () throws(DrmError) in pts == 0 ? nil : try array(UInt64.self, pts, n, c) })
    }

    static func query(_ dev: DrmDevice, _ a: inout drm_syncobj_timeline_array, _ c: IoctlCaller) throws(DrmError) {
        let (ptr, n) = (a.handles, a.count_handles)
        let points = try dev.syncobjQuery(c.file, count: n, flags: a.flags,
                                          handles: { () throws(DrmError) in try handles(ptr, n, c) })
        for (i, p) in points.enumerated() { try c.memory.store(p, at: a.points &+ UInt64(i * 8)) }
    }

    static func timelineArrayFields(_ a: drm_syncobj_timeline_array, out: Bool) -> Fields {
        [("count_handles", "\(a.count_handles)"), ("flags", TraceFields.hex(a.flags))]
    }
}

/// A handle array (drm_syncobj_array_find's copy), as the model's handles.
private func handles(_ ptr: UInt64, _ count: UInt32, _ c: IoctlCaller) throws(DrmError) -> [SyncobjHandle] {
    try array(UInt32.self, ptr, count, c).map(SyncobjHandle.init(rawValue:))
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
