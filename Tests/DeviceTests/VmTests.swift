import Testing
@testable import FakeDRMDevice

/// GpuVm's binary searches and packed prefix against a plain first-fit model
/// (every range scanned), on random binds, unbinds, deaths and evictions.
@Suite struct VmTests {
    @Test func searchesAgreeWithAScanOfEveryRange() {
        var rng = SystemRandomNumberGenerator()
        let vm = GpuVm()
        var objects: [GemObject] = []
        var model: [(start: UInt64, end: UInt64, obj: GemObject)] = []
        let page: UInt64 = 4096, high: UInt64 = 256 * 4096
        func modelHole(_ size: UInt64, _ align: UInt64) -> UInt64? {
            var at: UInt64 = 0
            for r in model.sorted(by: { $0.start < $1.start }) where r.end > at {
                if r.start >= at + size { break }
                at = (r.end + align - 1) / align * align
            }
            return at + size <= high ? at : nil
        }
        for step in 0..<3000 {
            let size = UInt64.random(in: 1...8, using: &rng) * page
            let align = page << UInt64.random(in: 0...3, using: &rng)
            let found = vm.hole(size: size, alignment: align, low: 0, high: high)
            #expect(found == modelHole(size, align), "step \(step)")
            if let at = found, Bool.random(using: &rng) || model.isEmpty {
                let obj = GemObject(serial: UInt64(step), size: size, backing: Backing(size: Int(size))!, caching: 0)
                objects.append(obj)
                vm.bind(obj, at: at, size: size)
                model.append((at, at + size, obj))
            } else if !model.isEmpty {
                let r = model.remove(at: Int.random(in: 0..<model.count, using: &rng))
                vm.unbind(vm.binding(of: r.obj)!)
            }
            // Now and then an object dies (prune) or the VM is evicted but for half.
            if step % 97 == 0, !model.isEmpty {
                do {
                    let r = model.remove(at: Int.random(in: 0..<model.count, using: &rng))
                    objects.removeAll { $0 === r.obj }
                }
                vm.prune()
            }
            if step % 389 == 0 {
                model = model.filter { _ in Bool.random(using: &rng) }
                vm.evict(keeping: Set(model.map { ObjectIdentifier($0.obj) }))
            }
            // overlapping() finds exactly the model's ranges that meet a window.
            let s = UInt64.random(in: 0..<256, using: &rng) * page, n = UInt64.random(in: 1...16, using: &rng) * page
            let got = Set(vm.overlapping(s, n).map { $0.start })
            let want = Set(model.filter { $0.start < s + n && s < $0.end }.map { $0.start })
            #expect(got == want, "step \(step)")
        }
    }
}
