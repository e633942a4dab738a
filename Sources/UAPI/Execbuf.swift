import CDrm
import FakeDRMDevice

/// i915_gem_execbuffer2_ioctl: the exec list and relocations come from the
/// caller's memory; new offsets and presumed offsets go back to it, even
/// when the submission fails after placement (as the kernel does).
extension Gpu {
    static func execbuffer2(_ dev: DrmDevice, _ e: inout drm_i915_gem_execbuffer2, _ c: IoctlCaller) throws(DrmError) {
        try DrmDevice.checkExecbuffer(&e, fences: dev.canExport(c.file))
        let count = Int(e.buffer_count)
        let stride = MemoryLayout<drm_i915_gem_exec_object2>.stride
        // kvmalloc_array fails long before INT_MAX entries.
        guard count <= 1 << 24 else { throw DrmError.ENOMEM }
        var objects = [drm_i915_gem_exec_object2](repeating: drm_i915_gem_exec_object2(), count: count)
        let failure: DrmError? = objects.withUnsafeMutableBytes { buf in
            do throws(DrmError) { try c.memory.read(e.buffers_ptr, into: buf) } catch { return error }
            return nil
        }
        if let failure { throw failure }

        var output = DrmDevice.ExecbufOutput()
        let args = e
        var result: DrmError?
        do throws(DrmError) {
            try dev.execbuffer(c.file, args, objects: &objects, output: &output, pid: c.pid, interruption: c.interruption,
                                  fences: { () throws(DrmError) in try execFences(dev, args, c) },
                                  readRelocations: { (entry) throws(DrmError) in try relocations(entry, c) })
        } catch {
            result = error
        }
        for p in output.presumed { try? c.memory.store(p.value, at: p.address) }
        if output.writeBackOffsets {
            let field = UInt64(MemoryLayout<drm_i915_gem_exec_object2>.offset(of: \.offset)!)
            for (i, o) in objects.enumerated() { try? c.memory.store(o.offset, at: e.buffers_ptr + UInt64(i * stride) + field) }
        }
        if let result { throw result }
        // FENCE_OUT: the sync_file's token in rsvd2's upper half (the
        // library puts the fd there).
        if let t = output.outFence { e.rsvd2 = (e.rsvd2 & 0xFFFF_FFFF) | UInt64(t) << 32 }
    }

    /// check_relocations and the copy of one entry's relocation array.
    private static func relocations(_ entry: drm_i915_gem_exec_object2, _ c: IoctlCaller) throws(DrmError) -> [drm_i915_gem_relocation_entry] {
        let size = MemoryLayout<drm_i915_gem_relocation_entry>.stride
        let n = Int(entry.relocation_count)
        guard n <= Int(Int32.max) / size else { throw DrmError.EINVAL }
        let (end, overflow) = entry.relocs_ptr.addingReportingOverflow(UInt64(n * size))
        guard !overflow, end <= 0x7FFF_FFFF_F000 else { throw DrmError.EFAULT }
        var relocs = [drm_i915_gem_relocation_entry](repeating: drm_i915_gem_relocation_entry(), count: n)
        let failure: DrmError? = relocs.withUnsafeMutableBytes { buf in
            do throws(DrmError) { try c.memory.read(entry.relocs_ptr, into: buf) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        return relocs
    }

    /// parse_execbuf2_extensions, add_timeline_fence_array and
    /// add_fence_array: each entry copied in order (EFAULT), its flags
    /// checked, then resolved by the model.
    private static func execFences(_ dev: DrmDevice, _ e: drm_i915_gem_execbuffer2, _ c: IoctlCaller) throws(DrmError) -> [ExecFence] {
        let fenceSize = UInt64(MemoryLayout<drm_i915_gem_exec_fence>.stride)
        var out: [ExecFence] = []
        /// access_ok: the whole array inside the user address space.
        func accessOK(_ ptr: UInt64, _ count: UInt64, _ size: UInt64) throws(DrmError) {
            let (end, overflow) = ptr.addingReportingOverflow(count * size)
            guard !overflow, end <= 0x7FFF_FFFF_F000 else { throw DrmError.EFAULT }
        }
        func add(_ ptr: UInt64, count: UInt64, values: UInt64?) throws(DrmError) {
            guard count > 0 else { return }
            guard count <= UInt64(Int.max) / 32 - UInt64(out.count) else { throw DrmError.EINVAL }
            try accessOK(ptr, count, fenceSize)
            if let values { try accessOK(values, count, 8) }
            try DrmDevice.checkExecFenceCount(UInt64(out.count) + count)
            for i in 0..<count {
                let f = try c.memory.load(drm_i915_gem_exec_fence.self, at: ptr + i * fenceSize)
                try DrmDevice.checkExecFenceFlags(f.flags)
                let point = try values.map { (v) throws(DrmError) in try c.memory.load(UInt64.self, at: v + i * 8) } ?? 0
                if let r = try dev.execFence(c.file, handle: SyncobjHandle(rawValue: f.handle), flags: f.flags, point: point, timeline: values != nil) {
                    out.append(r)
                }
            }
        }
        if e.flags & UInt64(I915_EXEC_USE_EXTENSIONS) != 0 {
            guard e.flags & UInt64(I915_EXEC_FENCE_ARRAY) == 0, e.num_cliprects == 0 else { throw DrmError.EINVAL }
            try UserExtensions.walk(e.cliprects_ptr, c.memory) { (name, addr) throws(DrmError) in
                guard name == UInt32(DRM_I915_GEM_EXECBUFFER_EXT_TIMELINE_FENCES) else { throw DrmError.EINVAL }
                let t = try c.memory.load(drm_i915_gem_execbuffer_ext_timeline_fences.self, at: addr)
                try add(t.handles_ptr, count: t.fence_count, values: t.values_ptr)
            }
        }
        if e.flags & UInt64(I915_EXEC_FENCE_ARRAY) != 0 {
            try add(e.cliprects_ptr, count: UInt64(e.num_cliprects), values: nil)
        }
        return out
    }
}
