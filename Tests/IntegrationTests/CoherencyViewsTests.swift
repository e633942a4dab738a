import Foundation
import Testing

/// Issue 9 §1 on a real mount: every ordered pair of GTT/WC/WB/UC views sees
/// the other's stores after SET_DOMAIN, the reader mapped before (untouched)
/// or after the coherency point, in small objects and in objects larger than
/// a 4 MiB aperture (GTT faults through partial views), plain and strict.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct CoherencyViewsTests {
    static let mount = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in
        try Mounted(["--aperture-size", "4M"])
    }

    @Test(arguments: [false, true])
    func everyPairOfViews(strict: Bool) throws {
        #expect(Harness.conformanceBuilt)
        let m = try Self.mount.get()
        let r = try Harness.run([Harness.conformance("coherency_views"), m.device], timeout: 120,
                                env: StrictModeTests.env(strict: strict))
        #expect(r.status == 0, "coherency_views (\(strict ? "strict" : "plain")) failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS coherency_views"), "\(r.stdout)")
        #expect(r.stdout.contains(strict ? "(strict)" : "(plain)"), "\(r.stdout)")
    }
}
