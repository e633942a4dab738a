import Foundation
import Testing

/// A PREAD into the client's own mapping of a readonly object, racing msync
/// of that mapping: the refused writeback once waited for a page the PREAD's
/// copy-out held locked, and both hung (found by ioctl_fuzz). Plain mode races
/// the readonly object; both modes race a writable one.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct RefusedWritebackTests {
    static let mount = Result<Mounted, Mounted.MountFailure> { () throws(Mounted.MountFailure) in try Mounted() }

    @Test(arguments: [false, true])
    func preadIntoMappingDuringRefusedWriteback(strict: Bool) throws {
        #expect(Harness.conformanceBuilt)
        let m = try Self.mount.get()
        let r = try Harness.run([Harness.conformance("refused_writeback"), m.device], timeout: 60,
                                env: StrictModeTests.env(strict: strict))
        #expect(r.status == 0, "refused_writeback (\(strict ? "strict" : "plain")) failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS refused_writeback"), "\(r.stdout)")
        #expect(r.stdout.contains(strict ? "strict:" : "plain:"), "\(r.stdout)")
    }
}
