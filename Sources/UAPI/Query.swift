import CDrm
import FakeDRMDevice

/// DRM_IOCTL_I915_QUERY: items in the caller's memory, each answered in
/// place; a per-item error goes back as a negative `length`.
extension IoctlDispatcher {
    func query(_ q: drm_i915_query, _ c: IoctlCaller) throws(DrmError) {
        guard q.flags == 0 else { throw DrmError.EINVAL }
        let itemSize = UInt64(MemoryLayout<drm_i915_query_item>.stride)
        for i in 0..<UInt64(q.num_items) {
            let at = q.items_ptr &+ i &* itemSize
            let item = try c.memory.load(drm_i915_query_item.self, at: at)
            guard item.query_id != 0 else { throw DrmError.EINVAL }
            var length: Int32
            do throws(DrmError) {
                length = try answer(item, c.memory)
            } catch {
                length = -error.errno
            }
            if length != item.length {
                try c.memory.store(length, at: at + UInt64(MemoryLayout.offset(of: \drm_i915_query_item.length)!))
            }
        }
    }

    /// One item: its total length, after filling it if the caller gave room.
    private func answer(_ item: drm_i915_query_item, _ memory: any UserMemory) throws(DrmError) -> Int32 {
        switch item.query_id {
        case UInt64(DRM_I915_QUERY_MEMORY_REGIONS):
            guard item.flags == 0 else { throw DrmError.EINVAL }
            let regions = device.memoryRegions
            let header = MemoryLayout<drm_i915_query_memory_regions>.size
            let entry = MemoryLayout<drm_i915_memory_region_info>.stride
            let total = header + regions.count * entry
            guard try roomFor(total, item) else { return Int32(total) }
            var q = try memory.load(drm_i915_query_memory_regions.self, at: item.data_ptr)
            guard q.num_regions == 0, q.rsvd == (0, 0, 0) else { throw DrmError.EINVAL }
            for (i, r) in regions.enumerated() {
                var info = drm_i915_memory_region_info()
                info.region.memory_class = r.memoryClass
                info.region.memory_instance = r.instance
                info.probed_size = r.probedSize
                info.unallocated_size = r.unallocatedSize
                info.probed_cpu_visible_size = r.probedSize
                info.unallocated_cpu_visible_size = r.unallocatedSize
                try memory.store(info, at: item.data_ptr + UInt64(header + i * entry))
            }
            q.num_regions = UInt32(regions.count)
            try memory.store(q, at: item.data_ptr)
            return Int32(total)
        case UInt64(DRM_I915_QUERY_ENGINE_INFO):
            guard item.flags == 0 else { throw DrmError.EINVAL }
            // TGL's rcs0, bcs0, vcs0, vcs2, vecs0; uabi instances are dense per class.
            let engines: [(UInt16, UInt16)] = [
                (UInt16(I915_ENGINE_CLASS_RENDER.rawValue), 0), (UInt16(I915_ENGINE_CLASS_COPY.rawValue), 0),
                (UInt16(I915_ENGINE_CLASS_VIDEO.rawValue), 0), (UInt16(I915_ENGINE_CLASS_VIDEO.rawValue), 1),
                (UInt16(I915_ENGINE_CLASS_VIDEO_ENHANCE.rawValue), 0),
            ]
            let header = MemoryLayout<drm_i915_query_engine_info>.size
            let entry = MemoryLayout<drm_i915_engine_info>.stride
            let total = header + engines.count * entry
            guard try roomFor(total, item) else { return Int32(total) }
            var q = try memory.load(drm_i915_query_engine_info.self, at: item.data_ptr)
            guard q.num_engines == 0, q.rsvd == (0, 0, 0) else { throw DrmError.EINVAL }
            for (i, e) in engines.enumerated() {
                var info = drm_i915_engine_info()
                info.engine.engine_class = e.0
                info.engine.engine_instance = e.1
                info.flags = UInt64(I915_ENGINE_INFO_HAS_LOGICAL_INSTANCE)
                info.logical_instance = UInt16(engines[..<i].filter { $0.0 == e.0 }.count)
                try memory.store(info, at: item.data_ptr + UInt64(header + i * entry))
            }
            q.num_engines = UInt32(engines.count)
            try memory.store(q, at: item.data_ptr)
            return Int32(total)
        case UInt64(DRM_I915_QUERY_HWCONFIG_BLOB), UInt64(DRM_I915_QUERY_GEOMETRY_SUBSLICES):
            throw DrmError.ENODEV
        default:
            throw DrmError.EINVAL
        }
    }

    /// copy_query_item: length 0 asks for the size; too small is EINVAL.
    private func roomFor(_ total: Int, _ item: drm_i915_query_item) throws(DrmError) -> Bool {
        if item.length == 0 { return false }
        guard item.length >= total else { throw DrmError.EINVAL }
        return true
    }
}
