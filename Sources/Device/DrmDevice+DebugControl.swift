/// The debug tree's control files, written and read back: the parsing of
/// what a writer says and the text of what is armed. Transport only moves
/// the bytes (Transport/DebugFiles.swift); the read-only listings are
/// DrmDevice+Debug.swift's.
extension DrmDevice {
    /// A write to a control file; false (EINVAL for the writer) when the
    /// text does not parse or the file takes no write. i915_wedged resets as
    /// the `reset` parameter allows (i915_wedged_set is given an engine
    /// mask; 0 does nothing), i915_gem_drop_caches takes DROP_* bits (and
    /// may wait for the GPU to idle: EINTR when `interruption` fires), the
    /// fault-injection files arm failures.
    public func writeDebug(_ file: DebugFile, _ text: String, interruption: Interruption? = nil) throws(DrmError) {
        if file.isInjection {
            guard configureInjection(file, text) else { throw DrmError.EINVAL }
            return
        }
        // i915_gpu_error_write / error_state_write: any write clears it.
        if file == .gpuError {
            state.withLock { $0.gpu.errorState = nil }
            return
        }
        let t = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? ""
        let value = t.lowercased().hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
        guard let value else { throw DrmError.EINVAL }
        switch file {
        case .wedged: handleError(engineMask: value)
        case .dropCaches:
            if value & (DropCaches.active | DropCaches.idle | DropCaches.resetActive) != 0 { try waitForIdle(interruption) }
            dropCaches(value)
        default: throw DrmError.EINVAL
        }
    }

    /// Applies a write to a fault-injection control file; false (EINVAL for
    /// the writer) when the text does not parse.
    public func configureInjection(_ file: DebugFile, _ text: String) -> Bool {
        let lines = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .filter { !$0.isEmpty }
        switch file {
        case .failFaults, .exhaustAperture, .exhaustFences:
            guard lines.count == 1, lines[0].count == 1, let n = Int(lines[0][0]), n >= 0 else { return false }
            if file == .failFaults { injection.failFaults(n) } else if file == .exhaustAperture { exhaustAperture(n != 0) } else { exhaustFences(n != 0) }
            return true
        case .failIoctl:
            // Parse every line before arming any.
            var parsed: [(UInt32, Int32, Int)?] = []
            for words in lines {
                if words == ["clear"] || words == ["0"] {
                    parsed.append(nil)
                    continue
                }
                guard (2...3).contains(words.count), let nr = IoctlNames.nr(named: words[0]),
                      let err = DrmError(named: words[1]) else { return false }
                let count = words.count == 3 ? Int(words[2]) : 1
                guard let count, count >= 0 else { return false }
                parsed.append((nr, err.errno, count))
            }
            for p in parsed {
                if let (nr, errno, count) = p { injection.failIoctl(nr: nr, errno: errno, count: count) } else { injection.clearIoctls() }
            }
            return true
        default:
            return false
        }
    }

    /// What a fault-injection control file reads: what is armed.
    func injectionText(_ file: DebugFile) -> String {
        let (aperture, fences) = exhaustion
        switch file {
        case .failFaults:
            let n = injection.faultsToFail
            return n == 0 ? "0\n" : "\(n) (the next \(n) faults fail: SIGBUS)\n"
        case .failIoctl:
            // One armed rule a line, as written: "GEM_CREATE ENOMEM 2".
            return injection.armedIoctls.map { nr, errno, count in
                "\(IoctlNames.name(nr: nr) ?? "0x" + String(nr, radix: 16)) \(DrmError.name(of: errno)) \(count)\n"
            }.joined()
        case .exhaustAperture:
            return aperture ? "1 (no free space, nothing evictable: faults needing a new binding retry, then SIGBUS)\n" : "0\n"
        case .exhaustFences:
            return fences ? "1 (every fence pinned: tiled GTT faults needing a fence retry, then SIGBUS)\n" : "0\n"
        default: return ""
        }
    }
}
