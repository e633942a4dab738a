import CDrm
import Testing
@testable import FakeDRMDevice

/// The capability errnos the uapi layer asks the model for
/// (DrmDevice+Features.swift): what this part has and lacks.
@Suite struct FeatureTests {
    @Test func missingFeaturesAreTheKernelsErrnos() {
        let dev = DrmDevice()
        for f in [DriverFeature.modeset, .gemMmap] {
            #expect(throws: DrmError.EOPNOTSUPP) { try dev.checkFeature(f) }
        }
        #expect(throws: DrmError.ENODEV) { try dev.checkProtectedContent() }
        #expect(throws: DrmError.ENODEV) { try dev.checkSetPat() }
        #expect(throws: DrmError.ENODEV) { try dev.checkQueryItem(UInt64(DRM_I915_QUERY_HWCONFIG_BLOB)) }
        #expect(throws: DrmError.ENODEV) { try dev.checkQueryItem(UInt64(DRM_I915_QUERY_GEOMETRY_SUBSLICES)) }
        #expect(throws: Never.self) { try dev.checkQueryItem(UInt64(DRM_I915_QUERY_MEMORY_REGIONS)) }
        #expect(throws: DrmError.ENODEV) { try dev.checkEngineMapExtension(name: UInt32(I915_CONTEXT_ENGINES_EXT_LOAD_BALANCE)) }
        #expect(throws: DrmError.EINVAL) { try dev.checkEngineMapExtension(name: 3) }
    }

    @Test func placementsAreTheDevicesRegions() {
        let dev = DrmDevice()
        for r in dev.memoryRegions {
            #expect(throws: Never.self) { try dev.checkPlacement(memoryClass: r.memoryClass, instance: r.instance) }
        }
        #expect(throws: DrmError.EINVAL) { try dev.checkPlacement(memoryClass: UInt16(I915_MEMORY_CLASS_DEVICE.rawValue), instance: 0) }
        #expect(throws: DrmError.EINVAL) { try dev.checkPlacement(memoryClass: 0, instance: 9) }
    }
}
