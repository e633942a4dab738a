#if canImport(Glibc)
import Glibc
#endif

/// The engine registers a batch can reach with MI_LOAD/STORE_REGISTER_*:
/// RING_TIMESTAMP (the 19.2 MHz command streamer clock), the 16 64-bit
/// general purpose registers (CS_GPR), BCS_SWCTRL (blitter Y-tiling
/// selects), and anything else as plain storage.
struct Registers {
    let mmioBase: UInt32
    var values: [UInt32: UInt32]

    init(mmioBase: UInt32, saved: [UInt32: UInt32]) {
        self.mmioBase = mmioBase
        self.values = saved
    }

    /// CS_TIMESTAMP_FREQUENCY of the profile (GETPARAM reports the same).
    static let timestampHz: UInt64 = 19_200_000

    static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    static func timestampTicks() -> UInt64 { monotonicNs() / 1000 * (timestampHz / 1000) / 1000 }

    var timestamp: UInt32 { mmioBase + 0x358 }      // RING_TIMESTAMP
    var timestampHigh: UInt32 { mmioBase + 0x35C }  // RING_TIMESTAMP_UDW
    var ctxTimestamp: UInt32 { mmioBase + 0x3A8 }   // RING_CTX_TIMESTAMP
    func gpr(_ n: Int) -> UInt32 { mmioBase + 0x600 + UInt32(n) * 8 }
    /// MI_PREDICATE_RESULT_1: predicates MI_BATCH_BUFFER_START (context-saved).
    var predicateResult1: UInt32 { mmioBase + 0x41C }
    static let bcsSwctrl: UInt32 = 0x22200

    /// Registers whose writes are masked (upper 16 bits select the bits).
    static func isMasked(_ reg: UInt32) -> Bool { reg == bcsSwctrl }

    func read(_ reg: UInt32) -> UInt32 {
        switch reg {
        case timestamp, ctxTimestamp: UInt32(truncatingIfNeeded: Self.timestampTicks())
        case timestampHigh: UInt32(truncatingIfNeeded: Self.timestampTicks() >> 32)
        default: values[reg] ?? 0
        }
    }

    mutating func write(_ reg: UInt32, _ value: UInt32) {
        if Self.isMasked(reg) {
            let mask = value >> 16
            values[reg] = (values[reg] ?? 0) & ~mask | (value & mask)
        } else {
            values[reg] = value
        }
    }

    func gpr64(_ n: Int) -> UInt64 { UInt64(read(gpr(n))) | UInt64(read(gpr(n) + 4)) << 32 }

    mutating func setGpr64(_ n: Int, _ v: UInt64) {
        values[gpr(n)] = UInt32(truncatingIfNeeded: v)
        values[gpr(n) + 4] = UInt32(truncatingIfNeeded: v >> 32)
    }

    /// What survives in the context image: everything but the clocks.
    var saved: [UInt32: UInt32] { values.filter { $0.key != timestamp && $0.key != timestampHigh } }
}
