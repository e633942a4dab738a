/// idr_alloc(…, 1, 0): the lowest free id from 1, so a freed id comes back
/// first, as DRM handles and flink names do.
struct IDAllocator {
    private var next: UInt32 = 1
    /// Freed ids below `next`, as a min-heap.
    private var freed: [UInt32] = []

    mutating func allocate() -> UInt32 {
        guard let top = freed.first else {
            defer { next += 1 }
            return next
        }
        let last = freed.removeLast()
        if !freed.isEmpty {
            freed[0] = last
            siftDown(0)
        }
        return top
    }

    mutating func free(_ id: UInt32) {
        freed.append(id)
        var i = freed.count - 1
        while i > 0, freed[(i - 1) / 2] > freed[i] {
            freed.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < freed.count, freed[l] < freed[m] { m = l }
            if r < freed.count, freed[r] < freed[m] { m = r }
            if m == i { return }
            freed.swapAt(i, m)
            i = m
        }
    }
}
