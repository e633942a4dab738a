#if canImport(Glibc)
import Glibc
#endif

/// The bytes of one fault, decided under the device lock and moved after it.
///
/// A 128 KiB READ is mostly copying; done under the lock, every faulting
/// client's copy waited for every other's, and faults stopped scaling past
/// two clients. The lock decides where each run of the reply comes from (a
/// place in an object's backing, or zeros); the copies then run unlocked,
/// in parallel. The backings named are retained until then, so an object
/// freed meanwhile keeps its memory (Backing frees in deinit) and no other
/// object can be given it. A store racing the copy is the client's race, as
/// on hardware; a coherency point racing it still revokes after the reply,
/// because the kernel keeps the pages of a READ locked until it is answered
/// and invalidation waits for them.
struct FaultCopies {
    private struct Run {
        var source: UnsafeRawPointer?   // nil: zeros
        var at: Int                     // offset in the reply
        var count: Int
    }
    private var runs: [Run] = []
    private var keep: [Backing] = []
    private let buffer: UnsafeMutableRawBufferPointer

    init(into buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        runs.reserveCapacity(4)
    }

    /// A copy made at once, under the lock: a tiled page is runs of 512
    /// (X) or 16 (Y) bytes, not worth a record each.
    func copyNow(_ source: UnsafeRawPointer, at: Int, count: Int) {
        (buffer.baseAddress! + at).copyMemory(from: source, byteCount: count)
    }

    /// `count` bytes of the reply at `at` come from `source` in `backing`
    /// (nil: zeros). A run continuing the previous one extends it.
    mutating func add(_ source: UnsafeRawPointer?, of backing: Backing, at: Int, count: Int) {
        if keep.last !== backing { keep.append(backing) }
        if var last = runs.last, last.at + last.count == at,
           source == nil ? last.source == nil : last.source.map({ $0 + last.count }) == source {
            last.count += count
            runs[runs.count - 1] = last
            return
        }
        runs.append(Run(source: source, at: at, count: count))
    }

    /// Zeros with no object behind them (guard gaps).
    mutating func zeros(at: Int, count: Int) {
        if var last = runs.last, last.source == nil, last.at + last.count == at {
            last.count += count
            runs[runs.count - 1] = last
            return
        }
        runs.append(Run(source: nil, at: at, count: count))
    }

    /// Does the copies into the reply (after the lock is released).
    func perform() {
        for r in runs {
            let out = buffer.baseAddress! + r.at
            if let s = r.source { out.copyMemory(from: s, byteCount: r.count) } else { memset(out, 0, r.count) }
        }
        withExtendedLifetime(keep) {}
    }
}
