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
            let regions = device.memoryRegions.map { r in
                var info = drm_i915_memory_region_info()
                info.region.memory_class = r.memoryClass
                info.region.memory_instance = r.instance
                info.probed_size = r.probedSize
                info.unallocated_size = r.unallocatedSize
                info.probed_cpu_visible_size = r.probedSize
                info.unallocated_cpu_visible_size = r.unallocatedSize
                return info
            }
            return try table(item, memory, drm_i915_query_memory_regions.self, regions, count: \.num_regions) { $0.rsvd == (0, 0, 0) }
        case UInt64(DRM_I915_QUERY_ENGINE_INFO):
            // TGL's rcs0, bcs0, vcs0, vcs2, vecs0; uabi instances are dense per class.
            let classes = [I915_ENGINE_CLASS_RENDER, I915_ENGINE_CLASS_COPY, I915_ENGINE_CLASS_VIDEO,
                           I915_ENGINE_CLASS_VIDEO, I915_ENGINE_CLASS_VIDEO_ENHANCE].map { UInt16($0.rawValue) }
            let engines = classes.enumerated().map { i, cls in
                var info = drm_i915_engine_info()
                info.engine.engine_class = cls
                info.engine.engine_instance = UInt16(classes[..<i].filter { $0 == cls }.count)
                info.flags = UInt64(I915_ENGINE_INFO_HAS_LOGICAL_INSTANCE)
                info.logical_instance = info.engine.engine_instance
                return info
            }
            return try table(item, memory, drm_i915_query_engine_info.self, engines, count: \.num_engines) { $0.rsvd == (0, 0, 0) }
        case UInt64(DRM_I915_QUERY_TOPOLOGY_INFO):
            let blob = try device.topologyInfo(flags: item.flags)
            guard try roomFor(blob.count, item) else { return Int32(blob.count) }
            // copy_query_item reads the header first (EFAULT), then ignores it.
            _ = try memory.load(drm_i915_query_topology_info.self, at: item.data_ptr)
            try memory.write(item.data_ptr, bytes: blob[...])
            return Int32(blob.count)
        case UInt64(DRM_I915_QUERY_HWCONFIG_BLOB), UInt64(DRM_I915_QUERY_GEOMETRY_SUBSLICES):
            throw DrmError.ENODEV
        default:
            throw DrmError.EINVAL
        }
    }

    /// An item shaped as a header (a count and reserved words, zero on
    /// input) followed by `entries`: query_memregion_info and
    /// query_engine_info share this protocol.
    private func table<Header, Entry>(_ item: drm_i915_query_item, _ memory: any UserMemory, _: Header.Type,
                                      _ entries: [Entry], count: WritableKeyPath<Header, UInt32>,
                                      reservedClear: (Header) -> Bool) throws(DrmError) -> Int32 {
        guard item.flags == 0 else { throw DrmError.EINVAL }
        let header = MemoryLayout<Header>.size, entry = MemoryLayout<Entry>.stride
        let total = header + entries.count * entry
        guard try roomFor(total, item) else { return Int32(total) }
        var q = try memory.load(Header.self, at: item.data_ptr)
        guard q[keyPath: count] == 0, reservedClear(q) else { throw DrmError.EINVAL }
        for (i, e) in entries.enumerated() { try memory.store(e, at: item.data_ptr + UInt64(header + i * entry)) }
        q[keyPath: count] = UInt32(entries.count)
        try memory.store(q, at: item.data_ptr)
        return Int32(total)
    }

    /// copy_query_item: length 0 asks for the size; too small is EINVAL.
    private func roomFor(_ total: Int, _ item: drm_i915_query_item) throws(DrmError) -> Bool {
        if item.length == 0 { return false }
        guard item.length >= total else { throw DrmError.EINVAL }
        return true
    }
}
