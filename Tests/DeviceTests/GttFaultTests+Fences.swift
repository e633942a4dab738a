import CDrm
import Testing
@testable import FakeDRMDevice

/// GttFaultTests: fence registers: stealing, LRU, revocation.
extension GttFaultTests {
    /// Objects of 8 pages, X stride 4096, in a device with `fences` registers.
    static func fenced(_ fences: Int) -> Fixture {
        var p = DeviceProfile()
        p.fences = fences
        return Fixture(profile: p)
    }

    @Test func thirdTiledObjectStealsTheLRUFence() throws {
        let fx = Self.fenced(2)
        let f = fx.open(inode: 1)
        let objs = try (0..<3).map { _ in try Obj(fx, f, pages: 8, mode: R.x, stride: 4096) }
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[1].gtt + 4096)
        #expect(fx.cache.take().isEmpty)
        #expect(fx.dev.ggttProbe().fenceSteals == 0)

        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[2].gtt)
        #expect(fx.cache.take() == [objs[0].range(1)])
        var p = fx.dev.ggttProbe()
        #expect(p.fence(of: objs[0].serial) == nil)
        #expect(p.fence(of: objs[1].serial) != nil && p.fence(of: objs[2].serial) != nil)
        #expect(p.vmas.count == 3) // the victim stays bound
        #expect(p.vmas(of: objs[0].serial).first?.userfault.isEmpty == true)
        #expect(p.fenceSteals == 1)
        let v2 = try #require(p.vmas(of: objs[2].serial).first)
        let f2 = try #require(p.fence(of: objs[2].serial))
        #expect(f2.start == v2.start << 12 && f2.size == 32768)
        #expect(f2.hi == UInt64(f2.start + 32768 - 4096))

        // The victim faults again: object 1's register is now the LRU one.
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt)
        #expect(fx.cache.take() == [objs[1].range(1)])
        p = fx.dev.ggttProbe()
        #expect(p.fence(of: objs[1].serial) == nil && p.fence(of: objs[0].serial) != nil)
        #expect(p.fenceSteals == 2)
    }

    @Test func recentUseProtectsAFenceFromStealing() throws {
        let fx = Self.fenced(2)
        let f = fx.open(inode: 1)
        let objs = try (0..<3).map { _ in try Obj(fx, f, pages: 8, mode: R.x, stride: 4096) }
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[1].gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[0].gtt + 4096) // object 0 used again
        _ = try fx.dev.faultBytes(f, inode: 1, offset: objs[2].gtt)
        #expect(fx.cache.take() == [objs[1].range(1)])
        #expect(fx.dev.ggttProbe().fence(of: objs[0].serial) != nil)
    }

    @Test func fenceStealRevokesEveryInodeOfTheVictim() throws {
        let fx = Self.fenced(1)
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let v = try Obj(fx, a, pages: 8, mode: R.y, stride: 512)
        let hb = try fx.dev.gemOpen(b, name: try fx.dev.gemFlink(a, handle: v.h)).handle
        _ = try fx.dev.mmapOffset(b, handle: hb, flags: MmapType.gtt.rawValue)
        _ = try fx.dev.faultBytes(a, inode: 1, offset: v.gtt)
        _ = try fx.dev.faultBytes(b, inode: 2, offset: v.gtt + 4096)
        let thief = try Obj(fx, a, pages: 8, mode: R.x, stride: 4096)
        _ = fx.cache.take()
        _ = try fx.dev.faultBytes(a, inode: 1, offset: thief.gtt)
        #expect(fx.cache.take() == [v.range(1), v.range(2)])
    }

    @Test func untiledObjectsTakeNoFence() throws {
        let fx = Self.fenced(1)
        let f = fx.open(inode: 1)
        let tiled = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let plain = try Obj(fx, f, pages: 8)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: tiled.gtt)
        _ = try fx.dev.faultBytes(f, inode: 1, offset: plain.gtt)
        #expect(fx.cache.take().isEmpty)
        let p = fx.dev.ggttProbe()
        #expect(p.fence(of: tiled.serial) != nil)
        #expect(p.fenceSteals == 0)
    }

    @Test func stolenFenceDoesNotChangeWhatAFaultReads() throws {
        let fx = Self.fenced(1)
        let f = fx.open(inode: 1)
        let a = try Obj(fx, f, pages: 8, mode: R.x, stride: 4096)
        let b = try Obj(fx, f, pages: 8, mode: R.y, stride: 512)
        let rawA = pattern(a.size, seed: 21), rawB = pattern(b.size, seed: 22)
        try fx.dev.write(f, handle: a.h, rawA)
        try fx.dev.write(f, handle: b.h, rawB)
        for _ in 0..<2 {
            #expect(gttByteDiff(try fx.dev.faultBytes(f, inode: 1, offset: a.gtt, count: a.size), R.detiled(rawA, 0..<a.size, mode: R.x, stride: 4096)) == nil)
            #expect(gttByteDiff(try fx.dev.faultBytes(f, inode: 1, offset: b.gtt, count: b.size), R.detiled(rawB, 0..<b.size, mode: R.y, stride: 512)) == nil)
        }
        #expect(fx.dev.ggttProbe().fenceSteals == 3)
    }
}
