import Testing
@testable import FakeDRMDevice

/// Backing store and the compact per-node state: what the scale work changed
/// must keep every object's bytes its own.
@Suite struct BackingTests {
    @Test func freshBackingReadsZerosAndKeepsWhatIsWritten() throws {
        let b = try #require(Backing(size: 8192))
        var out = [UInt8](repeating: 0xAA, count: 8192)
        out.withUnsafeMutableBytes { b.copyOut(at: 0, into: $0.baseAddress!, count: 8192) }
        #expect(out.allSatisfy { $0 == 0 })
        #expect(!b.written)
        let data = (0..<100).map { UInt8($0) }
        data.withUnsafeBytes { b.copyIn(at: 4000, from: $0.baseAddress!, count: 100) }
        #expect(b.written)
        out.withUnsafeMutableBytes { b.copyOut(at: 0, into: $0.baseAddress!, count: 8192) }
        #expect(Array(out[4000..<4100]) == data)
        #expect(out[0..<4000].allSatisfy { $0 == 0 } && out[4100...].allSatisfy { $0 == 0 })
    }

    @Test func aReusedBlockReadsZeros() throws {
        // Freed blocks are reused last-freed first: the next objects of the
        // class get the same addresses and must not see the old bytes.
        do {
            let old = try (0..<32).map { _ in try #require(Backing(size: 4096)) }
            for b in old { [UInt8](repeating: 0x5A, count: 4096).withUnsafeBytes { b.copyIn(at: 0, from: $0.baseAddress!, count: 4096) } }
        }
        let again = try (0..<32).map { _ in try #require(Backing(size: 4096)) }
        for b in again {
            b.willWrite() // read the memory itself, not the never-written shortcut
            var out = [UInt8](repeating: 1, count: 4096)
            out.withUnsafeMutableBytes { b.copyOut(at: 0, into: $0.baseAddress!, count: 4096) }
            #expect(out.allSatisfy { $0 == 0 })
        }
    }

    @Test func blocksOfOneClassDoNotOverlap() throws {
        let blocks = try (0..<64).map { _ in try #require(Backing(size: 12288)) }
        let starts = blocks.map { UInt(bitPattern: $0.base) }.sorted()
        for (a, b) in zip(starts, starts.dropFirst()) { #expect(b - a >= 12288) }
        for (i, b) in blocks.enumerated() { [UInt8](repeating: UInt8(i), count: 12288).withUnsafeBytes { b.copyIn(at: 0, from: $0.baseAddress!, count: 12288) } }
        for (i, b) in blocks.enumerated() {
            var out = [UInt8](repeating: 0, count: 12288)
            out.withUnsafeMutableBytes { b.copyOut(at: 0, into: $0.baseAddress!, count: 12288) }
            #expect(out.allSatisfy { $0 == UInt8(i) })
        }
    }

    @Test func largeAndHugeObjectsGetTheirOwnLazyMapping() throws {
        let big = try #require(Backing(size: 3 << 20))
        let huge = try #require(Backing(size: 64 << 30)) // reserved, never populated
        var out = [UInt8](repeating: 1, count: 16)
        out.withUnsafeMutableBytes { huge.copyOut(at: (64 << 30) - 16, into: $0.baseAddress!, count: 16) }
        #expect(out.allSatisfy { $0 == 0 })
        #expect(big.size == 3 << 20)
    }

    /// One mapping per object stopped at vm.max_map_count (65530) objects.
    @Test func moreObjectsThanTheKernelHasMappings() throws {
        let fx = Fixture()
        let f = fx.open(inode: 1)
        var last: Handle = 0
        for _ in 0..<70_000 {
            last = try fx.dev.gemCreate(f, size: 4096).handle
            _ = try fx.dev.mmapOffset(f, handle: last, flags: MmapType.wb.rawValue)
        }
        #expect(last == 70_000)
        fx.dev.release(f)
    }

    @Test func idSetHoldsOneInlineAndManyAsASet() {
        var s = IDSet<UInt64>()
        #expect(s.isEmpty && s.count == 0 && !s.contains(0))
        s.insert(0)
        s.insert(0)
        #expect(s.count == 1 && s.contains(0) && Array(s) == [0])
        s.insert(7)
        s.insert(9)
        #expect(s.asSet == [0, 7, 9] && s.count == 3)
        #expect(s.isDisjoint(with: [1, 2]) && !s.isDisjoint(with: [9]))
        s.remove(0)
        s.remove(9)
        #expect(s == [7] && s.count == 1)
        s.remove(8)
        s.remove(7)
        #expect(s.isEmpty && s == [])
    }
}
