import Testing
@testable import FakeDRMDevice

/// The aperture's LRU list and first-fit hints against the plain algorithm
/// they replace (sort every binding by lastUse, scan every hole), on random
/// binds, uses and unbinds: both must place and evict identically.
@Suite struct GgttLRUTests {
    /// The reference: bindings as (serial, start, end, lastUse).
    struct Reference {
        struct B { let serial: UInt64; let start: Int; let end: Int; var lastUse: UInt64 }
        let pages: Int
        var bound: [B] = [] // sorted by start

        func hole(_ n: Int, ignoring: Set<UInt64>) -> Int? {
            var at = 0
            for b in bound where !ignoring.contains(b.serial) {
                if b.start - at >= n { return at }
                at = max(at, b.end)
            }
            return pages - at >= n ? at : nil
        }

        /// Returns the start chosen and the serials evicted.
        mutating func bind(_ serial: UInt64, _ n: Int, tick: UInt64) -> (Int?, [UInt64]) {
            var at = hole(n, ignoring: [])
            var evicted: [UInt64] = []
            if at == nil {
                var scanned = Set<UInt64>()
                for v in bound.sorted(by: { $0.lastUse < $1.lastUse }) {
                    scanned.insert(v.serial)
                    guard let found = hole(n, ignoring: scanned) else { continue }
                    evicted = bound.filter { scanned.contains($0.serial) && $0.start < found + n && found < $0.end }.map(\.serial)
                    bound.removeAll { evicted.contains($0.serial) }
                    at = found
                    break
                }
            }
            guard let at else { return (nil, evicted) }
            bound.append(B(serial: serial, start: at, end: at + n, lastUse: tick))
            bound.sort { $0.start < $1.start }
            return (at, evicted)
        }
    }

    @Test(arguments: [1, 2, 3])
    func matchesThePlainScan(seed: UInt64) {
        var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ n: Int) -> Int {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            return Int(rng % UInt64(n))
        }
        var g = Ggtt(mappableBytes: 64 << 12, fences: 0)
        var ref = Reference(pages: 64)
        var live: [UInt64: Vma] = [:]
        var objects: [UInt64: GemObject] = [:]
        var serial: UInt64 = 0
        for _ in 0..<2000 {
            switch next(10) {
            case 0..<6: // bind, evicting when needed; mostly small, sometimes large
                serial += 1
                let n = next(4) == 0 ? 1 + next(24) : 1 + next(3)
                let obj = ggttTestObject(serial: serial, pages: n)
                objects[serial] = obj
                let (vma, evicted) = g.bind(obj, GttView(offset: 0, pages: n, isPartial: false), evict: true)
                let (at, refEvicted) = ref.bind(serial, n, tick: vma?.lastUse ?? 0)
                #expect(vma?.start == at)
                #expect(evicted.map { $0.object.serial }.sorted() == refEvicted.sorted())
                for e in evicted { live[e.object.serial] = nil }
                if let vma { live[serial] = vma }
            case 6..<9: // a use: the binding becomes the most recent
                guard !live.isEmpty else { continue }
                let s = live.keys.sorted()[next(live.count)], v = live[s]!
                v.lastUse = g.tick()
                if let i = ref.bound.firstIndex(where: { $0.serial == s }) { ref.bound[i].lastUse = v.lastUse }
            default: // an unbind (object freed, SET_TILING, ...)
                guard !live.isEmpty else { continue }
                let s = live.keys.sorted()[next(live.count)], v = live[s]!
                g.unbind(v)
                live[s] = nil
                ref.bound.removeAll { $0.serial == s }
            }
            #expect(g.vmas.map { $0.start } == ref.bound.map(\.start))
        }
        // Objects and their bindings hold each other: unbind, or they leak.
        for v in g.vmas { g.unbind(v) }
        _ = objects
    }
}

