import CDrm

/// `--trace-commands`: where the engines describe each command they run or
/// skip. The sink writes whole lines (the `--trace` file); off, the decode
/// loop pays one nil check per command and builds no string.
public protocol CommandTraceSink: Sendable {
    func commandTrace(_ line: String)
}

/// The words a trace line is made of, for the command streamer: names as
/// intel_gpu_commands.h (and IGT's gen*_render.h) spell them, decoded fields
/// for what the model executes, "skipped (not executed)" for the rest,
/// following the same rules as Commands.swift and Blitter.swift.
extension CommandStreamer {
    /// "bcs0 ctx=1 seqno=3 ": what every line of a request starts with.
    static func tracePrefix(_ rq: Request) -> String {
        "CMD " + rq.engine.name + " ctx=" + String(rq.context.id) + " seqno=" + String(rq.seqno) + " "
    }

    /// One command, as the engine is about to execute (or skip) it.
    func describe(_ dw: [UInt32]) -> String {
        let h = dw[0]
        switch h >> 29 {
        case 0: return describeMI(dw)
        case 2: return describeBlit(dw)
        default:
            let key = h >> 16
            let name = Self.gfxpipeNames[key] ?? "GFXPIPE 0x" + hex(key)
            if key == 0x7A00, dw.count >= 6 {
                return "PIPE_CONTROL flags=" + hex(dw[1]) + postSync((dw[1] >> 14) & 3, dw[2] & ~7, dw[3], dw[4...])
            }
            return name + " len=" + String(dw.count) + Self.notExecuted
        }
    }

    static let notExecuted = " skipped (not executed)"

    private func describeMI(_ dw: [UInt32]) -> String {
        let h = dw[0], op = (h >> 23) & 0x3F
        let name = Self.miNames[op] ?? "MI opcode 0x" + String(op, radix: 16)
        func addr(_ lo: UInt32, _ hi: UInt32) -> String { hex(Self.address(lo, hi)) }
        switch op {
        case 0x00, 0x02, 0x05, 0x08, 0x0A: return name
        case 0x01...0x0D: return name + Self.notExecuted
        case 0x31 where dw.count >= 3:
            return name + " target=" + addr(dw[1] & ~3, dw[2]) + (h & (1 << 22) != 0 ? " (second level)" : "")
                + (h & (1 << 15) != 0 ? " (predicated)" : "")
        case 0x20 where dw.count >= 4:
            let a = addr(dw[1] & ~3, dw[2])
            if dw.count == 4 { return "MI_STORE_DWORD_IMM addr=" + a + " value=" + hex(dw[3]) }
            if dw.count == 5, h & (1 << 21) != 0 {
                return "MI_STORE_QWORD_IMM addr=" + a + " value=" + hex(UInt64(dw[4]) << 32 | UInt64(dw[3]))
            }
            return "MI_STORE_DWORD_IMM addr=" + a + " values=[" + list(dw[3...]) + "]"
        case 0x22:
            var pairs: [String] = []
            var i = 1
            while i + 1 < dw.count {
                pairs.append(hex(dw[i] & 0x7FFFFC) + "=" + hex(dw[i + 1]))
                i += 2
            }
            return name + " " + pairs.prefix(8).joined(separator: " ") + (pairs.count > 8 ? " ..." : "")
        case 0x24 where dw.count >= 4: return name + " reg=" + hex(dw[1] & 0x7FFFFC) + " addr=" + addr(dw[2] & ~3, dw[3])
        case 0x29 where dw.count >= 4: return name + " reg=" + hex(dw[1] & 0x7FFFFC) + " addr=" + addr(dw[2] & ~3, dw[3])
        case 0x2A where dw.count >= 3: return name + " src=" + hex(dw[1] & 0x7FFFFC) + " dst=" + hex(dw[2] & 0x7FFFFC)
        case 0x2E where dw.count >= 5: return name + " dst=" + addr(dw[1] & ~3, dw[2]) + " src=" + addr(dw[3] & ~3, dw[4])
        case 0x26: return dw.count >= 4 ? name + postSync((h >> 14) & 3, dw[1] & ~7, dw[2], dw[3...]) : name
        case 0x1A: return name + " " + String(dw.count - 1) + " instructions"
        case 0x1C where dw.count >= 4:
            let ops = [">", ">=", "<", "<=", "==", "!="]
            return name + " addr=" + addr(dw[2] & ~3, dw[3]) + " " + ops[min(Int((h >> 12) & 7), 5)] + " " + hex(dw[1]) + " (poll)"
        case 0x36 where dw.count >= 4: return name + " addr=" + addr(dw[2] & ~7, dw[3]) + " <= " + hex(dw[1])
        case 0x31, 0x20, 0x24, 0x29, 0x2A, 0x2E, 0x1C, 0x36: return name + " len=" + String(dw.count) + " (too short)"
        default: return name + " len=" + String(dw.count) + Self.notExecuted
        }
    }

