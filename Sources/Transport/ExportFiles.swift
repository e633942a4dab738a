import CDrm
import CFuse
import FakeDRMDevice
import FakeDRMUAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The hidden files behind daemon-made fds (include/fakedrm.h, "Daemon-made
/// file descriptors"): FAKEDRM_EXPORT_PREFIX<token> on the root, inode
/// FAKEDRM_EXPORT_INO_BASE + token, never listed. A sync_file polls POLLIN
/// once signalled and answers the SYNC_IOC_* ioctls; a dma-buf's pages are
/// its object's WB view (file offset 0 is the object's first byte); a
/// syncobj file only names its syncobj (no read, poll or ioctl of its own).
extension FuseServer {
    /// File handles of export opens: between drm_file ids and DebugFiles'.
    static let exportHandleBit: UInt64 = 1 << 62
    static func exportToken(fh: UInt64) -> UInt32? {
        fh & exportHandleBit != 0 && !DebugFiles.isDebug(fh) ? UInt32(truncatingIfNeeded: fh) : nil
    }

    static let exportPrefix = FAKEDRM_EXPORT_PREFIX
    /// The sw_sync file's fixed inode (include/fakedrm.h).
    static let swSyncInode = InodeID(rawValue: FDRM_SW_SYNC_INO)

    /// LOOKUP in the root of an export's name; false when `name` is none.
    func lookupExport(_ req: fuse_req_t?, _ name: String) -> Bool {
        guard name.hasPrefix(Self.exportPrefix) else { return false }
        let ctx = channel.context(req)
        guard let token = UInt32(name.dropFirst(Self.exportPrefix.utf8.count)),
              let file = device.lookupExport(token, pid: ctx.pid, uid: ctx.uid) else {
            channel.replyErr(req, ENOENT)
            return true
        }
        var e = fuse_entry_param()
        let ino = DrmDevice.exportInode(token)
        e.ino = fuse_ino_t(ino.rawValue)
        e.attr = exportAttributes(ino, file)
        channel.replyEntry(req, e)
        return true
    }

    /// A sync_file or syncobj file is an anon inode of size 0; a dma-buf's
    /// size is its object's.
    func exportAttributes(_ ino: InodeID, _ file: DrmDevice.ExportFile) -> stat {
        var st = stat()
        st.st_ino = UInt(ino.rawValue)
        st.st_uid = getuid()
        st.st_gid = getgid()
        // Open to every user: only the thread whose ioctl made the export can
        // look its name up (once), so the mode guards nothing, and a child
        // that dropped root (with --allow-other) must still get its fd.
        st.st_mode = S_IFREG | 0o666
        st.st_nlink = 1
        st.st_blksize = blksize_t(Page.size)
        if case .dmaBuf(let size, _, _, let mappable) = file {
            st.st_size = off_t(size)
            // include/fakedrm.h: the library refuses mmap of it with ENODEV.
            if !mappable { st.st_mode |= S_ISVTX }
        }
        return st
    }

    /// LOOKUP in the root of the sw_sync file's name (include/fakedrm.h):
    /// anyone may find it; false when `name` is another.
    func lookupSwSync(_ req: fuse_req_t?, _ name: String) -> Bool {
        guard name == FAKEDRM_SW_SYNC_NAME else { return false }
        var e = fuse_entry_param()
        e.ino = fuse_ino_t(FDRM_SW_SYNC_INO)
        e.attr = exportAttributes(Self.swSyncInode, .swSync)
        channel.replyEntry(req, e)
        return true
    }

    /// OPEN of the sw_sync file: a new timeline, named after the opener's
    /// comm (sw_sync_debugfs_open); the open's handle is its export's.
    func openSwSync(_ req: fuse_req_t?, _ ino: InodeID, _ fi: UnsafeMutablePointer<fuse_file_info>) -> Bool {
        guard ino == Self.swSyncInode else { return false }
        let pid = channel.context(req).pid
        let token = device.swSyncOpen(pid: pid, name: Self.comm(pid))
        fi.pointee.fh = Self.exportHandleBit | UInt64(token)
        fi.pointee.direct_io = 1
        fi.pointee.nonseekable = 1
        channel.replyOpen(req, fi)
        return true
    }

    /// A thread's comm, as get_task_comm gives it ("" when gone).
    static func comm(_ pid: Int32) -> String {
        let fd = Glibc.open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { Glibc.close(fd) }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buf[0..<n].prefix { $0 != 0x0A }, as: UTF8.self) : ""
    }

    /// GETATTR; false when `ino` is no export inode.
    func getattrExport(_ req: fuse_req_t?, _ ino: InodeID) -> Bool {
        if ino == Self.swSyncInode {
            channel.replyAttr(req, exportAttributes(ino, .swSync))
            return true
        }
        guard let token = DrmDevice.exportToken(inode: ino) else { return false }
        guard let file = device.exportAttributes(token) else {
            channel.replyErr(req, ENOENT)
            return true
        }
        let st = exportAttributes(ino, file)
        channel.replyAttr(req, st)
        return true
    }

    /// OPEN; false when `ino` is no export inode.
    func openExport(_ req: fuse_req_t?, _ ino: InodeID, _ fi: UnsafeMutablePointer<fuse_file_info>) -> Bool {
        guard let token = DrmDevice.exportToken(inode: ino) else { return false }
        let pid = channel.context(req).pid
        guard let file = device.exportAttributes(token), device.openExport(token, pid: pid) else {
            channel.replyErr(req, ENOENT)
            return true
        }
        fi.pointee.fh = Self.exportHandleBit | UInt64(token)
        if case .dmaBuf(_, let at, _, _) = file {
            pageCache.shift(inode: ino, by: at)
            fi.pointee.keep_cache = 1
            fi.pointee.direct_io = 0
        } else {
            fi.pointee.direct_io = 1
        }
        channel.replyOpen(req, fi)
        return true
    }

    /// RELEASE; false when `fh` is no export open.
    func releaseExport(_ req: fuse_req_t?, _ fh: UInt64) -> Bool {
        guard let token = Self.exportToken(fh: fh) else { return false }
        device.releaseExport(token)
        if device.exportAttributes(token) == nil { pageCache.shift(inode: DrmDevice.exportInode(token), by: nil) }
        channel.replyErr(req, 0)
        return true
    }

    /// READ of a dma-buf's pages (a fault of its mapping); a sync_file has none.
    func readExport(_ req: fuse_req_t?, _ fh: UInt64, size: Int, offset: off_t) -> Bool {
        guard let token = Self.exportToken(fh: fh) else { return false }
        guard case .dmaBuf(let objSize, let at, let holder, _)? = device.exportAttributes(token) else {
            channel.replyErr(req, EINVAL)
            return true
        }
        let n = offset >= off_t(objSize) ? 0 : min(size, Int(objSize) - Int(offset))
        guard let mem = cfuse_thread_buffer(max(n, 1)) else {
            channel.replyErr(req, ENOMEM)
            return true
        }
        var revocations: [Invalidation] = []
        do throws(DrmError) {
            if n > 0 {
                try device.faultDmaBuf(holder: holder, token: token, mapOffset: at, offset: UInt64(offset),
                                       into: UnsafeMutableRawBufferPointer(start: mem, count: n),
                                       pid: channel.context(req).pid, deferring: &revocations)
            }
            channel.replyBuf(req, mem, n)
        } catch {
            channel.replyErr(req, error.errno)
        }
        pageCache.invalidateSoon(revocations)
        return true
    }

    /// WRITE: a dma-buf mapping's dirty pages coming back; write(2) on
    /// either kind is EINVAL (neither file has a write method).
    func writeExport(_ req: fuse_req_t?, _ ino: InodeID, _ fi: UnsafeMutablePointer<fuse_file_info>?,
                     data: UnsafeRawPointer?, size: Int, offset: off_t) -> Bool {
        if ino == Self.swSyncInode {
            channel.replyErr(req, EINVAL)
            return true
        }
        guard let token = DrmDevice.exportToken(inode: ino) else { return false }
        guard fi == nil || fi!.pointee.writepage != 0,
              case .dmaBuf(let objSize, let at, _, _)? = device.exportAttributes(token), UInt64(offset) < objSize else {
            channel.replyErr(req, EINVAL)
            return true
        }
        let n = min(size, Int(objSize) - Int(offset))
        do throws(DrmError) {
            try device.writeback(inode: ino, offset: at + UInt64(offset), data: UnsafeRawBufferPointer(start: data, count: n))
            channel.replyWrite(req, size)
        } catch {
            channel.replyErr(req, error.errno)
        }
        return true
    }

    /// IOCTL on an export file; false when `fh` is no export open.
    func ioctlExport(_ req: fuse_req_t?, _ fh: UInt64, cmd: UInt32, inBuf: UnsafeRawPointer?, inSize: Int, outSize: Int) -> Bool {
        guard let token = Self.exportToken(fh: fh) else { return false }
        let ctx = channel.context(req)
        let caller = IoctlCaller(file: 0, pid: ctx.pid, privileged: ctx.uid == 0, memory: ProcessMemory(pid: ctx.pid))
        withUnsafeTemporaryAllocation(byteCount: max(outSize, 1), alignment: 16) { out in
            let r = dispatcher.dispatchExport(token: token, cmd: cmd, input: UnsafeRawBufferPointer(start: inBuf, count: inSize),
                                              output: UnsafeMutableRawBufferPointer(rebasing: out[0..<outSize]), caller: caller)
            channel.replyIoctl(req, -r.errno, r.outBytes > 0 ? out.baseAddress : nil, r.outBytes)
        }
        return true
    }

    /// POLL: a sync_file is readable once signalled (sync_file_poll); the
    /// kernel is told when that happens. A dma-buf and every other file
    /// answer as before this op existed (FUSE's DEFAULT_POLLMASK).
    func poll(_ req: fuse_req_t?, _ fh: UInt64, _ ph: OpaquePointer?) {
        let ready = UInt32(POLLIN | POLLRDNORM), writable = UInt32(POLLOUT | POLLWRNORM)
        guard let token = Self.exportToken(fh: fh), let file = device.exportAttributes(token) else {
            if let ph { fuse_pollhandle_destroy(ph) }
            channel.replyPoll(req, ready | writable)
            return
        }
        let handle = PollHandle(ph)
        var wake: (@Sendable () -> Void)?
        if ph != nil { wake = { @Sendable in handle.wake() } }
        var revents: UInt32
        switch file {
        case .syncFile:
            revents = device.pollSyncFile(token, wake: wake) ? ready : 0
        case .dmaBuf:
            let (r, w) = device.pollDmaBuf(token, wake: wake)
            revents = (r ? ready : 0) | (w ? writable : 0)
        case .syncobj, .swSync:
            // No poll method: DEFAULT_POLLMASK.
            revents = ready | writable
        }
        // Nothing left to wait for: no wake-up will come.
        if revents & ready != 0, revents & writable != 0 || file.isSyncFile { handle.wake() }
        channel.replyPoll(req, revents)
    }
}

extension DrmDevice.ExportFile {
    var isSyncFile: Bool { if case .syncFile = self { true } else { false } }
}

/// A fuse_pollhandle, notified and destroyed once.
private final class PollHandle: @unchecked Sendable {
    private var ph: OpaquePointer?
    private let lock = Mutex<Bool>(false)
    init(_ ph: OpaquePointer?) { self.ph = ph }
    func wake() {
        let first = lock.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first, let ph else { return }
        fuse_lowlevel_notify_poll(ph)
        fuse_pollhandle_destroy(ph)
    }
}

