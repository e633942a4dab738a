import Foundation
import Testing

/// `mount --trace FILE` against real clients: ioctls, faults, writebacks.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct TraceMountTests {
    @Test func traceShowsIoctlsFaultsAndErrors() throws {
        #expect(Harness.examplesBuilt)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-trace-\(UUID().uuidString)").path
        defer { unlink(path) }
        let m = try Mounted(["--trace", path])
        #expect(try Harness.run([Harness.example("gem_basic"), m.device]).status == 0)
        #expect(try Harness.run([Harness.example("errno_table"), m.device]).status == 0)
        #expect(try Harness.run([Harness.example("gtt_concurrent"), m.device]).status == 0)
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