    /// Post-sync operation of MI_FLUSH_DW and PIPE_CONTROL.
    private func postSync(_ op: UInt32, _ lo: UInt32, _ hi: UInt32, _ data: ArraySlice<UInt32>) -> String {
        let a = hex(Self.address(lo, hi))
        switch op {
        case 1: return " post-sync write addr=" + a + " value=" + list(data.prefix(2))
        case 2: return " post-sync depth count addr=" + a
        case 3: return " post-sync timestamp addr=" + a
        default: return ""
        }
    }

    private func describeBlit(_ dw: [UInt32]) -> String {
        let h = dw[0], op = (h >> 22) & 0x7F
        let swctrl = regs.read(Registers.bcsSwctrl)
        func legacy(_ bit: UInt32, _ ySelect: UInt32) -> UInt32 {
            h & bit == 0 ? UInt32(I915_TILING_NONE) : swctrl & ySelect != 0 ? UInt32(I915_TILING_Y) : UInt32(I915_TILING_X)
        }
        /// Base, pitch in bytes (the field counts dwords on tiled surfaces), layout.
        func surface(_ lo: UInt32, _ hi: UInt32, pitch: UInt32, _ tiling: UInt32) -> String {
            let name = tiling == UInt32(I915_TILING_X) ? "X" : tiling == UInt32(I915_TILING_Y) ? "Y" : "linear"
            return hex(Self.address(lo, hi)) + " pitch=" + String(Self.pitch(pitch, tiling)) + " " + name
        }
        func rect(_ a: UInt32, _ b: UInt32) -> String {
            let w = Int(b & 0xFFFF) - Int(a & 0xFFFF), hgt = Int(b >> 16) - Int(a >> 16)
            return "(" + String(a & 0xFFFF) + "," + String(a >> 16) + ") " + String(w) + "x" + String(hgt)
        }
        let name = Self.blitNames[op] ?? "2D opcode 0x" + String(op, radix: 16)
        switch op {
        case 0x53 where dw.count >= 10:
            return name + " src=" + surface(dw[8], dw[9], pitch: dw[7], legacy(1 << 15, 1))
                + " (" + String(dw[6] & 0xFFFF) + "," + String(dw[6] >> 16) + ")"
                + " dst=" + surface(dw[4], dw[5], pitch: dw[1], legacy(1 << 11, 2)) + " " + rect(dw[2], dw[3])
                + " " + String(Self.legacyCpp(dw[1]) * 8) + "bpp"
        case 0x42 where dw.count >= 10:
            return name + " src=" + surface(dw[8], dw[9], pitch: dw[7], Self.fastTiling((h >> 20) & 3))
                + " (" + String(dw[6] & 0xFFFF) + "," + String(dw[6] >> 16) + ")"
                + " dst=" + surface(dw[4], dw[5], pitch: dw[1], Self.fastTiling((h >> 13) & 3)) + " " + rect(dw[2], dw[3])
                + " " + String([1, 2, 4, 4, 8, 16, 16, 16][Int((dw[1] >> 24) & 7)] * 8) + "bpp"
        case 0x50 where dw.count >= 7:
            return name + " dst=" + surface(dw[4], dw[5], pitch: dw[1], legacy(1 << 11, 2)) + " " + rect(dw[2], dw[3])
                + " color=" + hex(dw[6])
        case 0x44 where dw.count >= 11:
            let t = dw[1] >> 30
            let tiling = t == 0 ? UInt32(I915_TILING_NONE) : t == 1 ? UInt32(I915_TILING_X) : UInt32(I915_TILING_Y)
            return name + " dst=" + surface(dw[4], dw[5], pitch: (dw[1] & 0x3FFFF) + 1, tiling)
                + " " + rect(dw[2], dw[3]) + " color=[" + list(dw[7..<11]) + "]"
        case 0x53, 0x42, 0x50, 0x44: return name + " len=" + String(dw.count) + " (too short)"
        default: return name + " len=" + String(dw.count) + Self.notExecuted
        }
    }

