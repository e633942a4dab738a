import CFuse
import FakeDRMDevice
import FakeDRMUAPI
#if canImport(Glibc)
import Glibc
#endif

extension FuseServer {
    /// An ioctl on a directory of the mount. The root answers the strict-mode
    /// library (PROBE of a stat'ed inode, VMA_OPEN/VMA_CLOSE); any other
    /// directory, and any other ioctl, is ENOTTY.
    func rootIoctl(_ req: fuse_req_t?, ino: InodeID, cmd: UInt32, inBuf: UnsafeRawPointer?, inSize: Int, outSize: Int) {
        guard ino == InodeTable.root else {
            channel.replyErr(req, ENOTTY)
            return
        }
        let uid = channel.context(req).uid
        withUnsafeTemporaryAllocation(byteCount: max(outSize, 1), alignment: 16) { out in
            let r = dispatcher.dispatchRoot(cmd: cmd, uid: uid, input: UnsafeRawBufferPointer(start: inBuf, count: inSize),
                                            output: UnsafeMutableRawBufferPointer(rebasing: out[0..<outSize])) { ino in
                if case .device(let minor) = self.inodes.node(ino) { return minor }
                return nil
            }
            channel.replyIoctl(req, -r.errno, r.outBytes > 0 ? out.baseAddress : nil, r.outBytes)
        }
    }
}
