/// The aperture's bindings from least to most recently used: the order the
/// eviction scan walks (i915's vm->bound_list). A binding moves to the end
/// whenever its `lastUse` is set, which is always to the newest tick, so the
/// list is the bindings sorted by `lastUse` without sorting them per bind.
///
/// Links are unowned: `Ggtt.vmas` keeps every listed binding alive, and a
/// binding leaves the list when it is unbound.
final class VmaLRU {
    private(set) unowned(unsafe) var head: Vma?
    private unowned(unsafe) var tail: Vma?

    /// Moves `v` to the most recently used end (appends it if not listed).
    func touch(_ v: Vma) {
        if v.lruListed { remove(v) }
        v.lruPrev = tail
        v.lruNext = nil
        if let t = tail { t.lruNext = v } else { head = v }
        tail = v
        v.lruListed = true
    }

    func remove(_ v: Vma) {
        guard v.lruListed else { return }
        if let p = v.lruPrev { p.lruNext = v.lruNext } else { head = v.lruNext }
        if let n = v.lruNext { n.lruPrev = v.lruPrev } else { tail = v.lruPrev }
        v.lruPrev = nil
        v.lruNext = nil
        v.lruListed = false
    }
}
