import CFuse

/// debug/fakedrm_pool: the session loop's reader pool (CFuse/shim.c), for
/// people asking why a load runs as it does. No i915 counterpart; the
/// text is taken at open, like a module parameter's.
enum ReaderPoolFile {
    static let name = "fakedrm_pool"

    static func text() -> String {
        var s = cfuse_pool_stats()
        guard cfuse_pool_stats(&s) == 0 else { return "no session loop\n" }
        return """
            readers: \(s.readers) (idle \(s.idle), parked \(s.parked), in an ioctl \(s.in_ioctl))
            ioctl threads: \(s.ioctl_threads) (queued \(s.queued))
            requests: \(s.requests)
            manager kicks: \(s.kicks)
            manager looks: \(s.looks)

            """
    }
}
