import CDrm
import Foundation
import Testing

/// `fakedrm run -- COMMAND`: the device at /dev/dri in a private mount
/// namespace, the debug tree at /sys/kernel/debug/dri/<minor>, COMMAND's
/// exit status, and nothing left on (or ever shown to) the host.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct RunTests {
    /// `fakedrm run OPTIONS -- sh -c SCRIPT`.
    func run(_ script: String, options: [String] = [], fakedrm: String = Harness.fakedrm) throws -> Harness.Output {
        try Harness.run([fakedrm, "run"] + options + ["--", "sh", "-c", script], timeout: 60)
    }

    /// The host's mounts on /dev/dri and /sys/kernel/debug (and below),
    /// as this test process's namespace sees them.
    static func hostMounts(_ pid: pid_t = getpid()) -> [String] {
        let info = (try? String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").map { $0.split(separator: " ") }.filter { $0.count > 4 }
            .map { String($0[4]) }.filter { $0.hasPrefix("/dev/dri") || $0.hasPrefix("/sys/kernel/debug") }
    }

    static var devListing: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []).sorted() }

    @Test func exitStatusIsTheCommands() throws {
        #expect(try run("exit 0").status == 0)
        #expect(try run("exit 7").status == 7)
        #expect(try run("kill -KILL $$").status == 128 + SIGKILL)
        let missing = try Harness.run([Harness.fakedrm, "run", "--", "/nonexistent/fakedrm-no-such-command"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("No such file or directory"), "\(missing.stderr)")
        let none = try Harness.run([Harness.fakedrm, "run"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("missing COMMAND"), "\(none.stderr)")
    }

    @Test func theDeviceIsDevDriCard0AndTheHostNeverSeesIt() throws {
        #expect(Harness.conformanceBuilt)
        let hadDri = FileManager.default.fileExists(atPath: "/dev/dri")
        let devBefore = Self.devListing, mountsBefore = Self.hostMounts()
        // While COMMAND runs, the host's mount table (this process's) shows
        // nothing new at /dev/dri or /sys/kernel/debug, and ours does.
        let host = "/proc/\(getpid())/mountinfo"
        let r = try run("""
            set -e
            test -e /dev/dri/card0 && test -e /dev/dri/renderD128
            grep ' /dev/dri ' /proc/self/mountinfo | sed 's/.* - /inside: /'
            awk '$5 ~ "^/dev/dri|^/sys/kernel/debug" { print "host:", $5 }' \(host)
            echo x > /dev/null && head -c 4 /dev/zero | wc -c
            \(Harness.conformance("gem_basic")) /dev/dri/card0
            \(Harness.conformance("gem_basic")) /dev/dri/renderD128
            """)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("inside: fuse.fakedrm"), "\(r.stdout)")
        #expect(r.stdout.contains("PASS gem_basic"), "\(r.stdout)")
        // Only what the host had there before (a machine may mount debugfs itself).
        let hostDuring = r.stdout.split(separator: "\n").filter { $0.hasPrefix("host: ") }.map { String($0.dropFirst(6)) }
        #expect(hostDuring == mountsBefore, "the host saw our mounts:\n\(r.stdout)")
        #expect(r.stdout.contains("4\n"), "/dev/zero missing inside:\n\(r.stdout)")
        // Afterwards the host's /dev and mounts are exactly as before.
        #expect(FileManager.default.fileExists(atPath: "/dev/dri") == hadDri)
        #expect(Self.devListing == devBefore)
        #expect(Self.hostMounts() == mountsBefore)
    }

    /// A host that has a /dev/dri (a real GPU's): the namespace covers it,
    /// and the host's entries are untouched afterwards.
    @Test func aHostDevDriIsCoveredNotTouched() throws {
        #expect(Harness.conformanceBuilt)
        // A stand-in host with its own /dev/dri (replacing any the machine
        // has), in a throwaway namespace. Its old /dev is kept in a staging
        // tmpfs: one on /tmp would hide a checkout (and build) under /tmp.
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-host-\(getpid())").path
        try FileManager.default.createDirectory(atPath: stage, withIntermediateDirectories: true)
        defer { rmdir(stage) }
        let r = try Harness.run(["unshare", "-m", "--propagation", "private", "sh", "-c", """
            set -e
            mount -t tmpfs tmpfs \(stage)
            mkdir \(stage)/dev && mount --rbind /dev \(stage)/dev
            mount -t tmpfs -o mode=755 tmpfs /dev
            for e in \(stage)/dev/*; do n=${e##*/}; [ "$n" = dri ] && continue; touch /dev/$n 2>/dev/null && mount --bind $e /dev/$n 2>/dev/null || true; done
            mkdir /dev/dri && echo real > /dev/dri/card0 && echo real > /dev/dri/card1
            \(Harness.fakedrm) run -- sh -c 'ls /dev/dri; \(Harness.conformance("gem_basic")) /dev/dri/card0'
            echo after: $(cat /dev/dri/card0) $(ls /dev/dri)
            """], timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS gem_basic"), "\(r.stdout)")
        #expect(r.stdout.hasPrefix("by-path\ncard0\ndebug\nrenderD128\n"), "host entries visible inside:\n\(r.stdout)")
        #expect(r.stdout.contains("after: real card0 card1"), "\(r.stdout)")
    }

    @Test func debugTreeIsAtSysKernelDebugDri() throws {
        let r = try run("""
            set -e
            test "$(stat -c %d /sys/kernel/debug)" != "$(stat -c %d /sys/kernel)" && echo mountpoint
            cat /sys/kernel/debug/dri/0/name /sys/kernel/debug/dri/128/name
            echo 0x3ff > /sys/kernel/debug/dri/0/i915_gem_drop_caches
            ls /sys/kernel/debug/dri/0
            """)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("mountpoint"))
        #expect(r.stdout.components(separatedBy: "i915 dev=0000:00:02.0").count == 3, "\(r.stdout)")
        #expect(r.stdout.contains("i915_gem_objects"), "\(r.stdout)")
    }

    /// sw_sync where IGT looks for it, in strict mode only: the mount's
    /// timeline file (its fences are fds the preload library makes).
    @Test(arguments: [false, true])
    func swSyncOnlyInStrictMode(strict: Bool) throws {
        let r = try run("stat -c %i /sys/kernel/debug/sync/sw_sync 2>/dev/null || echo none", options: strict ? ["--strict"] : [])
        #expect(r.stdout.contains(strict ? String(FDRM_SW_SYNC_INO) : "none"), "\(r.stdout)\(r.stderr)")
    }

    /// The device's sysfs node and PCI function: libpciaccess finds it in
    /// both modes, libdrm's drmGetDevice2 in strict mode (where the files
    /// stat as 226:N); the aperture option sizes BAR 2; the host's PCI
    /// devices stay visible and its sysfs is untouched.
    @Test(arguments: [false, true])
    func sysfsFindsTheDevice(strict: Bool) throws {
        #expect(Harness.conformanceBuilt)
        let hostSlots = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/pci/devices")) ?? []).sorted()
        let r = try run("""
            set -e
            \(Harness.conformance("sysfs_device")) /dev/dri/card0
            ls /sys/bus/pci/devices
            cat /sys/module/i915/parameters/reset
            echo 1 > /sys/module/i915/parameters/reset && cat /sys/kernel/debug/dri/0/i915_params/reset
            """, options: (strict ? ["--strict"] : []) + ["--aperture-size", "64M"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains(strict ? "drmGetDevices2/drmGetNodeTypeFromFd find" : "PASS sysfs_device"), "\(r.stdout)")
        #expect(r.stdout.contains("BAR 2 64 MiB"), "\(r.stdout)")
        for slot in hostSlots { #expect(r.stdout.contains(slot), "host PCI device \(slot) hidden:\n\(r.stdout)") }
        #expect(r.stdout.contains("3\n1\n"), "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "/sys/dev/char/226:0") || hostHasDrm)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/pci/devices")) ?? []).sorted() == hostSlots)
    }

    let hostHasDrm = FileManager.default.fileExists(atPath: "/sys/class/drm")

    @Test func deviceOptionsPassThrough() throws {
        #expect(Harness.conformanceBuilt)
        let r = try run("\(Harness.conformance("device_info")) /dev/dri/card0; cat /sys/kernel/debug/dri/0/i915_gem_fence_regs",
                        options: ["--chipset-id", "0x1916", "--fences", "0"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.lowercased().contains("0x1916"), "\(r.stdout)")
        #expect(r.stdout.contains("Total fences = 0"), "\(r.stdout)")
        let bad = try run("true", options: ["--aperture-size", "12X"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("not a number"), "\(bad.stderr)")
    }

    /// --trace reaches run's daemon: the trace file, written on the host side,
    /// logs COMMAND's ioctls and faults.
    @Test func traceIsWritten() throws {
        #expect(Harness.conformanceBuilt)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-run-trace-\(getpid())").path
        defer { unlink(path) }
        let r = try run("\(Harness.conformance("gem_basic")) /dev/dri/card0", options: ["--trace", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(text.contains("GEM_CREATE {size=1048576} = 0 {handle=1, size=1048576} <"), "\(text.prefix(2000))")
        #expect(text.contains(" FAULT "), "\(text.prefix(2000))")
    }

    /// --strict preloads the library found beside the executable, ahead of
    /// the caller's LD_PRELOAD, and says so clearly when it is missing.
    @Test func strictSetsThePreload() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-strict-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let copy = dir + "/fakedrm"
        // Copied by cp, not in this process: a write fd of ours that another
        // test's fork inherited would make exec fail with ETXTBSY.
        #expect(try Harness.run(["cp", Harness.fakedrm, copy]).status == 0)

        let missing = try run("true", options: ["--strict"], fakedrm: copy)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("--strict needs \(dir)/libfakedrm-preload.so"), "\(missing.stderr)")

        // Any shared object will do to see where it lands.
        let lib = dir + "/libfakedrm-preload.so"
        #expect(try Harness.run(["cc", "-shared", "-o", lib, "-x", "c", "/dev/null"]).status == 0)
        let set = try Harness.run([copy, "run", "--strict", "--", "sh", "-c", "echo \"$LD_PRELOAD\""],
                                  env: ["LD_PRELOAD": "/usr/lib/nothing-else.so"])
        #expect(set.stdout == "\(lib):/usr/lib/nothing-else.so\n", "\(set.stdout)\(set.stderr)")
        let plain = try run("echo \"[$LD_PRELOAD]\"", fakedrm: copy)
        #expect(plain.stdout == "[]\n")
    }

    /// The real preload, once the strict-mode library is built: the device
    /// files stat as DRM character devices.
    @Test(.enabled(if: FileManager.default.fileExists(
        atPath: URL(fileURLWithPath: Harness.fakedrm).deletingLastPathComponent().appendingPathComponent("libfakedrm-preload.so").path)))
    func strictDeviceIsACharacterDevice() throws {
        let r = try run("[ -c /dev/dri/card0 ] && [ -c /dev/dri/renderD128 ] && echo chr", options: ["--strict"])
        #expect(r.stdout == "chr\n", "\(r.stdout)\(r.stderr)")
        let plain = try run("[ -f /dev/dri/card0 ] && echo reg")
        #expect(plain.stdout == "reg\n", "\(plain.stdout)\(plain.stderr)")
    }

    /// kill(1) of fakedrm reaches COMMAND, and teardown still happens.
    @Test func signalsAreForwarded() throws {
        let r = try Harness.run(["sh", "-c", """
            \(Harness.fakedrm) run -- sh -c 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.05; done' &
            pid=$!
            until grep -q ready /proc/$pid/fd/1 2>/dev/null; do sleep 0.05; done
            kill -TERM $pid
            wait $pid
            echo status $?
            """], timeout: 60)
        #expect(r.stdout.contains("got-term"), "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("status 9"), "\(r.stdout)\(r.stderr)")
    }

    /// Ctrl-C on a terminal reaches COMMAND (once: it is in the terminal's
    /// foreground process group with us), and fakedrm tears down after it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func ctrlCReachesTheCommandOnce() throws {
        let script = #"""
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], [sys.argv[1], "run", "--", "sh", "-c",
                         "n=0; trap 'n=$((n+1))' INT; echo ready; sleep 1 & wait; sleep 1 & wait; echo ints=$n; exit 5"])
            out = b""
            while b"ready" not in out:
                out += os.read(fd, 100)
            os.write(fd, b"\x03")
            while True:
                try:
                    d = os.read(fd, 100)
                except OSError:
                    break
                if not d:
                    break
                out += d
            _, st = os.waitpid(pid, 0)
            print(out.decode().replace("\r", ""), "status", os.waitstatus_to_exitcode(st))
            """#
        let r = try Harness.run(["python3", "-c", script, Harness.fakedrm], timeout: 60)
        #expect(r.stdout.contains("ints=1\n"), "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("status 5"), "\(r.stdout)\(r.stderr)")
    }

    /// A child that drops root keeps using the device fd it opened, as with
    /// a kernel device (IGT's igt_drop_root in gem_ctx_param@non-root-set):
    /// `run` as root mounts with allow_other. Before, FUSE refused uid 65534.
    @Test func droppingRootKeepsTheOpenDevice() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-droproot-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Harness.run(["cp", Harness.fakedrm, dir + "/fakedrm"]).status == 0)
        chmod(dir, 0o755)
        let r = try Harness.run([Harness.fakedrm, "run", "--", "sh", "-c", """
            exec 3<>/dev/dri/renderD128
            setpriv --reuid=65534 --regid=65534 --clear-groups \(dir)/fakedrm ioctl --fd 3 create 4096
            """], timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout == "1\n", "\(r.stdout)\(r.stderr)")
    }

    /// setpriv can drop to nobody, and the kernel lets nobody create a
    /// user namespace.
    static let rootlessPossible: Bool = {
        (try? Harness.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-U", "true"]).status) == 0
    }()

    /// Rootless: an unprivileged user runs fakedrm run in a user namespace.
    /// Its /dev/fuse must be usable by that user: a throwaway namespace
    /// here covers the host's (root-only) node with a 0666 one.
    @Test(.enabled(if: rootlessPossible, "no unprivileged user namespaces here"))
    func worksRootless() throws {
        #expect(Harness.conformanceBuilt)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-rootless-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // cp, not FileManager: a write fd open in this process would be
        // inherited by another test's fork and make the exec ETXTBSY.
        for f in [Harness.fakedrm, Harness.conformance("gem_basic")] {
            #expect(try Harness.run(["cp", f, dir + "/" + URL(fileURLWithPath: f).lastPathComponent]).status == 0)
        }
        chmod(dir, 0o755)
        let r = try Harness.run(["unshare", "-m", "--propagation", "private", "sh", "-c", """
            set -e
            mkdir \(dir)/node && mount -t tmpfs tmpfs \(dir)/node
            mknod -m 666 \(dir)/node/fuse c 10 229 && mount --bind \(dir)/node/fuse /dev/fuse
            cd / && setpriv --reuid=65534 --regid=65534 --clear-groups \(dir)/fakedrm run -- sh -c \
                'id -u; cat /sys/kernel/debug/dri/0/name; \(dir)/gem_basic /dev/dri/card0'
            """], timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("0\ni915 dev="), "\(r.stdout)")
        #expect(r.stdout.contains("PASS gem_basic"), "\(r.stdout)\(r.stderr)")
    }
}
