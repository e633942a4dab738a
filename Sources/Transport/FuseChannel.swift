import CFuse
import FakeDRMDevice
#if canImport(Glibc)
import Glibc
#endif

/// Everything the transport says to the kernel, and the one thing it asks
/// of a request: libfuse's replies (fuse_reply_*), the caller
/// (fuse_req_ctx) and the page-cache notifications
/// (fuse_lowlevel_notify_inval_inode, _store). `Libfuse` is the real one;
/// the transport's unit tests put a recorder here, so the ops run without
/// /dev/fuse or root (Tests/TransportTests). Each method is libfuse's call
/// of the same name, nothing more: the ops decide, the channel delivers.
protocol FuseChannel: Sendable {
    func context(_ req: fuse_req_t?) -> fuse_ctx
    func replyErr(_ req: fuse_req_t?, _ errno: Int32)
    func replyNone(_ req: fuse_req_t?)
    func replyEntry(_ req: fuse_req_t?, _ entry: fuse_entry_param)
    func replyAttr(_ req: fuse_req_t?, _ attr: stat)
    func replyOpen(_ req: fuse_req_t?, _ fi: UnsafeMutablePointer<fuse_file_info>)
    func replyBuf(_ req: fuse_req_t?, _ buf: UnsafeRawPointer?, _ size: Int)
    func replyWrite(_ req: fuse_req_t?, _ count: Int)
    func replyIoctl(_ req: fuse_req_t?, _ result: Int32, _ buf: UnsafeRawPointer?, _ size: Int)
    func replyReadlink(_ req: fuse_req_t?, _ target: String)
    func replyPoll(_ req: fuse_req_t?, _ revents: UInt32)
    /// fuse_req_interrupt_func: `interruption` is interrupted when the
    /// kernel sends INTERRUPT for the request (at once if it already has);
    /// nil unregisters, and returns only once a callback running on
    /// another thread has finished (libfuse calls it under the request's
    /// lock), so the interruption may be let go of after it.
    func onInterrupt(_ req: fuse_req_t?, _ interruption: Interruption?)
    /// Drops (and unmaps) the cached pages of a range; ENOENT when the
    /// kernel holds no such inode.
    func notifyInvalInode(_ se: OpaquePointer, _ ino: UInt64, _ offset: Int64, _ length: Int64) -> Int32
    /// Stores bytes into the cached pages of a range.
    func notifyStore(_ se: OpaquePointer, _ ino: UInt64, _ offset: Int64, _ bytes: UnsafeRawBufferPointer) -> Int32
}

/// The channel of a real mount: libfuse.
struct Libfuse: FuseChannel {
    func context(_ req: fuse_req_t?) -> fuse_ctx { fuse_req_ctx(req)!.pointee }
    func replyErr(_ req: fuse_req_t?, _ errno: Int32) { fuse_reply_err(req, errno) }
    func replyNone(_ req: fuse_req_t?) { fuse_reply_none(req) }
    func replyEntry(_ req: fuse_req_t?, _ entry: fuse_entry_param) {
        var e = entry
        fuse_reply_entry(req, &e)
    }
    func replyAttr(_ req: fuse_req_t?, _ attr: stat) {
        var st = attr
        fuse_reply_attr(req, &st, 0)
    }
    func replyOpen(_ req: fuse_req_t?, _ fi: UnsafeMutablePointer<fuse_file_info>) { fuse_reply_open(req, fi) }
    func replyBuf(_ req: fuse_req_t?, _ buf: UnsafeRawPointer?, _ size: Int) {
        fuse_reply_buf(req, buf?.assumingMemoryBound(to: CChar.self), size)
    }
    func replyWrite(_ req: fuse_req_t?, _ count: Int) { fuse_reply_write(req, count) }
    func replyIoctl(_ req: fuse_req_t?, _ result: Int32, _ buf: UnsafeRawPointer?, _ size: Int) {
        fuse_reply_ioctl(req, result, buf, size)
    }
    func replyReadlink(_ req: fuse_req_t?, _ target: String) { fuse_reply_readlink(req, target) }
    func replyPoll(_ req: fuse_req_t?, _ revents: UInt32) { fuse_reply_poll(req, revents) }
    func onInterrupt(_ req: fuse_req_t?, _ interruption: Interruption?) {
        guard let interruption else { return fuse_req_interrupt_func(req, nil, nil) }
        fuse_req_interrupt_func(req, { _, data in
            Unmanaged<Interruption>.fromOpaque(data!).takeUnretainedValue().interrupt()
        }, Unmanaged.passUnretained(interruption).toOpaque())
    }
    func notifyInvalInode(_ se: OpaquePointer, _ ino: UInt64, _ offset: Int64, _ length: Int64) -> Int32 {
        fuse_lowlevel_notify_inval_inode(se, fuse_ino_t(ino), off_t(offset), off_t(length))
    }
    func notifyStore(_ se: OpaquePointer, _ ino: UInt64, _ offset: Int64, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var bufv = fuse_bufvec()
        bufv.count = 1
        bufv.buf.mem = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
        bufv.buf.size = bytes.count
        return fuse_lowlevel_notify_store(se, fuse_ino_t(ino), off_t(offset), &bufv, fuse_buf_copy_flags(0))
    }
}
