import Foundation
import Testing

/// `fakedrm ioctl --fd N` from a shell holding the device open, and the
/// recipe of docs/usage.md (conformance/shell_poke.sh) run as written.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct ShellPokeTests {
    static let script = Harness.root.appendingPathComponent("conformance/shell_poke.sh").path

    /// Runs a shell snippet with fd 3 open on the device; `$F` is fakedrm.
    func shell(_ m: Mounted, _ body: String) throws -> Harness.Output {
        try Harness.run(["sh", "-c", "exec 3<>\(m.device); F=\(Harness.fakedrm)\n" + body], timeout: 60)
    }

    @Test func recipeRunsAsTheReadmeShowsIt() throws {
        let m = try Mounted()
        let r = try Harness.run(["sh", Self.script, m.device], timeout: 120, env: ["FAKEDRM": Harness.fakedrm])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        for line in ["handle 1", "x 1024 none", "x none", "flink name 1", "second open: handle 1 size 8192",
                     "second open reading the node: refused",
                     "fakedrm ioctl: GEM_PWRITE: Invalid argument (EINVAL)",
                     "fakedrm ioctl: GEM_CLOSE: Invalid argument (EINVAL)", "PASS shell_poke:"] {
            #expect(r.stdout.contains(line), "missing '\(line)' in:\n\(r.stdout)")
        }
        #expect(r.stdout.contains("hello from the s"), "xxd line missing:\n\(r.stdout)")
        // Closing both opens let every object go.
        let objects = try String(contentsOfFile: m.dir + "/debug/i915_gem_objects", encoding: .utf8)
        #expect(objects.hasPrefix("0 objects"), "\(objects)")
    }

    @Test func handlesLiveAcrossInvocationsOnOneOpenFile() throws {
        let m = try Mounted()
        let r = try shell(m, """
            a=$($F ioctl --fd 3 create 4096); b=$($F ioctl --fd 3 create 1)
            echo "$a $b"
            $F ioctl --fd 3 --json create 5000
            $F ioctl --fd 3 --json mmap-offset $a --type wb
            $F ioctl --fd 3 getparam NUM_FENCES_AVAIL
            $F ioctl --fd 3 version
            printf abc | $F ioctl --fd 3 pwrite $b --offset 4093; $F ioctl --fd 3 pread $b | od -An -c | tail -n 2
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "1 2")
        #expect(lines.count > 4 && lines[1] == "{\"handle\": 3, \"size\": 8192}", "\(r.stdout)")
        #expect(lines.count > 4 && lines[2].hasPrefix("{\"offset\": "), "\(r.stdout)")
        #expect(lines.count > 4 && lines[3] == "32")
        #expect(lines.count > 4 && lines[4] == "i915 1.6.0 20230929 Intel Graphics")
        // pread without --length reads the whole 4096-byte object: abc at its end.
        #expect(r.stdout.contains("a   b   c"), "\(r.stdout)")
    }

    @Test func errorsNameTheIoctlAndErrno() throws {
        let m = try Mounted()
        let r = try shell(m, "$F ioctl --fd 3 close 7; echo rc=$?; $F ioctl --fd 250 create 4096; echo rc=$?; "
                            + "$F ioctl --fd 3 open 42; echo rc=$?; $F ioctl --fd 3 set-tiling 1 x 100; echo rc=$?")
        #expect(r.stdout == "rc=1\nrc=1\nrc=1\nrc=1\n", "\(r.stdout)")
        #expect(r.stderr.contains("fakedrm ioctl: GEM_CLOSE: Invalid argument (EINVAL)\n"), "\(r.stderr)")
        #expect(r.stderr.contains("fakedrm ioctl: GEM_CREATE: Bad file descriptor (EBADF)\n"), "\(r.stderr)")
        #expect(r.stderr.contains("fakedrm ioctl: GEM_OPEN: No such file or directory (ENOENT)\n"), "\(r.stderr)")
        #expect(r.stderr.contains("fakedrm ioctl: GEM_SET_TILING: No such file or directory (ENOENT)\n"), "\(r.stderr)")
    }

    @Test func helpShowsAnExample() throws {
        let r = try Harness.run([Harness.fakedrm, "ioctl", "--help"])
        #expect(r.status == 0)
        for s in ["exec 3<>", "mmap-offset", "xxd -s", "pwrite", "readonly", "set-tiling", "flink", "open"] {
            #expect(r.stdout.contains(s), "missing \(s) in:\n\(r.stdout)")
        }
    }

    /// write(2) through the open at a readonly node is refused (no hang:
    /// its pages stay locked until the answer, so nothing may be stored in them).
    @Test func writesThroughTheFileAreWritebacks() throws {
        let m = try Mounted()
        let r = try shell(m, """
            h=$($F ioctl --fd 3 create 4096); off=$($F ioctl --fd 3 mmap-offset $h)
            $F ioctl --fd 3 seek $off; printf 'stored' >&3
            $F ioctl --fd 3 pread $h --length 6; echo
            $F ioctl --fd 3 readonly $h
            $F ioctl --fd 3 seek $off; printf 'X' >&3 && echo accepted || echo refused
            $F ioctl --fd 3 pread $h --length 6; echo
            """)
        #expect(r.stdout == "stored\nrefused\nstored\n", "\(r.stdout)\n\(r.stderr)")
    }
}
