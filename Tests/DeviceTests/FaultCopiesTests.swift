import Testing
@testable import FakeDRMDevice

/// A fault's copies are planned under the device lock and made after it.
@Suite struct FaultCopiesTests {
    static func backing(_ size: Int, seed: UInt8) -> Backing {
        let b = Backing(size: size)!
        var bytes = [UInt8](repeating: 0, count: size)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i) &+ seed }
        bytes.withUnsafeBytes { b.copyIn(at: 0, from: $0.baseAddress!, count: size) }
        return b
    }

    /// Runs of two backings, gap zeros and more runs than the inline four:
    /// every byte lands where planned, and a backing nobody else holds any
    /// more still backs its run (the plan retains it).
    @Test func runsLandInOrderAndKeepTheirBackings() {
        var reply = [UInt8](repeating: 0xee, count: 10 * 4096)
        var expected = [UInt8](repeating: 0, count: 10 * 4096)
        let a = Self.backing(8 * 4096, seed: 1)
        reply.withUnsafeMutableBytes { buf in
            var plan = FaultCopies(into: buf)
            do {
                let b = Self.backing(4096, seed: 77)  // only the plan keeps it past this scope
                plan.add(b.base, of: b, at: 9 * 4096, count: 4096)
                for i in 0..<4096 { expected[9 * 4096 + i] = UInt8(truncatingIfNeeded: i) &+ 77 }
            }
            // Pages 0-3 of `a`, page by page: one run. Then a gap, then
            // pages 6, 5, 4 out of order: a run each, spilling past four.
            for p in 0..<4 { plan.add(a.base + p * 4096, of: a, at: p * 4096, count: 4096) }
            plan.zeros(at: 4 * 4096, count: 4096)
            for (slot, p) in [(5, 6), (6, 5), (7, 4)] { plan.add(a.base + p * 4096, of: a, at: slot * 4096, count: 4096) }
            plan.zeros(at: 8 * 4096, count: 4096)
            plan.perform()
        }
        for p in 0..<4 { for i in 0..<4096 { expected[p * 4096 + i] = UInt8(truncatingIfNeeded: p * 4096 + i) &+ 1 } }
        for (slot, p) in [(5, 6), (6, 5), (7, 4)] {
            for i in 0..<4096 { expected[slot * 4096 + i] = UInt8(truncatingIfNeeded: p * 4096 + i) &+ 1 }
        }
        #expect(reply == expected)
    }

    /// An object never written reads zeros without touching its pages.
    @Test func anUnwrittenObjectIsZeros() throws {
        let fx = Fixture()
        let f = fx.open(inode: 7)
        let h = try fx.dev.gemCreate(f, size: 1 << 20).handle
        let off = try fx.dev.mmapOffset(f, handle: h, flags: MmapType.gtt.rawValue)
        var reply = [UInt8](repeating: 0xee, count: 128 << 10)
        try reply.withUnsafeMutableBytes { try fx.dev.fault(f, inode: 7, offset: off, into: $0) }
        #expect(reply.allSatisfy { $0 == 0 })
    }
}
