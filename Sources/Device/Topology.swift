import CDrm

/// DRM_I915_QUERY_TOPOLOGY_INFO's answer (i915_query.c fill_topology_info):
/// a drm_i915_query_topology_info header, then the slice mask, each slice's
/// subslice mask (`subslice_stride` bytes) and each subslice's EU mask
/// (`eu_stride` bytes), little-endian bit arrays. Mesa's
/// intel_get_device_info_from_fd needs it on gen10+ to pick a driver.
extension Sseu {
    /// GEN_SSEU_STRIDE: bytes for a mask of `bits` bits.
    private static func stride(_ bits: Int) -> Int { (bits + 7) / 8 }

    public var topologyInfo: [UInt8] {
        let ssStride = Self.stride(maxSubslices), euStride = Self.stride(maxEUsPerSubslice)
        let sliceLength = MemoryLayout.size(ofValue: sliceMask)
        let subsliceLength = maxSlices * ssStride
        var topo = drm_i915_query_topology_info()
        topo.max_slices = UInt16(maxSlices)
        topo.max_subslices = UInt16(maxSubslices)
        topo.max_eus_per_subslice = UInt16(maxEUsPerSubslice)
        topo.subslice_offset = UInt16(sliceLength)
        topo.subslice_stride = UInt16(ssStride)
        topo.eu_offset = UInt16(sliceLength + subsliceLength)
        topo.eu_stride = UInt16(euStride)
        var out = withUnsafeBytes(of: topo) { Array($0) }
        out.append(sliceMask)
        for slice in 0..<maxSlices {
            let on = sliceMask >> slice & 1 != 0
            out += Self.bytes(on ? subsliceMask : 0, count: ssStride)
        }
        for slice in 0..<maxSlices {
            for ss in 0..<maxSubslices {
                let on = sliceMask >> slice & 1 != 0 && subsliceMask >> ss & 1 != 0
                out += Self.bytes(on ? euMask : 0, count: euStride)
            }
        }
        return out
    }

    private static func bytes(_ mask: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: mask >> (8 * $0)) }
    }
}

extension DrmDevice {
    /// QUERY TOPOLOGY_INFO: the item's flags must be 0 (query_topology_info).
    public func topologyInfo(flags: UInt32) throws(DrmError) -> [UInt8] {
        guard flags == 0 else { throw DrmError.EINVAL }
        return profile.sseu.topologyInfo
    }
}
