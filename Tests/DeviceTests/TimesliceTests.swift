import CDrm
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// Timeslicing between contexts on one engine (execlists): an unsatisfied
/// semaphore wait and an arbitrating spinner give the engine to another
/// context's ready request; a context's own requests stay in order.
extension GpuTests {
    static let arbCheck: UInt32 = 0x05 << 23
    static let bbStart: UInt32 = 0x31 << 23 | 1 << 8 | 1
    /// MI_SEMAPHORE_WAIT, polling, SAD_EQ_SDD.
    static let semaphoreWaitEq: UInt32 = 0x1C << 23 | 1 << 15 | 4 << 12 | 2

    /// A CPU store / load straight to the object's pages (as through a
    /// mapping): PWRITE and PREAD would wait for the requests using it.
    func cpuStore(_ f: FileID, _ h: Handle, _ offset: Int, _ value: UInt32) throws {
        try fx.dev.withFile(f) { (s, file) throws(DrmError) in
            try s.lookup(h, in: file).backing.base.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
        }
    }

    func cpuLoad(_ f: FileID, _ h: Handle, _ offset: Int) throws -> UInt32 {
        try fx.dev.withFile(f) { (s, file) throws(DrmError) in
            try s.lookup(h, in: file).backing.base.load(fromByteOffset: offset, as: UInt32.self)
        }
    }

    /// `result` stays unwritten until the CPU stores 1 to `sema`, then its
    /// waiter completes and writes `value` there.
    func expectReleasedByCPU(_ f: FileID, sema: Handle, result: Handle, value: UInt32) throws {
        #expect(throws: DrmError.ETIME) { try wait(f, result, ms: 30) }
        try cpuStore(f, sema, 0, 1)
        try wait(f, result, ms: 5000)
        #expect(try read(f, result, 0) == value)
    }

