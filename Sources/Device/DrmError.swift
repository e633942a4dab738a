#if canImport(Glibc)
import Glibc
#endif

/// A kernel errno, the one result every rule in the model produces on failure.
/// The transport hands `errno` to the client unchanged.
public struct DrmError: Error, Equatable, CustomStringConvertible {
    public let errno: Int32
    public init(_ errno: Int32) { self.errno = errno }

    public static let EPERM = DrmError(Glibc.EPERM)
    public static let ENOENT = DrmError(Glibc.ENOENT)
    public static let EIO = DrmError(Glibc.EIO)
    public static let E2BIG = DrmError(Glibc.E2BIG)
    public static let ENOMEM = DrmError(Glibc.ENOMEM)
    public static let EACCES = DrmError(Glibc.EACCES)
    public static let EFAULT = DrmError(Glibc.EFAULT)
    public static let EBUSY = DrmError(Glibc.EBUSY)
    public static let ENODEV = DrmError(Glibc.ENODEV)
    public static let EINVAL = DrmError(Glibc.EINVAL)
    public static let ENOSPC = DrmError(Glibc.ENOSPC)
    public static let ENOBUFS = DrmError(Glibc.ENOBUFS)
    public static let ENOTTY = DrmError(Glibc.ENOTTY)
    public static let ENXIO = DrmError(Glibc.ENXIO)
    public static let ETIME = DrmError(Glibc.ETIME)
    /// A wait interrupted by a signal (-ERESTARTSYS as the caller sees it
    /// without SA_RESTART): Interruption.swift.
    public static let EINTR = DrmError(Glibc.EINTR)
    public static let EOPNOTSUPP = DrmError(Glibc.EOPNOTSUPP)
    public static let ERANGE = DrmError(Glibc.ERANGE)
    public static let EFBIG = DrmError(Glibc.EFBIG)
    public static let EBADF = DrmError(Glibc.EBADF)

    public var description: String { String(cString: strerror(errno)) }
}
