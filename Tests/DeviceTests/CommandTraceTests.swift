import CDrm
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import FakeDRMDevice

/// `--trace-commands`: one line per command the engine executes or skips,
/// with the same executed/skipped split the engine counts.
@Suite struct CommandTraceTests {
    final class Lines: CommandTraceSink {
        let lines = Mutex<[String]>([])
        func commandTrace(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    let sink = Lines()
    let t: GpuTests

    init() { t = GpuTests(fx: Fixture(commandTrace: sink)) }

    @Test func everyCommandIsTracedAsTheEngineCountsIt() throws {
        let f = t.fx.open(inode: 1)
        let target = try t.create(f)
        let words: [UInt32] = [
            0,                                            // MI_NOOP
            0x05 << 23,                                   // MI_ARB_CHECK
            0x01 << 23,                                   // MI_SET_PREDICATE: skipped
            GpuTests.sdi, 0x20010, 0, 0xCAFE_1234,        // MI_STORE_DWORD_IMM
            0x20 << 23 | 1 << 21 | 3, 0x20020, 0, 0x1, 0x2, // qword
            0x22 << 23 | 1, 0x2600, 7,                    // MI_LOAD_REGISTER_IMM GPR0
            0x28 << 23 | 2, 0, 0, 0,                      // MI_REPORT_PERF_COUNT: skipped
            0x7810_0001, 0xDEAD, 0xBEEF,                  // 3DSTATE_VS: skipped
            0x7A00_0004, 1 << 14, 0x20030, 0, 0x5151, 0,  // PIPE_CONTROL post-sync write
            2 << 29 | 0x01 << 22 | 6, 0, 0, 0, 0, 0, 0, 0, // XY_SETUP_BLT: skipped
            GpuTests.bbe,
        ]
        let batch = try t.create(f, words)
        try t.exec(f, [(target, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)])
        try t.wait(f, target)
        #expect(try t.read(f, target, 0x10) == 0xCAFE_1234)
        let lines = sink.all
        let cmds = lines.filter { $0.hasPrefix("CMD rcs0 ctx=0 seqno=1 0x") }
        #expect(cmds.count == 11, "\(lines)")
        for expected in ["0x10000: MI_NOOP", "0x10004: MI_ARB_CHECK", "MI_SET_PREDICATE skipped (not executed)",
                         "0x1000c: MI_STORE_DWORD_IMM addr=0x20010 value=0xcafe1234",
                         "MI_STORE_QWORD_IMM addr=0x20020 value=0x200000001", "MI_LOAD_REGISTER_IMM 0x2600=0x7",
                         "MI_REPORT_PERF_COUNT len=4 skipped (not executed)", "3DSTATE_VS len=3 skipped (not executed)",
                         "PIPE_CONTROL flags=0x4000 post-sync write addr=0x20030 value=0x5151 0x0",
                         "XY_SETUP_BLT len=8 skipped (not executed)", "MI_BATCH_BUFFER_END"] {
            #expect(cmds.contains { $0.hasSuffix(expected) }, "no '\(expected)' in \(cmds)")
        }
        let skippedLines = cmds.filter { $0.hasSuffix(CommandStreamer.notExecuted) }.count
        #expect(skippedLines == 4)
        #expect(lines.first?.hasPrefix("CMD rcs0 ctx=0 seqno=1 start batch=0x10000 objects=2") == true, "\(lines)")
        #expect(lines.last == "CMD rcs0 ctx=0 seqno=1 completed: 11 commands, 4 skipped", "\(lines)")
        #expect(t.fx.dev.debugText(.engineInfo).contains("commands: executed 11 not executed (render/compute/media state, skipped) 4"))
    }

    @Test func blitsAreDecoded() throws {
        let f = t.fx.open(inode: 1)
        let src = try t.create(f), dst = try t.create(f)
        let copy: UInt32 = 2 << 29 | 0x53 << 22 | 3 << 20 | 1 << 11 | 8
        let batch = try t.create(f, [0x22 << 23 | 1, 0x22200, 0x0002_0002,     // BCS_SWCTRL: dst Y
                                     copy, 3 << 24 | 0xCC << 16 | 32, 0, 4 << 16 | 8, 0x30000, 0, 0, 256, 0x20000, 0,
                                     2 << 29 | 0x50 << 22 | 3 << 20 | 5, 3 << 24 | 0xF0 << 16 | 256, 0, 2 << 16 | 4, 0x20000, 0, 0xFF00FF,
                                     GpuTests.bbe])
        try t.exec(f, [(src, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (dst, 0x30000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)],
                   ring: UInt64(I915_EXEC_BLT))
        try t.wait(f, dst)
        let lines = sink.all
        #expect(lines.contains { $0.hasSuffix("XY_SRC_COPY_BLT src=0x20000 pitch=256 linear (0,0) dst=0x30000 pitch=128 Y (0,0) 8x4 32bpp") },
                "\(lines)")
        #expect(lines.contains { $0.hasSuffix("XY_COLOR_BLT dst=0x20000 pitch=256 linear (0,0) 4x2 color=0xff00ff") }, "\(lines)")
    }

    /// A spinner is traced once, not once per iteration.
    @Test func loopsAreTracedOnce() throws {
        let f = t.fx.open(inode: 1)
        let ctx = try t.fx.dev.contextCreate(f, flags: 0, params: [DrmDevice.ContextParamArg(param: UInt64(I915_CONTEXT_PARAM_PERSISTENCE), size: 0, value: 0)], privileged: false)
        let batch = try t.create(f, [0x05 << 23, 0x31 << 23 | 1 << 8 | 1, 0x10000, 0])
        try t.exec(f, [(batch, 0x10000, 0)], ring: UInt64(I915_EXEC_BLT), ctx: ctx)
        var waited = 0
        while sink.all.count < 4, waited < 500 { usleep(2000); waited += 1 }
        usleep(30_000)
        try t.fx.dev.contextDestroy(f, context: ctx, pad: 0)
        try t.wait(f, batch)
        let lines = sink.all
        #expect(lines.filter { $0.contains("looping: commands not traced") }.count == 1, "\(lines)")
        #expect(lines.count <= 7, "\(lines)")
        #expect(lines.last?.contains("cancelled") == true, "\(lines)")
    }

    /// Off: the engine is given no sink, and nothing is built.
    @Test func offByDefault() {
        #expect(Fixture().dev.commandTrace == nil)
    }
}
