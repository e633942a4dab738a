import CDrm
import Synchronization
import Testing
@testable import FakeDRMDevice

/// A client's page copy comes back whole (FUSE WRITE); on hardware its CPU
/// stores reach memory byte by byte. A copy served before a store of the
/// daemon's own (a relocation) and dirtied after it must not put the old
/// bytes back over that store (gem_exec_gttfill@all-engines).
@Suite struct StaleCopyTests {
    let fx = Fixture()

    /// One open's page 0 of a 64-page batch (tracked per page): faulted,
    /// dirtied at `mark`, laundered at each revocation and faulted again at
    /// once, as processes sharing the mapping keep doing.
    final class Client: Sendable {
        let dev: DrmDevice, file: FileID, node: UInt64
        let copy = Mutex<[UInt8]>([])
        let marks = Mutex<[Int]>([])
        init(dev: DrmDevice, file: FileID, node: UInt64) { (self.dev, self.file, self.node) = (dev, file, node) }

        func faultAndStore(at mark: Int) throws {
            var page = try dev.faultBytes(file, inode: 1, offset: node)
            page[mark] = 0x5A
            copy.withLock { $0 = page }
            marks.withLock { $0.append(mark) }
        }

        /// The kernel's launder of page 0: write back, drop, and the
        /// client's next store faults it in again.
        func launder(_ ranges: [Invalidation]) {
            guard ranges.contains(where: { $0.inode == 1 && $0.offset <= node && node < $0.offset + $0.length }) else { return }
            let dirty = copy.withLock { $0 }
            guard !dirty.isEmpty else { return }
            try? dev.writeBack(inode: 1, offset: node, dirty)
            try? faultAndStore(at: 2048 + marks.withLock { $0.count })
        }
    }

    @Test func aStaleDirtyCopyDoesNotUndoARelocation() throws {
        let f = fx.open(inode: 1)
        let batch = try fx.dev.gemCreate(f, size: 64 << Page.shift).handle
        let target = try fx.dev.gemCreate(f, size: 4096).handle
        try fx.dev.write(f, handle: batch, withUnsafeBytes(of: GpuTests.bbe.littleEndian) { Array($0) })
        let node = try fx.dev.mmapOffset(f, handle: batch, flags: MmapType.wc.rawValue)
        let client = Client(dev: fx.dev, file: f, node: node)
        try client.faultAndStore(at: 2048)
        fx.cache.launder.withLock { $0 = { client.launder($0) } }
        defer { fx.cache.launder.withLock { $0 = nil } }

        var reloc = drm_i915_gem_relocation_entry()
        reloc.target_handle = target.rawValue
        reloc.offset = 16
        reloc.delta = 0x40
        reloc.presumed_offset = ~0
        reloc.read_domains = UInt32(I915_GEM_DOMAIN_RENDER)
        var entries = [(target, UInt64(0x100000), 0), (batch, UInt64(0x200000), 1)].map { h, addr, n in
            var e = drm_i915_gem_exec_object2()
            e.handle = h.rawValue
            e.offset = addr
            e.flags = UInt64(EXEC_OBJECT_PINNED | EXEC_OBJECT_SUPPORTS_48B_ADDRESS)
            e.relocation_count = UInt32(n)
            return e
        }
        try fx.dev.execbuffer(f, &entries, ring: UInt64(I915_EXEC_BLT), relocs: [reloc])
        fx.cache.launder.withLock { $0 = nil }
        // The copy faulted between the two revocations, before the
        // relocation, was laundered after it: two copies went by.
        #expect(client.marks.withLock { $0 } == [2048, 2049, 2050])
        let relocated = try fx.dev.read(f, handle: batch, offset: 16, count: 8)
        #expect(relocated == withUnsafeBytes(of: UInt64(0x100040).littleEndian) { Array($0) })
        // Every store of the client's landed.
        #expect(try fx.dev.read(f, handle: batch, offset: 2048, count: 2) == [0x5A, 0x5A])
        // The execbuf's own coherency point let the twin go: a copy served
        // now is whole again, and so is its writeback.
        let twins = try fx.dev.state.withLock { s throws(DrmError) in try s.lookup(batch, in: s.files[f]!).twins.count }
        #expect(twins == 0)
        var page = try fx.dev.faultBytes(f, inode: 1, offset: node)
        page[16] = 0
        try fx.dev.writeBack(inode: 1, offset: node, page)
        #expect(try fx.dev.read(f, handle: batch, offset: 16, count: 1) == [0])
    }

    /// A child's own store that lands between two relocations of the same
    /// page (it rewrites its batch each round) is what the next copy holds:
    /// that copy's writeback must not count the byte as changed again.
    @Test func aLandedStoreIsWhatTheNextCopyHolds() throws {
        let backing = try #require(Backing(size: Page.size))
        func bytes(_ at: Int, _ n: Int) -> [UInt8] { (0..<n).map { backing.base.load(fromByteOffset: at + $0, as: UInt8.self) } }
        func land(_ copy: [UInt8], _ twins: inout PageTwins) {
            twins.merge(backing, candidates: 0...0) { copy.withUnsafeBytes { backing.copyIn(at: 0, from: $0.baseAddress!, count: Page.size) } }
        }
        var page = [UInt8](repeating: 0, count: Page.size)
        page[16] = 0xAA                                  // an earlier round's relocation
        page.withUnsafeBytes { backing.copyIn(at: 0, from: $0.baseAddress!, count: Page.size) }
        var twins = PageTwins()
        twins.willStore(backing, bytes: 200..<208)       // another child's relocation: the twin has 0xAA at 16
        backing.base.storeBytes(of: 0x77, toByteOffset: 200, as: UInt8.self)
        var mine = page
        mine[16] = 0                                      // this child rewrites its batch
        land(mine, &twins)
        #expect(bytes(16, 1) == [0] && bytes(200, 1) == [0x77])
        twins.willStore(backing, bytes: 16..<24)         // and its relocation lands
        backing.base.storeBytes(of: 0xAA, toByteOffset: 16, as: UInt8.self)
        var next = mine                                   // served before it, dirtied after
        next[100] = 0x5A
        land(next, &twins)
        #expect(bytes(16, 1) == [0xAA] && bytes(100, 1) == [0x5A] && bytes(200, 1) == [0x77])
        twins.release(upTo: twins.stamp)
        #expect(twins.isEmpty)
    }
}
