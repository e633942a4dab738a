import FakeDRMDevice
import Synchronization

/// Open debug files: each open reads a snapshot taken at open time, as
/// seq_file does; writes act on the device. Their file handles live above
/// 2^63, apart from drm_file ids.
final class DebugFiles: Sendable {
    private let open = Mutex<[UInt64: [UInt8]]>([:])
    private let next = Atomic<UInt64>(1 << 63)

    func open(_ file: DrmDevice.DebugFile, on device: DrmDevice) -> UInt64 {
        open(text: device.debugText(file))
    }

    /// An open file reading `text`.
    func open(text: String) -> UInt64 {
        let fh = next.add(1, ordering: .relaxed).newValue
        open.withLock { $0[fh] = Array(text.utf8) }
        return fh
    }

    static func isDebug(_ fh: UInt64) -> Bool { fh >= 1 << 63 }

    /// Up to `size` bytes of the snapshot from `offset`.
    func read(_ fh: UInt64, offset: Int, size: Int) -> [UInt8] {
        open.withLock { files in
            guard let text = files[fh], offset < text.count else { return [] }
            return Array(text[offset..<min(text.count, offset + size)])
        }
    }

    func release(_ fh: UInt64) { _ = open.withLock { $0.removeValue(forKey: fh) } }

    /// A write to a control file: i915_wedged resets as the `reset`
    /// parameter allows (i915_wedged_set is given an engine mask; 0 does
    /// nothing), i915_gem_drop_caches takes
    /// DROP_* bits. Returns false for text that is no number.
    static func write(_ text: String, to file: DrmDevice.DebugFile, on device: DrmDevice) -> Bool {
        if file.isInjection { return device.configureInjection(file, text) }
        let t = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? ""
        let value = t.lowercased().hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
        guard let value else { return false }
        switch file {
        case .wedged: device.handleError(engineMask: value)
        case .dropCaches: device.dropCaches(value)
        default: return false
        }
        return true
    }
}
