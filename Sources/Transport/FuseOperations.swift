import CFuse
import FakeDRMDevice
import FakeDRMUAPI
#if canImport(Glibc)
import Glibc
#endif

/// The server a request belongs to (its session's userdata).
private func srv(_ req: fuse_req_t?) -> FuseServer { FuseServer.server(req) }

/// The low-level FUSE operations, as libfuse's passthrough_ll.c lays out its
/// `static const struct fuse_lowlevel_ops`: one table, each op a named
/// function. Each entry finds the server through the request's userdata;
/// each function replies exactly once. The names and opens are below; the
/// data path (READ, WRITE, IOCTL) is FuseDataPath.swift, the export files'
/// ops and POLL ExportFiles.swift.
extension FuseServer {
    static func operations() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init`       = { _, conn in FuseServer.initConnection(conn) }
        ops.lookup       = { req, parent, name in srv(req).lookup(req, parent: InodeID(rawValue: UInt64(parent)), name: name) }
        ops.forget       = { req, ino, n in srv(req).forget(req, ino: InodeID(rawValue: UInt64(ino)), lookups: n) }
        ops.forget_multi = { req, count, forgets in srv(req).forgetMulti(req, UnsafeBufferPointer(start: forgets, count: Int(count))) }
        ops.getattr      = { req, ino, _ in srv(req).getattr(req, ino: InodeID(rawValue: UInt64(ino))) }
        ops.readdir      = { req, ino, size, off, _ in srv(req).readdir(req, ino: InodeID(rawValue: UInt64(ino)), size: size, offset: off) }
        ops.readlink     = { req, ino in srv(req).readlink(req, ino: InodeID(rawValue: UInt64(ino))) }
        ops.open         = { req, ino, fi in srv(req).open(req, ino: InodeID(rawValue: UInt64(ino)), fi) }
        ops.release      = { req, _, fi in srv(req).release(req, fh: fi!.pointee.fh) }
        ops.flush        = { req, _, _ in srv(req).flush(req) }
        ops.fsync        = { req, ino, _, _ in srv(req).fsync(req, ino: InodeID(rawValue: UInt64(ino))) }
        ops.read         = { req, ino, size, off, fi in srv(req).read(req, ino: InodeID(rawValue: UInt64(ino)), size: size, offset: off, fi!) }
        ops.write        = { req, ino, data, size, off, fi in srv(req).write(req, ino: InodeID(rawValue: UInt64(ino)), data: data, size: size, offset: off, fi) }
        ops.ioctl        = { req, ino, cmd, _, fi, flags, inBuf, inSize, outSize in
            srv(req).ioctl(req, ino: InodeID(rawValue: UInt64(ino)), cmd: cmd, flags: flags, fi, inBuf: inBuf, inSize: inSize, outSize: outSize)
        }
        ops.poll         = { req, _, fi, ph in srv(req).poll(req, fi!.pointee.fh, ph) }
        return ops
    }

    // MARK: the connection

    /// Background requests (readahead, writeback) in flight at once.
    static let maxBackground = 64

    /// INIT: faults read ahead (the fast path: one READ fills many pages,
    /// and only pages not cached). Windows never reach another node: every
    /// node is followed by a guard gap of several windows. Size and mtime
    /// never change: nothing to revalidate.
    static func initConnection(_ conn: UnsafeMutablePointer<fuse_conn_info>?) {
        guard let conn else { return }
        conn.pointee.max_readahead = UInt32(OffsetManager<Int>.readaheadBytes)
        conn.pointee.want &= ~UInt32(FUSE_CAP_AUTO_INVAL_DATA)
        // Readahead READs are background requests, of which the kernel sends
        // 12 at a time by default: 16 faulting clients queued behind that
        // limit, not behind the daemon (0.55x of the floor's fault rate at
        // 16 clients; 0.8-0.95x with 64). The kernel caps it for others than
        // root (/proc/sys/fs/fuse/max_user_bgreq).
        conn.pointee.max_background = UInt32(Self.maxBackground)
        conn.pointee.congestion_threshold = UInt32(Self.maxBackground * 3 / 4)
    }

    // MARK: names

    /// LOOKUP: an export's name on the root, or a listed name (a device
    /// file gets a fresh inode: InodeTable). Timeouts 0: every open looks up.
    func lookup(_ req: fuse_req_t?, parent: InodeID, name: UnsafePointer<CChar>?) {
        if parent == InodeTable.root, let name, lookupExport(req, String(cString: name)) { return }
        if parent == InodeTable.root, let name, lookupSwSync(req, String(cString: name)) { return }
        guard let name, let (ino, _) = inodes.lookup(String(cString: name), in: parent), let st = attributes(ino) else {
            channel.replyErr(req, ENOENT)
            return
        }
        var e = fuse_entry_param()
        e.ino = fuse_ino_t(ino.rawValue)
        e.attr = st
        e.attr_timeout = 0
        e.entry_timeout = 0
        channel.replyEntry(req, e)
    }

    /// FORGET: the kernel dropped `lookups` references to an inode.
    func forget(_ req: fuse_req_t?, ino: InodeID, lookups: UInt64) {
        inodes.forget(ino, lookups)
        channel.replyNone(req)
    }

    func forgetMulti(_ req: fuse_req_t?, _ forgets: UnsafeBufferPointer<fuse_forget_data>) {
        for f in forgets { inodes.forget(InodeID(rawValue: UInt64(f.ino)), f.nlookup) }
        channel.replyNone(req)
    }

    func getattr(_ req: fuse_req_t?, ino: InodeID) {
        if getattrExport(req, ino) { return }
        guard let st = attributes(ino) else {
            channel.replyErr(req, ENOENT)
            return
        }
        channel.replyAttr(req, st)
    }

    func readdir(_ req: fuse_req_t?, ino: InodeID, size: Int, offset: off_t) {
        guard let entries = InodeTable.listing(ino) else {
            channel.replyErr(req, ENOTDIR)
            return
        }
        let listing: [(String, mode_t)] = entries.map { name, node in
            if case .link = node { return (name, S_IFLNK) }
            return (name, node.isDirectory ? S_IFDIR : S_IFREG)
        }
        let names: [(String, mode_t)] = [(".", S_IFDIR), ("..", S_IFDIR)] + listing
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: max(size, 1)) { buf in
            var used = 0
            for (i, (name, mode)) in names.enumerated() where i >= offset {
                var st = stat()
                st.st_mode = mode
                // Any non-zero number: readdir users skip entries with inode 0.
                st.st_ino = UInt(i + 1)
                let n = fuse_add_direntry(req, buf.baseAddress! + used, size - used, name, &st, off_t(i + 1))
                if n > size - used { break }
                used += n
            }
            channel.replyBuf(req, buf.baseAddress, used)
        }
    }

    func readlink(_ req: fuse_req_t?, ino: InodeID) {
        guard case .link(let target) = inodes.node(ino) else {
            channel.replyErr(req, EINVAL)
            return
        }
        channel.replyReadlink(req, target)
    }

    // MARK: opens

    /// OPEN: an export file, a debug or parameter file (root's, and the
    /// daemon user's), or a device file, which becomes a drm_file.
    func open(_ req: fuse_req_t?, ino: InodeID, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        if let fi, openExport(req, ino, fi) { return }
        if let fi, openSwSync(req, ino, fi) { return }
        let node = inodes.node(ino)
        switch node {
        case .param, .debug, .pool, .engineFile, .engineDefault:
            // debugfs is root's: whatever the mount options, only root
            // and the daemon's own user open it (reads list every
            // client's objects; writes reset the GPU, arm failures).
            let uid = channel.context(req).uid
            guard uid == 0 || uid == owner else {
                channel.replyErr(req, EACCES)
                return
            }
        default: break
        }
        if case .param(let name) = node, let fi {
            // kernfs: no store method, no opening for write.
            if fi.pointee.flags & O_ACCMODE != O_RDONLY, ModuleParams.param(named: name)?.isWritable != true {
                channel.replyErr(req, EACCES)
                return
            }
            fi.pointee.fh = debugFiles.open(text: device.params.text(name) ?? "")
            fi.pointee.direct_io = 1
            channel.replyOpen(req, fi)
            return
        }
        if let fi, case let (e, name, defaults)? = engineFile(node) {
            // Only a tunable has a store method.
            if fi.pointee.flags & O_ACCMODE != O_RDONLY, defaults || EngineProperties.Name(rawValue: name) == nil {
                channel.replyErr(req, EACCES)
                return
            }
            fi.pointee.fh = debugFiles.open(text: device.engineFile(EngineID.all[e], name, defaults: defaults) ?? "")
            fi.pointee.direct_io = 1
            channel.replyOpen(req, fi)
            return
        }
        if node == .pool, let fi {
            guard fi.pointee.flags & O_ACCMODE == O_RDONLY else {
                channel.replyErr(req, EACCES)
                return
            }
            fi.pointee.fh = debugFiles.open(text: ReaderPoolFile.text())
            fi.pointee.direct_io = 1
            channel.replyOpen(req, fi)
            return
        }
        if case .debug(let file) = node, let fi {
            fi.pointee.fh = debugFiles.open(file, on: device)
            fi.pointee.direct_io = 1 // sized by content, not by i_size
            channel.replyOpen(req, fi)
            return
        }
        guard case .device(let minor) = node, let fi else {
            channel.replyErr(req, ENOENT)
            return
        }
        let ctx = channel.context(req)
        reclaimer?.noteOpen(pid: ctx.pid)
        fi.pointee.fh = device.open(minor: minor, inode: ino, pid: ctx.pid, uid: ctx.uid, privileged: ctx.uid == 0).rawValue
        // Without keep_cache every open() would drop every cached page.
        fi.pointee.keep_cache = 1
        fi.pointee.direct_io = 0
        channel.replyOpen(req, fi)
    }

    /// An engine file's engine, name and whether it is a default.
    private func engineFile(_ node: InodeTable.Node?) -> (Int, String, Bool)? {
        switch node {
        case .engineFile(let e, let name): (e, name, false)
        case .engineDefault(let e, let name): (e, name, true)
        default: nil
        }
    }

    /// RELEASE: FUSE sends it once no mapping made through the open is left.
    func release(_ req: fuse_req_t?, fh: UInt64) {
        if releaseExport(req, fh) { return }
        if DebugFiles.isDebug(fh) { debugFiles.release(fh) } else { device.release(FileID(rawValue: fh)) }
        channel.replyErr(req, 0)
    }

    /// FLUSH (every close(2)): nothing to do, RELEASE lets go.
    func flush(_ req: fuse_req_t?) { channel.replyErr(req, 0) }

    func fsync(_ req: fuse_req_t?, ino: InodeID) {
        device.sync(inode: ino)
        channel.replyErr(req, 0)
    }
}
