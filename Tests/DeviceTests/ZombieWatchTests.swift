import Synchronization
import Testing
@testable import FakeDRMDevice

/// The model reports zombies to Transport through its ZombieWatcher port
/// after a handle delete, so Transport decodes no ioctl to learn of them.
@Suite struct ZombieWatchTests {
    final class Recorder: ZombieWatcher {
        let calls = Mutex<[(count: Int, bytes: UInt64)]>([])
        func zombiesAfterClose(count: Int, bytes: UInt64) { calls.withLock { $0.append((count, bytes)) } }
    }

    @Test func closeThatLeavesAZombieIsReported() throws {
        let fx = Fixture()
        let watcher = Recorder()
        fx.dev.watchZombies(watcher)
        let f = fx.open(inode: 7)
        // No mapping possible (no offset asked): the close frees it, nothing to report.
        let plain = try fx.dev.gemCreate(f, size: 4096).handle
        try fx.dev.gemClose(f, handle: plain)
        #expect(watcher.calls.withLock { $0.isEmpty })
        // One f may map: a zombie, reported with its bytes.
        let (h, _) = try ReclaimTests.mappedObject(fx, f, inode: 7)
        try fx.dev.gemClose(f, handle: h)
        let calls = watcher.calls.withLock { $0 }
        #expect(calls.count == 1 && calls[0].count == 1 && calls[0].bytes == 8192)
        // A failed close reports nothing.
        #expect(throws: DrmError.EINVAL) { try fx.dev.gemClose(f, handle: h) }
        #expect(watcher.calls.withLock { $0.count } == 1)
    }
}
