import CDrm

/// What the device says about itself: VERSION, GETPARAM, GET_CAP,
/// GET_APERTURE, QUERY, CONTEXT_GETPARAM; and DRM master.
extension DrmDevice {
    public struct Version: Sendable {
        public let major: Int32, minor: Int32, patchlevel: Int32
        public let name: String, date: String, desc: String
    }

    /// i915's driver identity (i915_drv.h DRIVER_*).
    public static let version = Version(major: 1, minor: 6, patchlevel: 0,
                                        name: "i915", date: "20230929", desc: "Intel Graphics")

    /// i915_getparam_ioctl for the profile. Unknown params are EINVAL, the
    /// old UMS ones ENODEV.
    public func getParam(_ param: Int32) throws(DrmError) -> Int32 {
        switch param {
        case I915_PARAM_IRQ_ACTIVE, I915_PARAM_ALLOW_BATCHBUFFER, I915_PARAM_LAST_DISPATCH, I915_PARAM_HAS_EXEC_CONSTANTS:
            throw DrmError.ENODEV
        case I915_PARAM_CHIPSET_ID: return Int32(profile.chipsetID)
        case I915_PARAM_REVISION: return profile.revision
        case I915_PARAM_NUM_FENCES_AVAIL: return Int32(profile.fences)
        case I915_PARAM_HAS_OVERLAY, I915_PARAM_HAS_WT, I915_PARAM_HAS_POOLED_EU, I915_PARAM_MIN_EU_IN_POOL,
             I915_PARAM_HAS_RESOURCE_STREAMER, I915_PARAM_HAS_SECURE_BATCHES,
             I915_PARAM_CMD_PARSER_VERSION, I915_PARAM_HUC_STATUS:
            return 0
        case I915_PARAM_HAS_BSD, I915_PARAM_HAS_BSD2, I915_PARAM_HAS_BLT, I915_PARAM_HAS_VEBOX: return 1
        case I915_PARAM_HAS_LLC: return profile.hasLLC ? 1 : 0
        case I915_PARAM_HAS_ALIASING_PPGTT: return 2 // INTEL_PPGTT_FULL
        case I915_PARAM_HAS_SEMAPHORES: return 1
        case I915_PARAM_SUBSLICE_TOTAL: return Int32(profile.sseu.subslices)
        case I915_PARAM_EU_TOTAL: return Int32(profile.sseu.euTotal)
        case I915_PARAM_SLICE_MASK: return Int32(profile.sseu.sliceMask)
        case I915_PARAM_SUBSLICE_MASK: return Int32(truncatingIfNeeded: profile.sseu.subsliceMask)
        // intel_has_gpu_reset / intel_has_reset_engine follow the reset parameter.
        case I915_PARAM_HAS_GPU_RESET: return Int32(min(params.reset, 2))
        case I915_PARAM_MMAP_GTT_VERSION: return 4
        case I915_PARAM_MMAP_VERSION: return 1
        case I915_PARAM_HAS_SCHEDULER:
            return Int32(I915_SCHEDULER_CAP_ENABLED | I915_SCHEDULER_CAP_PRIORITY | I915_SCHEDULER_CAP_PREEMPTION
                | I915_SCHEDULER_CAP_SEMAPHORES | I915_SCHEDULER_CAP_ENGINE_BUSY_STATS)
        case I915_PARAM_HAS_CONTEXT_ISOLATION: return 1
        case I915_PARAM_CS_TIMESTAMP_FREQUENCY: return 19_200_000
        // Separate page caches per view: not coherent without SET_DOMAIN.
        case I915_PARAM_MMAP_GTT_COHERENT: return 0
        case I915_PARAM_PERF_REVISION: return 5
        case I915_PARAM_HAS_GEM, I915_PARAM_HAS_PAGEFLIPPING, I915_PARAM_HAS_EXECBUF2, I915_PARAM_HAS_RELAXED_FENCING,
             I915_PARAM_HAS_COHERENT_RINGS, I915_PARAM_HAS_RELAXED_DELTA, I915_PARAM_HAS_GEN7_SOL_RESET,
             I915_PARAM_HAS_WAIT_TIMEOUT, I915_PARAM_HAS_PRIME_VMAP_FLUSH, I915_PARAM_HAS_PINNED_BATCHES,
             I915_PARAM_HAS_EXEC_NO_RELOC, I915_PARAM_HAS_EXEC_HANDLE_LUT, I915_PARAM_HAS_COHERENT_PHYS_GTT,
             I915_PARAM_HAS_EXEC_SOFTPIN, I915_PARAM_HAS_EXEC_ASYNC,
             I915_PARAM_HAS_EXEC_CAPTURE, I915_PARAM_HAS_EXEC_BATCH_FIRST, I915_PARAM_HAS_USERPTR_PROBE:
            return 1
        // Syncobjs in execbuf: the fence array and the timeline-fences extension.
        case I915_PARAM_HAS_EXEC_FENCE_ARRAY, I915_PARAM_HAS_EXEC_TIMELINE_FENCES:
            return 1
        // Deviation: no sync_file can be had here (GPU/), so the fd-based
        // fence features are reported absent.
        case I915_PARAM_HAS_EXEC_FENCE, I915_PARAM_HAS_EXEC_SUBMIT_FENCE:
            return 0
        default:
            throw DrmError.EINVAL
        }
    }

