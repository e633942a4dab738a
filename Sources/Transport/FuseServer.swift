import CFuse
import FakeDRMDevice
import FakeDRMUAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Serves one DrmDevice on a FUSE mount: the low-level ops, the session and
/// its multi-threaded loop (invalidations block on writebacks that other
/// loop threads must serve).
public final class FuseServer: @unchecked Sendable {
    public let device: DrmDevice
    let dispatcher: IoctlDispatcher
    let inodes = InodeTable()
    let debugFiles = DebugFiles()
    let pageCache: FusePageCache
    /// Replies and notifications: libfuse, or a test's recorder (FuseChannel.swift).
    let channel: any FuseChannel
    /// `--trace FILE`, or nil: every hook checks this once.
    let trace: Trace?
    /// Frees zombies no process maps any more; nil when the mount's device
    /// number is unknown. Set before the session loop starts.
    private(set) var reclaimer: ZombieReclaimer?
    /// Size every device inode reports: past the end of the offset space, so
    /// no fault lands beyond EOF. Never changes, nor does mtime.
    static let deviceFileSize: UInt64 = 1 << 46
    let startTime = time(nil)
    private var session: OpaquePointer?
    /// The mount's path and device number, and its fusectl abort file
    /// (negative when fusectl is out of reach): kept open, it names this
    /// connection only.
    private var connection: (path: String, major: UInt32, minor: UInt32, abort: Int32)?
    /// The session while `run()` serves it, and whether `exit()` came
    /// (perhaps before `run()` started), for `exit()` on another thread.
    private let running = Mutex<(session: OpaquePointer?, exited: Bool)>((nil, false))
    private let threads: UInt32
    /// Kernel-like owners and modes (with `--allow-other`), or nil: every
    /// node open to the mounting user, who alone can reach the mount.
    let permissions: NodePermissions?
    /// The daemon's user: owner of every node, and with root the only one
    /// who may open the debug tree.
    let owner = getuid()

    /// Builds the device with this server's page cache as its revoker.
    /// `traceCommands`: the engines also write each command into `trace`.
    public convenience init(profile: DeviceProfile, threads: UInt32 = 256, trace: Trace? = nil, traceCommands: Bool = false,
                            permissions: NodePermissions? = nil) {
        self.init(profile: profile, threads: threads, trace: trace, traceCommands: traceCommands, permissions: permissions,
                  channel: Libfuse())
    }

    /// The same, answering through `channel` (tests: without a mount).
    init(profile: DeviceProfile, threads: UInt32 = 256, trace: Trace? = nil, traceCommands: Bool = false,
         permissions: NodePermissions? = nil, channel: any FuseChannel) {
        let cache = FusePageCache(trace: trace, channel: channel)
        self.channel = channel
        self.trace = trace
        self.permissions = permissions
        pageCache = cache
        device = DrmDevice(profile: profile, cache: cache, commandTrace: traceCommands ? trace : nil)
        dispatcher = IoctlDispatcher(device: device)
        self.threads = threads
    }

    public enum MountError: Error, CustomStringConvertible {
        case session, mount(String)
        public var description: String {
            switch self {
            case .session: "could not create a FUSE session (is /dev/fuse there and usable?)"
            case .mount(let p): "could not mount on \(p) (see the message above; is FUSE available and are you allowed to mount?)"
            }
        }
    }