    private func hex<T: BinaryInteger>(_ v: T) -> String { "0x" + String(v, radix: 16) }
    private func list<C: Collection>(_ c: C) -> String where C.Element == UInt32 {
        c.prefix(8).map { hex($0) }.joined(separator: " ") + (c.count > 8 ? " ..." : "")
    }

    /// intel_gpu_commands.h's MI_* names (gen8+).
    static let miNames: [UInt32: String] = [
        0x00: "MI_NOOP", 0x01: "MI_SET_PREDICATE", 0x02: "MI_USER_INTERRUPT", 0x03: "MI_WAIT_FOR_EVENT",
        0x04: "MI_FLUSH", 0x05: "MI_ARB_CHECK", 0x07: "MI_REPORT_HEAD", 0x08: "MI_ARB_ON_OFF",
        0x0A: "MI_BATCH_BUFFER_END", 0x0B: "MI_SUSPEND_FLUSH", 0x0C: "MI_PREDICATE", 0x0D: "MI_TOPOLOGY_FILTER",
        0x14: "MI_DISPLAY_FLIP", 0x16: "MI_SEMAPHORE_MBOX", 0x18: "MI_SET_CONTEXT", 0x1A: "MI_MATH",
        0x1B: "MI_SEMAPHORE_SIGNAL", 0x1C: "MI_SEMAPHORE_WAIT", 0x1D: "MI_FORCE_WAKEUP",
        0x20: "MI_STORE_DWORD_IMM", 0x21: "MI_STORE_DWORD_INDEX", 0x22: "MI_LOAD_REGISTER_IMM",
        0x23: "MI_UPDATE_GTT", 0x24: "MI_STORE_REGISTER_MEM", 0x26: "MI_FLUSH_DW", 0x27: "MI_CLFLUSH",
        0x28: "MI_REPORT_PERF_COUNT", 0x29: "MI_LOAD_REGISTER_MEM", 0x2A: "MI_LOAD_REGISTER_REG",
        0x2B: "MI_RS_STORE_DATA_IMM", 0x2C: "MI_LOAD_URB_MEM", 0x2D: "MI_STORE_URB_MEM",
        0x2E: "MI_COPY_MEM_MEM", 0x2F: "MI_ATOMIC", 0x31: "MI_BATCH_BUFFER_START",
        0x36: "MI_CONDITIONAL_BATCH_BUFFER_END",
    ]

    /// The 2D (blitter) client's opcodes.
    static let blitNames: [UInt32: String] = [
        0x01: "XY_SETUP_BLT", 0x03: "XY_SETUP_CLIP_BLT", 0x11: "XY_SETUP_MONO_PATTERN_SL_BLT",
        0x24: "XY_PIXEL_BLT", 0x25: "XY_SCANLINES_BLT", 0x26: "XY_TEXT_BLT", 0x31: "XY_TEXT_IMMEDIATE_BLT",
        0x42: "XY_FAST_COPY_BLT", 0x44: "XY_FAST_COLOR_BLT", 0x50: "XY_COLOR_BLT", 0x51: "XY_PAT_BLT",
        0x52: "XY_MONO_PAT_BLT", 0x53: "XY_SRC_COPY_BLT", 0x54: "XY_MONO_SRC_COPY_BLT",
    ]

