import CDrm
import Foundation
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// `--trace` says what a client needs next: every ioctl the device does not
/// implement by its libdrm name, and QUERY's per-item answers.
@Suite struct TraceNamesTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-trace-names-\(UUID().uuidString)").path

    func traced(_ c: Client, _ trace: Trace, _ cmd: UInt32, _ bytes: inout [UInt8]) -> IoctlDispatcher.Result {
        var out = [UInt8](repeating: 0, count: bytes.count)
        let r = bytes.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in c.dispatcher.dispatch(cmd: cmd, input: i, output: o, caller: c.caller, trace: trace) }
        }
        bytes = out
        return r
    }

    func text() -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func unimplementedIoctlsAreNamedAsLibdrmNamesThem() throws {
        defer { unlink(path) }
        let trace = try Trace(path: path)
        let c = Client()
        let size = MemoryLayout<drm_i915_perf_oa_config>.size
        var arg = [UInt8](repeating: 0xab, count: size)
        let cmd = ioc(iocWrite, FDRM_IOCTL_BASE, UInt32(DRM_COMMAND_BASE + DRM_I915_PERF_ADD_CONFIG), size)
        #expect(traced(c, trace, cmd, &arg).errno == errnoEINVAL)
        // A number libdrm does not know either keeps the raw form.
        var none = [UInt8](repeating: 0, count: 8)
        _ = traced(c, trace, ioc(iocRead | iocWrite, FDRM_IOCTL_BASE, 0x9e, 8), &none)
        let t = text()
        #expect(t.contains("DRM_IOCTL_I915_PERF_ADD_CONFIG [not implemented] {abababab"), "\(t)")
        #expect(t.contains(" = -1 EINVAL"), "\(t)")
        #expect(t.contains("ioctl(0xc008649e) = -1 EINVAL"), "\(t)")
        // Implemented core ioctls decode as the rest do.
        var v = [UInt8](repeating: 0, count: MemoryLayout<drm_set_version>.size)
        v.withUnsafeMutableBytes { $0.storeBytes(of: drm_set_version(drm_di_major: 1, drm_di_minor: 4, drm_dd_major: -1, drm_dd_minor: -1), as: drm_set_version.self) }
        _ = traced(c, trace, drmCmd(0x07), &v)
        #expect(text().contains("SET_VERSION {drm_di=1.4, drm_dd=-1.-1} = 0 {drm_di=1.4, drm_dd=1.6}"), "\(text())")
        var res = [UInt8](repeating: 0, count: MemoryLayout<drm_mode_card_res>.size)
        _ = traced(c, trace, drmCmd(0xa0), &res)
        #expect(text().contains("MODE_GETRESOURCES {} = -1 EOPNOTSUPP"), "\(text())")
    }

    @Test func queryShowsEachItemsAnswer() throws {
        defer { unlink(path) }
        let trace = try Trace(path: path)
        let c = Client(minor: .render)
        let items = c.mem.alloc(3 * MemoryLayout<drm_i915_query_item>.stride)
        c.mem.set(drm_i915_query_item(query_id: UInt64(DRM_I915_QUERY_MEMORY_REGIONS), length: 0, flags: 0, data_ptr: 0), at: items)
        c.mem.set(drm_i915_query_item(query_id: UInt64(DRM_I915_QUERY_TOPOLOGY_INFO), length: 0, flags: 0, data_ptr: 0),
                  at: items + UInt64(MemoryLayout<drm_i915_query_item>.stride))
        c.mem.set(drm_i915_query_item(query_id: 99, length: 0, flags: 0, data_ptr: 0),
                  at: items + 2 * UInt64(MemoryLayout<drm_i915_query_item>.stride))
        var q = [UInt8](repeating: 0, count: MemoryLayout<drm_i915_query>.size)
        q.withUnsafeMutableBytes { $0.storeBytes(of: drm_i915_query(num_items: 3, flags: 0, items_ptr: items), as: drm_i915_query.self) }
        #expect(traced(c, trace, i915Cmd(DRM_I915_QUERY), &q).errno == 0)
        let t = text()
        #expect(t.contains("{items=[MEMORY_REGIONS length=104, TOPOLOGY_INFO length="), "\(t)")
        #expect(t.contains(", query_id=99 -EINVAL]}"), "\(t)")
    }
}
