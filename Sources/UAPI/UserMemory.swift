import FakeDRMDevice

/// The calling process's memory, for nested user pointers (VERSION strings,
/// GETPARAM value, PREAD/PWRITE data, extension chains, QUERY items). FUSE
/// copies only the top-level struct; the transport reaches the rest with
/// process_vm_readv/writev. Any fault is EFAULT.
public protocol UserMemory {
    func read(_ addr: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DrmError)
    func write(_ addr: UInt64, from buffer: UnsafeRawBufferPointer) throws(DrmError)
}

extension UserMemory {
    /// Reads one uapi struct at `addr`.
    func load<T>(_ type: T.Type, at addr: UInt64) throws(DrmError) -> T {
        try withUnsafeTemporaryAllocation(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment) {
            (buf: UnsafeMutableRawBufferPointer) throws(DrmError) -> T in
            try read(addr, into: buf)
            return buf.load(as: T.self)
        }
    }

    /// Writes one uapi struct (or scalar) to `addr`.
    func store<T>(_ value: T, at addr: UInt64) throws(DrmError) {
        var v = value
        try withUnsafeBytes(of: &v) { (b: UnsafeRawBufferPointer) throws(DrmError) in try write(addr, from: b) }
    }
}

extension UserMemory {
    /// Writes bytes (Array.withUnsafeBytes only rethrows untyped errors).
    func write(_ addr: UInt64, bytes: ArraySlice<UInt8>) throws(DrmError) {
        let failure: DrmError? = bytes.withUnsafeBytes { b in
            do throws(DrmError) { try write(addr, from: b) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }
}

/// Who is calling: the file (drm_file) and the thread behind the ioctl.
public struct IoctlCaller {
    public let file: FileID
    public let pid: Int32
    /// CAP_SYS_ADMIN, approximated by uid 0.
    public let privileged: Bool
    public let memory: any UserMemory
    /// Set when the caller gets a signal while blocked (FUSE INTERRUPT):
    /// the interruptible waits end with EINTR. Nil: uninterruptible.
    public let interruption: Interruption?

    public init(file: FileID, pid: Int32, privileged: Bool, memory: any UserMemory, interruption: Interruption? = nil) {
        self.file = file
        self.pid = pid
        self.privileged = privileged
        self.memory = memory
        self.interruption = interruption
    }
}
