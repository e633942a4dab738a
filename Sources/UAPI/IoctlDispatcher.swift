import CDrm
import FakeDRMDevice

/// drm_ioctl(): decodes an ioctl number against the device's table
/// (IoctlTable.swift), applies the DRM core's rules, and runs the entry's
/// handler on a kernel-style buffer.
///
/// FUSE hands over `_IOC_SIZE(cmd)` bytes in and takes as many out, per the
/// caller's own direction bits; everything the kernel does between (size
/// reconciliation, zero-extension, copy-out even on error) happens in
/// `run`, the one place that sets up a kernel buffer: device files
/// (`dispatch`), their traced form, and the mount's root (`dispatchRoot`).
public struct IoctlDispatcher: Sendable {
    public let device: DrmDevice

    public init(device: DrmDevice) { self.device = device }

    /// The outcome: 0 or a positive errno, and how many bytes of `output` to
    /// hand back to the caller.
    public struct Result: Equatable {
        public let errno: Int32
        public let outBytes: Int
    }

    public func dispatch(cmd: UInt32, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
                         caller: IoctlCaller) -> Result {
        dispatch(cmd: cmd, input: input, output: output, caller: caller, observer: NoObserver())
    }

    /// drm_ioctl on a device file: the table entry, drm_ioctl_permit, armed
    /// fault injection, then the handler; `observer` (the trace) sees the
    /// kernel buffer before and after.
    func dispatch<O: KernelBufferObserver>(cmd: UInt32, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
                                           caller: IoctlCaller, observer: O) -> Result {
        guard fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE else { return Result(errno: DrmError.ENOTTY.errno, outBytes: 0) }
        guard let desc = Self.byNr[Int(fdrm_ioc_nr(cmd))] else { return Result(errno: DrmError.EINVAL.errno, outBytes: 0) }
        let device = device
        return run(cmd: cmd, desc, input: input, output: output, observer: observer) { k throws(DrmError) in
            // drm_ioctl_permit. An ioctl that only allows render nodes
            // (nearly all) asks nothing any open could fail: skipping the
            // check spares a second trip through the device lock.
            let auth = desc.flags.contains(.auth), master = desc.flags.contains(.master)
            let renderAllow = desc.flags.contains(.renderAllow)
            // DRM_ROOT_ONLY: CAP_SYS_ADMIN, checked first.
            if desc.flags.contains(.rootOnly), !caller.privileged { throw DrmError.EACCES }
            if auth || master || !renderAllow {
                try device.permit(caller.file, auth: auth, master: master, renderAllow: renderAllow)
            }
            if let injected = device.injection.ioctlFailure(nr: fdrm_ioc_nr(cmd)) { throw injected }
            try desc.handler(device, k, caller)
        }
    }

    /// An ioctl on the mount's root directory. `minor(ino)` says which device
    /// node an inode of the mount is (nil: not a device file). Only the
    /// table's entries with a root handler, called by their exact number,
    /// are served (PROBE, VMA_OPEN, VMA_CLOSE); anything else is ENOTTY, as
    /// on any directory.
    public func dispatchRoot(cmd: UInt32, uid: UInt32 = 0, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
                             minor: (InodeID) -> Minor?) -> Result {
        guard let desc = Self.lookup(cmd), desc.cmd == cmd, let root = desc.root else {
            return Result(errno: DrmError.ENOTTY.errno, outBytes: 0)
        }
        let device = device
        return withoutActuallyEscaping(minor) { minor in
            run(cmd: cmd, desc, input: input, output: output, observer: NoObserver()) { k throws(DrmError) in
                try root(device, k, RootCaller(uid: uid, minor: minor))
            }
        }
    }

