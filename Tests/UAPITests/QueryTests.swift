import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// DRM_IOCTL_I915_QUERY with MEMORY_REGIONS: the two-call size protocol and
/// per-item errors reported in `length`.
@Suite struct QueryTests {
    let c = Client(minor: .render)
    static let needed = Int32(16 + 88 * 1)

    /// Runs one query item; returns the ioctl result and the item as it is now.
    func query(id: UInt64 = UInt64(DRM_I915_QUERY_MEMORY_REGIONS), length: Int32, itemFlags: UInt32 = 0,
               data: UInt64 = 0, flags: UInt32 = 0) -> (IoctlDispatcher.Result, drm_i915_query_item) {
        let item = c.mem.put(drm_i915_query_item(query_id: id, length: length, flags: itemFlags, data_ptr: data))
        var q = drm_i915_query(num_items: 1, flags: flags, items_ptr: item)
        let r = c.ioctl(i915Cmd(DRM_I915_QUERY), &q)
        return (r, c.mem.get(drm_i915_query_item.self, at: item))
    }

    @Test func layouts() {
        #expect(MemoryLayout<i915_user_extension>.size == 32)
        #expect(MemoryLayout<drm_i915_gem_mmap_offset>.size == 32)
        #expect(MemoryLayout<drm_i915_engine_info>.size == 56)
        #expect(MemoryLayout<drm_i915_query_memory_regions>.size == 16)
        #expect(MemoryLayout<drm_i915_memory_region_info>.size == 88)
        #expect(MemoryLayout<drm_i915_query_item>.size == 24)
    }

    @Test func zeroLengthAsksForTheSize() {
        let (r, item) = query(length: 0)
        #expect(r.errno == 0)
        #expect(item.length == Self.needed)
    }

    /// Too small a buffer, item flags, an unknown query id: the ioctl
    /// succeeds and the item's length carries -EINVAL.
    @Test func perItemErrorsGoInLength() {
        for (r, item) in [query(length: Self.needed - 1, data: c.mem.alloc(128)),
                          query(length: 0, itemFlags: 1),
                          query(id: 99, length: 0)] {
            #expect(r.errno == 0)
            #expect(item.length == -errnoEINVAL)
        }
    }

    @Test func queryIdZeroOrFlagsFailTheIoctl() {
        #expect(query(id: 0, length: 0).0.errno == errnoEINVAL)
        #expect(query(length: 0, flags: 1).0.errno == errnoEINVAL)
    }

    @Test func unreadableItemsIsEFAULT() {
        var q = drm_i915_query(num_items: 1, flags: 0, items_ptr: 0x1000)
        #expect(c.ioctl(i915Cmd(DRM_I915_QUERY), &q).errno == DrmError.EFAULT.errno)
        q.num_items = 0
        #expect(c.ioctl(i915Cmd(DRM_I915_QUERY), &q).errno == 0)
    }

    @Test func fullQueryFillsOneSystemRegion() {
        let data = c.mem.alloc(Int(Self.needed))
        let (r, item) = query(length: Self.needed, data: data)
        #expect(r.errno == 0)
        #expect(item.length == Self.needed)
        let header = c.mem.get(drm_i915_query_memory_regions.self, at: data)
        #expect(header.num_regions == 1)
        let info = c.mem.get(drm_i915_memory_region_info.self, at: data + 16)
        #expect(info.region.memory_class == UInt16(I915_MEMORY_CLASS_SYSTEM.rawValue))
        #expect(info.region.memory_instance == 0)
        #expect(info.probed_size == c.dev.profile.systemMemory)
        #expect(info.probed_size > 0 && info.unallocated_size <= info.probed_size)
    }

    @Test func dirtyHeaderIsPerItemEINVAL() {
        let data = c.mem.alloc(Int(Self.needed))
        c.mem.set(UInt32(1), at: data) // num_regions must be 0 on input
        #expect(query(length: Self.needed, data: data).1.length == -errnoEINVAL)
        c.mem.set(UInt32(0), at: data)
        c.mem.set(UInt32(1), at: data + 8) // rsvd[1]
        #expect(query(length: Self.needed, data: data).1.length == -errnoEINVAL)
    }
}

/// QUERY(ENGINE_INFO): engines are named by (uabi class, uabi instance).
@Suite struct EngineInfoTests {
    let c = Client(minor: .render)

    @Test func engineInfoNamesEachClassDensely() throws {
        let id = UInt64(DRM_I915_QUERY_ENGINE_INFO)
        let probe = c.mem.put(drm_i915_query_item(query_id: id, length: 0, flags: 0, data_ptr: 0))
        var q = drm_i915_query(num_items: 1, flags: 0, items_ptr: probe)
        #expect(c.ioctl(i915Cmd(DRM_I915_QUERY), &q).errno == 0)
        let length = c.mem.get(drm_i915_query_item.self, at: probe).length
        #expect(length == Int32(16 + 56 * 5))

        let data = c.mem.alloc(Int(length))
        q.items_ptr = c.mem.put(drm_i915_query_item(query_id: id, length: length, flags: 0, data_ptr: data))
        #expect(c.ioctl(i915Cmd(DRM_I915_QUERY), &q).errno == 0)
        let n = Int(c.mem.get(drm_i915_query_engine_info.self, at: data).num_engines)
        let engines = (0..<n).map { c.mem.get(drm_i915_engine_info.self, at: data + 16 + UInt64($0 * 56)) }
        var byClass: [UInt16: [(instance: UInt16, logical: UInt16)]] = [:]
        for e in engines {
            byClass[e.engine.engine_class, default: []].append((e.engine.engine_instance, e.logical_instance))
        }
        #expect(byClass.keys.sorted() == [0, 1, 2, 3]) // render, copy, video, video-enhance
        for (_, list) in byClass { #expect(list.map(\.logical) == (0..<UInt16(list.count)).map { $0 }) }

        // i915 numbers engines per class as userspace sees them
        // (engine->uabi_instance = uabi_instances[class]++), so TGL's vcs0
        // and vcs2 are (VIDEO, 0) and (VIDEO, 1), which HAS_BSD2 also implies.
        #expect(try c.dev.getParam(I915_PARAM_HAS_BSD2) == 1)
        for (cls, list) in byClass {
            #expect(list.map(\.instance).sorted() == (0..<UInt16(list.count)).map { $0 }, "class \(cls)")
        }
    }
}
