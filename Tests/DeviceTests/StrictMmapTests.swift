import CDrm
import Glibc
import Testing
@testable import FakeDRMDevice

/// Strict mode: i915_gem_mmap's checks for one open, the legacy GEM_MMAP's,
/// and object lifetime following registered mappings (vm_open/vm_close).
@Suite struct StrictMmapTests {
    @Test func rangeLookupThenAllowThenReadonly() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1), b = fx.open(inode: 2)
        let h = try fx.dev.gemCreate(a, size: 3 * 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        let size: UInt64 = 3 * 4096
        let rw = PROT_READ | PROT_WRITE
        _ = try fx.dev.strictMmap(a, offset: off, size: size, prot: rw)
        _ = try fx.dev.strictMmap(a, offset: off, size: 1, prot: rw) // a shorter range from the start is fine
        // drm_vma_offset_lookup_locked (v6.12+): a range starting inside the
        // node that fits in it is a partial mapping; past the end and holes are EINVAL.
        _ = try fx.dev.strictMmap(a, offset: off + 4096, size: 4096, prot: rw)
        _ = try fx.dev.strictMmap(a, offset: off + 4096, size: 2 * 4096, prot: rw)
        _ = try fx.dev.strictMmap(a, offset: off + 2 * 4096, size: 1, prot: rw)
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: off + 4096, size: 3 * 4096, prot: rw) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: off + size, size: 4096, prot: rw) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: off, size: size + 4096, prot: rw) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: off + (1 << 30), size: 4096, prot: rw) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: (1 << 32) - 4096, size: 4096, prot: rw) }
        // Lookup comes before the allow list: b gets EINVAL for a hole, EACCES anywhere in the node.
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(b, offset: off + size, size: 4096, prot: PROT_READ) }
        #expect(throws: DrmError.EACCES) { try fx.dev.strictMmap(b, offset: off, size: size, prot: PROT_READ) }
        #expect(throws: DrmError.EACCES) { try fx.dev.strictMmap(b, offset: off + 4096, size: 4096, prot: PROT_READ) }

        try fx.dev.setReadonly(a, handle: h, flags: 0)
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: off, size: size, prot: rw) }
        // A private writable mapping has VM_WRITE too.
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: off, size: size, prot: PROT_WRITE) }
        let r = try fx.dev.strictMmap(a, offset: off, size: size, prot: PROT_READ)
        #expect(r.readonly)
        // Not allowed beats readonly (is_allowed is checked first).
        #expect(throws: DrmError.EACCES) { try fx.dev.strictMmap(b, offset: off, size: size, prot: rw) }
    }

    @Test func gemCloseRevokesMmapButNotExistingMappings() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let h2 = try fx.dev.gemCreate(a, size: 4096).handle // keeps a handle in the file
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        let m = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
        try fx.dev.write(a, handle: h, [7, 7])
        try fx.dev.gemClose(a, handle: h)
        // Not allowed any more: a new mmap is EACCES; the mapping still faults.
        #expect(throws: DrmError.EACCES) { try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ) }
        #expect(try fx.dev.faultBytes(a, inode: 1, offset: off)[0..<2] == [7, 7])
        #expect(fx.dev.liveObjects == 2)
        // The last mapping goes: freed at once, the node with it.
        try fx.dev.vmaClose(cookie: m.cookie)
        #expect(fx.dev.liveObjects == 1)
        #expect(fx.dev.node(at: off) == nil)
        #expect(throws: DrmError.EINVAL) { try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.vmaClose(cookie: m.cookie) }
        _ = h2
    }

    @Test func forkedHoldersKeepTheObjectUntilTheLast() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        let m = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
        try fx.dev.vmaOpen(cookie: m.cookie) // fork
        try fx.dev.gemClose(a, handle: h)
        try fx.dev.vmaClose(cookie: m.cookie) // the parent unmaps
        #expect(fx.dev.liveObjects == 1)
        try fx.dev.vmaClose(cookie: m.cookie) // the child too
        #expect(fx.dev.liveObjects == 0)
        #expect(throws: DrmError.ENOENT) { try fx.dev.vmaOpen(cookie: m.cookie) }
        // The file's release later must not free it twice.
        fx.dev.release(a)
        #expect(fx.dev.liveObjects == 0)
    }

    @Test func plainOpensStillKeepZombiesUntilRelease() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1), b = fx.open(inode: 2, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        // b (never strict) is allowed too, and may hold a mapping nobody reported.
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
        let m = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
        try fx.dev.gemClose(b, handle: hb)
        try fx.dev.gemClose(a, handle: h)
        try fx.dev.vmaClose(cookie: m.cookie)
        #expect(fx.dev.liveObjects == 1)
        fx.dev.release(b)
        #expect(fx.dev.liveObjects == 0)
    }

    @Test func aFaultWithNoRegisteredMappingUntracksTheFile() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle, g = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        let offG = try fx.dev.mmapOffset(a, handle: g, flags: MmapType.wb.rawValue)
        let m = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
        // A raw mmap(2) of g that the library never saw faults.
        _ = try fx.dev.faultBytes(a, inode: 1, offset: offG)
        try fx.dev.gemClose(a, handle: g)
        #expect(fx.dev.liveObjects == 2) // g may still be mapped
        try fx.dev.gemClose(a, handle: h)
        try fx.dev.vmaClose(cookie: m.cookie)
        #expect(fx.dev.liveObjects == 2) // so may h, now
        fx.dev.release(a)
        #expect(fx.dev.liveObjects == 0)
    }

    @Test func releaseForgetsMappingsOfDeadProcesses() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.gtt.rawValue)
        let m = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
        try fx.dev.gemClose(a, handle: h)
        #expect(fx.dev.liveObjects == 1)
        fx.dev.release(a) // the process died without munmap; FUSE released the file
        #expect(fx.dev.liveObjects == 0)
        #expect(throws: DrmError.ENOENT) { try fx.dev.vmaClose(cookie: m.cookie) }
    }

    @Test func legacyMmapChecksInKernelOrder() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4 * 4096).handle
        let wc = UInt64(I915_MMAP_WC)
        #expect(throws: DrmError.EINVAL) { try fx.dev.legacyMmap(a, handle: 99, offset: 0, size: 4096, flags: 2) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.legacyMmap(a, handle: 99, offset: 0, size: 4096, flags: wc) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.legacyMmap(a, handle: h, offset: 4 * 4096, size: 0, flags: 0) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.legacyMmap(a, handle: h, offset: 4096, size: 4 * 4096, flags: 0) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.legacyMmap(a, handle: h, offset: 100, size: 4096, flags: 0) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.legacyMmap(a, handle: h, offset: 0, size: 0, flags: 0) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.legacyMmap(a, handle: h, offset: .max, size: 2, flags: 0) }

        try fx.dev.write(a, handle: h, offset: 4096, [9, 8, 7])
        let r = try fx.dev.legacyMmap(a, handle: h, offset: 4096, size: 100, flags: 0)
        let wb = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        #expect(r.mapOffset == wb + 4096)
        #expect(try fx.dev.faultBytes(a, inode: 1, offset: r.mapOffset)[0..<3] == [9, 8, 7])
        let w = try fx.dev.legacyMmap(a, handle: h, offset: 0, size: 4096, flags: wc)
        #expect(fx.dev.node(at: w.mapOffset)?.type == .wc)
        // The legacy mapping lets the file fault the node, not mmap it.
        #expect(fx.dev.node(at: w.mapOffset)?.allowed == [])
        #expect(throws: DrmError.EACCES) { try fx.dev.strictMmap(a, offset: w.mapOffset, size: 4096, prot: PROT_READ) }

        // The mapping holds the object like any other; so does the object's
        // one shared CPU file both map (the library maps it), until FUSE
        // releases it after the last munmap.
        #expect(r.token != 0 && r.token == w.token)
        #expect(fx.dev.openExport(r.token, pid: 0))
        try fx.dev.gemClose(a, handle: h)
        try fx.dev.vmaClose(cookie: r.cookie)
        #expect(fx.dev.liveObjects == 1)
        try fx.dev.vmaClose(cookie: w.cookie)
        #expect(fx.dev.liveObjects == 1)
        fx.dev.releaseExport(r.token)
        #expect(fx.dev.liveObjects == 0)
    }

    @Test func legacyMmapOfReadonlyIsENXIOAndPastGen12EOPNOTSUPP() throws {
        var profile = DeviceProfile()
        profile.graphicsVersion = 13
        let late = Fixture(profile: profile)
        let l = late.open(inode: 1)
        #expect(throws: DrmError.EOPNOTSUPP) { try late.dev.legacyMmap(l, handle: 1, offset: 0, size: 4096, flags: 0) }

        let fx = Fixture()
        let a = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        try fx.dev.setReadonly(a, handle: h, flags: 0)
        #expect(throws: DrmError.ENXIO) { try fx.dev.legacyMmap(a, handle: h, offset: 0, size: 4096, flags: 0) }
    }

    @Test func mappingsPerOpenAreBounded() throws {
        let fx = Fixture()
        fx.dev.state.withLock { $0.lifetime.mappings.maxPerFile = 2 }
        let a = fx.open(inode: 1), b = fx.open(inode: 2, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: MmapType.wb.rawValue)
        let m = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
        _ = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
        #expect(throws: DrmError.ENOMEM) { try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ) }
        #expect(throws: DrmError.ENOMEM) { try fx.dev.legacyMmap(a, handle: h, offset: 0, size: 4096, flags: 0) }
        // Per open: another one is not affected; a closed mapping makes room.
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.wb.rawValue)
        _ = try fx.dev.strictMmap(b, offset: off, size: 4096, prot: PROT_READ)
        try fx.dev.vmaClose(cookie: m.cookie)
        _ = try fx.dev.strictMmap(a, offset: off, size: 4096, prot: PROT_READ)
    }
}
