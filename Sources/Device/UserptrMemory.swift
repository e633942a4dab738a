import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// The client memory behind a userptr object (obj->userptr): `size` bytes at
/// `address` in the address space of the process that created it.
///
/// The kernel keeps the creator's mm (mmu_interval_notifier_insert on
/// current->mm). Here the mm is held by an open /proc/TID/mem of the creating
/// thread: that file pins the mm it was opened on (proc_mem_open's mmgrab),
/// so reads and writes through it reach that address space and no other.
/// Once the process exits or execs, the mm has no users left and every
/// access fails: a reused pid never sees another process's memory.
///
/// Never used under the device lock: an address may lie in one of the
/// client's mappings of this device, whose fault this daemon serves.
public final class UserptrMemory: @unchecked Sendable {
    public let address: UInt64
    public let size: Int
    private let mm: ProcessMM
    /// Thread group of the creator: who may pin the pages (submit_init's
    /// `notifier.mm != current->mm` check).
    public var tgid: Int32 { mm.tgid }
    private var fd: Int32 { mm.fd }
    private var witness: UInt64 { mm.witness }
    /// A range inside one MAP_SHARED mapping: its own pages, through the
    /// file behind it, else nil.
    private let shared: SharedPages?

    /// The memory of the calling thread `pid` (as FUSE reports it).
    public init?(pid: Int32, address: UInt64, size: Int) {
        guard let mm = ProcessMM.of(pid: pid, fallbackWitness: address) else { return nil }
        self.mm = mm
        self.address = address
        self.size = size
        shared = SharedPages(tgid: mm.tgid, address: address, size: size)
    }

