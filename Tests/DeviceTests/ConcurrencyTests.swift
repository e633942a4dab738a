import CDrm
import Dispatch
import Synchronization
import Testing
@testable import FakeDRMDevice

/// Several clients at once on one device through a tiny aperture: every
/// path that takes the device lock interleaves (binding, eviction, fence
/// stealing, retiling, writeback, reclaim, reset). Each client checks its
/// own object's bytes, so a lost update shows; run under the thread
/// sanitizer it also shows unguarded shared state.
@Suite struct ConcurrencyTests {
    @Test func clientsRacingThroughATinyApertureKeepTheirBytes() throws {
        var profile = DeviceProfile()
        profile.apertureSize = 1 << 20
        profile.fences = 2
        let fx = Fixture(profile: profile)
        let failures = DeviceLock<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { client in
            do {
                try Self.client(fx, client)
            } catch {
                failures.withLock { $0.append("client \(client): \(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(fx.dev.liveObjects == 0)
    }

    static func client(_ fx: Fixture, _ client: Int) throws {
        let inode = InodeID(rawValue: UInt64(client + 1))
        let f = fx.open(inode: inode)
        for round in 0..<40 {
            // Whole Y tile rows at stride 4096 (32 pages): past the last one a GTT
            // view reads scratch and drops stores, as the hardware does.
            let pages = 64 + client * 32
            let h = try fx.dev.gemCreate(f, size: UInt64(pages * 4096)).handle
            if round % 2 == 1 {
                _ = try fx.dev.setTiling(f, handle: h, mode: UInt32(round % 4 == 1 ? I915_TILING_X : I915_TILING_Y), stride: 4096)
            }
            let gtt = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.gtt.rawValue)
            let data = pattern(pages * 4096, seed: UInt8(truncatingIfNeeded: client * 40 + round))
            try fx.dev.write(f, handle: h, data)
            // Linear stores through the GTT view, page by page, as writebacks.
            for p in stride(from: 0, to: pages, by: 7) {
                let page = try fx.dev.faultBytes(f, inode: inode, offset: gtt + UInt64(p) * 4096)
                try fx.dev.writeBack(inode: inode, offset: gtt + UInt64(p) * 4096, page.map { $0 ^ 0xFF })
                // Read back through the GTT view: what we stored.
                let again = try fx.dev.faultBytes(f, inode: inode, offset: gtt + UInt64(p) * 4096)
                guard again == page.map({ $0 ^ 0xFF }) else { throw Mismatch(client: client, round: round, page: p) }
            }
            if round % 10 == 0 { fx.dev.gpuReset() }
            if round % 13 == 0 { fx.dev.dropCaches(DrmDevice.DropCaches.all) }
            try fx.dev.gemClose(f, handle: h)
        }
        fx.dev.release(f)
    }

    struct Mismatch: Error { let client: Int, round: Int, page: Int }
}
