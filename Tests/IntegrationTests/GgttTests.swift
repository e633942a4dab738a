import Foundation
import Testing

/// The simulated GGTT under pressure: every gtt_* example on a default mount
/// and on one with an 8 MiB aperture and 4 fences (partial views, eviction,
/// fence stealing all the time).
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct GgttTests {
    static let roomy = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in try Mounted() }
    static let tight = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in
        try Mounted(["--aperture-size", "8M", "--fences", "4"])
    }

    static let swizzled = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in
        try Mounted(["--swizzle", "9_10,9"])
    }

    static let examples: [String] = {
        let dir = Harness.root.appendingPathComponent("conformance").path
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return files.filter { $0.hasPrefix("gtt_") && $0.hasSuffix(".c") }.map { String($0.dropLast(2)) }.sorted()
    }()

    @Test(arguments: examples)
    func defaultAperture(_ name: String) throws {
        try run(name, on: Self.roomy.get())
    }

    @Test(arguments: examples)
    func smallApertureFewFences(_ name: String) throws {
        try run(name, on: Self.tight.get())
    }

    private func run(_ name: String, on m: Mounted) throws {
        #expect(Harness.conformanceBuilt)
        let r = try Harness.run([Harness.conformance(name), m.device], timeout: 120)
        #expect(r.status == 0, "\(name) failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS \(name)"), "\(r.stdout)")
    }

    /// A gen6/7-style bit-6 swizzle (X 9_10, Y 9): the layout examples read
    /// the swizzle from GET_TILING and check the raw bytes with it.
    @Test(arguments: ["gtt_tiled_layout", "gtt_retile", "gtt_fences"])
    func swizzled(_ name: String) throws {
        try run(name, on: Self.swizzled.get())
    }

    /// The pressure is real: the small mount evicted and stole fences.
    @Test func smallApertureEvictedAndStoleFences() throws {
        let m = try Self.tight.get()
        let gtt = try String(contentsOfFile: m.dir + "/debug/i915_gem_gtt", encoding: .utf8)
        let counters = gtt.split(separator: "\n").first ?? ""
        #expect(!counters.contains("evictions 0,"), "\(counters)")
        if Self.examples.contains("gtt_fences") { #expect(!counters.contains("fence steals 0,"), "\(counters)") }
    }
}
