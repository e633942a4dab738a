import CDrm
import FakeDRMDevice

/// Tiling (i915_gem_tiling.c): the fence layout GTT maps see.
enum Tiling {
    static func set(_ dev: DrmDevice, _ t: inout drm_i915_gem_set_tiling, _ c: IoctlCaller) throws(DrmError) {
        let r = try dev.setTiling(c.file, handle: Handle(rawValue: t.handle), mode: t.tiling_mode, stride: t.stride)
        (t.tiling_mode, t.stride, t.swizzle_mode) = (r.mode, r.stride, r.swizzle)
    }

    static func setFields(_ t: drm_i915_gem_set_tiling, out: Bool) -> Fields {
        (out ? [] : [("handle", "\(t.handle)")])
            + [("tiling_mode", "\(t.tiling_mode)"), ("stride", "\(t.stride)")] + (out ? [("swizzle_mode", "\(t.swizzle_mode)")] : [])
    }

    static func setFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_set_tiling {
        let h = f.handle()
        let mode = UInt32(f.byte() % 3)
        return drm_i915_gem_set_tiling(handle: h, tiling_mode: mode, stride: f.pick([512, 4096, 128, 8192, 2048]), swizzle_mode: 0)
    }

    static func get(_ dev: DrmDevice, _ t: inout drm_i915_gem_get_tiling, _ c: IoctlCaller) throws(DrmError) {
        let r = try dev.getTiling(c.file, handle: Handle(rawValue: t.handle))
        (t.tiling_mode, t.swizzle_mode, t.phys_swizzle_mode) = (r.mode, r.swizzle, r.swizzle)
    }

    static func getFields(_ t: drm_i915_gem_get_tiling, out: Bool) -> Fields {
        out ? [("tiling_mode", "\(t.tiling_mode)"), ("swizzle_mode", "\(t.swizzle_mode)"),
               ("phys_swizzle_mode", "\(t.phys_swizzle_mode)")] : [("handle", "\(t.handle)")]
    }
}
