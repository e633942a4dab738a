import CDrm
import Foundation
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// `--trace`: each ioctl is one whole line with its decoded fields in and
/// out, its result and duration.
@Suite struct TraceTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-trace-\(UUID().uuidString)").path

    /// ioctl(2) through the traced dispatch.
    @discardableResult
    func traced<T>(_ c: Client, _ trace: Trace, _ cmd: UInt32, _ arg: inout T) -> IoctlDispatcher.Result {
        let size = Int(fdrm_ioc_size(cmd))
        var io = [UInt8](repeating: 0, count: size)
        withUnsafeBytes(of: &arg) { a in io.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: a[0..<min(size, a.count)])) } }
        var out = [UInt8](repeating: 0, count: size)
        let r = io.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in c.dispatcher.dispatch(cmd: cmd, input: i, output: o, caller: c.caller, trace: trace) }
        }
        withUnsafeMutableBytes(of: &arg) { a in
            let n = min(r.outBytes, a.count)
            out.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: a[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return r
    }

    func lines() throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func linesCarryFieldsResultAndDuration() throws {
        defer { unlink(path) }
        let trace = try Trace(path: path)
        let c = Client()
        var create = drm_i915_gem_create(size: 4000, handle: 0, pad: 0)
        traced(c, trace, i915Cmd(DRM_I915_GEM_CREATE), &create)
        var close = drm_gem_close(handle: 77, pad: 0)
        traced(c, trace, drmCmd(0x09), &close)
        let value = c.mem.alloc(4)
        var gp = drm_i915_getparam(param: I915_PARAM_CHIPSET_ID, value: uptr(value))
        traced(c, trace, i915Cmd(DRM_I915_GETPARAM), &gp)
        // MMAP_GTT's 16-byte struct on MMAP_OFFSET's number.
        var gtt = drm_i915_gem_mmap_gtt(handle: create.handle, pad: 0, offset: 0)
        traced(c, trace, ioc(iocRead | iocWrite, 0x64, 0x64, MemoryLayout<drm_i915_gem_mmap_gtt>.size), &gtt)
        var junk: UInt64 = 0
        traced(c, trace, ioc(iocRead | iocWrite, 0x64, 0x0f, 8), &junk)

        let l = try lines()
        #expect(l.count == 5)
        let head = #/^\d\d:\d\d:\d\d\.\d{6} file=1 pid=1001 /#
        let tail = #/ <\d+\.\d{6}>$/#
        for line in l {
            #expect(line.firstMatch(of: head) != nil && line.firstMatch(of: tail) != nil, "\(line)")
        }
        #expect(l[0].contains("GEM_CREATE {size=4000} = 0 {handle=1, size=4096} <"), "\(l[0])")
        #expect(l[1].contains("GEM_CLOSE {handle=77} = -1 EINVAL <"), "\(l[1])")
        #expect(l[2].contains("GETPARAM {param=4, value=0x\(String(value, radix: 16))} = 0 {*value=39497} <"), "\(l[2])")
        #expect(l[3].contains("GEM_MMAP_GTT {handle=1, flags=gtt, extensions=0x0} = 0 {offset=0x100000000} <"), "\(l[3])")
        #expect(l[4].contains("ioctl(0xc008640f) = -1 EINVAL <"), "\(l[4])")
    }

    @Test func concurrentCallersNeverInterleave() throws {
        defer { unlink(path) }
        let trace = try Trace(path: path)
        let dev = DrmDevice()
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            let c = Client(dev: dev, inode: InodeID(rawValue: UInt64(10 + t)))
            for _ in 0..<500 {
                var create = drm_i915_gem_create(size: 4096, handle: 0, pad: 0)
                traced(c, trace, i915Cmd(DRM_I915_GEM_CREATE), &create)
                var close = drm_gem_close(handle: create.handle, pad: 0)
                traced(c, trace, drmCmd(0x09), &close)
            }
        }
        let l = try lines()
        #expect(l.count == 4000)
        let shape = #/^\d\d:\d\d:\d\d\.\d{6} file=\d pid=101\d (GEM_CREATE \{size=4096\} = 0 \{handle=1, size=4096\}|GEM_CLOSE \{handle=1\} = 0) <\d+\.\d{6}>$/#
        #expect(l.allSatisfy { $0.wholeMatch(of: shape) != nil }, "\(l.first { $0.wholeMatch(of: shape) == nil } ?? "")")
    }

    @Test func unwritablePathIsRefused() {
        #expect(throws: TraceOpenError.self) { try Trace(path: "/nonexistent/dir/trace") }
    }
}
