import CDrm
import FakeDRMDevice

/// drm_ioctl(): decodes an ioctl number against the device's table, applies
/// the DRM core's rules, and runs the handler on a kernel-style buffer.
///
/// FUSE hands over `_IOC_SIZE(cmd)` bytes in and takes as many out, per the
/// caller's own direction bits; everything the kernel does between (size
/// reconciliation, zero-extension, copy-out even on error) happens here.
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
        guard fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE else { return Result(errno: DrmError.ENOTTY.errno, outBytes: 0) }
        guard let desc = fdrm_ioctl_lookup(fdrm_ioc_nr(cmd))?.pointee else {
            return Result(errno: DrmError.EINVAL.errno, outBytes: 0)
        }
        let drvSize = Int(fdrm_ioc_size(desc.cmd))
        let userSize = Int(fdrm_ioc_size(cmd))
        let inSize = fdrm_ioc_in(cmd) != 0 && fdrm_ioc_in(desc.cmd) != 0 ? min(userSize, input.count) : 0
        let outSize = fdrm_ioc_out(cmd) != 0 && fdrm_ioc_out(desc.cmd) != 0 ? min(userSize, output.count) : 0
        let kSize = max(inSize, outSize, drvSize)

        return withUnsafeTemporaryAllocation(byteCount: max(kSize, 1), alignment: 16) { kdata in
            // Zero-extend short structs (MMAP_GTT's 16 bytes read as MMAP_OFFSET's 32).
            kdata.initializeMemory(as: UInt8.self, repeating: 0)
            if inSize > 0 { kdata.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[0..<inSize])) }
            var errno: Int32 = 0
            do throws(DrmError) {
                // drm_ioctl_permit. An ioctl that only allows render nodes
                // (nearly all) asks nothing any open could fail: skipping the
                // check spares a second trip through the device lock.
                let auth = desc.flags & UInt32(FDRM_AUTH.rawValue) != 0
                let master = desc.flags & UInt32(FDRM_MASTER.rawValue) != 0
                let renderAllow = desc.flags & UInt32(FDRM_RENDER_ALLOW.rawValue) != 0
                // DRM_ROOT_ONLY: CAP_SYS_ADMIN, checked first.
                if desc.flags & UInt32(FDRM_ROOT_ONLY.rawValue) != 0, !caller.privileged { throw DrmError.EACCES }
                if auth || master || !renderAllow {
                    try device.permit(caller.file, auth: auth, master: master, renderAllow: renderAllow)
                }
                if let injected = device.injection.ioctlFailure(nr: fdrm_ioc_nr(cmd)) { throw injected }
                try handle(op: desc.op, kdata, caller)
            } catch {
                errno = error.errno
            }
            // drm_ioctl copies out even when the handler failed.
            if outSize > 0 { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: kdata[0..<outSize])) }
            return Result(errno: errno, outBytes: outSize)
        }
    }

    /// The name of an ioctl number, for traces and messages.
    public static func name(of cmd: UInt32) -> String {
        guard fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE, let d = fdrm_ioctl_lookup(fdrm_ioc_nr(cmd)) else {
            return "ioctl(" + String(cmd, radix: 16) + ")"
        }
        return String(cString: d.pointee.name)
    }
}

/// Runs `body` on the kernel buffer viewed as the uapi struct `T`; whatever
/// the handler left in it is copied back, as the kernel's kdata is.
@inline(__always)
func with<T>(_ kdata: UnsafeMutableRawBufferPointer, _ type: T.Type, _ body: (inout T) throws(DrmError) -> Void) throws(DrmError) {
    var v = kdata.load(as: T.self)
    defer { kdata.storeBytes(of: v, as: T.self) }
    try body(&v)
}
