import CDrm
import Glibc
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// The strict-mode ioctls through drm_ioctl's rules, and on the mount's root.
@Suite struct StrictTests {
    let probeCmd = i915Cmd(DRM_FAKEDRM_PROBE), mmapCmd = i915Cmd(DRM_FAKEDRM_MMAP)
    let openCmd = i915Cmd(DRM_FAKEDRM_VMA_OPEN), closeCmd = i915Cmd(DRM_FAKEDRM_VMA_CLOSE)
    let gemMmapCmd = i915Cmd(DRM_FAKEDRM_GEM_MMAP)

    @Test func probeNamesTheNode() {
        let card = Client()
        let render = card.peer(minor: .render, inode: 2)
        var p = drm_fakedrm_probe()
        #expect(card.ioctl(probeCmd, &p).errno == 0)
        #expect(p.version == UInt32(FAKEDRM_PROBE_VERSION) && p.minor == 0 && p.instance != 0)
        var q = drm_fakedrm_probe()
        #expect(render.ioctl(probeCmd, &q).errno == 0)
        #expect(q.minor == 128 && q.instance == p.instance)
        var bad = drm_fakedrm_probe(ino: 5, version: 0, minor: 0, instance: 0)
        #expect(card.ioctl(probeCmd, &bad).errno == errnoEINVAL)
    }

    @Test func mmapRegistersAndCopiesOutCookieAndReadonly() {
        let c = Client()
        let h = c.create(8192)
        var mo = drm_i915_gem_mmap_offset(handle: h, pad: 0, offset: 0, flags: UInt64(I915_MMAP_OFFSET_WB), extensions: 0)
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_MMAP_GTT), &mo).errno == 0)
        var m = drm_fakedrm_mmap(offset: mo.offset, size: 8192, prot: UInt32(PROT_READ | PROT_WRITE), readonly: 7, cookie: 0)
        #expect(c.ioctl(mmapCmd, &m).errno == 0)
        #expect(m.cookie != 0 && m.readonly == 0)
        // Linux 6.12+: a range starting inside the node is a partial mapping; past its end EINVAL.
        var inside = drm_fakedrm_mmap(offset: mo.offset + 4096, size: 4096, prot: UInt32(PROT_READ), readonly: 0, cookie: 0)
        #expect(c.ioctl(mmapCmd, &inside).errno == 0)
        var past = drm_fakedrm_mmap(offset: mo.offset + 4096, size: 8192, prot: UInt32(PROT_READ), readonly: 0, cookie: 0)
        #expect(c.ioctl(mmapCmd, &past).errno == errnoEINVAL)
        var v = drm_fakedrm_vma(cookie: m.cookie)
        #expect(c.ioctl(openCmd, &v).errno == 0)
        #expect(c.ioctl(closeCmd, &v).errno == 0)
        #expect(c.ioctl(closeCmd, &v).errno == 0)
        #expect(c.ioctl(closeCmd, &v).errno == ENOENT)
    }

    @Test func legacyGemMmapReturnsWhereToMap() {
        let c = Client()
        let h = c.create(8192)
        var g = drm_fakedrm_gem_mmap()
        g.args.handle = h
        g.args.offset = 4096
        g.args.size = 4096
        g.args.flags = UInt64(I915_MMAP_WC)
        #expect(c.ioctl(gemMmapCmd, &g).errno == 0)
        #expect(g.cookie != 0 && g.map_offset >= 1 << 32 && g.map_offset & 4095 == 0)
        g.args.flags = 4
        #expect(c.ioctl(gemMmapCmd, &g).errno == errnoEINVAL)
        // Plain mode's legacy ioctl is still refused: it cannot map into the caller.
        var legacy = drm_i915_gem_mmap(handle: h, pad: 0, offset: 0, size: 4096, addr_ptr: 0, flags: 0)
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_MMAP), &legacy).errno == EOPNOTSUPP)
    }

    @Test func rootAnswersProbeAndVmaOnly() {
        let c = Client()
        func root<T>(_ cmd: UInt32, _ arg: inout T) -> Int32 {
            let size = Int(fdrm_ioc_size(cmd))
            var out = [UInt8](repeating: 0, count: size)
            let r = withUnsafeBytes(of: &arg) { i in
                out.withUnsafeMutableBytes { o in
                    c.dispatcher.dispatchRoot(cmd: cmd, input: UnsafeRawBufferPointer(rebasing: i[0..<min(size, i.count)]),
                                              output: o) { $0 == 42 ? .render : nil }
                }
            }
            withUnsafeMutableBytes(of: &arg) { a in
                out.withUnsafeBytes { a.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<min(r.outBytes, a.count)])) }
            }
            return r.errno
        }
        var p = drm_fakedrm_probe(ino: 42, version: 0, minor: 0, instance: 0)
        #expect(root(probeCmd, &p) == 0)
        #expect(p.minor == 128 && p.instance == Strict.instance)
        var q = drm_fakedrm_probe(ino: 43, version: 0, minor: 0, instance: 0)
        #expect(root(probeCmd, &q) == 0)
        #expect(q.minor == -1)
        var v = drm_fakedrm_vma(cookie: 12345)
        #expect(root(closeCmd, &v) == ENOENT)
        var m = drm_fakedrm_mmap()
        #expect(root(mmapCmd, &m) == ENOTTY) // needs an open
        var cr = drm_i915_gem_create(size: 4096, handle: 0, pad: 0)
        #expect(root(i915Cmd(DRM_I915_GEM_CREATE), &cr) == ENOTTY)
    }
}
