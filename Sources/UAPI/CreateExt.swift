import CDrm
import FakeDRMDevice

/// DRM_IOCTL_I915_GEM_CREATE_EXT: flags, then the extension chain
/// (MEMORY_REGIONS, PROTECTED_CONTENT, SET_PAT), then the object.
extension Gem {
    static func createExt(_ dev: DrmDevice, _ g: inout drm_i915_gem_create_ext, _ c: IoctlCaller) throws(DrmError) {
        guard g.flags & ~UInt32(I915_GEM_CREATE_EXT_FLAG_NEEDS_CPU_ACCESS) == 0 else { throw DrmError.EINVAL }
        var placements: [drm_i915_gem_memory_class_instance]?
        try UserExtensions.walk(g.extensions, c.memory) { (name, addr) throws(DrmError) in
            switch name {
            case UInt32(I915_GEM_CREATE_EXT_MEMORY_REGIONS):
                let ext = try c.memory.load(drm_i915_gem_create_ext_memory_regions.self, at: addr)
                // INTEL_REGION_UNKNOWN: the kernel's placement array size.
                guard ext.pad == 0, ext.num_regions != 0, ext.num_regions <= 7 else { throw DrmError.EINVAL }
                var seen: [drm_i915_gem_memory_class_instance] = []
                let size = UInt64(MemoryLayout<drm_i915_gem_memory_class_instance>.stride)
                for i in 0..<UInt64(ext.num_regions) {
                    let r = try c.memory.load(drm_i915_gem_memory_class_instance.self, at: ext.regions + i * size)
                    try dev.checkPlacement(memoryClass: r.memory_class, instance: r.memory_instance)
                    guard !seen.contains(where: { $0.memory_class == r.memory_class && $0.memory_instance == r.memory_instance })
                    else { throw DrmError.EINVAL }
                    seen.append(r)
                }
                guard placements == nil else { throw DrmError.EINVAL }
                placements = seen
            case UInt32(I915_GEM_CREATE_EXT_PROTECTED_CONTENT):
                let ext = try c.memory.load(drm_i915_gem_create_ext_protected_content.self, at: addr)
                guard ext.flags == 0 else { throw DrmError.EINVAL }
                try dev.checkProtectedContent()
            // I915_GEM_CREATE_EXT_SET_PAT (v6.5), newer than libdrm 2.4.114's
            // header: the model refuses it before the body is read.
            case 2:
                try dev.checkSetPat()
            default:
                throw DrmError.EINVAL
            }
        }
        // NEEDS_CPU_ACCESS only means something with a choice of placements.
        if g.flags != 0, (placements?.count ?? 1) < 2 { throw DrmError.EINVAL }
        let made = try dev.gemCreate(c.file, size: g.size)
        (g.handle, g.size) = (made.handle.rawValue, made.size)
    }
}