    func nonPersistentContext(_ f: FileID) throws -> UInt32 {
        try fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)],
                                 privileged: false)
    }

    /// gem_exec_fence@submit's shape: A's batch waits for a value only B's
    /// batch stores, both on rcs0, A first. A FIFO engine deadlocked.
    @Test func semaphoreWaitYieldsToAnotherContext() throws {
        let f = fx.open(inode: 1)
        let a = try nonPersistentContext(f), b = try nonPersistentContext(f)
        let sema = try create(f), result = try create(f)
        let waiter = try create(f, [Self.semaphoreWaitEq, 1, 0x30000, 0, Self.sdi, 0x40000, 0, 0xA, Self.bbe])
        let signaller = try create(f, [Self.sdi, 0x30000, 0, 1, Self.bbe])
        try exec(f, [(sema, 0x30000, UInt64(EXEC_OBJECT_ASYNC)), (result, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (waiter, 0x10000, 0)], ctx: a)
        try exec(f, [(sema, 0x30000, UInt64(EXEC_OBJECT_WRITE | EXEC_OBJECT_ASYNC)), (signaller, 0x20000, 0)], ctx: b)
        defer {
            try? fx.dev.contextDestroy(f, context: a, pad: 0)
            try? fx.dev.contextDestroy(f, context: b, pad: 0)
        }
        try wait(f, signaller, ms: 5000)
        try wait(f, result, ms: 5000)
        #expect(try read(f, sema, 0) == 1)
        #expect(try read(f, result, 0) == 0xA)
    }

    /// gem_ctx_persistence's *-mixed / hostile-preempt need it: a spinner
    /// (MI_ARB_CHECK in its loop) of context A does not keep context B's
    /// store off the engine; A spins on until its context goes.
    @Test func spinnerYieldsToAnotherContextsStore() throws {
        let f = fx.open(inode: 1)
        let a = try nonPersistentContext(f), b = try nonPersistentContext(f)
        let spinner = try create(f, [Self.arbCheck, Self.bbStart, 0x10000, 0])
        let target = try create(f)
        let store = try create(f, [Self.sdi, 0x40000, 0, 0xC0FFEE, Self.bbe])
        try exec(f, [(spinner, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: a)
        try exec(f, [(target, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (store, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: b)
        try wait(f, target, ms: 2000)
        #expect(try read(f, target, 0) == 0xC0FFEE)
        #expect(throws: DrmError.ETIME) { try wait(f, spinner, ms: 10) }
        try fx.dev.contextDestroy(f, context: a, pad: 0)
        try wait(f, spinner)
        try fx.dev.contextDestroy(f, context: b, pad: 0)
    }

    /// A context's later request never overtakes its earlier one, while
    /// another context's request passes the spinner.
    @Test func sameContextStaysInOrder() throws {
        let f = fx.open(inode: 1)
        let a = try nonPersistentContext(f), b = try nonPersistentContext(f)
        let spinner = try create(f, [Self.arbCheck, Self.bbStart, 0x10000, 0])
        let mine = try create(f), theirs = try create(f)
        let storeMine = try create(f, [Self.sdi, 0x40000, 0, 0x1111, Self.bbe])
        let storeTheirs = try create(f, [Self.sdi, 0x50000, 0, 0x2222, Self.bbe])
        try exec(f, [(spinner, 0x10000, 0)], ctx: a)
        try exec(f, [(mine, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (storeMine, 0x20000, 0)], ctx: a)
        try exec(f, [(theirs, 0x50000, UInt64(EXEC_OBJECT_WRITE)), (storeTheirs, 0x30000, 0)], ctx: b)
        defer {
            try? fx.dev.contextDestroy(f, context: a, pad: 0)
            try? fx.dev.contextDestroy(f, context: b, pad: 0)
        }
        try wait(f, theirs, ms: 2000)
        #expect(try read(f, theirs, 0) == 0x2222)
        #expect(throws: DrmError.ETIME) { try wait(f, mine, ms: 50) }
        #expect(try cpuLoad(f, mine, 0) == 0)
        // The spinner ends (MI_BATCH_BUFFER_END stored over its MI_ARB_CHECK): then A's store runs.
        try cpuStore(f, spinner, 0, Self.bbe)
        try wait(f, mine, ms: 2000)
        #expect(try read(f, mine, 0) == 0x1111)
        try wait(f, spinner)
    }

    /// Two contexts each waiting on a semaphore the other (or the CPU)
    /// satisfies: the engine round-robins between them without a busy spin,
    /// and a CPU store releases both.
    @Test func semaphoreWaitersTakeTurns() throws {
        let f = fx.open(inode: 1)
        let a = try nonPersistentContext(f), b = try nonPersistentContext(f)
        let sema = try create(f), result = try create(f)
        // A: wait sema == 1, store sema = 2. B: wait sema == 2, store result.
        let first = try create(f, [Self.semaphoreWaitEq, 1, 0x30000, 0, Self.sdi, 0x30000, 0, 2, Self.bbe])
        let second = try create(f, [Self.semaphoreWaitEq, 2, 0x30000, 0, Self.sdi, 0x40000, 0, 0xB, Self.bbe])
        // The later waiter is submitted first: a FIFO engine never ran A.
        try exec(f, [(sema, 0x30000, UInt64(EXEC_OBJECT_ASYNC)), (result, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (second, 0x20000, 0)], ctx: b)
        try exec(f, [(sema, 0x30000, UInt64(EXEC_OBJECT_ASYNC)), (first, 0x10000, 0)], ctx: a)
        defer {
            try? fx.dev.contextDestroy(f, context: a, pad: 0)
            try? fx.dev.contextDestroy(f, context: b, pad: 0)
        }
        try expectReleasedByCPU(f, sema: sema, result: result, value: 0xB)
        #expect(try read(f, sema, 0) == 2)
    }

    /// gem_ctx_persistence@*-hostile-preempt: a loop without an arbitration
    /// point cannot be preempted for a higher-priority request; the engine
    /// is reset after the preempt timeout (640 ms), not the heartbeat's 5.64 s.
    @Test func preemptTimeoutResetsAnUnpreemptibleLoop() throws {
        let f = fx.open(inode: 1, privileged: true)
        let hostile = try nonPersistentContext(f)
        let urgent = try fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PRIORITY), size: 0, value: 1)],
                                              privileged: true)
        // It stores 1 to `started`, then loops with no arbitration point.
        let started = try create(f)
        let noArb = try create(f, [Self.sdi, 0x50000, 0, 1, 0, Self.bbStart, 0x10010, 0])
        let target = try create(f)
        let store = try create(f, [Self.sdi, 0x40000, 0, 0xC0FFEE, Self.bbe])
        try exec(f, [(started, 0x50000, UInt64(EXEC_OBJECT_WRITE)), (noArb, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: hostile)
        // The urgent request must find it running (else it simply runs first).
        let deadline = DispatchTime.now() + .seconds(5)
        while try cpuLoad(f, started, 0) != 1, DispatchTime.now() < deadline { usleep(100) }
        #expect(try cpuLoad(f, started, 0) == 1)
        let start = DispatchTime.now()
        try exec(f, [(target, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (store, 0x20000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: urgent)
        try wait(f, target, ms: 3000)
        let ms = (DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000
        #expect(ms >= 600)
        #expect(try read(f, target, 0) == 0xC0FFEE)
        try wait(f, noArb)
        #expect(try fx.dev.resetStats(f, context: hostile, flags: 0, pad: 0, privileged: true).active == 1)
        #expect(try fx.dev.resetStats(f, context: urgent, flags: 0, pad: 0, privileged: true).active == 0)
    }

    /// A semaphore waiter released by the CPU completes while another
    /// context's spinner keeps yielding: the waiter still gets its turns.
    @Test func semaphoreWaiterNotStarvedBySpinner() throws {
        let f = fx.open(inode: 1)
        let a = try nonPersistentContext(f), b = try nonPersistentContext(f)
        let spinner = try create(f, [Self.arbCheck, Self.bbStart, 0x10000, 0])
        let sema = try create(f), result = try create(f)
        let waiter = try create(f, [Self.semaphoreWaitEq, 1, 0x30000, 0, Self.sdi, 0x40000, 0, 0xD, Self.bbe])
        try exec(f, [(spinner, 0x10000, 0)], ctx: a)
        try exec(f, [(sema, 0x30000, UInt64(EXEC_OBJECT_ASYNC)), (result, 0x40000, UInt64(EXEC_OBJECT_WRITE)), (waiter, 0x20000, 0)], ctx: b)
        defer {
            try? fx.dev.contextDestroy(f, context: a, pad: 0)
            try? fx.dev.contextDestroy(f, context: b, pad: 0)
        }
        try expectReleasedByCPU(f, sema: sema, result: result, value: 0xD)
        #expect(throws: DrmError.ETIME) { try wait(f, spinner, ms: 0) }
    }
}
