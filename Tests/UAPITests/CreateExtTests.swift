import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// GEM_CREATE_EXT: flags, MEMORY_REGIONS placements and other extensions.
@Suite struct CreateExtTests {
    let c = Client(minor: .render)
    static let system = UInt16(I915_MEMORY_CLASS_SYSTEM.rawValue)
    static let device = UInt16(I915_MEMORY_CLASS_DEVICE.rawValue)

    func regionsExt(_ regions: [(UInt16, UInt16)], num: UInt32? = nil, pad: UInt32 = 0, next: UInt64 = 0) -> UInt64 {
        let array = c.mem.alloc(max(regions.count, 1) * 4)
        for (i, r) in regions.enumerated() {
            c.mem.set(drm_i915_gem_memory_class_instance(memory_class: r.0, memory_instance: r.1), at: array + UInt64(i * 4))
        }
        return regionsExt(at: array, num: num ?? UInt32(regions.count), pad: pad, next: next)
    }

    func regionsExt(at array: UInt64, num: UInt32, pad: UInt32 = 0, next: UInt64 = 0) -> UInt64 {
        var e = drm_i915_gem_create_ext_memory_regions()
        e.base.next_extension = next
        e.base.name = UInt32(I915_GEM_CREATE_EXT_MEMORY_REGIONS)
        e.pad = pad
        e.num_regions = num
        e.regions = array
        return c.mem.put(e)
    }

    func create(size: UInt64 = 4096, flags: UInt32 = 0, extensions: UInt64 = 0) -> (IoctlDispatcher.Result, drm_i915_gem_create_ext) {
        var g = drm_i915_gem_create_ext(size: size, handle: 0, flags: flags, extensions: extensions)
        let r = c.ioctl(i915Cmd(DRM_I915_GEM_CREATE_EXT), &g)
        return (r, g)
    }

    @Test func plainCreate() {
        let (r, g) = create(size: 100)
        #expect(r == .init(errno: 0, outBytes: 24))
        #expect(g.handle == 1 && g.size == 4096)
        #expect(create(size: 0).0.errno == errnoEINVAL)
    }

    @Test func systemRegionWorks() {
        let (r, g) = create(size: 8192, extensions: regionsExt([(Self.system, 0)]))
        #expect(r.errno == 0)
        #expect(g.handle == 1 && g.size == 8192)
    }

    @Test func badPlacements() {
        #expect(create(extensions: regionsExt([(Self.system, 0), (Self.system, 0)])).0.errno == errnoEINVAL)
        #expect(create(extensions: regionsExt([(99, 0)])).0.errno == errnoEINVAL)
        #expect(create(extensions: regionsExt([(Self.system, 1)])).0.errno == errnoEINVAL)
        #expect(create(extensions: regionsExt([(Self.device, 0)])).0.errno == errnoEINVAL)
        #expect(create(extensions: regionsExt([], num: 0)).0.errno == errnoEINVAL)
        #expect(create(extensions: regionsExt([(Self.system, 0)], pad: 1)).0.errno == errnoEINVAL)
        #expect(create(extensions: regionsExt([(Self.system, 0)], num: 8)).0.errno == errnoEINVAL)
        #expect(c.dev.liveObjects == 0)
    }

    @Test func unreadableRegionsIsEFAULT() {
        #expect(create(extensions: regionsExt(at: 0x1000, num: 1)).0.errno == DrmError.EFAULT.errno)
    }

    @Test func secondRegionsExtensionIsEINVAL() {
        let second = regionsExt([(Self.system, 0)])
        #expect(create(extensions: regionsExt([(Self.system, 0)], next: second)).0.errno == errnoEINVAL)
    }

    @Test func flags() {
        #expect(create(flags: 2).0.errno == errnoEINVAL)
        // NEEDS_CPU_ACCESS needs a choice of placements.
        #expect(create(flags: 1).0.errno == errnoEINVAL)
        #expect(create(flags: 1, extensions: regionsExt([(Self.system, 0)])).0.errno == errnoEINVAL)
    }

    @Test func otherExtensions() {
        var pxp = drm_i915_gem_create_ext_protected_content()
        pxp.base.name = UInt32(I915_GEM_CREATE_EXT_PROTECTED_CONTENT)
        #expect(create(extensions: c.mem.put(pxp)).0.errno == DrmError.ENODEV.errno)
        var unknown = i915_user_extension()
        unknown.name = 0x1234
        #expect(create(extensions: c.mem.put(unknown)).0.errno == errnoEINVAL)
    }

    /// I915_GEM_CREATE_EXT_SET_PAT (name 2, uapi since v6.5; absent from
    /// this libdrm): ext_set_pat returns ENODEV below Xe_LPG (IP 12.70),
    /// before reading the extension body.
    @Test func setPatIsENODEVOnGen12() {
        var pat = i915_user_extension()
        pat.name = 2
        let ext = c.mem.alloc(40) // sizeof(struct drm_i915_gem_create_ext_set_pat)
        c.mem.set(pat, at: ext)
        #expect(create(extensions: ext).0.errno == DrmError.ENODEV.errno)
        #expect(c.dev.liveObjects == 0)
    }
}
