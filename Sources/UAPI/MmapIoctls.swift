import CDrm
import FakeDRMDevice

/// Mapping objects (i915_gem_mman.c): an mmap offset the client then maps
/// through the device file. The legacy CPU mmap is the strict-mode
/// library's (Strict.swift).
enum Mmap {
    /// The legacy CPU mmap maps memory inside the caller; a daemon cannot.
    static func gemMmap(_ dev: DrmDevice, _ m: inout drm_i915_gem_mmap, _ c: IoctlCaller) throws(DrmError) {
        try dev.checkFeature(.gemMmap)
    }

    static func gemMmapFields(_ m: drm_i915_gem_mmap, out: Bool) -> Fields {
        [("handle", "\(m.handle)"), ("offset", "\(m.offset)"), ("size", "\(m.size)"), ("flags", TraceFields.hex(m.flags))]
    }

    static func mmapOffset(_ dev: DrmDevice, _ m: inout drm_i915_gem_mmap_offset, _ c: IoctlCaller) throws(DrmError) {
        // No extension is defined for MMAP_OFFSET: any is EINVAL once read.
        try UserExtensions.walk(m.extensions, c.memory) { (_, _) throws(DrmError) in throw DrmError.EINVAL }
        m.offset = try dev.mmapOffset(c.file, handle: Handle(rawValue: m.handle), flags: m.flags)
    }

    static func mmapOffsetFields(_ m: drm_i915_gem_mmap_offset, out: Bool) -> Fields {
        out ? [("offset", TraceFields.hex(m.offset))]
            : [("handle", "\(m.handle)"), ("flags", MmapType(rawValue: m.flags)?.name ?? "\(m.flags)"),
               ("extensions", TraceFields.hex(m.extensions))]
    }

    static func mmapOffsetFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_mmap_offset {
        let h = f.handle()
        return drm_i915_gem_mmap_offset(handle: h, pad: 0, offset: 0, flags: UInt64(f.byte() % 4), extensions: 0)
    }
}
