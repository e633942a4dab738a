/// MI_* and PIPE_CONTROL execution (intel_gpu_commands.h encodings, gen8+).
extension CommandStreamer {
    mutating func execute(_ dw: [UInt32], at ip: UInt64) throws(Hang) -> Flow {
        let h = dw[0]
        switch h >> 29 {
        case 0: return try executeMI(dw, at: ip)
        case 2:
            try blit(dw)
            return .next
        default:
            if h >> 16 == 0x7A00 { pipeControl(dw) } else { skipped += 1 }
            return .next
        }
    }

    private mutating func executeMI(_ dw: [UInt32], at ip: UInt64) throws(Hang) -> Flow {
        let h = dw[0]
        let op = (h >> 23) & 0x3F
        func need(_ n: Int) throws(Hang) {
            if dw.count < n { throw Hang(reason: "MI opcode 0x" + String(op, radix: 16) + " too short") }
        }
        switch op {
        case 0x0A: return .end                                   // MI_BATCH_BUFFER_END
        case 0x05:                                              // MI_ARB_CHECK: a preemption point
            arbitrated = true
            return contended() ? .arbitrate : .next
        case 0x00, 0x02, 0x08: return .next                     // NOOP, USER_INTERRUPT, ARB_ON_OFF
        case 0x01...0x0D: skipped += 1; return .next
        case 0x31:                                              // MI_BATCH_BUFFER_START
            try need(3)
            // MI_BATCH_PREDICATE (bit 15): ignored while bit 0 of
            // MI_PREDICATE_RESULT_1 is clear (gen8+; gem_exec_fence's timed
            // wait loops on it; 12.50+ uses MI_SET_PREDICATE instead).
            if h & (1 << 15) != 0, regs.read(regs.predicateResult1) & 1 == 0 { return .next }
            let target = Self.address(dw[1] & ~3, dw[2])
            guard resolve(target) != nil else {
                throw Hang(reason: "MI_BATCH_BUFFER_START to 0x" + String(target, radix: 16) + " outside the request's objects")
            }
            return .jump(target, secondLevel: h & (1 << 22) != 0)
        case 0x20:                                              // MI_STORE_DATA_IMM
            try need(4)
            let addr = Self.address(dw[1] & ~3, dw[2])
            for (i, v) in dw[3...].enumerated() { write32(addr + UInt64(i) * 4, v) }
        case 0x22:                                              // MI_LOAD_REGISTER_IMM
            var i = 1
            while i + 1 < dw.count {
                regs.write(dw[i] & 0x7FFFFC, dw[i + 1])
                i += 2
            }
        case 0x24:                                              // MI_STORE_REGISTER_MEM
            try need(4)
            write32(Self.address(dw[2] & ~3, dw[3]), regs.read(dw[1] & 0x7FFFFC))
        case 0x29:                                              // MI_LOAD_REGISTER_MEM
            try need(4)
            regs.write(dw[1] & 0x7FFFFC, read32(Self.address(dw[2] & ~3, dw[3])) ?? 0)
        case 0x2A:                                              // MI_LOAD_REGISTER_REG
            try need(3)
            regs.write(dw[2] & 0x7FFFFC, regs.read(dw[1] & 0x7FFFFC))
        case 0x2E:                                              // MI_COPY_MEM_MEM
            try need(5)
            write32(Self.address(dw[1] & ~3, dw[2]), read32(Self.address(dw[3] & ~3, dw[4])) ?? 0)
        case 0x26:                                              // MI_FLUSH_DW
            if dw.count >= 4 { postSync(op: (h >> 14) & 3, addr: Self.address(dw[1] & ~7, dw[2]), data: dw[3...], qword: dw.count >= 5) }
        case 0x1A:                                              // MI_MATH
            for insn in dw[1...] {
                do throws(MiMath.Failure) { try math.execute(insn, &regs) } catch {
                    throw Hang(reason: "bad MI_MATH instruction 0x" + String(insn, radix: 16))
                }
            }
        case 0x1C:                                              // MI_SEMAPHORE_WAIT (poll)
            try need(4)
            let data = dw[1], addr = Self.address(dw[2] & ~3, dw[3])
            let cmp = (h >> 12) & 7
            arbitrated = true                                   // semaphore waits are preemptible
            let satisfied = waitUntil(addr) { v in
                switch cmp {
                case 0: v > data
                case 1: v >= data
                case 2: v < data
                case 3: v <= data
                case 4: v == data
                default: v != data
                }
            }
            if !satisfied { return .blocked }
        case 0x36:                                              // MI_CONDITIONAL_BATCH_BUFFER_END
            try need(4)
            if (read32(Self.address(dw[2] & ~7, dw[3])) ?? 0) <= dw[1] { return .end }
        default:
            skipped += 1                                        // atomics, perf reports, context and mailbox ops
        }
        return .next
    }

    /// PIPE_CONTROL's post-sync operation (dw1 bits 15:14). Gen8+ lays it
    /// out as 6 dwords, but the command streamer takes the length in the
    /// header: a shorter one writes the immediate dwords it has (IGT's
    /// gem_pipe_control_store_loop emits GFX_OP_PIPE_CONTROL(5), one data
    /// dword). Address bits 2:0 are not address (bit 2 is the gen6/7
    /// "global GTT" flag IGT still sets in the relocation delta).
    private mutating func pipeControl(_ dw: [UInt32]) {
        guard dw.count >= 3 else { skipped += 1; return }
        let hi = dw.count >= 4 ? dw[3] : 0
        postSync(op: (dw[1] >> 14) & 3, addr: Self.address(dw[2] & ~7, hi), data: dw.dropFirst(4), qword: true)
    }

    /// 1: write immediate data (the dwords present), 2: depth count (zero
    /// here), 3: timestamp.
    private mutating func postSync(op: UInt32, addr: UInt64, data: ArraySlice<UInt32>, qword: Bool) {
        switch op {
        case 1:
            guard let first = data.first else { return }
            write32(addr, first)
            if qword, data.count >= 2 { write32(addr + 4, data[data.startIndex + 1]) }
        case 2: write64(addr, 0)
        case 3: write64(addr, Registers.timestampTicks())
        default: break
        }
    }
}
