import CDrm
import Testing
@testable import FakeDRMDevice

/// GETPARAM, GET_CAP, CONTEXT_GETPARAM, GET_APERTURE for the default profile.
@Suite struct ParamTests {
    let dev = DrmDevice()

    @Test(arguments: [Int32(-1), 0, 9999, 0x7fff_ffff])
    func unknownParamIsEINVAL(param: Int32) {
        #expect(throws: DrmError.EINVAL) { try dev.getParam(param) }
    }

    @Test(arguments: [I915_PARAM_IRQ_ACTIVE, I915_PARAM_ALLOW_BATCHBUFFER, I915_PARAM_LAST_DISPATCH,
                      I915_PARAM_HAS_EXEC_CONSTANTS])
    func umsParamsAreENODEV(param: Int32) {
        #expect(throws: DrmError.ENODEV) { try dev.getParam(param) }
    }

    @Test func profileValues() throws {
        #expect(try dev.getParam(I915_PARAM_CHIPSET_ID) == 0x9A49)
        #expect(try dev.getParam(I915_PARAM_NUM_FENCES_AVAIL) == 32)
        #expect(try dev.getParam(I915_PARAM_HAS_LLC) == 0)
        #expect(try dev.getParam(I915_PARAM_MMAP_GTT_VERSION) == 4)
        #expect(try dev.getParam(I915_PARAM_MMAP_GTT_COHERENT) == 0)
        #expect(try dev.getParam(I915_PARAM_HAS_GEM) == 1)

        var p = DeviceProfile()
        p.chipsetID = 0x1234
        p.fences = 0
        p.hasLLC = true
        let other = DrmDevice(profile: p)
        #expect(try other.getParam(I915_PARAM_CHIPSET_ID) == 0x1234)
        #expect(try other.getParam(I915_PARAM_NUM_FENCES_AVAIL) == 0)
        #expect(try other.getParam(I915_PARAM_HAS_LLC) == 1)
    }

    @Test func caps() throws {
        let f = dev.open(minor: .render, inode: 1, pid: 1, privileged: false)
        #expect(try dev.getCap(f, cap: UInt64(DRM_CAP_TIMESTAMP_MONOTONIC)) == 1)
        // Deviation (documented): no PRIME from a daemon; syncobjs (timelines too).
        #expect(try dev.getCap(f, cap: UInt64(DRM_CAP_PRIME)) == 0)
        #expect(try dev.getCap(f, cap: UInt64(DRM_CAP_SYNCOBJ)) == 1)
        #expect(try dev.getCap(f, cap: UInt64(DRM_CAP_SYNCOBJ_TIMELINE)) == 1)
        // A driver without DRIVER_MODESET answers nothing else.
        #expect(throws: DrmError.EOPNOTSUPP) { try dev.getCap(f, cap: UInt64(DRM_CAP_DUMB_BUFFER)) }
        #expect(throws: DrmError.EOPNOTSUPP) { try dev.getCap(f, cap: 0xdead) }
    }

    @Test func contextParamsAndAperture() throws {
        let f = dev.open(minor: .render, inode: 1, pid: 1, privileged: false)
        #expect(try dev.contextGetParam(f, context: 0, param: UInt64(I915_CONTEXT_PARAM_GTT_SIZE)) == 1 << 48)
        #expect(throws: DrmError.ENOENT) { try dev.contextGetParam(f, context: 1, param: UInt64(I915_CONTEXT_PARAM_GTT_SIZE)) }
        #expect(throws: DrmError.EINVAL) { try dev.contextGetParam(f, context: 0, param: 0xffff) }
        // GET_APERTURE: the whole GGTT, nothing pinned.
        #expect(dev.aperture.size == 4 << 30)
        #expect(dev.aperture.available == 4 << 30)
    }
}
