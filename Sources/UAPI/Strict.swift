import CDrm
import FakeDRMDevice

/// The strict-mode ioctls (include/fakedrm.h) the preload library issues:
/// on a device file through the table like any other, and on the mount's
/// root directory, which has no drm_file: there only PROBE and the
/// VMA_OPEN/VMA_CLOSE of mappings that may outlive every fd of their open.
extension IoctlDispatcher {
    /// Names this daemon in PROBE, so a library never mixes up two mounts.
    static let instance = UInt64.random(in: 1...UInt64.max)

    func strict(op: UInt32, _ k: UnsafeMutableRawBufferPointer, _ c: IoctlCaller) throws(DrmError) {
        let dev = device
        switch fdrm_op(op) {
        case FDRM_OP_FAKEDRM_PROBE:
            try with(k, drm_fakedrm_probe.self) { (p: inout drm_fakedrm_probe) throws(DrmError) in
                guard p.ino == 0 else { throw DrmError.EINVAL }
                // The library asks: this open is in strict mode (Exports/).
                dev.markStrict(c.file)
                p.version = UInt32(FAKEDRM_PROBE_VERSION)
                p.minor = Int32(try dev.minor(of: c.file).number)
                p.instance = Self.instance
            }
        case FDRM_OP_FAKEDRM_MMAP:
            try with(k, drm_fakedrm_mmap.self) { (m: inout drm_fakedrm_mmap) throws(DrmError) in
                let r = try dev.strictMmap(c.file, offset: m.offset, size: m.size, prot: Int32(bitPattern: m.prot))
                (m.cookie, m.readonly) = (r.cookie, r.readonly ? 1 : 0)
            }
        case FDRM_OP_FAKEDRM_VMA_OPEN:
            try with(k, drm_fakedrm_vma.self) { (v: inout drm_fakedrm_vma) throws(DrmError) in try dev.vmaOpen(cookie: v.cookie) }
        case FDRM_OP_FAKEDRM_VMA_CLOSE:
            try with(k, drm_fakedrm_vma.self) { (v: inout drm_fakedrm_vma) throws(DrmError) in try dev.vmaClose(cookie: v.cookie) }
        case FDRM_OP_FAKEDRM_GEM_MMAP:
            try with(k, drm_fakedrm_gem_mmap.self) { (g: inout drm_fakedrm_gem_mmap) throws(DrmError) in
                let r = try dev.legacyMmap(c.file, handle: g.args.handle, offset: g.args.offset, size: g.args.size,
                                           flags: g.args.flags, pid: c.pid)
                (g.map_offset, g.cookie, g.token) = (r.mapOffset, r.cookie, r.token)
            }
        default:
            throw DrmError.EINVAL
        }
    }

    /// An ioctl on the mount's root directory. `minor(ino)` says which device
    /// node an inode of the mount is (nil: not a device file). Anything but
    /// the three calls above is ENOTTY, as on any directory. VMA_OPEN and
    /// VMA_CLOSE act on another open's mapping: only a caller of the same
    /// `uid` as the open that made it, or root, may (EPERM).
    public func dispatchRoot(cmd: UInt32, uid: UInt32 = 0, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
                             minor: (UInt64) -> Minor?) -> Result {
        let ops: Set<UInt32> = [FDRM_OP_FAKEDRM_PROBE.rawValue, FDRM_OP_FAKEDRM_VMA_OPEN.rawValue,
                                FDRM_OP_FAKEDRM_VMA_CLOSE.rawValue]
        guard fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE, let desc = fdrm_ioctl_lookup(fdrm_ioc_nr(cmd))?.pointee,
              desc.cmd == cmd, ops.contains(desc.op) else { return Result(errno: DrmError.ENOTTY.errno, outBytes: 0) }
        let size = Int(fdrm_ioc_size(cmd))
        return withUnsafeTemporaryAllocation(byteCount: size, alignment: 16) { k in
            k.initializeMemory(as: UInt8.self, repeating: 0)
            k.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[0..<min(size, input.count)]))
            var errno: Int32 = 0
            do throws(DrmError) {
                switch fdrm_op(desc.op) {
                case FDRM_OP_FAKEDRM_PROBE:
                    try with(k, drm_fakedrm_probe.self) { (p: inout drm_fakedrm_probe) throws(DrmError) in
                        p.version = UInt32(FAKEDRM_PROBE_VERSION)
                        p.minor = minor(p.ino).map { Int32($0.number) } ?? -1
                        p.instance = Self.instance
                    }
                case FDRM_OP_FAKEDRM_VMA_OPEN:
                    try device.vmaOpen(cookie: k.load(as: drm_fakedrm_vma.self).cookie, uid: uid)
                default:
                    try device.vmaClose(cookie: k.load(as: drm_fakedrm_vma.self).cookie, uid: uid)
                }
            } catch {
                errno = error.errno
            }
            let out = fdrm_ioc_out(cmd) != 0 ? min(size, output.count) : 0
            if out > 0 { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: k[0..<out])) }
            return Result(errno: errno, outBytes: out)
        }
    }
}
