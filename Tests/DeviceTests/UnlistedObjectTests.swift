import CDrm
import Testing
@testable import FakeDRMDevice

/// The ppGTT maps every object bound in it, listed in the execbuf or not:
/// a batch's store to another bound object lands there (IGT's
/// gem_exec_schedule@submit-*-slice ends a spinner of another context on
/// the same VM so); an unbound address stays the scratch page, and an
/// instruction fetch outside the request's objects still hangs.
extension GpuTests {
    @Test func storeReachesABoundObjectTheExecbufDidNotList() throws {
        let f = fx.open(inode: 1)
        let target = try create(f), other = try create(f)
        // Bound at 0x40000 by an earlier request of the context.
        try exec(f, [(target, 0x40000, 0), (try create(f, [Self.bbe]), 0x10000, 0)])
        let store = try create(f, [Self.sdi, 0x40004, 0, 0xCAFE, Self.sdi, 0x90000, 0, 0xDEAD, Self.bbe])
        try exec(f, [(other, 0x50000, 0), (store, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT))
        try wait(f, store)
        #expect(try read(f, target, 4) == 0xCAFE)
        #expect(try read(f, other, 0) == 0)
        #expect(fx.dev.state.withLock { $0.gpu.stats.hangs } == 0)
        // Jumping into it is still a fetch outside the request's objects.
        let jump = try create(f, [Self.bbStart, 0x40000, 0])
        try exec(f, [(jump, 0x30000, 0)])
        try wait(f, jump)
        #expect(fx.dev.state.withLock { $0.gpu.stats.hangs } == 1)
    }
}
