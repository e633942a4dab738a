import CDrm
import Foundation
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// The DRM core ioctls a client calls first (drm_ioctl.c's drm_ioctls[]),
/// for a display-less i915: GET_UNIQUE/SET_VERSION as libdrm's drmOpen
/// needs them, GET_CLIENT/GET_STATS, DRM_ROOT_ONLY, KMS and syncobjs
/// EOPNOTSUPP, dumb buffers.
@Suite struct CoreIoctlTests {
    func unique(_ c: Client) -> (errno: Int32, String) {
        let buf = c.mem.alloc(64)
        var u = drm_unique(unique_len: 64, unique: uptr(buf))
        let r = c.ioctl(drmCmd(0x01), &u)
        return (r.errno, String(decoding: c.mem.slice(buf, Int(min(u.unique_len, 64))), as: UTF8.self))
    }

    func setVersion(_ c: Client, _ di: (Int32, Int32), _ dd: (Int32, Int32)) -> (Int32, drm_set_version) {
        var v = drm_set_version(drm_di_major: di.0, drm_di_minor: di.1, drm_dd_major: dd.0, drm_dd_minor: dd.1)
        let r = c.ioctl(drmCmd(0x07), &v)
        return (r.errno, v)
    }

    @Test func uniqueIsEmptyUntilSetVersionThenTheMastersBusID() {
        let c = Client()
        let other = c.peer(inode: 2)
        #expect(unique(c) == (0, ""))
        // Interface 1.0 sets nothing; 1.1 and later set the bus id.
        #expect(setVersion(c, (1, 0), (-1, -1)).0 == 0)
        #expect(unique(c) == (0, ""))
        let (e, v) = setVersion(c, (1, 4), (-1, -1))
        #expect(e == 0)
        #expect((v.drm_di_major, v.drm_di_minor, v.drm_dd_major, v.drm_dd_minor) == (1, 4, 1, 6))
        #expect(unique(c) == (0, "pci:0000:00:02.0"))
        // A file opened under the same master shares its unique.
        #expect(unique(other) == (0, "pci:0000:00:02.0"))
    }

    @Test func setVersionChecksBothVersionsAndWritesBackAlways() {
        let c = Client()
        for (di, dd) in [((2, 0), (-1, -1)), ((1, 5), (-1, -1)), ((1, -1), (-1, -1)), ((-1, 0), (1, 7)),
                         ((-1, 0), (0, 0)), ((-1, 0), (1, -1))] as [((Int32, Int32), (Int32, Int32))] {
            let (e, v) = setVersion(c, di, dd)
            #expect(e == errnoEINVAL, "\(di) \(dd)")
            #expect((v.drm_di_major, v.drm_di_minor, v.drm_dd_major, v.drm_dd_minor) == (1, 4, 1, 6))
        }
        #expect(setVersion(c, (-1, 0), (1, 6)).0 == 0)
        #expect(setVersion(c, (-1, 9), (-1, 9)).0 == 0)
        // DRM_MASTER: another open and the render node are refused.
        #expect(setVersion(c.peer(inode: 2), (1, 4), (-1, -1)).0 == DrmError.EACCES.errno)
        #expect(setVersion(c.peer(minor: .render, inode: 3), (1, 4), (-1, -1)).0 == DrmError.EACCES.errno)
    }

    /// drm_setmaster_ioctl: a file never master gets a new drm_master (no
    /// unique); the old master's own comes back with it.
    @Test func aNewMasterHasItsOwnUnique() throws {
        let c = Client(privileged: true)
        let d = c.peer(inode: 2, privileged: true)
        _ = setVersion(c, (1, 4), (-1, -1))
        try c.dev.dropMaster(c.file, pid: c.caller.pid, privileged: true)
        try d.dev.setMaster(d.file, pid: d.caller.pid, privileged: true)
        #expect(unique(d) == (0, ""))
        try d.dev.dropMaster(d.file, pid: d.caller.pid, privileged: true)
        try c.dev.setMaster(c.file, pid: c.caller.pid, privileged: true)
        #expect(unique(c) == (0, "pci:0000:00:02.0"))
    }

    @Test func getClientAndStats() {
        let c = Client()
        var cl = drm_client(idx: 0, auth: 7, pid: 7, uid: 7, magic: 7, iocs: 7)
        #expect(c.ioctl(drmCmd(0x05), &cl).errno == 0)
        #expect(cl.auth == 1 && cl.pid == UInt(c.caller.pid) && cl.uid == 65534 && cl.magic == 0 && cl.iocs == 0)
        cl.idx = 1
        #expect(c.ioctl(drmCmd(0x05), &cl).errno == errnoEINVAL)
        var st = drm_stats()
        st.count = 99
        #expect(c.ioctl(drmCmd(0x06), &st).errno == 0)
        #expect(st.count == 0)
        #expect(c.peer(minor: .render, inode: 2).ioctl(drmCmd(0x05), &cl).errno == DrmError.EACCES.errno)
    }

