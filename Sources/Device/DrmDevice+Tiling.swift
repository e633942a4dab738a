import CDrm

/// Fence tiling state: SET_TILING / GET_TILING with i915's validation.
extension DrmDevice {
    public struct TilingState: Sendable, Equatable {
        public let mode: UInt32, stride: UInt32, swizzle: UInt32
    }

    /// i915_tiling_ok for gen >= 7: NONE always; X/Y need a non-zero stride,
    /// a multiple of the tile width (512 X, 128 Y), at most 256 KiB.
    static func tilingOK(mode: UInt32, stride: UInt32) -> Bool {
        if mode == UInt32(I915_TILING_NONE) { return true }
        guard mode <= UInt32(I915_TILING_Y) else { return false }
        guard stride / 128 <= 0x800 else { return false } // GEN7_FENCE_MAX_PITCH_VAL
        let tileWidth: UInt32 = mode == UInt32(I915_TILING_Y) ? 128 : 512
        return stride != 0 && stride % tileWidth == 0
    }

    func swizzle(for mode: UInt32) -> UInt32 {
        switch mode {
        case UInt32(I915_TILING_X): profile.swizzleX
        case UInt32(I915_TILING_Y): profile.swizzleY
        default: UInt32(I915_BIT_6_SWIZZLE_NONE)
        }
    }

    /// i915_gem_set_tiling_ioctl. A change unbinds the object from the
    /// GGTT (its fences go) and revokes every GTT mapping, so the next fault
    /// goes through the new layout; pages cached before are written back
    /// with the layout they were served with. Returns what the object now
    /// has ("existing ABI": always written back).
    public func setTiling(_ file: FileID, handle: Handle, mode: UInt32, stride: UInt32) throws(DrmError) -> TilingState {
        guard profile.fences > 0 else { throw DrmError.EOPNOTSUPP }
        return try withFile(file, revoking: { (s, f, revoke) throws(DrmError) -> TilingState in
            let obj = try s.lookup(handle, in: f)
            // i915_gem_object_is_proxy: a userptr's tiling is not the user's to set.
            if obj.userptr != nil { throw DrmError.ENXIO }
            guard Self.tilingOK(mode: mode, stride: stride) else { throw DrmError.EINVAL }
            let new = mode == UInt32(I915_TILING_NONE) ? Tiling.none : Tiling(mode: mode, stride: Int(stride), swizzle: swizzle(for: mode))
            if obj.tiling != new {
                revoke += s.unbindAll(obj)
                revoke += s.takeCached(of: obj, types: [.gtt])
                obj.tilingGeneration &+= 1
                obj.tilingHistory[obj.tilingGeneration] = new
                obj.tiling = new
            }
            return state(obj)
        })
    }

    func state(_ obj: GemObject) -> TilingState {
        TilingState(mode: obj.tiling.mode, stride: UInt32(obj.tiling.stride), swizzle: obj.tiling.swizzle)
    }

    /// i915_gem_get_tiling_ioctl.
    public func getTiling(_ file: FileID, handle: Handle) throws(DrmError) -> TilingState {
        guard profile.fences > 0 else { throw DrmError.EOPNOTSUPP }
        return try withFile(file) { (s, f) throws(DrmError) in state(try s.lookup(handle, in: f)) }
    }
}
