import ArgumentParser
import CDrm
import FakeDRMDevice
#if canImport(Glibc)
import Glibc
#endif

/// `fakedrm ioctl --fd N SUBCOMMAND`: one ioctl on an open file the shell
/// holds. Handles belong to that open file (its drm_file), so they outlive
/// this process and serve the next invocation on the same descriptor.
struct Ioctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue one ioctl on a device file the calling shell holds open.",
        discussion: """
            The shell opens the device once and every invocation acts on that open \
            file, as one process would: handles created by one invocation serve the \
            next. Output is bare numbers (or --json); failures print \
            `fakedrm ioctl: IOCTL: message (ERRNO)` and exit 1. Reads of the \
            descriptor at an offset from mmap-offset are served like page faults.

            Example:
              exec 3<>/tmp/dri/card0
              h=$(fakedrm ioctl --fd 3 create 4096)
              printf 'hello' | fakedrm ioctl --fd 3 pwrite $h
              off=$(fakedrm ioctl --fd 3 mmap-offset $h)
              xxd -s $off -l 16 <&3          # the object through fd 3
              fakedrm ioctl --fd 3 pread $h --length 5
              exec 3<&-
            """,
        subcommands: [IoctlCreate.self, IoctlMmapOffset.self, IoctlFlink.self, IoctlOpen.self, IoctlClose.self,
                      IoctlSetTiling.self, IoctlGetTiling.self, IoctlPread.self, IoctlPwrite.self,
                      IoctlReadonly.self, IoctlSetDomain.self, IoctlGetParam.self, IoctlVersion.self,
                      IoctlReset.self, IoctlSeek.self])

    @Option(help: ArgumentHelp("An open file of the device the shell holds (exec 3<>MOUNT/card0).", valueName: "n"))
    var fd: Int32

    @Flag(help: "Print results as a JSON object.")
    var json = false

    /// Issues `cmd` on the descriptor with `arg` as its struct; failures
    /// become the message and exit status a script expects.
    func call<T: BitwiseCopyable>(_ name: String, _ cmd: UInt32, _ arg: inout T) throws {
        let failed = withUnsafeMutableBytes(of: &arg) { a in
            // EINTR only: drmIoctl's EAGAIN retry would hide an injected EAGAIN.
            while Glibc.ioctl(fd, UInt(cmd), a.baseAddress!) != 0 {
                if errno != EINTR { return errno }
            }
            return 0
        }
        if failed != 0 { throw ioctlFailure(name, failed) }
    }

    /// Prints one result: bare values separated by spaces, or JSON.
    /// Strings are quoted in JSON, numbers are not.
    func emit(_ fields: KeyValuePairs<String, any CustomStringConvertible>) {
        let line = json
            ? "{" + fields.map { "\"\($0.key)\": " + ($0.value is String ? "\"\($0.value)\"" : "\($0.value)") }.joined(separator: ", ") + "}"
            : fields.map(\.value.description).joined(separator: " ")
        writeAll(1, Array((line + "\n").utf8))
    }
}

/// `fakedrm ioctl: NAME: message (ENAME)` on stderr, exit status 1.
func ioctlFailure(_ name: String, _ err: Int32) -> ExitCode {
    var line = Array("fakedrm ioctl: \(name): \(String(cString: strerror(err))) (\(DrmError.name(of: err)))\n".utf8)
    _ = write(2, &line, line.count)
    return ExitCode(1)
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
        let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        done += n
    }
}

/// A handle argument: a GEM handle in the shell's open file.
typealias Handle = UInt32
