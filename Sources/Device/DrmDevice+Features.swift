import CDrm

/// What this device has and lacks, for the uapi layer: it rejects malformed
/// input itself (layouts, extension chains, reserved bits) and asks here
/// for everything that depends on the device's capabilities or state
/// (docs/architecture.md, "Where errnos are decided").
public enum DriverFeature: Sendable {
    /// KMS (DRIVER_MODESET): i915 clears it on a display-less part.
    case modeset
    /// The legacy CPU mmap ioctl maps memory inside the caller: a daemon cannot.
    case gemMmap
}

extension DrmDevice {
    /// drm_core_check_feature at an ioctl's entry: EOPNOTSUPP without it.
    public func checkFeature(_ feature: DriverFeature) throws(DrmError) {
        switch feature {
        case .modeset, .gemMmap: throw DrmError.EOPNOTSUPP
        }
    }

    /// set_placements: each placement must be one of the device's regions.
    public func checkPlacement(memoryClass: UInt16, instance: UInt16) throws(DrmError) {
        guard memoryRegions.contains(where: { $0.memoryClass == memoryClass && $0.instance == instance }) else {
            throw DrmError.EINVAL
        }
    }

    /// ext_set_protected: no PXP on this part.
    public func checkProtectedContent() throws(DrmError) { throw DrmError.ENODEV }

    /// ext_set_pat (I915_GEM_CREATE_EXT_SET_PAT): ENODEV below graphics IP 12.70.
    public func checkSetPat() throws(DrmError) { throw DrmError.ENODEV }

    /// QUERY items the uapi defines that this part cannot answer: no GuC
    /// hwconfig table, no geometry subslices (query_hwconfig_blob,
    /// query_geometry_subslices: ENODEV).
    public func checkQueryItem(_ id: UInt64) throws(DrmError) {
        if id == UInt64(DRM_I915_QUERY_HWCONFIG_BLOB) || id == UInt64(DRM_I915_QUERY_GEOMETRY_SUBSLICES) { throw DrmError.ENODEV }
    }


    /// An engine map's first extension, its header read by the uapi layer
    /// (load balancing, bonds, parallel submission): not emulated, ENODEV.
    public func checkEngineMapExtension(name: UInt32) throws(DrmError) {
        // i915_user_extensions: a name past set_proto_ctx_engines_extensions is EINVAL.
        guard name <= UInt32(I915_CONTEXT_ENGINES_EXT_PARALLEL_SUBMIT) else { throw DrmError.EINVAL }
        throw DrmError.ENODEV
    }
}
