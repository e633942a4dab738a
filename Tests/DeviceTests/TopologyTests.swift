import CDrm
import Testing
@testable import FakeDRMDevice

/// QUERY TOPOLOGY_INFO as fill_topology_info lays it out for a TGL GT2:
/// 1 slice, 6 subslices (1-byte stride), 16 EUs each (2-byte stride).
@Suite struct TopologyTests {
    @Test func tigerLakeGT2() throws {
        let dev = DrmDevice()
        let blob = try dev.topologyInfo(flags: 0)
        let header = MemoryLayout<drm_i915_query_topology_info>.size
        #expect(blob.count == header + 1 + 1 + 6 * 2)
        let t = blob.withUnsafeBytes { $0.loadUnaligned(as: drm_i915_query_topology_info.self) }
        #expect((t.max_slices, t.max_subslices, t.max_eus_per_subslice) == (1, 6, 16))
        #expect((t.subslice_offset, t.subslice_stride, t.eu_offset, t.eu_stride) == (1, 1, 2, 2))
        #expect(blob[header] == 0x1)      // slice mask
        #expect(blob[header + 1] == 0x3f) // subslices of slice 0
        #expect(blob[(header + 2)...].allSatisfy { $0 == 0xff })
        #expect(try dev.getParam(I915_PARAM_EU_TOTAL) == 96)
        #expect(throws: DrmError.EINVAL) { try dev.topologyInfo(flags: 1) }
    }
}
