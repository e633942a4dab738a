import Testing
@testable import FakeDRMDevice

/// GEM handles and flink names: idr_alloc(…, 1, 0), the lowest free id from 1.
@Suite struct HandleTests {
    @Test func allocatorHandsOutLowestFreeFromOne() {
        var ids = IDAllocator()
        var rng = SplitMix64(seed: 7)
        var used = Set<UInt32>()
        var mismatches = 0
        for _ in 0..<3000 {
            if used.isEmpty || rng.next() % 3 != 0 {
                let want = (1...).first { !used.contains(UInt32($0)) }.map(UInt32.init)!
                let got = ids.allocate()
                if got != want { mismatches += 1 }
                used.insert(got)
            } else {
                let victim = used.randomElement(using: &rng)!
                used.remove(victim)
                ids.free(victim)
            }
        }
        #expect(mismatches == 0)
    }

    @Test func createHandlesStartAtOneAndReuseLowestClosed() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        let hs = try (0..<3).map { _ in try fx.dev.gemCreate(f, size: 4096).handle }
        #expect(hs == [1, 2, 3])
        try fx.dev.gemClose(f, handle: 2)
        try fx.dev.gemClose(f, handle: 1)
        #expect(try fx.dev.gemCreate(f, size: 4096).handle == 1)
        #expect(try fx.dev.gemCreate(f, size: 4096).handle == 2)
        #expect(try fx.dev.gemCreate(f, size: 4096).handle == 4)
    }

    @Test func handlesArePerFile() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1), b = fx.open(inode: 2)
        #expect(try fx.dev.gemCreate(a, size: 4096).handle == 1)
        #expect(try fx.dev.gemCreate(a, size: 4096).handle == 2)
        #expect(try fx.dev.gemCreate(b, size: 4096).handle == 1)
        #expect(throws: DrmError.ENOENT) { try fx.dev.gemFlink(b, handle: 2) }
    }

    @Test func gemCloseUnknownOrZeroIsEINVAL() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        #expect(throws: DrmError.EINVAL) { try fx.dev.gemClose(f, handle: 0) }
        #expect(throws: DrmError.EINVAL) { try fx.dev.gemClose(f, handle: 1) }
        let h = try fx.dev.gemCreate(f, size: 4096).handle
        try fx.dev.gemClose(f, handle: h)
        #expect(throws: DrmError.EINVAL) { try fx.dev.gemClose(f, handle: h) }
    }

    @Test(arguments: [
        (UInt64(1), UInt64(4096)), (4095, 4096), (4096, 4096), (4097, 8192), (1 << 20, 1 << 20),
    ])
    func createRoundsToPage(requested: UInt64, rounded: UInt64) throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        #expect(try fx.dev.gemCreate(f, size: requested).size == rounded)
    }

    @Test func createSizeErrors() {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        #expect(throws: DrmError.EINVAL) { try fx.dev.gemCreate(f, size: 0) }
        // Rounding UInt64.max up to a page wraps to 0.
        #expect(throws: DrmError.EINVAL) { try fx.dev.gemCreate(f, size: .max) }
        #expect(throws: DrmError.E2BIG) { try fx.dev.gemCreate(f, size: 1 << 63) }
        #expect(throws: DrmError.E2BIG) { try fx.dev.gemCreate(f, size: .max - 4095) }
        #expect(fx.dev.liveObjects == 0)
    }

    @Test func flinkAndOpen() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        #expect(throws: DrmError.ENOENT) { try fx.dev.gemFlink(a, handle: 1) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.gemOpen(b, name: FlinkName(rawValue: 1)) }
        #expect(throws: DrmError.ENOENT) { try fx.dev.gemOpen(b, name: FlinkName(rawValue: 0)) }

        let h = try fx.dev.gemCreate(a, size: 5000).handle
        let name = try fx.dev.gemFlink(a, handle: h)
        #expect(name.rawValue == 1)
        #expect(try fx.dev.gemFlink(a, handle: h) == name) // one name per object
        let o1 = try fx.dev.gemOpen(b, name: name)
        let o2 = try fx.dev.gemOpen(b, name: name)
        #expect(o1.handle == 1 && o2.handle == 2) // a new handle every call
        #expect(o1.size == 8192 && o2.size == 8192)
        #expect(fx.dev.liveObjects == 1)
    }

    @Test func nameLivesWhileAnyHandleDoesThenIsReused() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let h = try fx.dev.gemCreate(a, size: 4096).handle
        let name = try fx.dev.gemFlink(a, handle: h)
        let hb = try fx.dev.gemOpen(b, name: name).handle
        try fx.dev.gemClose(a, handle: h)
        #expect(try fx.dev.gemOpen(b, name: name).handle == 2) // b still holds one
        try fx.dev.gemClose(b, handle: hb)
        try fx.dev.gemClose(b, handle: 2)
        #expect(throws: DrmError.ENOENT) { try fx.dev.gemOpen(b, name: name) }
        #expect(fx.dev.liveObjects == 0)

        let h2 = try fx.dev.gemCreate(a, size: 4096).handle
        #expect(try fx.dev.gemFlink(a, handle: h2) == name) // lowest free name again
    }

    @Test func releaseClosesEveryHandle() throws {
        let fx = Fixture()
        let a = fx.open(inode: 1)
        for _ in 0..<3 { _ = try fx.dev.gemCreate(a, size: 4096) }
        #expect(fx.dev.liveObjects == 3)
        fx.dev.release(a)
        #expect(fx.dev.liveObjects == 0)
        #expect(throws: DrmError.ENODEV) { try fx.dev.gemCreate(a, size: 4096) }
    }
}
