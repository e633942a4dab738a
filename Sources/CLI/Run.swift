import CDrm
import ArgumentParser
import FakeDRMTransport
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run COMMAND with an emulated i915 device as /dev/dri/card0, in a private mount namespace.",
        discussion: """
            Starts a daemon in this process and runs COMMAND in a private mount \
            namespace where /dev/dri holds the device's card0 and renderD128 and \
            /sys/kernel/debug/dri/0 (and /128) is its debug tree. The device has a \
            sysfs presence there too: a PCI function 0000:00:02.0 bound to i915, \
            /sys/class/drm/card0, /sys/dev/char/226:N and /sys/module/i915/parameters \
            (the debug tree's i915_params). Nothing is mounted \
            or created in the host's namespace: the host's /dev/dri is never touched, \
            and everything goes away with COMMAND. Exits with COMMAND's status \
            (128+N when signal N ended it).

            Run as root, other users inside the namespace may use the device as on \
            a kernel with udev's modes (--allow-other is implied: nobody outside can \
            reach this mount anyway), so a child that drops root keeps its open \
            device working.

            As root this needs only FUSE. A non-root user gets a user namespace in \
            which it is root: that needs unprivileged user namespaces, Linux 4.18+ \
            for FUSE in them, and read/write access to /dev/fuse.

            Examples:
              fakedrm run -- ls -l /dev/dri /sys/kernel/debug/dri/0
              fakedrm run --strict --fences 4 -- \\
                  /usr/libexec/igt-gpu-tools/benchmarks/gem_create -s 4096 -r 1
            """)

    @Flag(help: "Strict mode: preload libfakedrm-preload.so into COMMAND (kernel-exact mmap errnos; the device files stat as character devices 226:N).")
    var strict = false

    @OptionGroup var device: DeviceOptions

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("missing COMMAND: fakedrm run [options] -- COMMAND [ARG...]") }
    }

    func run() throws {
        let root = geteuid() == 0
        let preload = strict ? try Self.preloadLibrary() : nil
        // Before any thread exists: unshare(CLONE_NEWUSER) refuses threaded
        // callers, and every thread must share the handlers.
        ForegroundCommand.installSignalForwarding()
        try PrivateMounts.enter()
        try PrivateMounts.makeDevDri()

        // allow_other (as root): the mount lives in this private namespace
        // only, and a child that drops root (IGT's igt_drop_root) must keep
        // using the fds it opened, as with a kernel device; the nodes get
        // udev's modes. A rootless run's namespace maps one user only.
        var options = device
        if root { options.allowOther = true }
        let server = try options.mountServer(at: PrivateMounts.devDri)
        let loop = Self.serve(server)
        // The binds look the debug directory up: the daemon must be serving.
        PrivateMounts.mountDebugTree(PrivateMounts.devDri + "/debug")
        if strict { PrivateMounts.mountSwSync(PrivateMounts.devDri + "/" + FAKEDRM_SW_SYNC_NAME) }
        var sysfs = FakeSysfs(profile: device.profile, debug: PrivateMounts.devDri + "/debug")
        sysfs.build()

        let status = ForegroundCommand.run(command, extraEnvironment: preload.map { [("LD_PRELOAD", $0)] } ?? [])

        PrivateMounts.unmountDebugTree()
        FakeSysfs.unmount()
        server.exit()
        pthread_join(loop, nil)
        throw ExitCode(status)
    }

    /// The daemon's loop on a thread of its own; it unmounts /dev/dri when
    /// `exit()` ends it. Signals stay ours (ForegroundCommand's handlers).
    static func serve(_ server: FuseServer) -> pthread_t {
        var thread = pthread_t()
        let arg = Unmanaged.passRetained(server).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let server = Unmanaged<FuseServer>.fromOpaque(arg!).takeRetainedValue()
            _ = server.run(handlingSignals: false)
            return nil
        }, arg)
        precondition(rc == 0, "pthread_create: \(rc)")
        return thread
    }

    /// libfakedrm-preload.so, built beside this executable; an existing
    /// LD_PRELOAD of the caller's is kept after it.
    static func preloadLibrary() throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { throw fail("cannot find this executable: \(String(cString: strerror(errno)))") }
        let exe = String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let lib = String(exe[..<(exe.lastIndex(of: "/") ?? exe.startIndex)]) + "/libfakedrm-preload.so"
        guard access(lib, R_OK) == 0 else {
            throw fail("--strict needs \(lib), which is missing: it is built beside fakedrm by `swift build` (the strict-mode preload library)")
        }
        if let old = getenv("LD_PRELOAD"), old.pointee != 0 { return lib + ":" + String(cString: old) }
        return lib
    }
}
