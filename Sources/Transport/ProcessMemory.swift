import CFuse
import FakeDRMDevice
import FakeDRMUAPI

/// A client's memory through process_vm_readv/writev on the calling thread's
/// id (FUSE reports the thread, in the daemon's pid namespace). Never call
/// it holding the device lock: the address may lie in one of the client's
/// mappings of this device, whose fault this daemon has to serve.
struct ProcessMemory: UserMemory {
    let pid: Int32

    func read(_ addr: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DrmError) {
        guard buffer.count > 0 else { return }
        guard pid > 0, cfuse_peek(pid, buffer.baseAddress, addr, buffer.count) == 0 else { throw DrmError.EFAULT }
    }

    func write(_ addr: UInt64, from buffer: UnsafeRawBufferPointer) throws(DrmError) {
        guard buffer.count > 0 else { return }
        guard pid > 0, cfuse_poke(pid, addr, buffer.baseAddress, buffer.count) == 0 else { throw DrmError.EFAULT }
    }
}
