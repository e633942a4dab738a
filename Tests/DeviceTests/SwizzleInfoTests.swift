import CDrm
import Testing
@testable import FakeDRMDevice

/// debug/i915_swizzle_info, as i915_debugfs.c prints it (gem_tiled_swapping greps it).
@Suite struct SwizzleInfoTests {
    @Test func namesTheProfilesSwizzle() {
        #expect(DrmDevice().debugText(.swizzle) == "bit6 swizzle for X-tiling = none\nbit6 swizzle for Y-tiling = none\n")
        var p = DeviceProfile()
        p.swizzleX = UInt32(I915_BIT_6_SWIZZLE_9_10)
        p.swizzleY = UInt32(I915_BIT_6_SWIZZLE_9)
        #expect(DrmDevice(profile: p).debugText(.swizzle) == "bit6 swizzle for X-tiling = bit9/bit10\nbit6 swizzle for Y-tiling = bit9\n")
    }
}
