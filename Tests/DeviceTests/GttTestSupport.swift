import CDrm
@testable import FakeDRMDevice

// Helpers for the GGTT / tiling tests (TilingMathTests, GttViewTests,
// GgttTests, GttFaultTests). Names are prefixed to stay out of the way of
// other test files.

/// SEMANTICS §5.2 written out again, independently of `Tiling`, so the
/// model's layout is checked against the spec rather than against itself.
enum GttRef {
    static let none = UInt32(I915_TILING_NONE), x = UInt32(I915_TILING_X), y = UInt32(I915_TILING_Y)
    static let swNone = UInt32(I915_BIT_6_SWIZZLE_NONE)
    static let sw9 = UInt32(I915_BIT_6_SWIZZLE_9)
    static let sw9_10 = UInt32(I915_BIT_6_SWIZZLE_9_10)
    static let sw9_11 = UInt32(I915_BIT_6_SWIZZLE_9_11)
    static let sw9_10_11 = UInt32(I915_BIT_6_SWIZZLE_9_10_11)

    static func tiled(_ l: Int, mode: UInt32, stride s: Int) -> Int {
        let y = l / s, x = l % s
        switch mode {
        case GttRef.x: return (y / 8) * (s * 8) + (x / 512) * 4096 + (y % 8) * 512 + (x % 512)
        case GttRef.y: return (y / 32) * (s * 32) + (x / 128) * 4096 + ((x % 128) / 16) * 512 + (y % 32) * 16 + (x % 16)
        default: return l
        }
    }

    static func swizzle(_ t: Int, _ sw: UInt32) -> Int {
        let b9 = (t >> 9) & 1, b10 = (t >> 10) & 1, b11 = (t >> 11) & 1
        let bit: Int
        switch sw {
        case sw9: bit = b9
        case sw9_10: bit = b9 ^ b10
        case sw9_11: bit = b9 ^ b11
        case sw9_10_11: bit = b9 ^ b10 ^ b11
        default: bit = 0
        }
        return t ^ (bit << 6)
    }

    static func physical(_ l: Int, mode: UInt32, stride: Int, swizzle sw: UInt32 = swNone) -> Int {
        mode == none ? l : swizzle(tiled(l, mode: mode, stride: stride), sw)
    }

    /// What a GTT (fenced) view shows at linear bytes `range` of an object of
    /// `size` bytes whose backing holds `raw`: the byte at the tiled place,
    /// zero where that place lies past the object (§5.2, derived).
    static func detiled(_ raw: [UInt8], _ range: Range<Int>, mode: UInt32, stride: Int, swizzle sw: UInt32 = swNone) -> [UInt8] {
        range.map { l in
            let p = physical(l, mode: mode, stride: stride, swizzle: sw)
            return p < raw.count ? raw[p] : 0
        }
    }

    /// The backing a linear image `lin` (starting at object byte `at`) is
    /// stored as through a fence: `base` with each byte moved to its tiled
    /// place; bytes whose place is past the object are dropped.
    static func tiledImage(_ lin: [UInt8], at: Int = 0, into base: [UInt8], mode: UInt32, stride: Int, swizzle sw: UInt32 = swNone) -> [UInt8] {
        var raw = base
        for (i, b) in lin.enumerated() {
            let p = physical(at + i, mode: mode, stride: stride, swizzle: sw)
            if p < raw.count { raw[p] = b }
        }
        return raw
    }
}

/// One GGTT binding, copied out under the device lock.
struct GgttVmaProbe: Sendable, Equatable {
    let serial: UInt64
    let view: GttView
    let start: Int
    let fence: Int?
    let userfault: Set<InodeID>
}

/// One fence register, copied out under the device lock.
struct GgttFenceProbe: Sendable, Equatable {
    let owner: UInt64? // object serial
    let ownerView: GttView?
    let start: Int
    let size: Int
    let hi: UInt64
    let lo: UInt64
}

/// The simulated aperture, copied out under the device lock.
struct GgttProbe: Sendable {
    let vmas: [GgttVmaProbe]
    let fences: [GgttFenceProbe]
    let binds: Int, evictions: Int, fenceSteals: Int, resets: Int
    let mappablePages: Int

    func vmas(of serial: UInt64) -> [GgttVmaProbe] { vmas.filter { $0.serial == serial } }
    func fence(of serial: UInt64) -> GgttFenceProbe? { fences.first { $0.owner == serial } }
}

extension DrmDevice {
    func ggttProbe() -> GgttProbe {
        state.withLock { s in
            let g = s.ggtt
            return GgttProbe(
                vmas: g.vmas.map { GgttVmaProbe(serial: $0.object.serial, view: $0.view, start: $0.start, fence: $0.fence, userfault: $0.userfault) },
                fences: g.fences.map { f in
                    let v = f.value
                    return GgttFenceProbe(owner: f.vma?.object.serial, ownerView: f.vma?.view, start: f.start, size: f.size, hi: v.hi, lo: v.lo)
                },
                binds: g.stats.binds, evictions: g.stats.evictions, fenceSteals: g.stats.fenceSteals, resets: g.stats.resets,
                mappablePages: g.mappablePages)
        }
    }

    /// The serial of the object a handle names.
    func ggttSerial(_ file: FileID, handle: Handle) -> UInt64? {
        state.withLock { s in s.files[file]?.handles[handle]?.serial }
    }
}

/// A GEM object for driving `Ggtt` directly.
func ggttTestObject(serial: UInt64, pages: Int) -> GemObject {
    GemObject(serial: serial, size: UInt64(pages) << 12, backing: Backing(size: pages << 12)!, caching: UInt32(I915_CACHING_NONE))
}

/// nil when the byte arrays are equal, else a short account of where they
/// first differ (a failing `==` on whole objects would print megabytes).
func gttByteDiff(_ got: [UInt8], _ want: [UInt8]) -> String? {
    guard got.count == want.count else { return "count \(got.count), expected \(want.count)" }
    let bad = got.indices.filter { got[$0] != want[$0] }
    guard let i = bad.first else { return nil }
    return "\(bad.count) bytes differ, first at \(i) (page \(i >> 12) + \(i & 4095)): got \(got[i]), expected \(want[i])"
}

extension Ggtt {
    /// Unbinds every binding: a test's aperture otherwise leaves object ↔
    /// binding cycles behind, which the leak checker (ASan CI step) reports.
    mutating func unbindEverything() {
        for vma in vmas { unbind(vma) }
    }
}
