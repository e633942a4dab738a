import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// CONTEXT_SETPARAM(ENGINES) on a proto-context, as set_proto_ctx_engines
/// checks it (IGT gem_ctx_engines): the size rules, a map set once, each
/// entry looked up (ENOENT) before the extensions are read (EFAULT), and
/// the map then selecting the engine of every execbuf on the context.
@Suite struct ContextEnginesTests {
    let c = Client(minor: .render)
    static let header = MemoryLayout<i915_context_param_engines>.size
    static let entry = MemoryLayout<i915_engine_class_instance>.size

    func freshContext() -> UInt32 {
        var g = drm_i915_gem_context_create_ext()
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_CONTEXT_CREATE), &g).errno == 0)
        return g.ctx_id
    }

    /// An engines param of `list` (class, instance) with `extensions`.
    func map(_ list: [(UInt16, UInt16)], extensions: UInt64 = 0) -> UInt64 {
        let at = c.mem.alloc(Self.header + max(list.count, 1) * Self.entry)
        c.mem.set(extensions, at: at)
        for (i, e) in list.enumerated() {
            c.mem.set(i915_engine_class_instance(engine_class: e.0, engine_instance: e.1), at: at + UInt64(Self.header + i * Self.entry))
        }
        return at
    }

    func setEngines(_ ctx: UInt32, size: Int, value: UInt64) -> Int32 {
        var p = drm_i915_gem_context_param()
        p.ctx_id = ctx
        p.param = UInt64(I915_CONTEXT_PARAM_ENGINES)
        p.size = UInt32(size)
        p.value = value
        return c.ioctl(i915Cmd(DRM_I915_GEM_CONTEXT_SETPARAM), &p).errno
    }

    func setEngines(_ ctx: UInt32, _ list: [(UInt16, UInt16)], extensions: UInt64 = 0) -> Int32 {
        setEngines(ctx, size: Self.header + list.count * Self.entry, value: map(list, extensions: extensions))
    }

    @Test func sizeRules() {
        let value = map([])
        for size in [0, 1, Self.header - 1, Self.header + 1, Self.header + (Int(I915_EXEC_RING_MASK) + 2) * Self.entry] {
            #expect(setEngines(freshContext(), size: size, value: value) == errnoEINVAL, "size \(size)")
        }
    }

    @Test func lookupBeforeExtensionsAndOnce() {
        let bad = c.mem.end + 4096 // outside the caller's memory
        let render = UInt16(I915_ENGINE_CLASS_RENDER.rawValue)
        #expect(setEngines(freshContext(), [(0xFFFF, 0)], extensions: bad) == DrmError.ENOENT.errno)
        #expect(setEngines(freshContext(), [(render, 0)], extensions: bad) == DrmError.EFAULT.errno)
        let ctx = freshContext()
        #expect(setEngines(ctx, [(render, 0)]) == 0)
        #expect(setEngines(ctx, [(render, 0)]) == errnoEINVAL) // "Cannot set engines twice"
    }

    @Test func theMapSelectsTheEngine() throws {
        let ctx = freshContext()
        let copy = UInt16(I915_ENGINE_CLASS_COPY.rawValue)
        #expect(setEngines(ctx, [(copy, 0)]) == 0)
        var g = drm_i915_gem_create(size: 4096, handle: 0, pad: 0)
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_CREATE), &g).errno == 0)
        var bbe = UInt32(0x0A << 23)
        try c.dev.pwrite(c.file, handle: Handle(rawValue: g.handle), offset: 0, size: 4, dataPtr: 0) { dst in
            withUnsafeBytes(of: &bbe) { dst.copyMemory(from: $0) }
        }
        var obj = drm_i915_gem_exec_object2()
        obj.handle = g.handle
        var eb = drm_i915_gem_execbuffer2()
        eb.buffers_ptr = c.mem.put(obj)
        eb.buffer_count = 1
        eb.rsvd1 = UInt64(ctx)
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_EXECBUFFER2_WR), &eb).errno == 0)
        var busy = drm_i915_gem_busy(handle: g.handle, busy: 0)
        var t = Int64(5_000_000_000)
        try c.dev.gemWait(c.file, handle: Handle(rawValue: g.handle), flags: 0, timeoutNs: &t)
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_BUSY), &busy).errno == 0)
        // Index 1 is past the map: EINVAL; an empty map refuses every index (gem_ctx_engines@none).
        eb.flags = 1
        #expect(c.ioctl(i915Cmd(DRM_I915_GEM_EXECBUFFER2_WR), &eb).errno == errnoEINVAL)
        let none = freshContext()
        #expect(setEngines(none, []) == 0)
        eb.rsvd1 = UInt64(none)
        for ring in 0...UInt64(I915_EXEC_RING_MASK) {
            eb.flags = ring
            #expect(c.ioctl(i915Cmd(DRM_I915_GEM_EXECBUFFER2_WR), &eb).errno == errnoEINVAL, "ring \(ring)")
        }
    }
}
