import FakeDRMDevice
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `--trace FILE`: one line per ioctl, fault, writeback and revocation, like
/// strace for the device. Each line is formatted by its own thread and
/// written whole with one write(2) under a lock, so lines never interleave
/// and nothing is queued: memory stays bounded however fast events come.
/// Off, it costs its callers one nil check.
public final class Trace: Sendable {
    private let fd: Mutex<Int32>

    /// Creates or truncates `path`.
    public init(path: String) throws(TraceOpenError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TraceOpenError(path: path, errno: errno) }
        self.fd = Mutex(fd)
    }

    deinit { fd.withLock { _ = close($0) } }

    /// Nanoseconds on the monotonic clock, for durations.
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Writes `time file=F pid=P event = result <duration>`.
    public func record(file: UInt64, pid: Int32, _ event: String, errno: Int32, result: String = "",
                       since start: UInt64) {
        let took = Self.now() &- start
        var line = Self.wallClock() + " file=\(file) pid=\(pid) " + event
        line += errno == 0 ? " = 0" : " = -1 " + DrmError.name(of: errno)
        if !result.isEmpty { line += " " + result }
        line += " <" + Self.seconds(took) + ">\n"
        write(line)
    }

    /// A line without a caller (revocations run on the daemon's own thread).
    public func note(_ event: String) { write(Self.wallClock() + " " + event + "\n") }

    private func write(_ line: String) {
        var bytes = Array(line.utf8)
        fd.withLock { fd in
            var done = 0
            while done < bytes.count {
                let n = bytes[done...].withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return } // a full disk loses lines, never the daemon
                done += n
            }
        }
        bytes.removeAll()
    }

    /// HH:MM:SS.uuuuuu, UTC.
    static func wallClock() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = tm()
        var secs = ts.tv_sec
        gmtime_r(&secs, &t)
        return two(t.tm_hour) + ":" + two(t.tm_min) + ":" + two(t.tm_sec) + "." + digits(Int(ts.tv_nsec) / 1000, 6)
    }

    static func seconds(_ ns: UInt64) -> String { "\(ns / 1_000_000_000)." + digits(Int(ns % 1_000_000_000) / 1000, 6) }
    private static func two(_ v: Int32) -> String { digits(Int(v), 2) }
    private static func digits(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
}

/// A trace file that cannot be opened.
public struct TraceOpenError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}

/// `--trace-commands`: the engines' lines go to the same file, whole.
extension Trace: CommandTraceSink {
    public func commandTrace(_ line: String) { note(line) }
}
