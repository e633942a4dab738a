import Testing
@testable import FakeDRMDevice

/// Detiling through the aperture with contents that tell every page apart
/// (`pattern` repeats every 256 bytes, so a run read from the right offset
/// of the wrong aperture page would pass the layout tests unnoticed).
@Suite struct GttDetilePagesTests {
    typealias R = GttRef

    /// Every 4-byte word holds its own offset.
    static func addressed(_ count: Int) -> [UInt8] {
        (0..<count).map { i in UInt8(truncatingIfNeeded: (i & ~3) >> ((i & 3) * 8)) }
    }

    @Test(arguments: GttFaultTests.layouts)
    func everyRunComesFromItsOwnPage(mode: UInt32, stride: Int, pages: Int, swizzle: UInt32) throws {
        let fx = GttFaultTests.fixture(swizzle: swizzle)
        let f = fx.open(inode: 1)
        let o = try GttFaultTests.Obj(fx, f, pages: pages, mode: mode, stride: UInt32(stride))
        let raw = Self.addressed(o.size)
        try fx.dev.write(f, handle: o.h, raw)
        let got = try fx.dev.faultBytes(f, inode: 1, offset: o.gtt, count: o.size)
        #expect(gttByteDiff(got, R.detiled(raw, 0..<o.size, mode: mode, stride: stride, swizzle: swizzle)) == nil)
    }
}
