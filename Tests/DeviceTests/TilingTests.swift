import CDrm
import Testing
@testable import FakeDRMDevice

/// SET_TILING / GET_TILING: i915_tiling_ok for gen >= 7 with 128-byte Y
/// tiles, "existing ABI" write-back, EOPNOTSUPP without fences.
@Suite struct TilingTests {
    static let none = UInt32(I915_TILING_NONE), x = UInt32(I915_TILING_X), y = UInt32(I915_TILING_Y)

    static let cases: [(mode: UInt32, stride: UInt32, ok: Bool)] = [
        (x, 0, false), (y, 0, false),
        (x, 512, true), (x, 1000, false), (x, 3584, true), (x, 4224, false), (x, 4096, true),
        (y, 128, true), (y, 100, false), (y, 3584, true), (y, 4224, true), (y, 4160, false),
        (x, 256 << 10, true), (x, (256 << 10) + 512, false),
        (y, 256 << 10, true), (y, (256 << 10) + 128, false),
        (3, 512, false), (0xffff_ffff, 512, false),
        (none, 0, true), (none, 123, true),
    ]

    @Test(arguments: cases)
    func tilingOK(mode: UInt32, stride: UInt32, ok: Bool) {
        #expect(DrmDevice.tilingOK(mode: mode, stride: stride) == ok)
    }

    @Test func setReturnsWhatTheObjectNowHas() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 1 << 16).handle
        let none = UInt32(I915_BIT_6_SWIZZLE_NONE)
        #expect(try fx.dev.getTiling(f, handle: h) == .init(mode: Self.none, stride: 0, swizzle: none))
        #expect(try fx.dev.setTiling(f, handle: h, mode: Self.y, stride: 4224) == .init(mode: Self.y, stride: 4224, swizzle: none))
        #expect(try fx.dev.getTiling(f, handle: h) == .init(mode: Self.y, stride: 4224, swizzle: none))
        #expect(try fx.dev.setTiling(f, handle: h, mode: Self.x, stride: 3584) == .init(mode: Self.x, stride: 3584, swizzle: none))
        // NONE drops the stride.
        #expect(try fx.dev.setTiling(f, handle: h, mode: Self.none, stride: 4096) == .init(mode: Self.none, stride: 0, swizzle: none))
    }

    @Test func invalidRequestLeavesTilingAlone() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 1 << 16).handle
        _ = try fx.dev.setTiling(f, handle: h, mode: Self.x, stride: 4096)
        #expect(throws: DrmError.EINVAL) { try fx.dev.setTiling(f, handle: h, mode: Self.x, stride: 4224) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.setTiling(f, handle: h, mode: Self.y, stride: 0) }
        #expect(try fx.dev.getTiling(f, handle: h).stride == 4096)
    }

    @Test func badHandleIsENOENTBeforeValidation() {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        #expect(throws: DrmError.ENOENT) { try fx.dev.setTiling(f, handle: 9, mode: Self.x, stride: 0) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.getTiling(f, handle: 9) }
    }

    @Test func swizzleFollowsProfile() throws {
        var p = DeviceProfile()
        p.swizzleX = UInt32(I915_BIT_6_SWIZZLE_9_10)
        p.swizzleY = UInt32(I915_BIT_6_SWIZZLE_9)
        let fx = Fixture(profile: p)
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 1 << 16).handle
        #expect(try fx.dev.setTiling(f, handle: h, mode: Self.x, stride: 512).swizzle == UInt32(I915_BIT_6_SWIZZLE_9_10))
        #expect(try fx.dev.setTiling(f, handle: h, mode: Self.y, stride: 128).swizzle == UInt32(I915_BIT_6_SWIZZLE_9))
        #expect(try fx.dev.setTiling(f, handle: h, mode: Self.none, stride: 0).swizzle == UInt32(I915_BIT_6_SWIZZLE_NONE))
    }

    @Test func noFencesIsEOPNOTSUPP() throws {
        var p = DeviceProfile()
        p.fences = 0
        let fx = Fixture(profile: p)
        let f = fx.open(inode: 1)
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        #expect(throws: DrmError.EOPNOTSUPP) { try fx.dev.setTiling(f, handle: h, mode: Self.x, stride: 512) }
        #expect(throws: DrmError.EOPNOTSUPP) { try fx.dev.setTiling(f, handle: 99, mode: 9, stride: 1) }
        #expect(throws: DrmError.EOPNOTSUPP) { try fx.dev.getTiling(f, handle: h) }
    }
}
