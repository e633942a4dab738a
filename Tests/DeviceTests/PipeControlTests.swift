import CDrm
import Testing
@testable import FakeDRMDevice

/// PIPE_CONTROL post-sync writes at every length the header gives: the
/// gen8+ 6-dword form, and the shorter ones older userspace still emits.
extension GpuTests {
    /// GFX_OP_PIPE_CONTROL(len): the header's length field is len - 2.
    static func pipeControl(_ len: UInt32) -> UInt32 { 3 << 29 | 3 << 27 | 2 << 24 | (len - 2) }
    static let writeImmediate: UInt32 = 1 << 14
    static let writeTimestamp: UInt32 = 3 << 14

    /// gem_pipe_control_store_loop: GFX_OP_PIPE_CONTROL(5) writes its one
    /// data dword, at the address without its low bits (IGT's relocation
    /// delta sets bit 2, gen6's PIPE_CONTROL_GLOBAL_GTT); a 4-dword one has
    /// no data to write but may store a timestamp; 6 dwords write a qword.
    @Test func shortPipeControlWritesTheDwordsItHas() throws {
        let f = fx.open(inode: 1)
        let target = try create(f, [UInt32](repeating: 0xEEEE_EEEE, count: 32))
        let batch = try create(f, [
            Self.pipeControl(5), Self.writeImmediate, 0x20000 | 1 << 2, 0, 0x1234_5678,
            Self.pipeControl(4), Self.writeImmediate, 0x20010, 0,
            Self.pipeControl(4), Self.writeTimestamp, 0x20020, 0,
            Self.pipeControl(6), Self.writeImmediate, 0x20030, 0, 0xAAAA_0001, 0xAAAA_0002,
            Self.pipeControl(3), Self.writeImmediate, 0x20040,
            Self.bbe,
        ])
        try exec(f, [(target, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)])
        try wait(f, target)
        #expect(try read(f, target, 0) == 0x1234_5678)
        #expect(try read(f, target, 4) == 0xEEEE_EEEE)          // one data dword: no qword
        #expect(try read(f, target, 0x10) == 0xEEEE_EEEE)       // no data dword: nothing
        #expect(try read(f, target, 0x20) != 0xEEEE_EEEE)       // timestamp
        #expect(try read(f, target, 0x30) == 0xAAAA_0001)
        #expect(try read(f, target, 0x34) == 0xAAAA_0002)
        #expect(try read(f, target, 0x40) == 0xEEEE_EEEE)
        #expect(!fx.dev.debugText(.engineInfo).contains("last hang"))
    }
}