    /// Every DRM_IOCTL_MODE_* ioctl: EOPNOTSUPP once permitted (no
    /// DRIVER_MODESET), after the render-node and DRM_MASTER checks;
    /// ATTACHMODE/DETACHMODE are drm_noop; dumb buffers work.
    @Test func kmsIsEOPNOTSUPPAfterThePermissionChecks() {
        let master = Client(), other = master.peer(inode: 2), render = master.peer(minor: .render, inode: 3)
        var buf = [UInt8](repeating: 0, count: 128)
        func call(_ c: Client, _ nr: UInt32) -> Int32 {
            let d = IoctlDispatcher.byNr[Int(nr)]!
            return buf.withUnsafeMutableBytes { b in
                b.initializeMemory(as: UInt8.self, repeating: 0)
                return c.dispatcher.dispatch(cmd: d.cmd, input: UnsafeRawBufferPointer(b), output: b, caller: c.caller).errno
            }
        }
        var modes = 0
        for nr in UInt32(0xa0)...0xff {
            guard let d = IoctlDispatcher.byNr[Int(nr)] else { continue }
            let name = d.name
            guard name.hasPrefix("DRM_IOCTL_MODE_") else { continue }
            modes += 1
            let masterOnly = d.flags.contains(.master)
            if name.hasSuffix("_DUMB") { continue }
            let expected = name.hasSuffix("ATTACHMODE") || name.hasSuffix("DETACHMODE") ? 0 : DrmError.EOPNOTSUPP.errno
            #expect(call(master, nr) == expected, "\(name)")
            #expect(call(other, nr) == (masterOnly ? DrmError.EACCES.errno : expected), "\(name)")
            #expect(call(render, nr) == DrmError.EACCES.errno, "\(name)")
        }
        #expect(modes >= 34)
        // WAIT_VBLANK and the CRTC sequence ioctls need a vblank: none.
        #expect(call(master, 0x3a) == DrmError.EOPNOTSUPP.errno)
        #expect(call(master, 0x3b) == DrmError.EOPNOTSUPP.errno)
        // Syncobjs (DRIVER_SYNCOBJ): SYNCOBJ_CREATE works on a render node.
        #expect(call(render, 0xbf) == 0)
    }

    /// DRM_ROOT_ONLY comes first: SET_UNIQUE is drm_invalid_op for root, EACCES for others.
    @Test func rootOnlyEntries() {
        var u = drm_unique(unique_len: 0, unique: nil)
        #expect(Client(privileged: true).ioctl(drmCmd(0x10), &u).errno == errnoEINVAL)
        #expect(Client().ioctl(drmCmd(0x10), &u).errno == DrmError.EACCES.errno)
        var b = drm_block(unused: 0)
        #expect(Client(privileged: true).ioctl(drmCmd(0x12), &b).errno == 0)
    }

    @Test func dumbBuffersAreGemObjectsWithAWCNode() throws {
        let c = Client()
        var d = drm_mode_create_dumb(height: 768, width: 1024, bpp: 32, flags: 0, handle: 9, pitch: 9, size: 9)
        #expect(c.ioctl(drmCmd(0xb2), &d).errno == 0)
        #expect(d.pitch == 4096 && d.size == 4096 * 768 && d.handle == 1)
        var odd = drm_mode_create_dumb(height: 3, width: 100, bpp: 16, flags: 0, handle: 0, pitch: 0, size: 0)
        #expect(c.ioctl(drmCmd(0xb2), &odd).errno == 0)
        #expect(odd.pitch == 4096 && odd.size == 3 * 4096)
        for (w, h, bpp) in [(0, 1, 32), (1, 0, 32), (1, 1, 0), (64, 64, 24), (64, 64, 64), (UInt32.max, 2, 32)] as [(UInt32, UInt32, UInt32)] {
            var bad = drm_mode_create_dumb(height: h, width: w, bpp: bpp, flags: 0, handle: 0, pitch: 0, size: 0)
            #expect(c.ioctl(drmCmd(0xb2), &bad).errno == errnoEINVAL, "\(w)x\(h)x\(bpp)")
        }
        var m = drm_mode_map_dumb(handle: d.handle, pad: 0, offset: 0)
        #expect(c.ioctl(drmCmd(0xb3), &m).errno == 0)
        #expect(try m.offset == c.dev.mmapOffset(c.file, handle: Handle(rawValue: d.handle), flags: MmapType.wc.rawValue))
        m.handle = 77
        #expect(c.ioctl(drmCmd(0xb3), &m).errno == DrmError.ENOENT.errno)
        var x = drm_mode_destroy_dumb(handle: d.handle)
        #expect(c.ioctl(drmCmd(0xb4), &x).errno == 0)
        #expect(c.ioctl(drmCmd(0xb4), &x).errno == errnoEINVAL)
        #expect(c.peer(minor: .render, inode: 2).ioctl(drmCmd(0xb2), &d).errno == DrmError.EACCES.errno)
    }
}
