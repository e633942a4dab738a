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

    /// Sorted by start; never overlapping.
    private(set) var bindings: [Binding] = []
    /// The binding of each object, for execbuf's lookups (a scan of every
    /// binding with a weak load each cost a VM of 2000 objects most of an
    /// execbuf). An entry whose object died may share a new object's
    /// identifier: lookups check the weak reference.
    private var byObject: [ObjectIdentifier: Binding] = [:]
    /// Contexts using it; the VM lives while one does or a VM id names it.
    var users = 0

    func binding(of obj: GemObject) -> Binding? {
        guard let b = byObject[ObjectIdentifier(obj)], b.object === obj else { return nil }
        return b
    }

    /// Drops bindings whose object is gone.
    func prune() {
        let before = bindings.count
        bindings.removeAll { $0.object == nil }
        if bindings.count != before { byObject = byObject.filter { $0.value.object != nil } }
    }

    func unbind(_ b: Binding) {
        bindings.removeAll { $0 === b }
        if let o = b.object, byObject[ObjectIdentifier(o)] === b { byObject[ObjectIdentifier(o)] = nil }
    }

    /// Bindings overlapping [start, start+size).
    func overlapping(_ start: UInt64, _ size: UInt64) -> [Binding] {
        bindings.filter { $0.object != nil && $0.start < start + size && start < $0.end }
    }

    /// i915_gem_evict_vm: unbinds every binding but those of `keep` (what the
    /// execbuf being placed holds). A request carries its own address map
    /// (Request.targets), so a busy binding goes at once where the kernel
    /// would wait for it to idle: nothing a client sees differs.
    func evict(keeping keep: Set<ObjectIdentifier>) {
        bindings.removeAll { b in
            guard let o = b.object, keep.contains(ObjectIdentifier(o)) else { return true }
            return false
        }
        byObject = byObject.filter { $0.value.object.map { keep.contains(ObjectIdentifier($0)) } ?? false }
    }

    /// Binds at a fixed address; the caller has cleared the range.
    @discardableResult
    func bind(_ obj: GemObject, at start: UInt64, size: UInt64) -> Binding {
        let b = Binding(obj, start: start, size: size)
        let i = bindings.firstIndex { $0.start > start } ?? bindings.count
        bindings.insert(b, at: i)
        byObject[ObjectIdentifier(obj)] = b
        return b
    }

    /// First fit of `size` bytes aligned to `alignment` in [low, high),
    /// skipping the ranges in `avoid` as well as every binding.
    func hole(size: UInt64, alignment: UInt64, low: UInt64, high: UInt64, avoid: [(UInt64, UInt64)] = []) -> UInt64? {
        let align = max(alignment, 4096)
        var taken = bindings.filter { $0.object != nil }.map { ($0.start, $0.end) } + avoid.map { ($0.0, $0.0 + $0.1) }
        taken.sort { $0.0 < $1.0 }
        var at = (low + align - 1) / align * align
        for (s, e) in taken {
            if e <= at { continue }
            if s >= at + size { break }
            at = (e + align - 1) / align * align
        }
        return at + size <= high ? at : nil
    }
}
