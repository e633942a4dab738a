import CFuse
import Glibc
import Synchronization
@testable import FakeDRMDevice
@testable import FakeDRMTransport

/// A FuseChannel that records what the ops answer, in order: the transport
/// runs without /dev/fuse, a mount or root.
final class RecordingChannel: FuseChannel {
    enum Reply: Equatable, Sendable {
        case err(Int32)
        case none
        case entry(ino: InodeID, mode: UInt32)
        case attr(ino: InodeID, mode: UInt32, size: Int64)
        case open(fh: UInt64, keepCache: Bool, directIO: Bool)
        case buf([UInt8])
        case write(Int)
        case ioctl(result: Int32, [UInt8])
        case readlink(String)
        case poll(UInt32)
    }

    struct Inval: Equatable, Sendable {
        let ino: InodeID, offset: Int64, length: Int64
    }

    private let replies = Mutex<[Reply]>([])
    private let invals = Mutex<[Inval]>([])
    let pid: Int32, uid: UInt32

    init(pid: Int32 = 4242, uid: UInt32 = 0) {
        self.pid = pid
        self.uid = uid
    }

    /// The replies since the last call.
    func take() -> [Reply] { replies.withLock { r in defer { r = [] }; return r } }
    /// The invalidations sent so far.
    var invalidations: [Inval] { invals.withLock { $0 } }

    private func add(_ r: Reply) { replies.withLock { $0.append(r) } }

    func context(_ req: fuse_req_t?) -> fuse_ctx { fuse_ctx(uid: uid, gid: 0, pid: pid, umask: 0) }
    func replyErr(_ req: fuse_req_t?, _ errno: Int32) { add(.err(errno)) }
    func replyNone(_ req: fuse_req_t?) { add(.none) }
    func replyEntry(_ req: fuse_req_t?, _ entry: fuse_entry_param) {
        add(.entry(ino: InodeID(rawValue: UInt64(entry.ino)), mode: UInt32(entry.attr.st_mode)))
    }
    func replyAttr(_ req: fuse_req_t?, _ attr: stat) {
        add(.attr(ino: InodeID(rawValue: UInt64(attr.st_ino)), mode: UInt32(attr.st_mode), size: Int64(attr.st_size)))
    }
    func replyOpen(_ req: fuse_req_t?, _ fi: UnsafeMutablePointer<fuse_file_info>) {
        add(.open(fh: fi.pointee.fh, keepCache: fi.pointee.keep_cache != 0, directIO: fi.pointee.direct_io != 0))
    }
    func replyBuf(_ req: fuse_req_t?, _ buf: UnsafeRawPointer?, _ size: Int) {
        add(.buf(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: buf, count: size))))
    }
    func replyWrite(_ req: fuse_req_t?, _ count: Int) { add(.write(count)) }
    func replyIoctl(_ req: fuse_req_t?, _ result: Int32, _ buf: UnsafeRawPointer?, _ size: Int) {
        add(.ioctl(result: result, size == 0 ? [] : Array(UnsafeRawBufferPointer(start: buf, count: size))))
    }
    func replyReadlink(_ req: fuse_req_t?, _ target: String) { add(.readlink(target)) }
    func replyPoll(_ req: fuse_req_t?, _ revents: UInt32) { add(.poll(revents)) }
    /// Registrations of an interrupt callback (true) and unregistrations.
    private let watches = Mutex<[Bool]>([])
    var interruptWatches: [Bool] { watches.withLock { $0 } }
    /// The caller's signal came before the handler registered: libfuse
    /// calls the callback at once.
    let interruptedAtOnce = Atomic<Bool>(false)
    func onInterrupt(_ req: fuse_req_t?, _ interruption: Interruption?) {
        watches.withLock { $0.append(interruption != nil) }
        if let interruption, interruptedAtOnce.load(ordering: .relaxed) { interruption.interrupt() }
    }
    func notifyInvalInode(_ se: OpaquePointer, _ ino: UInt64, _ offset: Int64, _ length: Int64) -> Int32 {
        invals.withLock { $0.append(Inval(ino: InodeID(rawValue: ino), offset: offset, length: length)) }
        return 0
    }
    func notifyStore(_ se: OpaquePointer, _ ino: UInt64, _ offset: Int64, _ bytes: UnsafeRawBufferPointer) -> Int32 { 0 }
}

/// A FuseServer that is never mounted, its ops called as libfuse would,
/// with a request pointer nobody dereferences (the channel answers).
struct Server {
    let channel: RecordingChannel
    let srv: FuseServer
    let req = OpaquePointer(bitPattern: 0x1000)

    /// `pid`: the caller ioctls read pointers of (getpid() for our own memory).
    init(uid: UInt32 = 0, pid: Int32 = 4242) {
        channel = RecordingChannel(pid: pid, uid: uid)
        srv = FuseServer(profile: DeviceProfile(), channel: channel)
    }

    /// The one reply of the op `body` ran.
    func reply(_ body: () -> Void) -> RecordingChannel.Reply? {
        body()
        let r = channel.take()
        precondition(r.count <= 1, "an op replied \(r.count) times")
        return r.first
    }

    /// LOOKUP of a root name: its inode, or nil.
    func lookup(_ name: String) -> InodeID? {
        guard case .entry(let ino, _)? = reply({ name.withCString { srv.lookup(req, parent: InodeTable.root, name: $0) } })
        else { return nil }
        return ino
    }

    /// An open file: its fuse_file_info (fh set by OPEN) for the ops that take it.
    final class Open {
        let ino: InodeID
        let fi = UnsafeMutablePointer<fuse_file_info>.allocate(capacity: 1)
        init(ino: InodeID) {
            self.ino = ino
            fi.initialize(to: fuse_file_info())
        }
        deinit { fi.deallocate() }
        var fh: UInt64 { fi.pointee.fh }
    }

    /// LOOKUP then OPEN of `name`.
    func open(_ name: String = "card0") -> Open? {
        guard let ino = lookup(name) else { return nil }
        let o = Open(ino: ino)
        guard case .open? = reply({ srv.open(req, ino: ino, o.fi) }) else { return nil }
        return o
    }

    /// An ioctl with `arg` in and out; its result and the bytes returned.
    func ioctl<T>(_ o: Open, _ cmd: UInt32, _ arg: inout T, flags: UInt32 = 0) -> Int32 {
        let size = MemoryLayout<T>.size
        let r = withUnsafeBytes(of: &arg) { inBuf in
            reply { srv.ioctl(req, ino: o.ino, cmd: cmd, flags: flags, o.fi, inBuf: inBuf.baseAddress, inSize: size, outSize: size) }
        }
        switch r {
        case .ioctl(let result, let out)?:
            if !out.isEmpty { withUnsafeMutableBytes(of: &arg) { $0.copyBytes(from: out.prefix(size)) } }
            return result
        case .err(let e)?: return -e
        default: return -9999
        }
    }

    /// READ of `size` bytes at `offset` through an open (a fault).
    func read(_ o: Open, offset: UInt64, size: Int) -> RecordingChannel.Reply? {
        reply { srv.read(req, ino: o.ino, size: size, offset: off_t(offset), o.fi) }
    }

    /// WRITE through an open: write(2) (writepage 0).
    func write(_ o: Open, offset: UInt64, _ bytes: [UInt8]) -> RecordingChannel.Reply? {
        reply {
            bytes.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { c in
                    srv.write(req, ino: o.ino, data: c.baseAddress, size: c.count, offset: off_t(offset), o.fi)
                }
            }
        }
    }
}
