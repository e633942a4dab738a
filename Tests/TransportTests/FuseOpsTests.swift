import CDrm
import CFuse
import Glibc
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMTransport

/// The FUSE ops on a server that is never mounted: what each answers,
/// through a recording channel (Support.swift).
@Suite struct FuseOpsTests {
    @Test func lookupAndGetattrOfTheDeviceNode() {
        let s = Server()
        // Each LOOKUP of a device file mints a fresh inode.
        let a = s.lookup("card0"), b = s.lookup("card0")
        #expect(a != nil && b != nil && a != b)
        #expect(s.lookup("nope") == nil)
        #expect(s.channel.take().isEmpty)
        #expect(s.reply { "nope".withCString { s.srv.lookup(s.req, parent: InodeTable.root, name: $0) } } == .err(ENOENT))
        let attr = s.reply { s.srv.getattr(s.req, ino: a!) }
        #expect(attr == .attr(ino: a!, mode: 0o100_666 /* S_IFREG | 0666 */, size: Int64(FuseServer.deviceFileSize)))
        #expect(s.reply { s.srv.getattr(s.req, ino: 99_999) } == .err(ENOENT))
        // FORGET answers nothing and retires the inode.
        #expect(s.reply { s.srv.forget(s.req, ino: a!, lookups: 1) } == RecordingChannel.Reply.none)
        #expect(s.reply { s.srv.getattr(s.req, ino: a!) } == .err(ENOENT))
    }

    @Test func openMakesADrmFileWithItsOwnPageCache() {
        let s = Server()
        let ino = s.lookup("renderD128")!
        let o = Server.Open(ino: ino)
        guard case .open(let fh, let keep, let direct)? = s.reply({ s.srv.open(s.req, ino: ino, o.fi) }) else {
            Issue.record("no open reply")
            return
        }
        #expect(fh != 0 && keep && !direct)
        #expect((try? s.srv.device.minor(of: FileID(rawValue: fh))) == .render)
        // The debug tree is root's (and the daemon user's).
        let other = Server(uid: 1234)
        let debug = other.reply { "debug".withCString { other.srv.lookup(other.req, parent: InodeTable.root, name: $0) } }
        guard case .entry(let dir, _)? = debug else {
            Issue.record("no debug directory")
            return
        }
        #expect(dir == InodeTable.debugDirectory)
        let f = Server.Open(ino: InodeTable.inode(of: .objects))
        #expect(other.reply { other.srv.open(other.req, ino: f.ino, f.fi) } == .err(EACCES))
        #expect(s.reply { s.srv.release(s.req, fh: fh) } == .err(0))
    }

    @Test func ioctlRoundTrip() {
        let s = Server()
        let o = s.open()!
        var create = drm_i915_gem_create(size: 5000, handle: 0, pad: 0)
        #expect(s.ioctl(o, UInt32(FDRM_IOCTL_I915_GEM_CREATE), &create) == 0)
        #expect(create.handle == 1 && create.size == 8192)
        var close = drm_gem_close(handle: 77, pad: 0)
        #expect(s.ioctl(o, UInt32(FDRM_IOCTL_GEM_CLOSE), &close) == -EINVAL)
        // 32-bit callers are not translated.
        #expect(s.ioctl(o, UInt32(FDRM_IOCTL_GEM_CLOSE), &close, flags: UInt32(FUSE_IOCTL_COMPAT)) == -ENOTTY)
    }

    /// A wait watches for FUSE INTERRUPT (registered before it runs,
    /// unregistered before the answer): an INTERRUPT that came before the
    /// handler registered (libfuse calls back at once) ends it with EINTR.
    /// Other ioctls are not watched.
    @Test func waitsAreInterruptible() {
        let s = Server(pid: getpid())
        let o = s.open()!
        var create = drm_syncobj_create(handle: 0, flags: 0)
        #expect(s.ioctl(o, UInt32(FDRM_IOCTL_SYNCOBJ_CREATE), &create) == 0)
        #expect(s.channel.interruptWatches.isEmpty)
        var handle = create.handle
        withUnsafeMutablePointer(to: &handle) { h in
            var w = drm_syncobj_wait()
            w.handles = UInt64(UInt(bitPattern: h))
            w.count_handles = 1
            w.flags = UInt32(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT)
            w.first_signaled = 0xdead
            #expect(s.ioctl(o, UInt32(FDRM_IOCTL_SYNCOBJ_WAIT), &w) == -ETIME) // timeout 0: polls
            #expect(s.channel.interruptWatches == [true, false])
            s.channel.interruptedAtOnce.store(true, ordering: .relaxed)
            w.timeout_nsec = DrmDevice.monotonicNow() + 10_000_000_000
            #expect(s.ioctl(o, UInt32(FDRM_IOCTL_SYNCOBJ_WAIT), &w) == -EINTR)
            #expect(w.first_signaled == 0xdead)
            #expect(s.channel.interruptWatches == [true, false, true, false])
        }
    }

