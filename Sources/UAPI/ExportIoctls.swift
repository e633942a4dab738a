import CDrm
import FakeDRMDevice

/// The ioctls of the files the daemon makes for strict mode
/// (include/fakedrm.h): a sync_file's SYNC_IOC_FILE_INFO
/// and SYNC_IOC_MERGE, a dma-buf's DMA_BUF_IOCTL_SYNC, a sw_sync
/// timeline's SW_SYNC_IOC_CREATE_FENCE and SW_SYNC_IOC_INC. Tokens stand where
/// the kernel has fds; the library swaps them.
extension IoctlDispatcher {
    /// An ioctl on export file `token`. ENOTTY for anything else, and for
    /// another kind's ioctls, as the kernel's files answer.
    public func dispatchExport(token: UInt32, cmd: UInt32, input: UnsafeRawBufferPointer,
                               output: UnsafeMutableRawBufferPointer, caller: IoctlCaller) -> Result {
        let size = Int(fdrm_ioc_size(cmd))
        return withUnsafeTemporaryAllocation(byteCount: max(size, 1), alignment: 16) { k in
            k.initializeMemory(as: UInt8.self, repeating: 0)
            k.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[0..<min(size, input.count)]))
            var errno: Int32 = 0
            do throws(DrmError) {
                switch cmd {
                case UInt32(FDRM_SYNC_IOC_FILE_INFO) where size == MemoryLayout<sync_file_info>.size:
                    try with(k, sync_file_info.self) { (i: inout sync_file_info) throws(DrmError) in try fileInfo(token, &i, caller) }
                case UInt32(FDRM_SYNC_IOC_MERGE) where size == MemoryLayout<sync_merge_data>.size:
                    try with(k, sync_merge_data.self) { (m: inout sync_merge_data) throws(DrmError) in
                        let name = withUnsafeBytes(of: m.name) { String(decoding: $0.prefix(31).prefix { $0 != 0 }, as: UTF8.self) }
                        m.fence = Int32(bitPattern: try device.syncMerge(token, with: UInt32(bitPattern: m.fd2), name: name,
                                                                        flags: m.flags, pad: m.pad, pid: caller.pid))
                    }
                case UInt32(FDRM_SW_SYNC_IOC_CREATE_FENCE) where size == MemoryLayout<fakedrm_sw_sync_create_fence_data>.size:
                    try with(k, fakedrm_sw_sync_create_fence_data.self) { (d: inout fakedrm_sw_sync_create_fence_data) throws(DrmError) in
                        d.fence = Int32(bitPattern: try device.swSyncCreateFence(token, value: d.value, pid: caller.pid))
                    }
                case UInt32(FDRM_SW_SYNC_IOC_INC) where size == MemoryLayout<UInt32>.size:
                    try device.swSyncInc(token, by: k.load(as: UInt32.self))
                case UInt32(FDRM_DMA_BUF_IOCTL_SYNC) where size == MemoryLayout<dma_buf_sync>.size:
                    try with(k, dma_buf_sync.self) { (d: inout dma_buf_sync) throws(DrmError) in
                        try device.dmaBufSync(token, flags: d.flags)
                    }
                default:
                    throw DrmError.ENOTTY
                }
            } catch {
                errno = error.errno
            }
            let out = fdrm_ioc_out(cmd) != 0 && errno == 0 ? min(size, output.count) : 0
            if out > 0 { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: k[0..<out])) }
            return Result(errno: errno, outBytes: out)
        }
    }

    /// sync_file_ioctl_fence_info: flags or pad EINVAL; num_fences 0 asks
    /// for the count (and the status); fewer than there are EINVAL; the
    /// array copied out (EFAULT).
    private func fileInfo(_ token: UInt32, _ i: inout sync_file_info, _ c: IoctlCaller) throws(DrmError) {
        guard i.flags == 0, i.pad == 0 else { throw DrmError.EINVAL }
        let info = try device.syncFileInfo(token)
        let n = UInt32(info.fences.count)
        if i.num_fences == 0 {
            i.status = info.status
        } else {
            guard i.num_fences >= n else { throw DrmError.EINVAL }
            var status: Int32 = 1
            var array = [sync_fence_info](repeating: sync_fence_info(), count: Int(n))
            for (j, f) in info.fences.enumerated() {
                fill(&array[j].obj_name, f.objName)
                fill(&array[j].driver_name, f.driverName)
                array[j].status = f.status
                array[j].timestamp_ns = f.timestampNs
                if status > 0 { status = f.status }
            }
            i.status = status
            let failure: DrmError? = array.withUnsafeBytes { b in
                do throws(DrmError) { try c.memory.write(i.sync_fence_info, from: b) } catch { return error }
                return nil
            }
            if let failure { throw failure }
        }
        fill(&i.name, info.name)
        i.num_fences = n
    }
}

/// strscpy into a fixed char array.
private func fill<T>(_ field: inout T, _ s: String) {
    withUnsafeMutableBytes(of: &field) { b in
        b.initializeMemory(as: UInt8.self, repeating: 0)
        for (i, c) in s.utf8.prefix(b.count - 1).enumerated() { b[i] = c }
    }
}
