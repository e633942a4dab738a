import CDrm

/// /sys/class/drm/card0/engine (sysfs_engines.c): each engine's identity
/// files, its tunables (0644) and their defaults in .defaults/ (0444).
/// The daemon serves them under debug/engine; `run` binds that directory
/// into its private sysfs.
extension DrmDevice {
    /// The identity files: read-only.
    public static let engineIdentityFiles = ["name", "class", "instance", "mmio_base"]

    /// An engine's file's text, or nil when there is no such file.
    public func engineFile(_ e: EngineID, _ file: String, defaults: Bool = false) -> String? {
        if let name = EngineProperties.Name(rawValue: file) {
            return String(defaults ? name.initial : engines[e.index].properties[name]) + "\n"
        }
        guard !defaults else { return nil }
        switch file {
        case "name": return e.name + "\n"
        case "class": return String(e.uabiClass) + "\n"
        case "instance": return String(e.instance) + "\n"
        case "mmio_base": return "0x" + String(e.mmioBase, radix: 16) + "\n"
        default: return nil
        }
    }

    /// A write to a tunable (the store methods; EINVAL/ERANGE as kstrtoull
    /// and the bounds give them). Turning the heartbeat off retires the
    /// requests of closed persistent contexts on the engine: without a
    /// heartbeat nothing would ever end them (execlists marks a closed
    /// context exiting when it runs on an engine without heartbeat, and the
    /// pulse intel_engine_set_heartbeat sends preempts it to its reset).
    public func writeEngineFile(_ e: EngineID, _ file: String, _ text: [UInt8]) throws(DrmError) {
        guard let name = EngineProperties.Name(rawValue: file) else { throw DrmError.EACCES }
        let engine = engines[e.index]
        let v = try engine.properties.store(name, text)
        guard name == .heartbeatInterval, v == 0 else { return }
        // A cancelled request stops at its next command, looping or not.
        state.withLock { s in
            for rq in s.gpu.active.values.joined() where rq.engine == e && rq.context.closed && !rq.isDone { rq.cancel(.closed) }
        }
    }

    /// Whether closing a persistent context must still kill its request
    /// `rq`: its engine has no heartbeat to end it.
    func heartbeatless(_ rq: Request) -> Bool {
        engines[rq.engine.index].properties[.heartbeatInterval] == 0
    }
}