    /// An object's offset, from GEM_CREATE and MMAP_OFFSET(WB) through `o`.
    func mappedObject(_ s: Server, _ o: Server.Open, size: UInt64 = 4096) -> (handle: UInt32, offset: UInt64) {
        var create = drm_i915_gem_create(size: size, handle: 0, pad: 0)
        #expect(s.ioctl(o, UInt32(FDRM_IOCTL_I915_GEM_CREATE), &create) == 0)
        var mmo = drm_i915_gem_mmap_offset()
        mmo.handle = create.handle
        mmo.flags = UInt64(I915_MMAP_OFFSET_WB)
        #expect(s.ioctl(o, UInt32(FDRM_IOCTL_I915_GEM_MMAP_OFFSET), &mmo) == 0)
        return (create.handle, mmo.offset)
    }

    @Test func readIsAFaultAndWriteReachesTheObject() {
        let s = Server()
        let o = s.open()!
        let (_, offset) = mappedObject(s, o)
        #expect(s.write(o, offset: offset + 10, Array("hello".utf8)) == .write(5))
        guard case .buf(let bytes)? = s.read(o, offset: offset, size: 4096) else {
            Issue.record("no read reply")
            return
        }
        #expect(bytes.count == 4096 && Array(bytes[10..<15]) == Array("hello".utf8) && bytes[0] == 0)
        // Another open was never allowed on the node: its touch gets SIGBUS.
        let other = s.open()!
        #expect(s.read(other, offset: offset, size: 4096) == .err(EACCES))
        #expect(s.write(other, offset: offset, [1]) == .err(EACCES))
        // No node at all: EIO.
        #expect(s.read(o, offset: 1 << 40, size: 4096) == .err(EIO))
    }

    @Test func releaseInvalidatesWhatTheInodeCached() {
        let s = Server()
        s.srv.pageCache.attach(OpaquePointer(bitPattern: 0x2000)!)
        defer { s.srv.pageCache.detach() }
        let o = s.open()!
        let (handle, offset) = mappedObject(s, o, size: 8192)
        guard case .buf? = s.read(o, offset: offset, size: 4096) else {
            Issue.record("no fault")
            return
        }
        #expect(s.channel.invalidations.isEmpty)
        var close = drm_gem_close(handle: handle, pad: 0)
        #expect(s.ioctl(o, UInt32(FDRM_IOCTL_GEM_CLOSE), &close) == 0)
        // The last open of the inode goes: its cached copy of the node is dropped.
        #expect(s.reply { s.srv.release(s.req, fh: o.fh) } == .err(0))
        #expect(s.channel.invalidations.contains(RecordingChannel.Inval(ino: o.ino, offset: Int64(offset), length: 8192)))
    }

    /// A dma-buf's inode has the object's range at file offset 0: a device
    /// range reaches it shifted and clipped to the file, so the whole-space
    /// drop of an offset-space wrap reaches it too.
    @Test func exportInodesGetRangesInTheirOwnOffsets() {
        let s = Server()
        s.srv.pageCache.attach(OpaquePointer(bitPattern: 0x2000)!)
        defer { s.srv.pageCache.detach() }
        let ino = DrmDevice.exportInode(7)
        let base: UInt64 = 5 << 32
        s.srv.pageCache.shift(inode: ino, by: base)
        s.srv.pageCache.invalidate([
            Invalidation(inode: ino, offset: 1 << 32, length: 1 << 40),        // the whole space
            Invalidation(inode: ino, offset: base + 8192, length: 4096),        // inside
            Invalidation(inode: ino, offset: 1 << 32, length: 4096),            // below the file
        ])
        #expect(s.channel.invalidations == [
            RecordingChannel.Inval(ino: ino, offset: 0, length: Int64((1 << 32) + (1 << 40) - base)),
            RecordingChannel.Inval(ino: ino, offset: 8192, length: 4096),
        ])
    }
}
