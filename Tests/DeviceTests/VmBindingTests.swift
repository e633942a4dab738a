import CDrm
import Testing
@testable import FakeDRMDevice

/// What a ppGTT binding is after the execbuf that made it: it stays in the
/// VM while the file holds a handle (later batches of that VM reach it,
/// no other VM does), and goes when the file closes its last handle.
extension GpuTests {
    /// An execbuf that lets the device place `handles` (batch last; no
    /// softpin, no relocations): the offsets it chose.
    func execPlaced(_ f: FileID, _ handles: [Handle], ctx: UInt32 = 0) throws -> [UInt64] {
        var entries = handles.map { h in
            var e = drm_i915_gem_exec_object2()
            e.handle = h.rawValue
            return e
        }
        var args = drm_i915_gem_execbuffer2()
        args.buffer_count = UInt32(entries.count)
        args.rsvd1 = UInt64(ctx)
        try DrmDevice.checkExecbuffer(&args)
        var out = DrmDevice.ExecbufOutput()
        try fx.dev.execbuffer(f, args, objects: &entries, output: &out, fences: { [] }, readRelocations: { _ in [] })
        return entries.map(\.offset)
    }

    /// gem_ppgtt@flink-and-close-vma-leak: i915_gem_close_object closes the
    /// VMAs of the handle's luts in the file's contexts, so a flinked
    /// object that another file keeps alive leaves this file's ppGTT when
    /// this file closes its handle, and a new object takes its offset.
    @Test func closingTheLastHandleUnbindsFromTheFilesVms() throws {
        let a = fx.open(inode: 1, minor: .primary), b = fx.open(inode: 2, minor: .primary)
        let bo = try create(a, [Self.bbe])
        let name = try fx.dev.gemFlink(a, handle: bo)
        let flinked = try fx.dev.gemOpen(b, name: name).handle
        let offset = try execPlaced(b, [flinked])[0]
        try wait(b, flinked)
        // A second handle to it in the same file keeps the binding (the
        // VMA's open count): the next execbuf finds it where it was.
        let again = try fx.dev.gemOpen(b, name: name).handle
        try fx.dev.gemClose(b, handle: again)
        let other = try create(b, [Self.bbe])
        #expect(try execPlaced(b, [flinked, other])[0] == offset)
        try wait(b, other)
        try fx.dev.gemClose(b, handle: other)
        try fx.dev.gemClose(b, handle: flinked)
        let fresh = try create(b, [Self.bbe])
        #expect(try execPlaced(b, [fresh])[0] == offset)
    }
}
