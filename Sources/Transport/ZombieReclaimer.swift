import CFuse
import Dispatch
import FakeDRMDevice
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Frees zombies (objects whose last handle is closed, kept for mappings
/// that may still exist) once the kernel shows no mapping of them: the
/// daemon never sees munmap, so without this a client cycling
/// create/mmap/munmap/close on one fd grows until it closes the fd.
///
/// When zombies pile up (the model reports them after a handle close
/// through its ZombieWatcher port), one scan at a time runs on its
/// own queue: snapshot the zombies, wait a grace period, read every
/// process's /proc/PID/maps for mappings of this mount's device, and let the
/// model free the snapshot's unmapped zombies (DrmDevice+Reclaim). The grace
/// keeps plain mode's leniency for a client that asked for an offset and
/// maps it just after closing the handle (the kernel would refuse that mmap;
/// plain mode cannot, so a fault would SIGBUS).
///
/// A process whose maps may not be read (another user's, or a more
/// privileged namespace's) is taken to map nothing unless it opened the
/// device itself; one that did makes the scan free nothing. Disabled for
/// good when a request comes from outside the daemon's pid namespace
/// (pid 0): that process cannot be found in /proc, and the zombies then
/// wait for RELEASE as before.
final class ZombieReclaimer: ZombieWatcher {
    private let device: DrmDevice
    private let major: UInt32, minor: UInt32
    private let queue = DispatchQueue(label: "fakedrm.reclaim")

    /// Zombies (or their bytes) that start a scan; after a scan, the
    /// zombies it left (still mapped) must double before the next one.
    static let minZombies = 256
    static let minZombieBytes: UInt64 = 64 << 20
    static let graceMicroseconds: UInt32 = 100_000

    private struct State {
        var busy = false
        var disabled = false
        var threshold = ZombieReclaimer.minZombies
        var byteThreshold = ZombieReclaimer.minZombieBytes
    }
    private let state = Mutex(State())
    /// The state's thresholds, or .max while a scan runs or reclaim is off:
    /// every GEM_CLOSE reports, and most reports must not take the lock
    /// (contended by 16 closing clients, its slow path was 0.75% of the daemon).
    private let armedCount = Atomic<Int>(ZombieReclaimer.minZombies)
    private let armedBytes = Atomic<UInt64>(ZombieReclaimer.minZombieBytes)
    /// Processes that opened the device: an unreadable one fails a scan.
    private let openers = Mutex<Set<Int32>>([])

    /// The reclaimer of the FUSE mount with device number major:minor.
    init(device: DrmDevice, major: UInt32, minor: UInt32) {
        self.device = device
        self.major = major
        self.minor = minor
        device.watchZombies(self)
    }

    /// Every ioctl's caller: one from a process the daemon cannot see disables.
    func noteCaller(pid: Int32) {
        if pid <= 0 { disable() }
    }

    /// The model's report after a handle close (GEM_CLOSE, MODE_DESTROY_DUMB):
    /// enough zombies start a scan.
    func zombiesAfterClose(count: Int, bytes: UInt64) {
        guard count >= armedCount.load(ordering: .relaxed) || bytes >= armedBytes.load(ordering: .relaxed) else { return }
        let start = state.withLock { s -> Bool in
            guard !s.busy, !s.disabled, count >= s.threshold || bytes >= s.byteThreshold else { return false }
            s.busy = true
            arm(s)
            return true
        }
        if start { queue.async { self.scan() } }
    }

    /// Publishes the state's thresholds for the lock-free check (under the lock).
    private func arm(_ s: State) {
        let off = s.busy || s.disabled
        armedCount.store(off ? .max : s.threshold, ordering: .relaxed)
        armedBytes.store(off ? .max : s.byteThreshold, ordering: .relaxed)
    }

    /// An open: remember who made it; one from a process the daemon cannot see disables.
    func noteOpen(pid: Int32) {
        if pid <= 0 { return disable() }
        _ = openers.withLock { $0.insert(pid) }
    }

    private func disable() {
        state.withLock { s in
            s.disabled = true
            arm(s)
        }
    }

    private func scan() {
        let snapshot = device.zombieSnapshot()
        usleep(Self.graceMicroseconds)
        // Processes gone are no openers any more.
        let scan = Scan(openers: openers.withLock { o in
            o = o.filter { kill($0, 0) == 0 || errno != ESRCH }
            return o
        })
        let r = cfuse_scan_maps(major, minor, { ctx, ino, offset, length in
            Unmanaged<Scan>.fromOpaque(ctx!).takeUnretainedValue().mapped.add(inode: InodeID(rawValue: ino), offset: offset, length: length)
        }, { ctx, pid in
            Unmanaged<Scan>.fromOpaque(ctx!).takeUnretainedValue().openers.contains(pid) ? -1 : 0
        }, Unmanaged.passUnretained(scan).toOpaque())
        // A process whose maps could not be read may map anything: free nothing.
        if r == 0 { device.reclaimUnmapped(snapshot, mapped: scan.mapped) }
        let left = device.zombieUsage
        state.withLock { s in
            s.busy = false
            if r != 0 && r != -EAGAIN {
                // Unreadable processes stay unreadable: scan less often.
                s.threshold *= 2
                s.byteThreshold *= 2
            } else {
                s.threshold = max(Self.minZombies, 2 * left.count)
                s.byteThreshold = max(Self.minZombieBytes, 2 * left.bytes)
            }
            arm(s)
        }
    }
}

/// What one scan gathers (the C scanner's callbacks reach it by pointer).
private final class Scan {
    var mapped = DrmDevice.MappedRanges()
    let openers: Set<Int32>
    init(openers: Set<Int32>) { self.openers = openers }
}
