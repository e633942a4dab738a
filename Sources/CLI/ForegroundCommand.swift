import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// COMMAND of `fakedrm run`, run the way a shell runs a foreground job: it
/// stays in our process group, so the terminal's Ctrl-C and Ctrl-\ reach it
/// directly, while we outlive it to tear the mounts down. Signals someone
/// sends to us alone (kill) are passed on to it.
enum ForegroundCommand {
    /// The command's pid once spawned; a signal that came before is kept in
    /// `pending` and delivered right after the spawn.
    private static let pid = Atomic<Int32>(0)
    private static let pending = Atomic<Int32>(0)
    static let forwarded: [Int32] = [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2]

    /// Installs the forwarding handlers (before any thread starts, so every
    /// thread shares them). The daemon's threads then never stop on these.
    static func installSignalForwarding() {
        // Initialised here, not lazily inside a handler.
        _ = pid.load(ordering: .relaxed)
        _ = pending.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { sig, info, _ in
            // The terminal signals the whole process group (si_code
            // SI_KERNEL): the command has it already. kill() and sigqueue()
            // give SI_USER (0) or a negative code.
            guard let info, info.pointee.si_code <= 0 else { return }
            let target = ForegroundCommand.pid.load(ordering: .acquiring)
            if target > 0 { kill(target, sig) } else { ForegroundCommand.pending.store(sig, ordering: .releasing) }
        }
        action.sa_flags = SA_SIGINFO | SA_RESTART
        sigemptyset(&action.sa_mask)
        for sig in forwarded { sigaction(sig, &action, nil) }
    }

    /// Spawns `argv` (searched in PATH) with `extraEnvironment` and waits for
    /// it. Returns its exit status, 128+N when signal N ended it, 127 when it
    /// cannot be found and 126 when it cannot be executed, as a shell does.
    static func run(_ argv: [String], extraEnvironment: [(String, String)]) -> Int32 {
        var environment: [String] = []
        var e = environ
        while let entry = e.pointee {
            let s = String(cString: entry)
            if !extraEnvironment.contains(where: { s.hasPrefix($0.0 + "=") }) { environment.append(s) }
            e += 1
        }
        environment += extraEnvironment.map { "\($0.0)=\($0.1)" }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for sig in forwarded + [SIGPIPE] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cargv = argv.map { strdup($0) } + [nil]
        let cenv = environment.map { strdup($0) } + [nil]
        defer { (cargv + cenv).forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, argv[0], nil, &attr, cargv, cenv)
        guard rc == 0 else {
            _ = fail("\(argv[0]): \(String(cString: strerror(rc)))")
            return rc == ENOENT ? 127 : 126
        }
        pid.store(child, ordering: .releasing)
        let early = pending.exchange(0, ordering: .acquiring)
        if early != 0 { kill(child, early) }

        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 {
            guard errno == EINTR else { return 1 }
        }
        pid.store(0, ordering: .releasing)
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
