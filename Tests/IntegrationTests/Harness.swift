import Foundation
import Synchronization
import Testing

/// Runs the real `fakedrm` binary and the C programs against live mounts.
enum Harness {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `fakedrm` built beside this test binary (same build folder).
    static let fakedrm: String = {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let p = exe.deletingLastPathComponent().appendingPathComponent("fakedrm").path
        precondition(FileManager.default.isExecutableFile(atPath: p), "no fakedrm beside \(exe.path): run swift build first")
        return p
    }()

    /// FUSE needs /dev/fuse and the right to mount (root in CI).
    static var canMount: Bool {
        access("/dev/fuse", R_OK | W_OK) == 0 && geteuid() == 0
            && FileManager.default.isExecutableFile(atPath: "/bin/fusermount3")
    }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs a command to completion, killing it after `timeout` seconds.
    /// posix_spawn with output to files: a daemonizing child keeps no pipe
    /// open, and the wait is ours, not a run loop's.
    @discardableResult
    static func run(_ argv: [String], timeout: Double = 120, env: [String: String] = [:]) throws -> Output {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-run-\(UUID().uuidString)").path
        defer { unlink(base + ".out"); unlink(base + ".err") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var environment = ProcessInfo.processInfo.environment
        environment.merge(env) { $1 }
        let cargv = (["/usr/bin/env"] + argv).map { strdup($0) } + [nil]
        let cenv = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { (cargv + cenv).forEach { free($0) } }
        // A clean signal mask and dispositions: test threads block signals.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attr, cargv, cenv)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(5_000)
        }
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        return Output(status: exit, stdout: out, stderr: err)
    }

    /// Builds the C conformance programs (and examples/) once per test process.
    static let conformanceBuilt: Bool = {
        ["conformance", "examples"].allSatisfy {
            (try? run(["make", "-s", "-C", root.appendingPathComponent($0).path]).status) == 0
        }
    }()

    static func conformance(_ name: String) -> String {
        root.appendingPathComponent("conformance/build/\(name)").path
    }

    /// One of the short programs in examples/ (built with the suite).
    static func example(_ name: String) -> String {
        root.appendingPathComponent("examples/build/\(name)").path
    }
}

/// A live mount of a fresh daemon in a temporary directory. Suites keep
/// some in statics, which are never deinitialized: every mount is also
/// registered and detached when the test process exits.
final class Mounted: Sendable {
    let dir: String
    var device: String { dir + "/card0" }

    private static let live = Mutex<Set<String>>([])
    private static let exitHook: Void = { atexit { Mounted.detachAll() } }()

    private static func detachAll() {
        for dir in live.withLock({ $0 }) {
            umount2(dir, Int32(MNT_DETACH))
            rmdir(dir)
        }
    }

    init(_ extra: [String] = []) throws(MountFailure) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-\(UUID().uuidString.prefix(8))").path
        self.dir = dir
        Self.exitHook
        _ = Self.live.withLock { $0.insert(dir) }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let r = try Harness.run([Harness.fakedrm, "mount", dir] + extra, timeout: 30)
            guard r.status == 0 else { throw MountFailure(message: r.stderr) }
        } catch let e as MountFailure {
            throw e
        } catch {
            throw MountFailure(message: "\(error)")
        }
        var st = stat()
        connection = stat(dir, &st) == 0 ? UInt32((st.st_dev & 0xff) | ((st.st_dev >> 12) & 0xfff00)) : nil
    }

    /// The daemon serving this mount, found by its command line.
    var daemonPID: pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for e in entries {
            guard let pid = pid_t(e), let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(e)/cmdline")) else { continue }
            let args = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.count >= 3, args[1] == "mount", args[2] == dir, args[0].hasSuffix("fakedrm") { return pid }
        }
        return nil
    }

    /// The daemon's watchdog, waiting up to 2 s for it: the daemon forks it
    /// once the loop starts, just after `mount` returned.
    var watchdogPID: pid_t? {
        for _ in 0..<200 {
            if let pid = watchdogNow { return pid }
            usleep(10_000)
        }
        return nil
    }

    /// The daemon's watchdog (a child named fakedrm-watchdog), if any.
    private var watchdogNow: pid_t? {
        guard let daemon = daemonPID, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for e in entries {
            guard let pid = pid_t(e), let cmd = try? String(contentsOfFile: "/proc/\(e)/cmdline", encoding: .utf8),
                  cmd.hasPrefix("fakedrm-watchdog"),
                  let st = try? String(contentsOfFile: "/proc/\(e)/stat", encoding: .utf8),
                  let close = st.lastIndex(of: ")") else { continue }
            let fields = st[st.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == daemon { return pid }
        }
        return nil
    }

    /// The FUSE connection's number (the mount's device minor), read at
    /// mount time: a hung mount cannot be asked.
    let connection: UInt32?

    /// Ends every request of this mount's connection (fusectl abort) and
    /// detaches it: the way out of a hang, so a regression fails instead of
    /// hanging the suite and the machine.
    func abortConnection() {
        if let c = connection, let fd = Optional(open("/sys/fs/fuse/connections/\(c)/abort", O_WRONLY)), fd >= 0 {
            _ = write(fd, "1", 1)
            close(fd)
        }
        umount2(dir, Int32(MNT_DETACH))
    }

    /// Resident set of the daemon in KiB.
    var daemonRSS: Int? {
        guard let pid = daemonPID, let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = s.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ")[1]) }
    }

    /// A mount point has another device than its parent; a FUSE mount whose
    /// daemon died answers ENOTCONN, and is still mounted.
    var isMounted: Bool {
        var here = stat(), parent = stat()
        guard stat(dir, &here) == 0 else { return errno == ENOTCONN }
        guard stat(dir + "/..", &parent) == 0 else { return false }
        return here.st_dev != parent.st_dev
    }

    deinit {
        _ = Self.live.withLock { $0.remove(dir) }
        if isMounted { _ = try? Harness.run(["fusermount3", "-u", dir], timeout: 10) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    struct MountFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { "fakedrm mount failed: \(message)" }
    }
}
