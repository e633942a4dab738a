/// One fence register: which binding it detiles and how (gen4+ layout).
struct Fence {
    var vma: Vma?
    var lastUse: UInt64 = 0
    var tiling = Tiling.none
    /// Fenced GGTT range in bytes.
    var start = 0
    var size = 0

    /// The register as i965_write_fence_reg would program it (gen6+: pitch
    /// at bit 32): hi = end - 4096; lo = start | pitch | Y | valid.
    var value: (hi: UInt64, lo: UInt64) {
        guard vma != nil, tiling.isTiled else { return (0, 0) }
        let pitch = UInt64(tiling.stride / 128 - 1) << 32
        let y: UInt64 = tiling.tileHeight == 32 ? 1 << 1 : 0
        return (UInt64(start + size - 4096), UInt64(start) | pitch | y | 1)
    }
}
