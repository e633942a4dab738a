/// A ppGTT (i915_address_space): a 48-bit GPU virtual address space where
/// objects are bound at addresses, per context or shared through VM ids.
/// Touched only under the device lock. Bindings hold their object weakly:
/// a closed object's range becomes free when it is next looked at.
final class GpuVm {
    static let size: UInt64 = 1 << 48
    /// Objects without EXEC_OBJECT_SUPPORTS_48B_ADDRESS end below 4 GiB - 4 KiB
    /// (eb_vma_misplaced: (start + size + 4095) >> 32).
    static let zone4G: UInt64 = 1 << 32

    final class Binding {
        weak var object: GemObject?
        var start: UInt64
        var size: UInt64
        init(_ object: GemObject, start: UInt64, size: UInt64) {
            self.object = object
            self.start = start
            self.size = size
        }
        var end: UInt64 { start + size }
    }

    /// Sorted by start and disjoint. A binding whose object died keeps its
    /// range until prune() (each execbuf's first step), so searches can be
    /// binary: nothing is ever bound over a range that is still listed.
    private(set) var bindings: [Binding] = []
    /// The binding of each object, for execbuf's lookups (a scan of every
    /// binding with a weak load each cost a VM of 2000 objects most of an
    /// execbuf). An entry whose object died may share a new object's
    /// identifier: lookups check the weak reference.
    private var byObject: [ObjectIdentifier: Binding] = [:]
    /// [0, packedEnd) holds no free byte: first fit starts there. Thousands
    /// of objects placed one after another otherwise rescan every binding
    /// per object (gem_evict_alignment's 3000-object execbufs).
    private var packedEnd: UInt64 = 0
    /// Contexts using it; the VM lives while one does or a VM id names it.
    var users = 0

    func binding(of obj: GemObject) -> Binding? {
        guard let b = byObject[ObjectIdentifier(obj)], b.object === obj else { return nil }
        return b
    }

    /// Drops bindings whose object is gone.
    func prune() {
        let before = bindings.count
        removeBindings { $0.object == nil }
        if bindings.count != before { byObject = byObject.filter { $0.value.object != nil } }
    }

    /// Removes the bindings `gone` picks; the packed prefix ends at the first freed range.
    private func removeBindings(where gone: (Binding) -> Bool) {
        var low = packedEnd
        bindings.removeAll { b in
            guard gone(b) else { return false }
            low = min(low, b.start)
            return true
        }
        packedEnd = low
    }

    /// The index of the first binding that ends after `address`.
    private func firstEnding(after address: UInt64) -> Int {
        var lo = 0, hi = bindings.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if bindings[mid].end <= address { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func unbind(_ b: Binding) {
        var i = firstEnding(after: b.start)
        while i < bindings.count, bindings[i].start <= b.start {
            if bindings[i] === b {
                bindings.remove(at: i)
                break
            }
            i += 1
        }
        if let o = b.object, byObject[ObjectIdentifier(o)] === b { byObject[ObjectIdentifier(o)] = nil }
        packedEnd = min(packedEnd, b.start)
    }

    /// Bindings overlapping [start, start+size), a dead object's included.
    func overlapping(_ start: UInt64, _ size: UInt64) -> [Binding] {
        var found: [Binding] = []
        var i = firstEnding(after: start)
        while i < bindings.count, bindings[i].start < start + size {
            found.append(bindings[i])
            i += 1
        }
        return found
    }

    /// Binds at a fixed address; the caller has cleared the range.
    @discardableResult
    func bind(_ obj: GemObject, at start: UInt64, size: UInt64) -> Binding {
        let b = Binding(obj, start: start, size: size)
        var i = firstEnding(after: start)
        bindings.insert(b, at: i)
        byObject[ObjectIdentifier(obj)] = b
        if start <= packedEnd {
            // Extend the packed prefix over whatever now follows without a gap.
            while i < bindings.count, bindings[i].start <= packedEnd {
                packedEnd = max(packedEnd, bindings[i].end)
                i += 1
            }
        }
        return b
    }

    /// First fit of `size` bytes aligned to `alignment` in [low, high),
    /// skipping the ranges in `avoid` as well as every binding.
    func hole(size: UInt64, alignment: UInt64, low: UInt64, high: UInt64, avoid: [(UInt64, UInt64)] = []) -> UInt64? {
        let align = max(alignment, 4096)
        func aligned(_ a: UInt64) -> UInt64 { (a + align - 1) / align * align }
        var at = aligned(max(low, packedEnd))
        var i = firstEnding(after: at)
        while at <= high, size <= high - at {
            if i < bindings.count, bindings[i].start < at + size {
                at = aligned(bindings[i].end)
                i += 1
                continue
            }
            if let a = avoid.first(where: { $0.0 < at + size && at < $0.0 + $0.1 }) {
                at = aligned(a.0 + a.1)
                i = firstEnding(after: at)
                continue
            }
            return at
        }
        return nil
    }

    /// i915_gem_evict_vm: unbinds every binding but those of `keep` (what the
    /// execbuf being placed holds). A request carries its own address map
    /// (Request.targets), so a busy binding goes at once where the kernel
    /// would wait for it to idle: nothing a client sees differs.
    func evict(keeping keep: Set<ObjectIdentifier>) {
        removeBindings { b in b.object.map { !keep.contains(ObjectIdentifier($0)) } ?? true }
        byObject = byObject.filter { $0.value.object.map { keep.contains(ObjectIdentifier($0)) } ?? false }
    }
}