    /// The kernel buffer of one call: as big as the larger of the caller's
    /// and the device's struct, zero-extended past what came in (MMAP_GTT's
    /// 16 bytes read as MMAP_OFFSET's 32), copied back out even when `body`
    /// failed, as drm_ioctl does. In and out only where both the caller's
    /// number and the device's say so.
    @inline(__always)
    private func run<O: KernelBufferObserver>(cmd: UInt32, _ desc: IoctlDesc, input: UnsafeRawBufferPointer,
                                              output: UnsafeMutableRawBufferPointer, observer: O,
                                              _ body: (UnsafeMutableRawBufferPointer) throws(DrmError) -> Void) -> Result {
        let drvSize = Int(fdrm_ioc_size(desc.cmd))
        let userSize = Int(fdrm_ioc_size(cmd))
        let inSize = fdrm_ioc_in(cmd) != 0 && fdrm_ioc_in(desc.cmd) != 0 ? min(userSize, input.count) : 0
        let outSize = fdrm_ioc_out(cmd) != 0 && fdrm_ioc_out(desc.cmd) != 0 ? min(userSize, output.count) : 0
        let kSize = max(inSize, outSize, drvSize)

        return withUnsafeTemporaryAllocation(byteCount: max(kSize, 1), alignment: 16) { kdata in
            kdata.initializeMemory(as: UInt8.self, repeating: 0)
            if inSize > 0 { kdata.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[0..<inSize])) }
            observer.enter(UnsafeRawBufferPointer(kdata))
            var errno: Int32 = 0
            do throws(DrmError) {
                try body(kdata)
            } catch {
                errno = error.errno
            }
            if outSize > 0 { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: kdata[0..<outSize])) }
            let r = Result(errno: errno, outBytes: outSize)
            observer.leave(kdata, r)
            return r
        }
    }

    /// The libdrm name of an ioctl number the device serves, for traces and messages.
    public static func name(of cmd: UInt32) -> String {
        lookup(cmd)?.name ?? "ioctl(" + String(cmd, radix: 16) + ")"
    }

    /// Whether the ioctl may sleep interruptibly (a signal ends it with
    /// EINTR: IoctlCaller.interruption): the waits for rendering and fences.
    /// The transport watches only these for FUSE INTERRUPT.
    public static func mayWait(cmd: UInt32) -> Bool {
        guard fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE else { return false }
        return waitingNrs.contains(fdrm_ioc_nr(cmd))
    }

    private static let waitingNrs: Set<UInt32> = Set([
        FDRM_IOCTL_I915_GEM_WAIT, FDRM_IOCTL_SYNCOBJ_WAIT, FDRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
        FDRM_IOCTL_I915_GEM_SET_DOMAIN, FDRM_IOCTL_I915_GEM_PREAD, FDRM_IOCTL_I915_GEM_PWRITE,
        FDRM_IOCTL_I915_GEM_EXECBUFFER2_WR,
    ].map { fdrm_ioc_nr(UInt32($0)) })
}

/// Sees a call's kernel buffer as the handler will (`enter`) and once the
/// caller's copy is out (`leave`): the trace's hook into the one path.
/// Passed by value, never inout: TSan's access checks fault on the
/// address of an empty inout struct.
protocol KernelBufferObserver {
    func enter(_ kdata: UnsafeRawBufferPointer)
    func leave(_ kdata: UnsafeMutableRawBufferPointer, _ result: IoctlDispatcher.Result)
}

/// The untraced path: specialised away.
struct NoObserver: KernelBufferObserver {
    @inline(__always) func enter(_ kdata: UnsafeRawBufferPointer) {}
    @inline(__always) func leave(_ kdata: UnsafeMutableRawBufferPointer, _ result: IoctlDispatcher.Result) {}
}

/// Runs `body` on the kernel buffer viewed as the uapi struct `T`; whatever
/// the handler left in it is copied back, as the kernel's kdata is.
@inline(__always)
func with<T>(_ kdata: UnsafeMutableRawBufferPointer, _ type: T.Type, _ body: (inout T) throws(DrmError) -> Void) throws(DrmError) {
    var v = kdata.load(as: T.self)
    defer { kdata.storeBytes(of: v, as: T.self) }
    try body(&v)
}
