/// MI_MATH's ALU (gen9+ encoding): each instruction is a 12-bit opcode and
/// two 10-bit operands over the GPRs, SRCA/SRCB, ACCU, ZF and CF.
struct MiMath {
    var srcA: UInt64 = 0, srcB: UInt64 = 0, accu: UInt64 = 0
    var zf = false, cf = false

    enum Failure: Error { case badInstruction(UInt32) }

    /// Runs one ALU instruction against the registers.
    mutating func execute(_ insn: UInt32, _ regs: inout Registers) throws(Failure) {
        let op = insn >> 20, op1 = (insn >> 10) & 0x3FF, op2 = insn & 0x3FF
        func operand(_ o: UInt32) throws(Failure) -> UInt64 {
            switch o {
            case 0x00...0x0F: return regs.gpr64(Int(o))
            case 0x20: return srcA
            case 0x21: return srcB
            case 0x31: return accu
            case 0x32: return zf ? ~0 : 0
            case 0x33: return cf ? ~0 : 0
            default: throw .badInstruction(insn)
            }
        }
        func load(_ v: UInt64) throws(Failure) {
            switch op1 {
            case 0x20: srcA = v
            case 0x21: srcB = v
            default: throw .badInstruction(insn)
            }
        }
        switch op {
        case 0x000: break                                  // NOOP
        case 0x080: try load(try operand(op2))             // LOAD
        case 0x480: try load(~(try operand(op2)))          // LOADINV
        case 0x081: try load(0)                            // LOAD0
        case 0x481: try load(1)                            // LOAD1
        case 0x100:                                        // ADD
            let (r, o) = srcA.addingReportingOverflow(srcB)
            set(r, carry: o)
        case 0x101:                                        // SUB
            let (r, o) = srcA.subtractingReportingOverflow(srcB)
            set(r, carry: o)
        case 0x102: set(srcA & srcB)                       // AND
        case 0x103: set(srcA | srcB)                       // OR
        case 0x104: set(srcA ^ srcB)                       // XOR
        case 0x105: set(srcB >= 64 ? 0 : srcA << srcB)     // SHL
        case 0x106: set(srcB >= 64 ? 0 : srcA >> srcB)     // SHR
        case 0x107: set(UInt64(bitPattern: Int64(bitPattern: srcA) >> min(srcB, 63))) // SAR
        case 0x180, 0x580:                                 // STORE, STOREINV
            var v = try operand(op2)
            if op == 0x580 { v = ~v }
            guard op1 <= 0x0F else { throw .badInstruction(insn) }
            regs.setGpr64(Int(op1), v)
        default: throw .badInstruction(insn)
        }
    }

    private mutating func set(_ r: UInt64, carry: Bool = false) {
        accu = r
        zf = r == 0
        cf = carry
    }
}
