import CFuse
import FakeDRMDevice
import FakeDRMUAPI
#if canImport(Glibc)
import Glibc
#endif

/// The data path's FUSE operations (the table is FuseOperations.swift):
/// READ is a fault (or a debug file's bytes), WRITE a writeback, a write(2)
/// or a control-file write, IOCTL the device's ioctl table.
extension FuseServer {
    // MARK: READ

    /// READ of a device file: a page fault or readahead at a fake offset.
    func read(_ req: fuse_req_t?, ino: InodeID, size: Int, offset: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>) {
        let fh = fi.pointee.fh
        if readExport(req, fh, size: size, offset: offset) { return }
        if DebugFiles.isDebug(fh) {
            let bytes = debugFiles.read(fh, offset: Int(offset), size: size, on: device)
            channel.replyBuf(req, bytes, bytes.count)
            return
        }
        guard let mem = cfuse_thread_buffer(size) else {
            channel.replyErr(req, ENOMEM)
            return
        }
        let buf = UnsafeMutableRawBufferPointer(start: mem, count: size)
        var revocations: [Invalidation] = []
        let start = trace != nil ? Trace.now() : 0
        var failure: Int32 = 0
        let pid = channel.context(req).pid // the request is gone once answered
        do throws(DrmError) {
            try device.fault(FileID(rawValue: fh), inode: ino, offset: UInt64(offset), into: buf, pid: pid, deferring: &revocations)
            // Always the full length: a short reply shrinks i_size.
            channel.replyBuf(req, buf.baseAddress, size)
        } catch {
            failure = error.errno
            channel.replyErr(req, error.errno)
        }
        if let trace {
            trace.record(file: fh, pid: pid,
                         "FAULT {offset=0x\(String(offset, radix: 16)), length=\(size), node=\(device.describeRange(UInt64(offset), size))}",
                         errno: failure, result: failure != 0 ? "(SIGBUS)" : "", since: start)
        }
        // Only after the answer (this READ's folios are released), and not
        // on this worker: invalidations wait for launder WRITEs, which
        // workers serve, so a thrashing aperture must not park them all.
        pageCache.invalidateSoon(revocations)
    }

    // MARK: WRITE

    /// WRITE: a dirty page written back (writepage), a write(2) through an
    /// open, or a write to a parameter or control file.
    func write(_ req: fuse_req_t?, ino: InodeID, data: UnsafePointer<CChar>?, size: Int, offset: off_t,
               _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        if writeExport(req, ino, fi, data: data, size: size, offset: offset) { return }
        if let fi, DebugFiles.isDebug(fi.pointee.fh) {
            return writeDebug(req, ino: ino, UnsafeRawBufferPointer(start: data, count: size))
        }
        let start = trace != nil ? Trace.now() : 0
        var failure: Int32 = 0
        let pid = channel.context(req).pid // the request is gone once answered
        do throws(DrmError) {
            let end = FuseServer.deviceFileSize, at = UInt64(offset)
            // Past the end, as a file at its size limit: EFBIG, or a short
            // write up to the end (a longer one would grow i_size).
            guard at < end else { throw DrmError.EFBIG }
            let n = Int(min(UInt64(size), end - at))
            let bytes = UnsafeRawBufferPointer(start: data, count: n)
            if let fi, fi.pointee.writepage == 0 {
                // write(2) through this open: its own rights, as read(2).
                try device.write(FileID(rawValue: fi.pointee.fh), inode: ino, offset: at, data: bytes)
            } else {
                try device.writeback(inode: ino, offset: at, data: bytes)
            }
            channel.replyWrite(req, n)
        } catch {
            failure = error.errno
            channel.replyErr(req, error.errno)
        }
        if let trace {
            trace.record(file: fi?.pointee.fh ?? 0, pid: pid,
                         "WRITEBACK {inode=\(ino), offset=0x\(String(offset, radix: 16)), length=\(size), node=\(device.describeRange(UInt64(offset), size))}",
                         errno: failure, since: start)
        }
    }

