/// The global GTT's CPU-mappable part (the aperture): bindings placed by
/// first fit, evicted least recently used first; PTEs that point each GGTT
/// page at an object page; and the fence registers that detile tiled
/// bindings. Faults through GTT mmaps are served by walking exactly this.
struct Ggtt {
    let mappablePages: Int
    private(set) var vmas: [Vma] = [] // sorted by start
    /// Object page each aperture page maps, -1 for scratch.
    private(set) var ptes: [Int32]
    private(set) var fences: [Fence]
    private var clock: UInt64 = 0
    private(set) var stats = Stats()
    /// Fault injection: no free space and nothing evictable (every binding
    /// as if pinned), and every fence pinned (none can be stolen).
    var exhausted = false
    var fencesExhausted = false
    /// Bindings in least recently used order.
    private let lru = VmaLRU()
    /// Pages no binding reserves, and a page below which every page is
    /// reserved: where the first-fit search can start.
    private var freePages: Int
    private var lowestFree = 0

    struct Stats {
        var binds = 0, evictions = 0, fenceSteals = 0, resets = 0
    }

    init(mappableBytes: UInt64, fences: Int) {
        mappablePages = Int(mappableBytes >> Page.shift)
        freePages = mappablePages
        ptes = []
        self.fences = Array(repeating: Fence(), count: fences)
    }

    mutating func tick() -> UInt64 {
        clock += 1
        return clock
    }

    /// Binds `view` of `obj` in `reserve` pages (at least the view). Without
    /// `evict`, only free space is used (PIN_NOEVICT). With it, bindings are
    /// scanned least recently used first until freeing them would open a
    /// hole, and only those inside the hole are evicted (drm_mm's eviction
    /// scan). Returns the binding and the bindings evicted for it.
    mutating func bind(_ obj: GemObject, _ view: GttView, reserve: Int = 0, evict: Bool) -> (Vma?, [Vma]) {
        let pages = max(reserve, view.pages)
        guard pages <= mappablePages, !exhausted else { return (nil, []) }
        var evicted: [Vma] = []
        var at = hole(pages)
        if at == nil, evict, let lruVictim = lru.head {
            if let found = holeFreeing(lruVictim, pages) {
                // The scan's first step, when it already opens the hole.
                evicted = [lruVictim]
                unbind(lruVictim)
                stats.evictions += 1
                at = found
            } else {
                var scanned = Set<ObjectIdentifier>()
                var next: Vma? = lruVictim
                while let victim = next {
                    next = victim.lruNext
                    scanned.insert(ObjectIdentifier(victim))
                    guard let found = hole(pages, ignoring: scanned) else { continue }
                    evicted = vmas.filter { scanned.contains(ObjectIdentifier($0)) && $0.start < found + pages && found < $0.end }
                    evicted.forEach { unbind($0) }
                    stats.evictions += evicted.count
                    at = found
                    break
                }
            }
        }
        guard let at else { return (nil, evicted) }
        let vma = Vma(object: obj, view: view, start: at, reserved: pages)
        vma.lru = lru
        vma.lastUse = tick()
        vmas.insert(vma, at: firstIndex(startingAtOrAfter: at))
        freePages -= pages
        if at == lowestFree { lowestFree = at + pages }
        obj.vmas.append(vma)
        if ptes.isEmpty { ptes = Array(repeating: -1, count: mappablePages) }
        for i in 0..<view.pages { ptes[at + i] = Int32(view.offset + i) }
        stats.binds += 1
        return (vma, evicted)
    }

    /// Removes a binding: PTEs back to scratch, fence released.
    mutating func unbind(_ vma: Vma) {
        guard let i = index(of: vma) else { return }
        vmas.remove(at: i)
        lru.remove(vma)
        vma.lru = nil
        freePages += vma.reserved
        lowestFree = min(lowestFree, vma.start)
        vma.object.vmas.removeAll { $0 === vma }
        for g in vma.start..<vma.start + vma.view.pages { ptes[g] = -1 }
        if let f = vma.fence { fences[f] = Fence() }
        vma.fence = nil
    }

    /// The object page aperture page `g` maps, or nil for scratch.
    func pte(_ g: Int) -> Int? { g < ptes.count && ptes[g] >= 0 ? Int(ptes[g]) : nil }

    /// Gives a tiled binding a fence: its own, else the least recently used
    /// register, whose previous binding loses it (returned, to revoke).
    mutating func pinFence(_ vma: Vma, tiling: Tiling) -> Vma? {
        let now = tick()
        if let f = vma.fence {
            fences[f].lastUse = now
            return nil
        }
        guard !fences.isEmpty else { return nil }
        let f = fences.indices.min { fences[$0].lastUse < fences[$1].lastUse }!
        let previous = fences[f].vma
        previous?.fence = nil
        if previous != nil { stats.fenceSteals += 1 }
        fences[f] = Fence(vma: vma, lastUse: now, tiling: tiling, start: vma.start << Page.shift,
                          size: tiling.fenceSize(objectSize: vma.view.pages << Page.shift))
        vma.fence = f
        return previous
    }

    /// The first index whose binding starts at or after `page`.
    private func firstIndex(startingAtOrAfter page: Int) -> Int {
        var lo = 0, hi = vmas.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if vmas[mid].start < page { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func index(of vma: Vma) -> Int? {
        let i = firstIndex(startingAtOrAfter: vma.start)
        return i < vmas.count && vmas[i] === vma ? i : nil
    }

    /// First aperture page of a hole of `pages` (first fit), searched from
    /// the lowest page that may be free.
    private func hole(_ pages: Int) -> Int? {
        guard pages <= freePages else { return nil }
        var i = firstIndex(startingAtOrAfter: lowestFree)
        var at = i > 0 ? max(lowestFree, vmas[i - 1].end) : lowestFree
        while i < vmas.count {
            if vmas[i].start - at >= pages { return at }
            at = max(at, vmas[i].end)
            i += 1
        }
        return mappablePages - at >= pages ? at : nil
    }

    /// The hole evicting `victim` alone would open, if it holds `pages`:
    /// only its neighbours bound it, as no hole was there before.
    private func holeFreeing(_ victim: Vma, _ pages: Int) -> Int? {
        guard let i = index(of: victim) else { return nil }
        let lo = i > 0 ? vmas[i - 1].end : 0
        let hi = i + 1 < vmas.count ? vmas[i + 1].start : mappablePages
        return hi - lo >= pages ? lo : nil
    }

    /// First aperture page of a hole of `pages`, counting the bindings in
    /// `ignoring` as free.
    private func hole(_ pages: Int, ignoring: Set<ObjectIdentifier>) -> Int? {
        var at = 0
        for v in vmas where !ignoring.contains(ObjectIdentifier(v)) {
            if v.start - at >= pages { return at }
            at = max(at, v.end)
        }
        return mappablePages - at >= pages ? at : nil
    }

    mutating func noteReset() { stats.resets += 1 }
}
