import Synchronization

/// How the model tells the transport that a handle close left zombies
/// (objects with no handle, kept for mappings that may still exist): the
/// transport can see which are still mapped (/proc/PID/maps), the model
/// cannot. Beside PageCacheControl, the other port the model drives; called
/// with the model's lock released, after the invalidations of that close.
public protocol ZombieWatcher: AnyObject, Sendable {
    /// A handle was deleted (GEM_CLOSE, MODE_DESTROY_DUMB) and zombies now
    /// number `count` holding `bytes`.
    func zombiesAfterClose(count: Int, bytes: UInt64)
}

extension DrmDevice {
    /// Reports zombies to `watcher` from now on (one watcher: the mount's).
    public func watchZombies(_ watcher: any ZombieWatcher) { zombieWatcher.withLock { $0 = watcher } }

    func reportZombies(_ usage: (count: Int, bytes: UInt64)) {
        guard usage.count > 0, let w = zombieWatcher.withLock({ $0 }) else { return }
        w.zombiesAfterClose(count: usage.count, bytes: usage.bytes)
    }
}
