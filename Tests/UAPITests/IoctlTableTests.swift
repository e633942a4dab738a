import CDrm
import Foundation
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// The ioctl table (Sources/UAPI/IoctlTable.swift) is whole: every entry
/// named, numbered once, decodable and callable; every ioctl libdrm names
/// either served or refused as unimplemented; the C fuzzer built from it.
@Suite struct IoctlTableTests {
    let table = IoctlDispatcher.ioctls

    @Test func everyEntryIsNamedNumberedOnceAndDecodable() {
        #expect(table.count >= 100)
        var seen = Set<UInt32>()
        for d in table {
            #expect(fdrm_ioc_type(d.cmd) == FDRM_IOCTL_BASE, "\(d.name)")
            #expect(seen.insert(fdrm_ioc_nr(d.cmd)).inserted, "\(d.name): number used twice")
            // The name is libdrm's own for this exact value.
            #expect(d.name.hasPrefix("DRM_IOCTL_") && fdrm_libdrm_ioctl_name(d.cmd).map { String(cString: $0) } == d.name, "\(d.name)")
            #expect(!d.shortName.isEmpty && !d.shortName.hasPrefix("DRM_IOCTL_"))
            // The handler's struct fits the number's size: `with` never reads past the kernel buffer.
            #expect(d.argSize <= Int(fdrm_ioc_size(d.cmd)), "\(d.name): struct larger than its number says")
            // The trace decoder reads a zeroed struct both ways.
            let zero = [UInt8](repeating: 0, count: max(Int(fdrm_ioc_size(d.cmd)), 1))
            zero.withUnsafeBytes { k in
                #expect(d.traceFields(k, out: false).hasPrefix("{"), "\(d.name)")
                #expect(d.traceFields(k, out: true).hasSuffix("}"), "\(d.name)")
            }
            #expect(IoctlDispatcher.lookup(d.cmd) === d)
        }
        // Strict mode's root channel: exactly these.
        #expect(Set(table.filter(\.servedOnRoot).map(\.cmd))
                == [FDRM_IOCTL_FAKEDRM_PROBE, FDRM_IOCTL_FAKEDRM_VMA_OPEN, FDRM_IOCTL_FAKEDRM_VMA_CLOSE])
        // The fuzz templates of the calls that build state.
        for cmd in [FDRM_IOCTL_I915_GEM_CREATE, FDRM_IOCTL_I915_GEM_MMAP_OFFSET, FDRM_IOCTL_I915_GEM_PWRITE,
                    FDRM_IOCTL_I915_GEM_SET_TILING, FDRM_IOCTL_GEM_OPEN, FDRM_IOCTL_GEM_FLINK] {
            #expect(IoctlDispatcher.lookup(cmd)?.hasFuzzTemplate == true)
        }
    }

    /// Every entry's handler runs (zeroed struct, the master, privileged):
    /// whatever errno it gives, it is never the "no such ioctl" answers.
    @Test func everyEntryDispatchesToItsHandler() {
        let c = Client(privileged: true)
        var buf = [UInt8](repeating: 0, count: 1 << 14)
        for d in table {
            let r = buf.withUnsafeMutableBytes { b in
                b.initializeMemory(as: UInt8.self, repeating: 0)
                return c.dispatcher.dispatch(cmd: d.cmd, input: UnsafeRawBufferPointer(b), output: b, caller: c.caller)
            }
            #expect(r.errno != DrmError.ENOTTY.errno, "\(d.name)")
            #expect(r.outBytes == (fdrm_ioc_out(d.cmd) != 0 ? Int(fdrm_ioc_size(d.cmd)) : 0), "\(d.name)")
        }
    }

    /// Every ioctl libdrm (and fakedrm.h) names is in the table, under its
    /// own value or one sharing its number (MMAP_GTT, EXECBUFFER2,
    /// CONTEXT_CREATE), or answered as the kernel answers an unknown one:
    /// EINVAL, and the trace says "[not implemented]".
    @Test func everyLibdrmIoctlIsServedOrReportedUnimplemented() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fakedrm-table-\(UUID().uuidString)").path
        defer { unlink(path) }
        let trace = try Trace(path: path)
        let c = Client()
        var unimplemented: [String] = []
        for i in 0..<fdrm_libdrm_ioctl_count() {
            let cmd = fdrm_libdrm_ioctl_cmd(i), name = String(cString: fdrm_libdrm_ioctl_name_at(i))
            if let d = IoctlDispatcher.lookup(cmd) {
                #expect(d.cmd == cmd || fdrm_ioc_nr(d.cmd) == fdrm_ioc_nr(cmd), "\(name)")
                continue
            }
            unimplemented.append(name)
            var buf = [UInt8](repeating: 0, count: max(Int(fdrm_ioc_size(cmd)), 1))
            let r = buf.withUnsafeMutableBytes { b in
                c.dispatcher.dispatch(cmd: cmd, input: UnsafeRawBufferPointer(b), output: b, caller: c.caller, trace: trace)
            }
            #expect(r.errno == DrmError.EINVAL.errno, "\(name)")
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == unimplemented.count)
        for (line, name) in zip(lines, unimplemented) { #expect(line.contains(name + " [not implemented]"), "\(line)") }
        // The legacy DRI1 and UMS ioctls, at least, are not served.
        #expect(unimplemented.contains("DRM_IOCTL_I915_INIT") && unimplemented.contains("DRM_IOCTL_ADD_MAP"))
    }

    /// The C fuzzer (conformance/ioctl_fuzz.c) takes its list from the table:
    /// the header `fakedrm ioctl-table` prints names every entry, and the
    /// fuzzer includes it; a header already built matches the table.
    @Test func cFuzzerListIsTheTable() throws {
        let text = IoctlDispatcher.cTable
        for d in table { #expect(text.contains("FDRM_IOCTL(\(d.name), "), "\(d.name)") }
        #expect(text.split(separator: "\n").count == table.count + 1)
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../conformance").path
        let fuzz = try String(contentsOfFile: examples + "/ioctl_fuzz.c", encoding: .utf8)
        #expect(fuzz.contains("#include \"build/ioctl_table.h\""))
        if let built = try? String(contentsOfFile: examples + "/build/ioctl_table.h", encoding: .utf8) {
            #expect(built == text, "conformance/build/ioctl_table.h is stale: make -C conformance")
        }
    }
}
