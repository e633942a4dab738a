#if canImport(Glibc)
import Glibc
#endif

/// errno names as strace prints them, both ways: traces, CLI messages and
/// the fault-injection control files speak "ENOMEM", not 12.
/// Outside DrmError, whose static members shadow the Glibc constants.
private let errnoNames: [(Int32, String)] = [
    (EPERM, "EPERM"), (ENOENT, "ENOENT"), (ESRCH, "ESRCH"), (EINTR, "EINTR"), (EIO, "EIO"),
    (ENXIO, "ENXIO"), (E2BIG, "E2BIG"), (EBADF, "EBADF"), (EAGAIN, "EAGAIN"), (ENOMEM, "ENOMEM"),
    (EACCES, "EACCES"), (EFAULT, "EFAULT"), (EBUSY, "EBUSY"), (EEXIST, "EEXIST"), (EXDEV, "EXDEV"),
    (ENODEV, "ENODEV"), (ENOTDIR, "ENOTDIR"), (EISDIR, "EISDIR"), (EINVAL, "EINVAL"), (ENFILE, "ENFILE"),
    (EMFILE, "EMFILE"), (ENOTTY, "ENOTTY"), (EFBIG, "EFBIG"), (ENOSPC, "ENOSPC"), (ESPIPE, "ESPIPE"),
    (EROFS, "EROFS"), (ERANGE, "ERANGE"), (EDEADLK, "EDEADLK"), (ENOSYS, "ENOSYS"), (ENODATA, "ENODATA"),
    (ETIME, "ETIME"), (EOVERFLOW, "EOVERFLOW"), (EOPNOTSUPP, "EOPNOTSUPP"), (ENOBUFS, "ENOBUFS"),
    (ETIMEDOUT, "ETIMEDOUT"), (ECANCELED, "ECANCELED"), (ENOTCONN, "ENOTCONN"), (EMSGSIZE, "EMSGSIZE"),
]

extension DrmError {
    static var names: [(Int32, String)] { errnoNames }


    /// "ENOMEM" for 12; "E123" for a number without a name.
    public static func name(of errno: Int32) -> String {
        names.first { $0.0 == errno }?.1 ?? "E\(errno)"
    }

    public var name: String { Self.name(of: errno) }

    /// The largest errno userspace can see: EHWPOISON (uapi asm-generic/errno.h).
    /// 512 and up (ERESTARTSYS, EPROBE_DEFER, ENOTSUPP...) are kernel-internal
    /// (include/linux/errno.h) and never reach a system call's caller.
    public static let maxUserErrno: Int32 = 133

    /// An errno from "ENOMEM", "enomem" or "12"; nil for what no system call
    /// can return (0, negative, past EHWPOISON).
    public init?(named text: String) {
        if let n = Int32(text), n > 0, n <= Self.maxUserErrno {
            self.init(n)
            return
        }
        guard let e = Self.names.first(where: { $0.1 == text.uppercased() }) else { return nil }
        self.init(e.0)
    }
}
