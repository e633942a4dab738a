import CDrm
import Testing
@testable import FakeDRMDevice

/// What a ppGTT binding is after the execbuf that made it: it stays in the
/// VM while the file holds a handle (later batches of that VM reach it,
/// no other VM does), and goes when the file closes its last handle.
extension GpuTests {
    /// An execbuf that lets the device place `handles` (batch last; no
    /// softpin, no relocations): the offsets it chose.
    func execPlaced(_ f: FileID, _ handles: [Handle]) throws -> [UInt64] {
        var entries = handles.map { h in
            var e = drm_i915_gem_exec_object2()
            e.handle = h.rawValue
            return e
        }
        try fx.dev.execbuffer(f, &entries, ring: UInt64(I915_EXEC_RENDER))
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

    /// gem_vm_create@isolation: an object an earlier execbuf bound stays in
    /// the ppGTT, so a batch that does not list it still stores into it
    /// (and reads it, and blits to it); a batch of another file's VM (the
    /// same VM id there) stores to that address in its own VM: scratch.
    @Test func aBindingOutlivesItsExecbufInItsVmOnly() throws {
        let a = fx.open(inode: 1), b = fx.open(inode: 2)
        let obj = try create(a, [0, 0xFEED])
        let ctxA = try fx.dev.contextCreate(a, flags: 0, params: [], privileged: false)
        try exec(a, [(obj, 0x100000, 0), (try create(a, [Self.bbe]), 0x10000, 0)], ctx: ctxA)
        let out = try create(a)
        let batch = try create(a, [
            Self.sdi, 0x100000, 0, 1,                            // into obj, not in the list
            0x29 << 23 | 2, 0x2000 + 0x600, 0x100004, 0,         // LRM GPR0 <- obj[1]
            0x24 << 23 | 2, 0x2000 + 0x600, 0x20000, 0,          // SRM GPR0 -> out
            Self.bbe,
        ])
        try exec(a, [(out, 0x20000, UInt64(EXEC_OBJECT_WRITE)), (batch, 0x10000, 0)], ctx: ctxA)
        try wait(a, batch)
        #expect(try read(a, obj, 0) == 1)
        #expect(try read(a, out, 0) == 0xFEED)
        // Another file: its VM has nothing there.
        let ctxB = try fx.dev.contextCreate(b, flags: 0, params: [], privileged: false)
        let other = try create(b, [Self.sdi, 0x100000, 0, 2, Self.bbe])
        try exec(b, [(other, 0x10000, 0)], ctx: ctxB)
        try wait(b, other)
        #expect(try read(a, obj, 0) == 1)
        // Nor does another context of the same file with its own VM.
        try exec(a, [(batch, 0x10000, 0)])
        try wait(a, batch)
        #expect(try read(a, obj, 0) == 1)
    }
}
