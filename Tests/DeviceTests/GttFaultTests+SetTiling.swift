import CDrm
import Testing
@testable import FakeDRMDevice

/// GttFaultTests: SET_TILING: revocations and the layout a writeback uses.
extension GttFaultTests {
    /// An 8-page object shared by a (inode 1) and b (inode 2), X stride 4096,
    /// with GTT and WB nodes.
    struct Shared {
        let fx = Fixture()
        let a: FileID, b: FileID
        let o: Obj
        let wb: UInt64

        init(mode: UInt32 = R.x, stride: UInt32 = 4096) throws {
            a = fx.open(inode: 1, minor: .primary)
            b = fx.open(inode: 2, minor: .primary)
            o = try Obj(fx, a, pages: 8, mode: mode, stride: stride)
            let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: o.h)).handle
            _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
            wb = try fx.dev.mmapOffset(a, handle: o.h, flags: MmapType.wb.rawValue)
            _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.wb.rawValue)
        }
    }

    @Test func setTilingChangeRevokesGttRangesOnly() throws {
        let s = try Shared()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt)
        _ = try s.fx.dev.faultBytes(s.b, inode: 2, offset: s.o.gtt + 4096)
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.wb)
        _ = try s.fx.dev.faultBytes(s.b, inode: 2, offset: s.wb)
        _ = s.fx.cache.take()
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)
        // Both faulting inodes lose the GTT node; the CPU views keep their pages.
        #expect(s.fx.cache.take() == [s.o.range(1), s.o.range(2)])
        // The binding and its fence are gone: the next fault reacquires them.
        let p = s.fx.dev.ggttProbe()
        #expect(p.vmas.isEmpty)
        #expect(p.fences.allSatisfy { $0.owner == nil })
    }

    @Test func setTilingToTheSameLayoutRevokesNothing() throws {
        let s = try Shared()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt)
        _ = s.fx.cache.take()
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.x, stride: 4096)
        #expect(s.fx.cache.take().isEmpty)
        #expect(s.fx.dev.ggttProbe().fence(of: s.o.serial) != nil)
    }

    @Test func faultAfterSetTilingUsesTheNewLayout() throws {
        let s = try Shared()
        let raw = pattern(s.o.size, seed: 31)
        try s.fx.dev.write(s.a, handle: s.o.h, raw)
        #expect(gttByteDiff(try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt, count: s.o.size), R.detiled(raw, 0..<s.o.size, mode: R.x, stride: 4096)) == nil)
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)
        #expect(gttByteDiff(try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt, count: s.o.size), R.detiled(raw, 0..<s.o.size, mode: R.y, stride: 512)) == nil)
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.none, stride: 0)
        #expect(gttByteDiff(try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt, count: s.o.size), raw) == nil)
    }

    @Test func writebackOfAPageServedBeforeSetTilingUsesTheOldLayout() throws {
        let s = try Shared()
        let size = s.o.size
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt) // page 0 served under X
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)

        // The launder of page 0 arrives once the layout has changed (the
        // revocation runs after SET_TILING switched it): retiled as X.
        let lin0 = pattern(4096, seed: 41)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt, lin0)
        var expected = R.tiledImage(lin0, into: [UInt8](repeating: 0, count: size), mode: R.x, stride: 4096)
        #expect(gttByteDiff(try s.fx.dev.read(s.a, handle: s.o.h, count: size), expected) == nil)

        // Page 1 is faulted again after the change: retiled as Y.
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt + 4096)
        let lin1 = pattern(4096, seed: 42)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt + 4096, lin1)
        expected = R.tiledImage(lin1, at: 4096, into: expected, mode: R.y, stride: 512)
        #expect(gttByteDiff(try s.fx.dev.read(s.a, handle: s.o.h, count: size), expected) == nil)
    }

    /// SET_TILING revokes each faulting inode in turn, outside the lock. If
    /// inode 1's revocation is done and its client faults the page again
    /// (now under Y) before inode 2's dirty copy — stored through the X
    /// fence — is laundered, that launder must still land in the X layout:
    /// on hardware those stores went through the old fence. The served
    /// generation is kept per object page, not per (inode, page).
    @Test func launderFromASecondInodeAfterARefaultKeepsItsOldLayout() throws {
        let s = try Shared()
        let size = s.o.size
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt)
        _ = try s.fx.dev.faultBytes(s.b, inode: 2, offset: s.o.gtt)
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.y, stride: 512)
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt) // inode 1 refaults under Y
        let lin = pattern(4096, seed: 45)
        try s.fx.dev.writeBack(inode: 2, offset: s.o.gtt, lin) // inode 2's launder, served under X
        let raw = try s.fx.dev.read(s.a, handle: s.o.h, count: size)
        #expect(gttByteDiff(raw, R.tiledImage(lin, into: [UInt8](repeating: 0, count: size), mode: R.x, stride: 4096)) == nil)
    }

    @Test func writebackAfterDetilingUsesTheOldTiledLayout() throws {
        let s = try Shared()
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt + 2 * 4096) // served under X
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.none, stride: 0)
        let lin = pattern(4096, seed: 43)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt + 2 * 4096, lin)
        let expected = R.tiledImage(lin, at: 2 * 4096, into: [UInt8](repeating: 0, count: s.o.size), mode: R.x, stride: 4096)
        #expect(gttByteDiff(try s.fx.dev.read(s.a, handle: s.o.h, count: s.o.size), expected) == nil)
    }

    /// SEMANTICS §3.5: pages faulted before the SET_TILING inval keep their
    /// old generation, so their launder WRITE uses the old layout — linear
    /// when the object was untiled.
    @Test func writebackOfAPageServedUntiledBeforeTilingStaysLinear() throws {
        let s = try Shared(mode: R.none)
        _ = try s.fx.dev.faultBytes(s.a, inode: 1, offset: s.o.gtt) // served linear
        _ = try s.fx.dev.setTiling(s.a, handle: s.o.h, mode: R.x, stride: 4096)
        #expect(s.fx.cache.take().contains(s.o.range(1)))
        let lin = pattern(4096, seed: 44)
        try s.fx.dev.writeBack(inode: 1, offset: s.o.gtt, lin)
        let raw = try s.fx.dev.read(s.a, handle: s.o.h, count: s.o.size)
        #expect(gttByteDiff(Array(raw[0..<4096]), lin) == nil)
        #expect(raw[4096...].allSatisfy { $0 == 0 })
    }
}
