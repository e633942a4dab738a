import CDrm

/// The kinds of mmap offset node, by their uapi I915_MMAP_OFFSET_* values.
public enum MmapType: UInt64, Sendable, CaseIterable {
    case gtt = 0   // I915_MMAP_OFFSET_GTT: through the aperture, detiled by a fence
    case wc = 1    // I915_MMAP_OFFSET_WC
    case wb = 2    // I915_MMAP_OFFSET_WB
    case uc = 3    // I915_MMAP_OFFSET_UC
    case fixed = 4 // I915_MMAP_OFFSET_FIXED: TTM (discrete) parts only

    public var name: String {
        switch self {
        case .gtt: "gtt"
        case .wc: "wc"
        case .wb: "wb"
        case .uc: "uc"
        case .fixed: "fixed"
        }
    }
}
