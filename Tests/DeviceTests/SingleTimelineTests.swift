import CDrm
import Testing
@testable import FakeDRMDevice

/// I915_CONTEXT_CREATE_FLAGS_SINGLE_TIMELINE: one timeline across the
/// context's engines (gem_ctx_shared@exec-single-timeline).
extension GpuTests {
    @Test func aSingleTimelineOrdersAcrossEngines() throws {
        let f = fx.open(inode: 1)
        for single in [false, true] {
            let ctx = try fx.dev.contextCreate(f, flags: single ? I915_CONTEXT_CREATE_FLAGS_SINGLE_TIMELINE : 0, params: [],
                                               privileged: false)
            let spin = try create(f, [Self.arbCheck, Self.bbStart, 0x10000, 0])
            let target = try create(f), store = try create(f, [Self.sdi, 0x30000, 0, 0xAB, Self.bbe])
            try exec(f, [(spin, 0x10000, 0)], ring: UInt64(I915_EXEC_RENDER), ctx: ctx)
            try exec(f, [(target, 0x30000, UInt64(EXEC_OBJECT_WRITE)), (store, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: ctx)
            if single {
                #expect(throws: DrmError.ETIME) { try wait(f, store, ms: 100) }
            } else {
                try wait(f, store, ms: 2000)
            }
            try cpuStore(f, spin, 0, Self.bbe)
            try wait(f, store, ms: 5000)
            #expect(try read(f, target, 0) == 0xAB)
            try fx.dev.contextDestroy(f, context: ctx, pad: 0)
        }
    }
}