    /// A write to a module parameter or a debug control file: the device
    /// parses it (ModuleParams, DrmDevice+DebugControl.swift).
    private func writeDebug(_ req: fuse_req_t?, ino: InodeID, _ data: UnsafeRawBufferPointer) {
        let node = inodes.node(ino)
        if case .param(let name) = node {
            let bytes = Array(data)
            var failure: Int32 = 0
            do throws(DrmError) { try device.params.write(name, bytes) } catch { failure = error.errno }
            trace?.note("PARAM \(name) <- \(String(decoding: bytes, as: UTF8.self).split(separator: "\n").joined(separator: "; "))"
                        + (failure == 0 ? "" : " = -1 \(DrmError.name(of: failure))"))
            if failure == 0 { channel.replyWrite(req, data.count) } else { channel.replyErr(req, failure) }
            return
        }
        if case .engineFile(let e, let name) = node {
            let bytes = Array(data)
            var failure: Int32 = 0
            do throws(DrmError) { try device.writeEngineFile(EngineID.all[e], name, bytes) } catch { failure = error.errno }
            trace?.note("ENGINE \(EngineID.all[e].name)/\(name) <- \(String(decoding: bytes, as: UTF8.self).split(separator: "\n").joined(separator: "; "))"
                        + (failure == 0 ? "" : " = -1 \(DrmError.name(of: failure))"))
            if failure == 0 { channel.replyWrite(req, data.count) } else { channel.replyErr(req, failure) }
            return
        }
        guard case .debug(let file) = node, file.isWritable else {
            channel.replyErr(req, EACCES)
            return
        }
        let text = String(decoding: data, as: UTF8.self)
        // i915_gem_drop_caches may wait for the GPU: the writer's signal ends it.
        let interruption = Interruption()
        channel.onInterrupt(req, interruption)
        var failure: Int32 = 0
        do throws(DrmError) { try device.writeDebug(file, text, interruption: interruption) } catch { failure = error.errno }
        channel.onInterrupt(req, nil)
        // Armed injections and resets belong in the story the trace tells.
        trace?.note("DEBUG \(file.rawValue) <- \(text.split(separator: "\n").joined(separator: "; "))"
                    + (failure == 0 ? "" : " = -1 \(DrmError.name(of: failure))"))
        if failure == 0 { channel.replyWrite(req, data.count) } else { channel.replyErr(req, failure) }
    }

    // MARK: IOCTL

    /// IOCTL: the mount's root answers the strict-mode library; an export
    /// file its own; a device file dispatches through the ioctl table.
    func ioctl(_ req: fuse_req_t?, ino: InodeID, cmd: UInt32, flags: UInt32, _ fi: UnsafeMutablePointer<fuse_file_info>?,
               inBuf: UnsafeRawPointer?, inSize: Int, outSize: Int) {
        // 32-bit callers would need every pointer-bearing struct translated.
        if flags & UInt32(FUSE_IOCTL_COMPAT) != 0 {
            channel.replyErr(req, ENOTTY)
            return
        }
        // The mount's root: the strict-mode library's control channel.
        if flags & UInt32(FUSE_IOCTL_DIR) != 0 {
            rootIoctl(req, ino: ino, cmd: cmd, inBuf: inBuf, inSize: inSize, outSize: outSize)
            return
        }
        if ioctlExport(req, fi!.pointee.fh, cmd: cmd, inBuf: inBuf, inSize: inSize, outSize: outSize) { return }
        let ctx = channel.context(req)
        // Before the call: a caller from outside our pid namespace
        // disables zombie reclaim before a close could start a scan.
        reclaimer?.noteCaller(pid: ctx.pid)
        // A wait the caller's signal must end (FUSE INTERRUPT): watched
        // until the answer is ready, unwatched before it goes out.
        let interruption = IoctlDispatcher.mayWait(cmd: cmd) ? Interruption() : nil
        if let interruption { channel.onInterrupt(req, interruption) }
        let caller = IoctlCaller(file: FileID(rawValue: fi!.pointee.fh), pid: ctx.pid, privileged: ctx.uid == 0,
                                 memory: ProcessMemory(pid: ctx.pid), interruption: interruption)
        withUnsafeTemporaryAllocation(byteCount: max(outSize, 1), alignment: 16) { out in
            let input = UnsafeRawBufferPointer(start: inBuf, count: inSize)
            let output = UnsafeMutableRawBufferPointer(rebasing: out[0..<outSize])
            let r = if let trace {
                dispatcher.dispatch(cmd: cmd, input: input, output: output, caller: caller, trace: trace)
            } else {
                dispatcher.dispatch(cmd: cmd, input: input, output: output, caller: caller)
            }
            if interruption != nil { channel.onInterrupt(req, nil) }
            channel.replyIoctl(req, -r.errno, r.outBytes > 0 ? out.baseAddress : nil, r.outBytes)
            withExtendedLifetime(interruption) {}
        }
    }
}
