import CFuse
import FakeDRMDevice
import FakeDRMUAPI
#if canImport(Glibc)
import Glibc
#endif

/// The low-level FUSE callbacks. Each finds the server through the
/// request's userdata and replies exactly once.
extension FuseServer {
    static func operations() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { _, conn in
            guard let conn else { return }
            // Faults read ahead (the fast path: one READ fills many pages,
            // and only pages not cached). Windows never reach another node:
            // every node is followed by a guard gap of several windows.
            conn.pointee.max_readahead = UInt32(OffsetManager<Int>.readaheadBytes)
            // Size and mtime never change; nothing to revalidate.
            conn.pointee.want &= ~UInt32(FUSE_CAP_AUTO_INVAL_DATA)
        }
        ops.lookup = { req, parent, name in
            let srv = FuseServer.server(req)
            if parent == InodeTable.root, let name, srv.lookupExport(req, String(cString: name)) { return }
            guard let name, let (ino, _) = srv.inodes.lookup(String(cString: name), in: UInt64(parent)),
                  let st = srv.attributes(ino) else {
                fuse_reply_err(req, ENOENT)
                return
            }
            var e = fuse_entry_param()
            e.ino = fuse_ino_t(ino)
            e.attr = st
            e.attr_timeout = 0
            e.entry_timeout = 0
            fuse_reply_entry(req, &e)
        }
        ops.forget = { req, ino, n in
            FuseServer.server(req).inodes.forget(UInt64(ino), n)
            fuse_reply_none(req)
        }
        ops.forget_multi = { req, count, forgets in
            let srv = FuseServer.server(req)
            for i in 0..<count { srv.inodes.forget(UInt64(forgets![i].ino), forgets![i].nlookup) }
            fuse_reply_none(req)
        }
        ops.getattr = { req, ino, _ in
            if FuseServer.server(req).getattrExport(req, UInt64(ino)) { return }
            guard var st = FuseServer.server(req).attributes(UInt64(ino)) else {
                fuse_reply_err(req, ENOENT)
                return
            }
            fuse_reply_attr(req, &st, 0)
        }
        ops.readdir = { req, ino, size, off, _ in
            guard let entries = InodeTable.listing(UInt64(ino)) else {
                fuse_reply_err(req, ENOTDIR)
                return
            }
            let listing: [(String, mode_t)] = entries.map { name, node in
                if case .link = node { return (name, S_IFLNK) }
                return (name, node.isDirectory ? S_IFDIR : S_IFREG)
            }
            let names: [(String, mode_t)] = [(".", S_IFDIR), ("..", S_IFDIR)] + listing
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: max(size, 1)) { buf in
                var used = 0
                for (i, (name, mode)) in names.enumerated() where i >= off {
                    var st = stat()
                    st.st_mode = mode
                    // Any non-zero number: readdir users skip entries with inode 0.
                    st.st_ino = UInt(i + 1)
                    let n = fuse_add_direntry(req, buf.baseAddress! + used, size - used, name, &st, off_t(i + 1))
                    if n > size - used { break }
                    used += n
                }
                fuse_reply_buf(req, buf.baseAddress, used)
            }
        }
        ops.readlink = { req, ino in
            guard case .link(let target) = FuseServer.server(req).inodes.node(UInt64(ino)) else {
                fuse_reply_err(req, EINVAL)
                return
            }
            fuse_reply_readlink(req, target)
        }
        ops.open = { req, ino, fi in
            let srv = FuseServer.server(req)
            if let fi, srv.openExport(req, UInt64(ino), fi) { return }
            let node = srv.inodes.node(UInt64(ino))
            switch node {
            case .param, .debug:
                // debugfs is root's: whatever the mount options, only root
                // and the daemon's own user open it (reads list every
                // client's objects; writes reset the GPU, arm failures).
                let uid = fuse_req_ctx(req)!.pointee.uid
                guard uid == 0 || uid == srv.owner else {
                    fuse_reply_err(req, EACCES)
                    return
                }
            default: break
            }
            if case .param(let name) = node, let fi {
                // kernfs: no store method, no opening for write.
                if fi.pointee.flags & O_ACCMODE != O_RDONLY, ModuleParams.param(named: name)?.isWritable != true {
                    fuse_reply_err(req, EACCES)
                    return
                }
                fi.pointee.fh = srv.debugFiles.open(text: srv.device.params.text(name) ?? "")
                fi.pointee.direct_io = 1
                fuse_reply_open(req, fi)
                return
            }
            if case .debug(let file) = node, let fi {
                fi.pointee.fh = srv.debugFiles.open(file, on: srv.device)
                fi.pointee.direct_io = 1 // sized by content, not by i_size
                fuse_reply_open(req, fi)
                return
            }
            guard case .device(let minor) = node, let fi else {
                fuse_reply_err(req, ENOENT)
                return
            }
            let ctx = fuse_req_ctx(req)!.pointee
            srv.reclaimer?.noteOpen(pid: ctx.pid)
            fi.pointee.fh = srv.device.open(minor: minor, inode: UInt64(ino), pid: ctx.pid, uid: ctx.uid, privileged: ctx.uid == 0)
            // Without keep_cache every open() would drop every cached page.
            fi.pointee.keep_cache = 1
            fi.pointee.direct_io = 0
            fuse_reply_open(req, fi)
        }
        ops.release = { req, _, fi in
            let srv = FuseServer.server(req), fh = fi!.pointee.fh
            if srv.releaseExport(req, fh) { return }
            if DebugFiles.isDebug(fh) { srv.debugFiles.release(fh) } else { srv.device.release(fh) }
            fuse_reply_err(req, 0)
        }
        ops.flush = { req, _, _ in fuse_reply_err(req, 0) }
        ops.fsync = { req, ino, _, _ in
            FuseServer.server(req).device.sync(inode: UInt64(ino))
            fuse_reply_err(req, 0)
        }
        ops.read = { req, ino, size, off, fi in
            let srv = FuseServer.server(req)
            if srv.readExport(req, fi!.pointee.fh, size: size, offset: off) { return }
            if DebugFiles.isDebug(fi!.pointee.fh) {
                let bytes = srv.debugFiles.read(fi!.pointee.fh, offset: Int(off), size: size, on: srv.device)
                fuse_reply_buf(req, bytes, bytes.count)
                return
            }
            guard let mem = cfuse_thread_buffer(size) else {
                fuse_reply_err(req, ENOMEM)
                return
            }
            let buf = UnsafeMutableRawBufferPointer(start: mem, count: size)
            var revocations: [Invalidation] = []
            let start = srv.trace != nil ? Trace.now() : 0
            var failure: Int32 = 0
            let pid = fuse_req_ctx(req)!.pointee.pid // the request is gone once answered
            do throws(DrmError) {
                try srv.device.fault(fi!.pointee.fh, inode: UInt64(ino), offset: UInt64(off), into: buf,
                                     pid: pid, deferring: &revocations)
                // Always the full length: a short reply shrinks i_size.
                fuse_reply_buf(req, buf.baseAddress, size)
            } catch {
                failure = error.errno
                fuse_reply_err(req, error.errno)
            }
            if let trace = srv.trace {
                trace.record(file: fi!.pointee.fh, pid: pid,
                             "FAULT {offset=0x\(String(off, radix: 16)), length=\(size), node=\(srv.device.describeRange(UInt64(off), size))}",
                             errno: failure, result: failure != 0 ? "(SIGBUS)" : "", since: start)
            }
            // Only after the answer (this READ's folios are released), and not
            // on this worker: invalidations wait for launder WRITEs, which
            // workers serve, so a thrashing aperture must not park them all.
            srv.pageCache.invalidateSoon(revocations)
        }
        ops.write = { req, ino, data, size, off, fi in
            let srv = FuseServer.server(req)
            if srv.writeExport(req, UInt64(ino), fi, data: data, size: size, offset: off) { return }
            if let fi, DebugFiles.isDebug(fi.pointee.fh), case .param(let name) = srv.inodes.node(UInt64(ino)) {
                let bytes = Array(UnsafeRawBufferPointer(start: data, count: size))
                var failure: Int32 = 0
                do throws(DrmError) { try srv.device.params.write(name, bytes) } catch { failure = error.errno }
                srv.trace?.note("PARAM \(name) <- \(String(decoding: bytes, as: UTF8.self).split(separator: "\n").joined(separator: "; "))"
                                + (failure == 0 ? "" : " = -1 \(DrmError.name(of: failure))"))
                if failure == 0 { fuse_reply_write(req, size) } else { fuse_reply_err(req, failure) }
                return
            }
            if let fi, DebugFiles.isDebug(fi.pointee.fh) {
                guard case .debug(let file) = srv.inodes.node(UInt64(ino)), file.isWritable else {
                    fuse_reply_err(req, EACCES)
                    return
                }
                let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                let ok = srv.device.writeDebug(file, text)
                // Armed injections and resets belong in the story the trace tells.
                srv.trace?.note("DEBUG \(file.rawValue) <- \(text.split(separator: "\n").joined(separator: "; "))" + (ok ? "" : " = -1 EINVAL"))
                if ok { fuse_reply_write(req, size) } else { fuse_reply_err(req, EINVAL) }
                return
            }
            let start = srv.trace != nil ? Trace.now() : 0
            var failure: Int32 = 0
            let pid = fuse_req_ctx(req)!.pointee.pid // the request is gone once answered
            do throws(DrmError) {
                let end = FuseServer.deviceFileSize, at = UInt64(off)
                // Past the end, as a file at its size limit: EFBIG, or a short
                // write up to the end (a longer one would grow i_size).
                guard at < end else { throw DrmError.EFBIG }
                let n = Int(min(UInt64(size), end - at))
                let bytes = UnsafeRawBufferPointer(start: data, count: n)
                if let fi, fi.pointee.writepage == 0 {
                    // write(2) through this open: its own rights, as read(2).
                    try srv.device.write(fi.pointee.fh, inode: UInt64(ino), offset: at, data: bytes)
                } else {
                    try srv.device.writeback(inode: UInt64(ino), offset: at, data: bytes)
                }
                fuse_reply_write(req, n)
            } catch {
                failure = error.errno
                fuse_reply_err(req, error.errno)
            }
            if let trace = srv.trace {
                trace.record(file: fi?.pointee.fh ?? 0, pid: pid,
                             "WRITEBACK {inode=\(ino), offset=0x\(String(off, radix: 16)), length=\(size), node=\(srv.device.describeRange(UInt64(off), size))}",
                             errno: failure, since: start)
            }
        }
        ops.ioctl = { req, ino, cmd, _, fi, flags, inBuf, inSize, outSize in
            let srv = FuseServer.server(req)
            // 32-bit callers would need every pointer-bearing struct translated.
            if flags & UInt32(FUSE_IOCTL_COMPAT) != 0 {
                fuse_reply_err(req, ENOTTY)
                return
            }
            // The mount's root: the strict-mode library's control channel.
            if flags & UInt32(FUSE_IOCTL_DIR) != 0 {
                srv.rootIoctl(req, ino: UInt64(ino), cmd: cmd, inBuf: inBuf, inSize: inSize, outSize: outSize)
                return
            }
            if srv.ioctlExport(req, fi!.pointee.fh, cmd: cmd, inBuf: inBuf, inSize: inSize, outSize: outSize) { return }
            let ctx = fuse_req_ctx(req)!.pointee
            // Before the call: a caller from outside our pid namespace
            // disables zombie reclaim before a close could start a scan.
            srv.reclaimer?.noteCaller(pid: ctx.pid)
            let caller = IoctlCaller(file: fi!.pointee.fh, pid: ctx.pid, privileged: ctx.uid == 0,
                                     memory: ProcessMemory(pid: ctx.pid))
            withUnsafeTemporaryAllocation(byteCount: max(outSize, 1), alignment: 16) { out in
                let input = UnsafeRawBufferPointer(start: inBuf, count: inSize)
                let output = UnsafeMutableRawBufferPointer(rebasing: out[0..<outSize])
                let r = if let trace = srv.trace {
                    srv.dispatcher.dispatch(cmd: cmd, input: input, output: output, caller: caller, trace: trace)
                } else {
                    srv.dispatcher.dispatch(cmd: cmd, input: input, output: output, caller: caller)
                }
                fuse_reply_ioctl(req, -r.errno, r.outBytes > 0 ? out.baseAddress : nil, r.outBytes)
            }
        }
        ops.poll = { req, _, fi, ph in FuseServer.server(req).poll(req, fi!.pointee.fh, ph) }
        return ops
    }
}
