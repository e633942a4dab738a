import CDrm

/// EXECBUFFER2 in `--trace`: its flags by name, and after the call the exec
/// list as the caller's memory holds it then (the offsets the kernel wrote
/// back), each object's flags and relocations. Bounded: 16 objects and 8
/// relocations each, the rest counted.
enum ExecbufTrace {
    static let maxObjects = 16, maxRelocations = 8

    /// "0x40803 (BLT|NO_RELOC|BATCH_FIRST)": the ring selector, then the flags.
    static func flags(_ f: UInt64) -> String {
        let rings = ["DEFAULT", "RENDER", "BSD", "BLT", "VEBOX"]
        let ring = Int(f & UInt64(I915_EXEC_RING_MASK))
        var names = [ring < rings.count ? rings[ring] : "ring=\(ring)"]
        let known: [(UInt64, String)] = [
            (UInt64(I915_EXEC_BSD_RING1), "BSD_RING1"), (UInt64(I915_EXEC_BSD_RING2), "BSD_RING2"),
            (UInt64(I915_EXEC_GEN7_SOL_RESET), "GEN7_SOL_RESET"), (UInt64(I915_EXEC_SECURE), "SECURE"),
            (UInt64(I915_EXEC_IS_PINNED), "IS_PINNED"), (UInt64(I915_EXEC_NO_RELOC), "NO_RELOC"),
            (UInt64(I915_EXEC_HANDLE_LUT), "HANDLE_LUT"), (UInt64(I915_EXEC_RESOURCE_STREAMER), "RESOURCE_STREAMER"),
            (UInt64(I915_EXEC_FENCE_IN), "FENCE_IN"), (UInt64(I915_EXEC_FENCE_OUT), "FENCE_OUT"),
            (UInt64(I915_EXEC_BATCH_FIRST), "BATCH_FIRST"), (UInt64(I915_EXEC_FENCE_ARRAY), "FENCE_ARRAY"),
            (UInt64(I915_EXEC_FENCE_SUBMIT), "FENCE_SUBMIT"), (UInt64(I915_EXEC_USE_EXTENSIONS), "USE_EXTENSIONS"),
        ]
        var rest = f & ~UInt64(I915_EXEC_RING_MASK)
        for (bit, name) in known where rest & bit == bit {
            names.append(name)
            rest &= ~bit
        }
        // BSD_RING1|RING2 is the (invalid) ring 3.
        if rest != 0 { names.append(TraceFields.hex(rest)) }
        return TraceFields.hex(f) + " (" + names.joined(separator: "|") + ")"
    }

    static func objectFlags(_ f: UInt64) -> String {
        let known: [(UInt64, String)] = [
            (UInt64(EXEC_OBJECT_NEEDS_FENCE), "NEEDS_FENCE"), (UInt64(EXEC_OBJECT_NEEDS_GTT), "NEEDS_GTT"),
            (UInt64(EXEC_OBJECT_WRITE), "WRITE"), (UInt64(EXEC_OBJECT_SUPPORTS_48B_ADDRESS), "48B"),
            (UInt64(EXEC_OBJECT_PINNED), "PINNED"), (UInt64(EXEC_OBJECT_PAD_TO_SIZE), "PAD_TO_SIZE"),
            (UInt64(EXEC_OBJECT_ASYNC), "ASYNC"), (UInt64(EXEC_OBJECT_CAPTURE), "CAPTURE"),
        ]
        var names: [String] = [], rest = f
        for (bit, name) in known where rest & bit != 0 {
            names.append(name)
            rest &= ~bit
        }
        if rest != 0 { names.append(TraceFields.hex(rest)) }
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }

    /// "objects=[{handle=1, offset=0x..., flags=WRITE|48B, relocs=[...]}, ...]".
    static func objects(_ e: drm_i915_gem_execbuffer2, _ memory: any UserMemory) -> String {
        let stride = UInt64(MemoryLayout<drm_i915_gem_exec_object2>.stride)
        var out: [String] = []
        for i in 0..<min(UInt64(e.buffer_count), UInt64(maxObjects)) {
            guard let o = try? memory.load(drm_i915_gem_exec_object2.self, at: e.buffers_ptr &+ i &* stride) else {
                out.append("EFAULT")
                break
            }
            var s = "{handle=\(o.handle), offset=" + TraceFields.hex(o.offset) + ", flags=" + objectFlags(o.flags)
            if o.alignment != 0 { s += ", alignment=" + TraceFields.hex(o.alignment) }
            if o.flags & UInt64(EXEC_OBJECT_PAD_TO_SIZE) != 0 { s += ", pad_to_size=" + TraceFields.hex(o.pad_to_size) }
            if o.relocation_count > 0 { s += ", relocs=" + relocations(o, memory) }
            out.append(s + "}")
        }
        if e.buffer_count > UInt32(maxObjects) { out.append("... \(e.buffer_count - UInt32(maxObjects)) more") }
        return "objects=[" + out.joined(separator: ", ") + "]"
    }

    /// "[{offset=0x10, target=2, delta=0x0, presumed=0x100000, domains=0x2/0x2}, ...]".
    static func relocations(_ o: drm_i915_gem_exec_object2, _ memory: any UserMemory) -> String {
        let stride = UInt64(MemoryLayout<drm_i915_gem_relocation_entry>.stride)
        var out: [String] = []
        for i in 0..<min(UInt64(o.relocation_count), UInt64(maxRelocations)) {
            guard let r = try? memory.load(drm_i915_gem_relocation_entry.self, at: o.relocs_ptr &+ i &* stride) else {
                out.append("EFAULT")
                break
            }
            out.append("{offset=" + TraceFields.hex(r.offset) + ", target=\(r.target_handle), delta="
                       + TraceFields.hex(r.delta) + ", presumed=" + TraceFields.hex(r.presumed_offset)
                       + ", domains=" + TraceFields.hex(r.read_domains) + "/" + TraceFields.hex(r.write_domain) + "}")
        }
        if o.relocation_count > UInt32(maxRelocations) { out.append("... \(o.relocation_count - UInt32(maxRelocations)) more") }
        return "[" + out.joined(separator: ", ") + "]"
    }
}
