import CDrm
import Testing
@testable import FakeDRMDevice

/// eb_reserve's passes: objects placed in list order first; when that finds
/// no room, again with those confined below 4 GiB first.
@Suite struct PlacementTests {
    let fx = Fixture()

    @Test func objectsWith48BDoNotCrowdOutAConfinedBatch() throws {
        let f = fx.open(inode: 1)
        let big = try (0..<3).map { _ in try fx.dev.gemCreate(f, size: 3 << 29).handle } // 1.5 GiB each
        let batch = try fx.dev.gemCreate(f, size: 4096).handle
        try fx.dev.write(f, handle: batch, withUnsafeBytes(of: GpuTests.bbe.littleEndian) { Array($0) })
        var entries = (big + [batch]).map { h in
            var e = drm_i915_gem_exec_object2()
            e.handle = h.rawValue
            if h != batch { e.flags = UInt64(EXEC_OBJECT_SUPPORTS_48B_ADDRESS) }
            return e
        }
        // In list order the three take 4.5 GiB from 0 and leave the batch no
        // room below 4 GiB: ENOSPC before.
        try fx.dev.execbuffer(f, &entries, ring: UInt64(I915_EXEC_BLT))
        #expect(entries[3].offset + 4096 <= 1 << 32)
        let spans = entries.map { ($0.offset, $0.offset + (($0.handle == batch.rawValue) ? 4096 : 3 << 29)) }
        for (i, a) in spans.enumerated() { for b in spans[(i + 1)...] { #expect(a.1 <= b.0 || b.1 <= a.0) } }
    }
}
