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

    struct Stats {
        var binds = 0, evictions = 0, fenceSteals = 0, resets = 0
    }

    init(mappableBytes: UInt64, fences: Int) {
        mappablePages = Int(mappableBytes >> 12)
        ptes = []
        self.fences = Array(repeating: Fence(), count: fences)
    }

    mutating func tick() -> UInt64 {
        clock += 1
        return clock
    }

    /// Binds `view` of `obj`. Without `evict`, only free space is used
    /// (PIN_NOEVICT); with it, least recently used bindings go first. Returns
    /// the binding and the bindings evicted for it.
    mutating func bind(_ obj: GemObject, _ view: GttView, evict: Bool) -> (Vma?, [Vma]) {
        guard view.pages <= mappablePages else { return (nil, []) }
        var evicted: [Vma] = []
        while true {
            if let (at, index) = freeRange(view.pages) {
                let vma = Vma(object: obj, view: view, start: at)
                vma.lastUse = tick()
                vmas.insert(vma, at: index)
                obj.vmas.append(vma)
                if ptes.isEmpty { ptes = Array(repeating: -1, count: mappablePages) }
                for i in 0..<view.pages { ptes[at + i] = Int32(view.offset + i) }
                stats.binds += 1
                return (vma, evicted)
            }
            guard evict, let victim = vmas.min(by: { $0.lastUse < $1.lastUse }) else { return (nil, evicted) }
            unbind(victim)
            stats.evictions += 1
            evicted.append(victim)
        }
    }

    /// Removes a binding: PTEs back to scratch, fence released.
    mutating func unbind(_ vma: Vma) {
        guard let i = vmas.firstIndex(where: { $0 === vma }) else { return }
        vmas.remove(at: i)
        vma.object.vmas.removeAll { $0 === vma }
        for g in vma.start..<vma.end { ptes[g] = -1 }
        if let f = vma.fence { fences[f] = Fence() }
        vma.fence = nil
    }

    /// The object page aperture page `g` maps, or nil for scratch.
    func pte(_ g: Int) -> Int? { ptes[g] < 0 ? nil : Int(ptes[g]) }

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
        fences[f] = Fence(vma: vma, lastUse: now, tiling: tiling, start: vma.start << 12,
                          size: tiling.fenceSize(objectSize: vma.view.pages << 12))
        vma.fence = f
        return previous
    }

    /// First free aperture range of `pages`, and where it goes in `vmas`.
    private func freeRange(_ pages: Int) -> (Int, Int)? {
        var at = 0
        for (i, v) in vmas.enumerated() {
            if v.start - at >= pages { return (at, i) }
            at = v.end
        }
        return mappablePages - at >= pages ? (at, vmas.count) : nil
    }

    mutating func noteReset() { stats.resets += 1 }
}
