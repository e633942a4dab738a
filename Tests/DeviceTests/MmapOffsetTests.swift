import CDrm
import Testing
@testable import FakeDRMDevice

/// MMAP_OFFSET: flag decoding, error order, one node per (object, type).
@Suite struct MmapOffsetTests {
    @Test func typeRawValuesMatchUAPI() {
        #expect(MmapType.gtt.rawValue == UInt64(I915_MMAP_OFFSET_GTT))
        #expect(MmapType.wc.rawValue == UInt64(I915_MMAP_OFFSET_WC))
        #expect(MmapType.wb.rawValue == UInt64(I915_MMAP_OFFSET_WB))
        #expect(MmapType.uc.rawValue == UInt64(I915_MMAP_OFFSET_UC))
        #expect(MmapType.fixed.rawValue == UInt64(I915_MMAP_OFFSET_FIXED))
        #expect(MmapType.allCases.count == 5)
    }

    @Test(arguments: [UInt64(5), 6, 0x100, UInt64(Int64.max), .max])
    func badFlagsAreEINVALBeforeHandleLookup(flags: UInt64) throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        #expect(throws: DrmError.EINVAL) { try fx.dev.mmapOffset(f, handle: 99, flags: flags) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.mmapOffset(f, handle: h, flags: flags) }
    }

    @Test func badHandleIsENOENT() {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        for flags in UInt64(0)...4 {
            #expect(throws: DrmError.ENOENT) { try fx.dev.mmapOffset(f, handle: 0xdeadbeef, flags: flags) }
        }
        #expect(throws: DrmError.ENOENT) { try fx.dev.mmapOffset(f, handle: 0, flags: 0) }
    }

    @Test func fixedIsENODEVForIntegratedObjects() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        #expect(throws: DrmError.ENODEV) { try fx.dev.mmapOffset(f, handle: h, flags: MmapType.fixed.rawValue) }
    }

    @Test func oneNodePerTypeSizedToTheObject() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 3 * 4096).handle
        let types: [MmapType] = [.gtt, .wc, .wb, .uc]
        let offs = try types.map { try fx.dev.mmapOffset(f, handle: h, flags: $0.rawValue) }
        #expect(Set(offs).count == 4)
        for (t, off) in zip(types, offs) {
            #expect(try fx.dev.mmapOffset(f, handle: h, flags: t.rawValue) == off)
            let node = try #require(fx.dev.node(at: off))
            #expect(node.type == t && node.start << 12 == off && node.pages == 3)
        }
        // Non-overlapping ranges.
        let sorted = offs.sorted()
        for (x, y) in zip(sorted, sorted.dropFirst()) { #expect(y - x >= 3 * 4096) }
    }

    @Test func sameTypeSharedAcrossFiles() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: h)).handle
        let off = try fx.dev.mmapOffset(a, handle: h, flags: 1)
        #expect(try fx.dev.mmapOffset(b, handle: hb, flags: 1) == off)
        #expect(fx.dev.node(at: off)?.allowed == [a, b])
    }

    @Test func distinctObjectsGetDistinctRanges() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let h1 = try fx.dev.gemCreate(f, size: 2 * 4096).handle
        let h2 = try fx.dev.gemCreate(f, size: 4096).handle
        let o1 = try fx.dev.mmapOffset(f, handle: h1, flags: 0)
        let o2 = try fx.dev.mmapOffset(f, handle: h2, flags: 0)
        #expect(o1 == 1 << 32)
        // The guard after each node keeps readahead from one out of the next.
        #expect(o2 == o1 + (2 + OffsetManager<Int>.readaheadGuardPages) * 4096)
    }
}