    /// Creates the session and mounts it; `options` go to libfuse as `-o`.
    public func mount(at mountpoint: String, options: [String]) throws(MountError) {
        var argv = ["fakedrm"]
        for o in options { argv += ["-o", o] }
        var cargs = argv.map { strdup($0) }
        defer { cargs.forEach { free($0) } }
        var ops = Self.operations()
        cfuse_route_ioctls(&ops)
        let se: OpaquePointer? = cargs.withUnsafeMutableBufferPointer { buf in
            var args = fuse_args(argc: Int32(buf.count), argv: buf.baseAddress, allocated: 0)
            defer { fuse_opt_free_args(&args) }
            return fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, Unmanaged.passUnretained(self).toOpaque())
        }
        guard let se else { throw .session }
        // Resolved before mounting: afterwards the path leads into our own
        // mount, which nobody serves yet.
        let real = realpath(mountpoint, nil).map { p in defer { free(p) }; return String(cString: p) }
        guard fuse_session_mount(se, mountpoint) == 0 else {
            fuse_session_destroy(se)
            throw .mount(mountpoint)
        }
        var major: UInt32 = 0, minor: UInt32 = 0
        if let real, cfuse_mount_dev(real, &major, &minor) == 0 {
            reclaimer = ZombieReclaimer(device: device, major: major, minor: minor)
            connection = (real, major, minor, cfuse_abort_open(minor))
            device.setMountDevice(major: major, minor: minor)
        }
        session = se
        pageCache.attach(se)
    }

    /// Forks into the background (unless `foreground`); the parent exits 0
    /// once the child is running, so the mount is live when it returns.
    public func daemonize(foreground: Bool) {
        _ = fuse_daemonize(foreground ? 1 : 0)
    }

    /// Serves requests until SIGINT/SIGTERM/SIGHUP (when `handlingSignals`),
    /// `exit()` or an unmount, then unmounts. Returns the loop's status.
    public func run(handlingSignals: Bool = true) -> Int32 {
        guard let se = session else { return -1 }
        cfuse_tune_malloc()
        // On this thread: its death (the daemon killed) is what the watchdog waits for.
        let watchdog = connection.map { cfuse_watchdog_start($0.abort, $0.path, $0.major, $0.minor) } ?? -1
        if handlingSignals { _ = fuse_set_signal_handlers(se) }
        running.withLock {
            $0.session = se
            if $0.exited { fuse_session_exit(se) }
        }
        let ret = cfuse_loop_mt(se, threads)
        running.withLock { $0.session = nil }
        pageCache.detach()
        if handlingSignals { fuse_remove_signal_handlers(se) }
        // Unmounting ends the workers' reads; a worker still inside a handler
        // may hold the session, so it is not destroyed: the process exits next.
        // (First: libfuse skips the unmount of an aborted connection.)
        fuse_session_unmount(se)
        session = nil
        // Then every request still in flight ends: a handler or the
        // invalidation thread waiting for FUSE (a launder WRITE no worker
        // reads any more) would keep the process from exiting, and its
        // clients in D state.
        if let c = connection { cfuse_abort(c.abort) }
        cfuse_watchdog_stop(watchdog)
        return ret
    }

    /// Ends `run()` from another thread: it unmounts and returns.
    public func exit() {
        running.withLock {
            $0.exited = true
            if let se = $0.session { fuse_session_exit(se) }
        }
    }

    static func server(_ req: fuse_req_t?) -> FuseServer {
        Unmanaged<FuseServer>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    func attributes(_ ino: InodeID) -> stat? {
        var st = stat()
        st.st_ino = UInt(ino.rawValue)
        st.st_uid = getuid()
        st.st_gid = getgid()
        st.st_mtim.tv_sec = startTime
        st.st_ctim.tv_sec = startTime
        st.st_atim.tv_sec = startTime
        let perm = permissions
        let node = ino == InodeTable.root ? nil : inodes.node(ino)
        switch ino == InodeTable.root ? .debugDirectory : node {
        case .debugDirectory, .paramsDirectory, .byPathDirectory:
            // The root stays open to all; debugfs is root's alone.
            st.st_mode = S_IFDIR | (perm != nil && node != nil && node != .byPathDirectory ? 0o700 : 0o755)
            st.st_nlink = 2
            return st
        case .pool:
            st.st_mode = S_IFREG | (perm != nil ? 0o400 : 0o444)
            st.st_nlink = 1
            return st
        case .engineDirectory, .engine, .engineDefaults:
            st.st_mode = S_IFDIR | 0o755
            st.st_nlink = 2
            return st
        case .engineFile(_, let f):
            // sysfs_engines.c: the tunables 0644, the identity 0444.
            st.st_mode = S_IFREG | (EngineProperties.Name(rawValue: f) != nil ? 0o644 : 0o444)
            st.st_nlink = 1
            st.st_size = 4096
            return st
        case .engineDefault:
            st.st_mode = S_IFREG | 0o444
            st.st_nlink = 1
            st.st_size = 4096
            return st
        case .param(let name):
            st.st_mode = S_IFREG | mode_t(ModuleParams.param(named: name)?.mode ?? 0o400)
            st.st_nlink = 1
            return st
        case .link(let target):
            st.st_mode = S_IFLNK | 0o777
            st.st_nlink = 1
            st.st_size = off_t(target.utf8.count)
            return st
        case .debug(let f):
            st.st_mode = S_IFREG | (perm != nil ? (f.isWritable ? 0o600 : 0o400) : (f.isWritable ? 0o644 : 0o444))
            st.st_nlink = 1
            return st
        case .device(let minor):
            if let perm {
                st.st_mode = S_IFREG | (minor == .render ? perm.renderMode : perm.primaryMode)
                st.st_gid = minor == .render ? perm.renderGroup : perm.primaryGroup
            } else {
                st.st_mode = S_IFREG | 0o666
            }
            st.st_nlink = 1
            st.st_size = off_t(Self.deviceFileSize)
        case nil:
            return nil
        }
        st.st_blksize = blksize_t(Page.size)
        return st
    }
}