    /// The vDSO's address (AT_SYSINFO_EHDR in /proc/PID/auxv): short to read.
    static func vdso(of pid: Int32) -> UInt64? {
        guard let bytes = readSmallBytes("/proc/\(pid)/auxv") else { return nil }
        return bytes.withUnsafeBytes { b -> UInt64? in
            var at = 0
            while at + 16 <= b.count {
                let type = b.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                if type == 33 { return b.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self) } // AT_SYSINFO_EHDR
                if type == 0 { break }
                at += 16
            }
            return nil
        }
    }

    /// The thread group a thread id belongs to (/proc/TID/status), or nil
    /// when the thread is gone.
    public static func tgid(of pid: Int32) -> Int32? {
        guard pid > 0, let text = readSmallFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Tgid:") {
            return Int32(line.dropFirst(5).trimmingSpaces)
        }
        return nil
    }

    /// Copies `count` bytes at `offset` of the range into `dst`. False when
    /// any byte cannot be read (unmapped, or the mm is gone).
    ///
    /// The mm's own file first. It cannot wait for a page another thread
    /// provides (userfaultfd: a remote access without retry is refused), so
    /// then process_vm_readv, as gup does, on the thread group, fenced by the
    /// mm being alive before and after: a process cannot die and its pid be
    /// reused while its mm lives, so the pid named the creator throughout.
    /// Bytes read from anyone else are wiped, never used.
    ///
    /// `mayWait: false` (the engine threads) never waits on the client: only
    /// the mm's file, page by page where the whole fails, pages that cannot
    /// be read left as they were. A page under userfaultfd whose handler never
    /// answers then stalls the caller's ioctl (as the kernel's pin does), not
    /// an engine.
    public func read(at offset: Int, into dst: UnsafeMutableRawPointer, count: Int, mayWait: Bool = true) -> Bool {
        if readMem(at: offset, into: dst, count: count) { return true }
        if !mayWait {
            var ok = true
            var at = 0
            while at < count {
                let n = min(Page.remaining(address &+ UInt64(offset + at)), count - at)
                ok = readMem(at: offset + at, into: dst + at, count: n) && ok
                at += n
            }
            return ok
        }
        guard isAlive else { return false }
        let ok = fdrm_process_vm_read(tgid, dst, address &+ UInt64(offset), count) == 0
        guard ok, isAlive else {
            dst.initializeMemory(as: UInt8.self, repeating: 0, count: count)
            return false
        }
        return true
    }

    private func readMem(at offset: Int, into dst: UnsafeMutableRawPointer, count: Int) -> Bool {
        if let shared { return shared.transfer(at: offset, dst, count, write: false) }
        return readMem(address &+ UInt64(offset), into: dst, count: count)
    }

    private func readMem(_ at: UInt64, into dst: UnsafeMutableRawPointer, count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = pread(fd, dst + done, count - done, off_t(Int64(bitPattern: at &+ UInt64(done))))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Stores `count` bytes at `offset` of the range. Callers check first
    /// that the range is writable (the kernel pins with FOLL_WRITE), since
    /// /proc/PID/mem writes even read-only private mappings.
    @discardableResult
    public func write(at offset: Int, from src: UnsafeRawPointer, count: Int) -> Bool {
        if let shared { return shared.transfer(at: offset, UnsafeMutableRawPointer(mutating: src), count, write: true) }
        var done = 0
        while done < count {
            let n = pwrite(fd, src + done, count - done, off_t(Int64(bitPattern: address &+ UInt64(offset + done))))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Whether the mm is still there (the process has not exited or exec'd).
    public var isAlive: Bool {
        var b: UInt8 = 0
        return readMem(witness, into: &b, count: 1)
    }
}

/// The pages of a range that lies in one MAP_SHARED mapping (shared
/// anonymous memory is shmem, else a file): the file behind the mapping,
/// opened through /proc/TGID/map_files, at the range's file offset. The
/// kernel's userptr keeps the pages it pinned while a request runs (munmap
/// waits for it: i915_gem_userptr_invalidate); through the file the GPU
/// keeps its pages after the client unmaps them (IGT ends a userptr spinner
/// by a store, then unmaps it at once) and never reads a new mapping at the
/// same address. Needs CAP_SYS_ADMIN (map_files): without it, nil.
final class SharedPages: @unchecked Sendable {
    let fd: Int32
    let offset: Int64

    init?(tgid: Int32, address: UInt64, size: Int) {
        guard let vma = ProcMapping.all(of: tgid)?.first(where: { $0.start <= address && address + UInt64(size) <= $0.end }),
              vma.shared, Self.isShmem(vma.path) else { return nil }
        let path = "/proc/\(tgid)/map_files/" + String(vma.start, radix: 16) + "-" + String(vma.end, radix: 16)
        var fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 { fd = Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        self.fd = fd
        offset = Int64(vma.offset + (address - vma.start))
    }

    deinit { close(fd) }

    /// Memory, not a file of some filesystem (least of all this daemon's
    /// own FUSE mount): shared anonymous memory, memfd, SysV and POSIX shm.
    static func isShmem(_ path: String) -> Bool {
        ["/dev/zero", "/memfd:", "/SYSV", "/dev/shm/"].contains { path.hasPrefix($0) }
    }

    /// Reads or writes `count` bytes at `at` in the range; false when the
    /// file ends first (a truncated file) or refuses.
    func transfer(at: Int, _ buf: UnsafeMutableRawPointer, _ count: Int, write: Bool) -> Bool {
        var done = 0
        while done < count {
            let off = off_t(offset + Int64(at + done))
            let n = write ? pwrite(fd, buf + done, count - done, off) : pread(fd, buf + done, count - done, off)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}

/// One process's address space, held by an open /proc/TID/mem and shared by
/// its userptr objects (one descriptor per process, not per object).
final class ProcessMM: @unchecked Sendable {
    let tgid: Int32
    let fd: Int32
    /// An address mapped for the mm's whole life (its vDSO), read to tell
    /// whether the mm still has users.
    let witness: UInt64

    private init(tgid: Int32, fd: Int32, witness: UInt64) {
        self.tgid = tgid
        self.fd = fd
        self.witness = witness
    }

    deinit { close(fd) }

    private struct Weak { weak var mm: ProcessMM? }
    private static let open = DeviceLock<[Int32: Weak]>([:])

    /// The caller's current mm: the one already open for its process while
    /// that is alive (a live old mm means no exec and no pid reuse since),
    /// else a new open.
    static func of(pid: Int32, fallbackWitness: UInt64) -> ProcessMM? {
        guard pid > 0, let tgid = UserptrMemory.tgid(of: pid) else { return nil }
        if let mm = open.withLock({ $0[tgid]?.mm }), mm.isAlive { return mm }
        let fd = Glibc.open("/proc/\(pid)/mem", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let mm = ProcessMM(tgid: tgid, fd: fd, witness: UserptrMemory.vdso(of: pid) ?? fallbackWitness)
        open.withLock { table in
            if table.count >= 64 { table = table.filter { $0.value.mm != nil } }
            table[tgid] = Weak(mm: mm)
        }
        return mm
    }

    var isAlive: Bool {
        var b: UInt8 = 0
        return pread(fd, &b, 1, off_t(Int64(bitPattern: witness))) == 1
    }
}

/// One line of /proc/PID/maps, as much as the userptr checks need.
struct ProcMapping {
    let start: UInt64
    let end: UInt64
    let readable: Bool
    let writable: Bool
    /// MAP_SHARED ('s'), not a private copy-on-write mapping ('p').
    let shared: Bool
    /// Where in its file the mapping starts.
    let offset: UInt64
    /// The file's path as maps shows it ("" for anonymous memory).
    let path: String
    let major: UInt32
    let minor: UInt32

    /// "start-end perms offset major:minor inode path".
    init?(_ line: Substring) {
        let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard f.count >= 5 else { return nil }
        let range = f[0].split(separator: "-")
        let dev = f[3].split(separator: ":")
        guard range.count == 2, dev.count == 2, let s = UInt64(range[0], radix: 16), let e = UInt64(range[1], radix: 16),
              let ma = UInt32(dev[0], radix: 16), let mi = UInt32(dev[1], radix: 16),
              let off = UInt64(f[2], radix: 16) else { return nil }
        start = s
        end = e
        readable = f[1].hasPrefix("r")
        writable = f[1].dropFirst().hasPrefix("w")
        shared = f[1].dropFirst(3).hasPrefix("s")
        offset = off
        path = f.count > 5 ? String(f[5].drop(while: { $0 == " " })) : ""
        major = ma
        minor = mi
    }

    /// The mappings of `pid`, or nil when its maps cannot be read.
    static func all(of pid: Int32) -> [ProcMapping]? {
        guard let text = readSmallFile("/proc/\(pid)/maps") else { return nil }
        return text.split(separator: "\n").compactMap(ProcMapping.init)
    }
}

/// What the kernel finds walking the VMAs of [addr, addr+len).
enum RangeProblem: Equatable {
    /// A hole: no VMA covers some page.
    case hole
    /// A mapping of the device (the kernel's VM_PFNMAP/VM_IO GTT mmap).
    case device
    /// Not readable, or not writable where a write pin is asked for
    /// (pin_user_pages with FOLL_WRITE on a read-only VMA).
    case protection
}

extension ProcMapping {
    /// probe_range and pin_user_pages' view of a range: nil when every page
    /// is normal memory with the access asked for.
    static func check(_ maps: [ProcMapping], address: UInt64, length: UInt64, device: (UInt32, UInt32)?,
                      needWrite: Bool, needRead: Bool) -> RangeProblem? {
        var at = address
        let end = address &+ length
        for m in maps where m.end > at {
            if m.start > at { return .hole }
            if let d = device, m.major == d.0, m.minor == d.1 { return .device }
            if needRead && !m.readable && !m.writable { return .protection }
            if needWrite && !m.writable { return .protection }
            at = m.end
            if at >= end { return nil }
        }
        return .hole
    }
}

/// A /proc text file, read whole.
func readSmallFile(_ path: String) -> String? {
    readSmallBytes(path).map { String(decoding: $0, as: UTF8.self) }
}

/// A /proc file's bytes, read whole.
func readSmallBytes(_ path: String) -> [UInt8]? {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        guard n > 0 else { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
