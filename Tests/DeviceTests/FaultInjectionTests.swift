import CDrm
import Testing
@testable import FakeDRMDevice

/// The fault-injection model behind MOUNT/debug/{fail_faults, fail_ioctl,
/// exhaust_aperture, exhaust_fences}: which READ or ioctl fails, with what.
@Suite struct FaultInjectionTests {
    /// One file with a GTT node on an object of `pages` pages.
    func setup(pages: Int = 1, mode: UInt32 = UInt32(I915_TILING_NONE), stride: UInt32 = 0) throws -> (Fixture, FileID, Handle, UInt64) {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: UInt64(pages * 4096)).handle
        if mode != UInt32(I915_TILING_NONE) { _ = try fx.dev.setTiling(f, handle: h, mode: mode, stride: stride) }
        return (fx, f, h, try fx.dev.mmapOffset(f, handle: h, flags: MmapType.gtt.rawValue))
    }

    func read(_ fx: Fixture, _ f: FileID, _ at: UInt64, count: Int = 4096, pid: Int32) -> DrmError? {
        var buf = [UInt8](repeating: 0, count: count)
        var revoke: [Invalidation] = []
        return buf.withUnsafeMutableBytes { b in
            do throws(DrmError) { try fx.dev.fault(f, inode: 1, offset: at, into: b, pid: pid, deferring: &revoke) } catch { return error }
            return nil
        }
    }

    @Test func nextFaultsFailAndTheKernelsRereadsOfTheTouchToo() throws {
        let (fx, f, _, gtt) = try setup(pages: 64)
        #expect(fx.dev.configureInjection(.failFaults, "2\n"))
        #expect(fx.dev.debugText(.failFaults) == "2 (the next 2 faults fail: SIGBUS)\n")
        // Touch 1 by thread 7: a readahead window, then the page re-read twice.
        #expect(read(fx, f, gtt, count: 131072, pid: 7) == .EIO)
        #expect(read(fx, f, gtt + 8192, pid: 7) == .EIO)
        #expect(read(fx, f, gtt + 8192, pid: 7) == .EIO)
        #expect(fx.dev.debugText(.failFaults).hasPrefix("1 "))
        // Touch 2, another thread, same page: the second armed failure.
        #expect(read(fx, f, gtt + 8192, pid: 8) == .EIO)
        #expect(read(fx, f, gtt + 8192, pid: 8) == .EIO)
        #expect(fx.dev.debugText(.failFaults) == "0\n")
        // Touch 3: served.
        #expect(read(fx, f, gtt + 8192, pid: 9) == nil)
        #expect(read(fx, f, gtt + 8192, pid: 8) == nil)
    }

    @Test func aReadElsewhereEndsTheTouch() throws {
        let (fx, f, _, gtt) = try setup(pages: 64)
        #expect(fx.dev.configureInjection(.failFaults, "1"))
        #expect(read(fx, f, gtt, pid: 7) == .EIO)
        #expect(read(fx, f, gtt + 65536, pid: 7) == nil)
        #expect(read(fx, f, gtt, pid: 7) == nil)
    }

    @Test func ioctlFailuresCountDownAndShowAsWritten() throws {
        let fx = Fixture()
        #expect(fx.dev.configureInjection(.failIoctl, "GEM_CREATE ENOMEM 2\n"))
        #expect(fx.dev.configureInjection(.failIoctl, "DRM_IOCTL_GEM_CLOSE 22"))
        #expect(fx.dev.configureInjection(.failIoctl, "0x5c enospc 3"))   // GEM_PREAD by number
        #expect(fx.dev.debugText(.failIoctl) == "GEM_CLOSE EINVAL 1\nGEM_CREATE ENOMEM 2\nGEM_PREAD ENOSPC 3\n")
        let create = UInt32(DRM_COMMAND_BASE + DRM_I915_GEM_CREATE)
        #expect(fx.dev.injection.ioctlFailure(nr: create) == .ENOMEM)
        #expect(fx.dev.injection.ioctlFailure(nr: create) == .ENOMEM)
        #expect(fx.dev.injection.ioctlFailure(nr: create) == nil)
        #expect(fx.dev.injection.ioctlFailure(nr: 0x09) == .EINVAL)
        #expect(fx.dev.injection.ioctlFailure(nr: 0x09) == nil)
        #expect(fx.dev.configureInjection(.failIoctl, "GEM_PREAD ENOSPC 0"))  // disarms one
        #expect(fx.dev.debugText(.failIoctl) == "")
        #expect(fx.dev.configureInjection(.failIoctl, "GEM_CREATE EIO\nGEM_OPEN EPERM 4"))
        #expect(fx.dev.configureInjection(.failIoctl, "clear"))
        #expect(fx.dev.debugText(.failIoctl) == "")
    }

    @Test func badControlTextIsRefusedWithoutArming() {
        let fx = Fixture()
        #expect(!fx.dev.configureInjection(.failIoctl, "GEM_CREATE ENOMEM 1\nNO_SUCH_IOCTL ENOMEM"))
        #expect(!fx.dev.configureInjection(.failIoctl, "GEM_CREATE ENOTANERRNO"))
        #expect(!fx.dev.configureInjection(.failIoctl, "GEM_CREATE ENOMEM -1"))
        #expect(!fx.dev.configureInjection(.failIoctl, "0x0f ENOMEM"))     // no such ioctl number
        #expect(fx.dev.debugText(.failIoctl) == "")
        #expect(!fx.dev.configureInjection(.failFaults, "many"))
        #expect(!fx.dev.configureInjection(.exhaustAperture, "1 2"))
        #expect(fx.dev.debugText(.failFaults) == "0\n")
    }

    @Test func exhaustedApertureServesBoundObjectsAndRetriesNewBindings() throws {
        let (fx, f, h, gtt) = try setup(pages: 4)
        #expect(read(fx, f, gtt, pid: 1) == nil) // bound whole
        #expect(fx.dev.configureInjection(.exhaustAperture, "1"))
        #expect(fx.dev.debugText(.exhaustAperture).hasPrefix("1 "))
        #expect(read(fx, f, gtt + 8192, pid: 1) == nil)
        let other = try fx.dev.gemCreate(f, size: 4096).handle
        let gtt2 = try fx.dev.mmapOffset(f, handle: other, flags: MmapType.gtt.rawValue)
        // ENOSPC is VM_FAULT_NOPAGE in the kernel: retried, then given up.
        #expect(read(fx, f, gtt2, pid: 1) == .ENOSPC)
        // CPU views need no binding.
        let wb = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.wb.rawValue)
        #expect(read(fx, f, wb, pid: 1) == nil)
        #expect(fx.dev.configureInjection(.exhaustAperture, "0"))
        #expect(fx.dev.debugText(.exhaustAperture) == "0\n")
        #expect(read(fx, f, gtt2, pid: 1) == nil)
    }

    @Test func exhaustedFencesRetryTiledFaultsOnly() throws {
        let (fx, f, _, tiled) = try setup(pages: 8, mode: UInt32(I915_TILING_X), stride: 4096)
        let fenced = try fx.dev.gemCreate(f, size: 8 * 4096).handle
        _ = try fx.dev.setTiling(f, handle: fenced, mode: UInt32(I915_TILING_X), stride: 4096)
        let fencedGtt = try fx.dev.mmapOffset(f, handle: fenced, flags: MmapType.gtt.rawValue)
        #expect(read(fx, f, fencedGtt, pid: 1) == nil)
        let linear = try fx.dev.gemCreate(f, size: 4096).handle
        let linearGtt = try fx.dev.mmapOffset(f, handle: linear, flags: MmapType.gtt.rawValue)
        #expect(fx.dev.configureInjection(.exhaustFences, "1"))
        #expect(read(fx, f, tiled, pid: 1) == .ENOBUFS)   // needs a fence: none can be stolen
        #expect(read(fx, f, fencedGtt + 4096, pid: 1) == nil) // keeps its own
        #expect(read(fx, f, linearGtt, pid: 1) == nil)    // untiled needs none
        #expect(fx.dev.configureInjection(.exhaustFences, "0"))
        #expect(read(fx, f, tiled, pid: 1) == nil)
    }

    /// A fault that evicts and then finds no fence fails, but the mappings of
    /// what it evicted are revoked all the same: the binding stays made.
    @Test func aFaultFailingAfterEvictingStillRevokesTheEvicted() throws {
        var profile = DeviceProfile()
        profile.apertureSize = 1 << 20
        let fx = Fixture(profile: profile)
        let f = fx.open(inode: 1)
        let big = try fx.dev.gemCreate(f, size: 1 << 20).handle
        let bigGtt = try fx.dev.mmapOffset(f, handle: big, flags: MmapType.gtt.rawValue)
        #expect(read(fx, f, bigGtt, pid: 1) == nil) // the whole aperture
        let tiled = try fx.dev.gemCreate(f, size: 8 * 4096).handle
        _ = try fx.dev.setTiling(f, handle: tiled, mode: UInt32(I915_TILING_X), stride: 4096)
        let tiledGtt = try fx.dev.mmapOffset(f, handle: tiled, flags: MmapType.gtt.rawValue)
        #expect(fx.dev.configureInjection(.exhaustFences, "1"))
        var buf = [UInt8](repeating: 0, count: 4096)
        var revoke: [Invalidation] = []
        let error = buf.withUnsafeMutableBytes { b -> DrmError? in
            do throws(DrmError) { try fx.dev.fault(f, inode: 1, offset: tiledGtt, into: b, pid: 1, deferring: &revoke) } catch { return error }
            return nil
        }
        #expect(error == .ENOBUFS)
        #expect(revoke.contains { $0.inode == 1 && $0.offset <= bigGtt && bigGtt < $0.offset + $0.length }, "\(revoke)")
    }

    @Test func errnoAndIoctlNamesRoundTrip() {
        #expect(DrmError(named: "enomem") == .ENOMEM)
        #expect(DrmError(named: "28") == .ENOSPC)
        #expect(DrmError(named: "EWHAT") == nil)
        #expect(DrmError.ENOBUFS.name == "ENOBUFS")
        #expect(IoctlNames.nr(named: "I915_GEM_MMAP_OFFSET") == 0x64)
        #expect(IoctlNames.nr(named: "GEM_MMAP_OFFSET") == 0x64)
        #expect(IoctlNames.nr(named: "0xc0206464") == 0x64)
        #expect(IoctlNames.name(nr: 0x5b) == "GEM_CREATE")
        #expect(IoctlNames.nr(named: "NOPE") == nil)
    }
}
