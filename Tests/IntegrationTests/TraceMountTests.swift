import Foundation
import Testing

/// `mount --trace FILE` against real clients: ioctls, faults, writebacks.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct TraceMountTests {
    @Test func traceShowsIoctlsFaultsAndErrors() throws {
        #expect(Harness.conformanceBuilt)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-trace-\(UUID().uuidString)").path
        defer { unlink(path) }
        let m = try Mounted(["--trace", path])
        #expect(try Harness.run([Harness.conformance("gem_basic"), m.device]).status == 0)
        #expect(try Harness.run([Harness.conformance("errno_table"), m.device]).status == 0)
        #expect(try Harness.run([Harness.conformance("gtt_concurrent"), m.device]).status == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        for expected in ["GEM_CREATE {size=1048576} = 0 {handle=1, size=1048576} <",
                         "GETPARAM {param=4, value=0x", "= 0 {*value=39497}",
                         "GEM_MMAP_GTT {handle=1, flags=gtt, extensions=0x0} = 0 {offset=0x100000000}",
                         "FAULT {offset=0x100010000, length=131072, node=gtt obj 1 +0x10000} = 0 <",
                         "GEM_CLOSE {handle=0} = -1 EINVAL <",
                         "GEM_CREATE {size=0} = -1 EINVAL <",
                         "= -1 EIO (SIGBUS)", "WRITEBACK {inode=", "REVOKE {inode="] {
            #expect(text.contains(expected), "no '\(expected)' in the trace")
        }
        // Threads and processes at once (gtt_concurrent): still whole lines.
        let ioctl = #/^\d\d:\d\d:\d\d\.\d{6} file=\d+ pid=\d+ (?:[A-Z_0-9]+ \{.*\}|ioctl\(0x[0-9a-f]+\)) = (0|-1 E[A-Z0-9]+)( .*)? <\d+\.\d{6}>$/#
        let revoke = #/^\d\d:\d\d:\d\d\.\d{6} REVOKE \{inode=\d+, offset=0x[0-9a-f]+, length=\d+\}$/#
        let bad = lines.filter { $0.wholeMatch(of: ioctl) == nil && $0.wholeMatch(of: revoke) == nil }
        #expect(bad.isEmpty, "malformed lines: \(bad.prefix(5))")
        #expect(lines.count > 100)
    }

    /// `--trace-commands`: each command the engines run or skip, between
    /// the request's start and completion lines; execbuf's objects, flags
    /// and relocations in the ioctl line.
    @Test func traceCommandsShowsEachCommand() throws {
        #expect(Harness.conformanceBuilt)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-trace-\(UUID().uuidString)").path
        defer { unlink(path) }
        let m = try Mounted(["--trace", path, "--trace-commands"])
        let r = try Harness.run([Harness.conformance("gpu_trace"), m.device])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let target = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("target at 0x") }?.dropFirst(10))
        // Offsets in the trace are canonical, unpadded hex.
        let store = "0x" + String(UInt64(target.dropFirst(2), radix: 16)! + 0x40, radix: 16)
        let post = "0x" + String(UInt64(target.dropFirst(2), radix: 16)! + 0x48, radix: 16)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let render = lines.filter { $0.contains(" CMD rcs0 ctx=0 seqno=") }
        let blit = lines.filter { $0.contains(" CMD bcs0 ctx=0 seqno=") }
        for (set, expected) in [(render, " start batch=0x"), (render, ": MI_STORE_DWORD_IMM addr=\(store) value=0xcafe1234"),
                                (render, ": 3DSTATE_VS len=3 skipped (not executed)"),
                                (render, ": PIPE_CONTROL flags=0x4000 post-sync write addr=\(post) value=0x5151 0x0"),
                                (render, ": MI_BATCH_BUFFER_END"), (render, " completed: 4 commands, 1 skipped"),
                                (blit, ": XY_SRC_COPY_BLT src=0x600000 pitch=1024 linear (0,0) dst=0x700000 pitch=1024 linear (0,0) 64x16 32bpp"),
                                (blit, " completed: 2 commands, 0 skipped")] {
            #expect(set.contains { $0.contains(expected) }, "no '\(expected)' in:\n\(set.joined(separator: "\n"))")
        }
        // The render request's lines in order: start, 4 commands, completed.
        #expect(render.count == 6, "\(render)")
        // Execbuf's ioctl line: flags by name, objects and relocations after the call.
        #expect(text.contains("flags=0x1 (RENDER)"), "\(text)")
        #expect(text.contains("flags=0x803 (BLT|NO_RELOC)"), "\(text)")
        #expect(text.contains("relocs=[{offset=0x4, target="), "\(text)")
        #expect(text.contains(", delta=0x40, presumed=0x"), "\(text)")
        #expect(text.contains("{handle=3, offset=0x600000, flags=48B|PINNED}"), "\(text)")
    }

    /// Without --trace-commands, no command lines (and --trace-commands alone is refused).
    @Test func commandsAreTracedOnlyWhenAsked() throws {
        #expect(Harness.conformanceBuilt)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-trace-\(UUID().uuidString)").path
        defer { unlink(path) }
        let m = try Mounted(["--trace", path])
        #expect(try Harness.run([Harness.conformance("gpu_trace"), m.device]).status == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("GEM_EXECBUFFER2"), "\(text)")
        #expect(!text.contains(" CMD "), "\(text)")
        let r = try Harness.run([Harness.fakedrm, "mount", "/tmp", "--trace-commands"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--trace-commands writes into the --trace file"), "\(r.stderr)")
    }

    @Test func injectedFailuresAreTraced() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-trace-\(UUID().uuidString)").path
        defer { unlink(path) }
        let m = try Mounted(["--trace", path])
        let r = try Harness.run(["sh", "-c", """
            exec 3<>\(m.device); echo "GEM_CREATE ENOMEM" > \(m.dir)/debug/fail_ioctl
            \(Harness.fakedrm) ioctl --fd 3 create 4096; \(Harness.fakedrm) ioctl --fd 3 create 4096
            """])
        #expect(r.stdout == "1\n", "\(r.stdout)\n\(r.stderr)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(" DEBUG fail_ioctl <- GEM_CREATE ENOMEM\n"), "\(text)")
        #expect(text.contains("GEM_CREATE {size=4096} = -1 ENOMEM <"), "\(text)")
        #expect(text.contains("GEM_CREATE {size=4096} = 0 {handle=1, size=4096} <"), "\(text)")
    }

    @Test func unwritableTraceIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-tr-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { rmdir(dir) }
        let r = try Harness.run([Harness.fakedrm, "mount", dir, "--trace", "/nonexistent/dir/trace"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--trace /nonexistent/dir/trace: No such file or directory"), "\(r.stderr)")
    }
}