    /// drm_getcap. The device is a display-less i915 (no DRIVER_MODESET), so
    /// only the generic caps answer; every other one is EOPNOTSUPP.
    public func getCap(_ file: FileID, cap: UInt64) throws(DrmError) -> UInt64 {
        switch cap {
        case UInt64(DRM_CAP_TIMESTAMP_MONOTONIC): return 1
        // PRIME import|export where the preload library can make the fd
        // (strict mode, Exports/); a plain open cannot hold one: 0.
        case UInt64(DRM_CAP_PRIME): return canExport(file) ? UInt64(DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT) : 0
        // DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE (GPU/Syncobj.swift).
        case UInt64(DRM_CAP_SYNCOBJ), UInt64(DRM_CAP_SYNCOBJ_TIMELINE): return 1
        default: throw DrmError.EOPNOTSUPP
        }
    }

    /// drm_setclientcap: every client cap needs DRIVER_MODESET.
    public func setClientCap(_ file: FileID, cap: UInt64, value: UInt64) throws(DrmError) {
        throw DrmError.EOPNOTSUPP
    }

    /// The PCI bus id GET_UNIQUE reports: the integrated GPU's slot.
    public static let busID = "pci:0000:00:02.0"

    /// drm_getmagic: a per-file token, from 1.
    public func getMagic(_ file: FileID) throws(DrmError) -> UInt32 {
        try withFile(file) { (_, f) throws(DrmError) in UInt32(truncatingIfNeeded: f.id.rawValue) }
    }

    /// drm_authmagic (master only): authenticates the file owning `magic`.
    public func authMagic(_ file: FileID, magic: UInt32) throws(DrmError) {
        try withFile(file) { (s, _) throws(DrmError) in
            guard let target = s.files[FileID(rawValue: UInt64(magic))] else { throw DrmError.EINVAL }
            target.authenticated = true
        }
    }

    /// i915_gem_get_aperture_ioctl: the whole GGTT, nothing pinned.
    public var aperture: (size: UInt64, available: UInt64) { (profile.ggttSize, profile.ggttSize) }

    /// One I915_MEMORY_CLASS_SYSTEM region, as an integrated part reports.
    public struct MemoryRegion: Sendable {
        public let memoryClass: UInt16, instance: UInt16
        public let probedSize: UInt64, unallocatedSize: UInt64
    }

    public var memoryRegions: [MemoryRegion] {
        let used = state.withLock { $0.lifetime.bytes }
        let system = profile.systemMemory
        return [MemoryRegion(memoryClass: UInt16(I915_MEMORY_CLASS_SYSTEM.rawValue), instance: 0,
                             probedSize: system, unallocatedSize: system - min(used, system))]
    }

    /// CONTEXT_GETPARAM's value alone (GPU/DrmDevice+Contexts.swift).
    public func contextGetParam(_ file: FileID, context: UInt32, param: UInt64) throws(DrmError) -> UInt64 {
        try contextGetParam(file, context: context, param: param, size: 0).value
    }

    /// drm_setmaster_ioctl: permission (root, or the former master's own
    /// process), then EBUSY while another file is master.
    public func setMaster(_ file: FileID, pid: Int32, privileged: Bool) throws(DrmError) {
        try withFile(file) { (s, f) throws(DrmError) in
            guard privileged || (f.wasMaster && f.pid == pid) else { throw DrmError.EACCES }
            if f.isMaster { return }
            guard s.master == nil else { throw DrmError.EBUSY }
            // A file never master gets a master of its own (drm_new_set_master).
            if !f.wasMaster { f.master = DrmMaster() }
            s.master = f.id
            f.isMaster = true
            f.wasMaster = true
            f.authenticated = true
        }
    }

    /// drm_dropmaster_ioctl.
    public func dropMaster(_ file: FileID, pid: Int32, privileged: Bool) throws(DrmError) {
        try withFile(file) { (s, f) throws(DrmError) in
            guard privileged || (f.wasMaster && f.pid == pid) else { throw DrmError.EACCES }
            guard f.isMaster else { throw DrmError.EINVAL }
            f.isMaster = false
            s.master = nil
        }
    }

    /// drm_ioctl_permit: DRM_AUTH, DRM_MASTER and RENDER_ALLOW checks.
    public func permit(_ file: FileID, auth: Bool, master: Bool, renderAllow: Bool) throws(DrmError) {
        try state.withLock { (s: inout DeviceState) throws(DrmError) in
            guard let f = s.files[file] else { throw DrmError.ENODEV }
            if auth, !f.isRender, !f.authenticated { throw DrmError.EACCES }
            if master, !f.isMaster { throw DrmError.EACCES }
            if !renderAllow, f.isRender { throw DrmError.EACCES }
        }
    }
}