    /// GFXPIPE commands by header bits 31:16 (subtype, opcode, subopcode), as
    /// IGT's gen7/gen8 render headers name them.
    static let gfxpipeNames: [UInt32: String] = {
        var n: [UInt32: String] = [
            0x6101: "STATE_BASE_ADDRESS", 0x6102: "STATE_SIP", 0x6904: "PIPELINE_SELECT",
            0x680B: "3DSTATE_VF_STATISTICS", 0x7000: "MEDIA_VFE_STATE", 0x7001: "MEDIA_CURBE_LOAD",
            0x7002: "MEDIA_INTERFACE_DESCRIPTOR_LOAD", 0x7004: "MEDIA_STATE_FLUSH", 0x7100: "MEDIA_OBJECT",
            0x7105: "GPGPU_WALKER", 0x7A00: "PIPE_CONTROL", 0x7B00: "3DPRIMITIVE",
            0x7900: "3DSTATE_DRAWING_RECTANGLE",
        ]
        let state: [UInt32: String] = [
            0x04: "CLEAR_PARAMS", 0x05: "DEPTH_BUFFER", 0x06: "STENCIL_BUFFER", 0x07: "HIER_DEPTH_BUFFER",
            0x08: "VERTEX_BUFFERS", 0x09: "VERTEX_ELEMENTS", 0x0A: "INDEX_BUFFER", 0x0C: "VF", 0x0D: "MULTISAMPLE",
            0x0E: "CC_STATE_POINTERS", 0x0F: "SCISSOR_STATE_POINTERS", 0x10: "VS", 0x11: "GS", 0x12: "CLIP",
            0x13: "SF", 0x14: "WM", 0x15: "CONSTANT_VS", 0x16: "CONSTANT_GS", 0x17: "CONSTANT_PS",
            0x18: "SAMPLE_MASK", 0x19: "CONSTANT_HS", 0x1A: "CONSTANT_DS", 0x1B: "HS", 0x1C: "TE", 0x1D: "DS",
            0x1E: "STREAMOUT", 0x1F: "SBE", 0x20: "PS", 0x21: "VIEWPORT_STATE_POINTERS_SF_CLIP",
            0x23: "VIEWPORT_STATE_POINTERS_CC", 0x24: "BLEND_STATE_POINTERS", 0x25: "DEPTH_STENCIL_STATE_POINTERS",
            0x26: "BINDING_TABLE_POINTERS_VS", 0x27: "BINDING_TABLE_POINTERS_HS", 0x28: "BINDING_TABLE_POINTERS_DS",
            0x29: "BINDING_TABLE_POINTERS_GS", 0x2A: "BINDING_TABLE_POINTERS_PS", 0x2B: "SAMPLER_STATE_POINTERS_VS",
            0x2C: "SAMPLER_STATE_POINTERS_HS", 0x2D: "SAMPLER_STATE_POINTERS_DS", 0x2E: "SAMPLER_STATE_POINTERS_GS",
            0x2F: "SAMPLER_STATE_POINTERS_PS", 0x30: "URB_VS", 0x31: "URB_HS", 0x32: "URB_DS", 0x33: "URB_GS",
            0x49: "VF_INSTANCING", 0x4A: "VF_SGVS", 0x4B: "VF_TOPOLOGY", 0x4D: "PS_BLEND", 0x4E: "WM_DEPTH_STENCIL",
            0x4F: "PS_EXTRA", 0x50: "RASTER", 0x51: "SBE_SWIZ", 0x52: "WM_HZ_OP", 0x55: "COMPONENT_PACKING",
        ]
        for (sub, name) in state { n[0x7800 | sub] = "3DSTATE_" + name }
        let pipelined: [UInt32: String] = [
            0x12: "PUSH_CONSTANT_ALLOC_VS", 0x13: "PUSH_CONSTANT_ALLOC_HS", 0x14: "PUSH_CONSTANT_ALLOC_DS",
            0x15: "PUSH_CONSTANT_ALLOC_GS", 0x16: "PUSH_CONSTANT_ALLOC_PS", 0x17: "SO_DECL_LIST", 0x18: "SO_BUFFER",
            0x19: "BINDING_TABLE_POOL_ALLOC", 0x1A: "GATHER_POOL_ALLOC",
        ]
        for (sub, name) in pipelined { n[0x7900 | sub] = "3DSTATE_" + name }
        return n
    }()
}
