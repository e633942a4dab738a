import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// What hardware the device pretends to be. Defaults: a Tiger Lake GT2
/// integrated part (gen 12.0), the profile SEMANTICS.md recommends: it has a
/// mappable aperture, fences and swizzle NONE, and still allows PREAD/PWRITE.
/// `--profile FILE` loads one from Mesa's `intel_dev_info --json` keys
/// (DeviceProfile+JSON.swift); `fakedrm profile` prints the current one.
public struct DeviceProfile: Sendable, Equatable {
    /// Mesa's intel_device_info name and platform, for people (the dump).
    public var name = "Intel(R) Xe Graphics (TGL GT2)"
    public var platform = "INTEL_PLATFORM_TGL"
    public var gt = 2
    public var chipsetID: UInt16 = 0x9A49
    public var revision: Int32 = 1
    public var graphicsVersion = 12
    /// CPU-mappable low part of the GGTT.
    public var apertureSize: UInt64 = 256 << 20
    /// Whole GGTT; GET_APERTURE and CONTEXT_GETPARAM(GTT_SIZE) report it.
    public var ggttSize: UInt64 = 4 << 30
    public var fences: Int = 32
    /// Reported as 0 on purpose: each open has its own page cache, so a CPU
    /// view is not coherent with a GTT view without SET_DOMAIN. Userspace that
    /// checks HAS_LLC then takes its non-LLC paths, which synchronise.
    public var hasLLC = false
    public var hasSnoop = true
    /// System memory reported by QUERY(MEMORY_REGIONS): MemTotal, as i915 does.
    public var systemMemory = UInt64(sysconf(Int32(_SC_PHYS_PAGES))) * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    /// Bit-6 swizzle the GGTT applies to X and Y tiled objects (gen8+: none).
    public var swizzleX = UInt32(I915_BIT_6_SWIZZLE_NONE)
    public var swizzleY = UInt32(I915_BIT_6_SWIZZLE_NONE)

    /// Slices, subslices and EUs (intel_sseu.c gen12_sseu_info_init: one
    /// slice of six dual-subslices, sixteen EUs each on a TGL GT2).
    public var sseu = Sseu(maxSlices: 1, maxSubslices: 6, maxEUsPerSubslice: 16,
                           sliceMask: 0x1, subsliceMask: 0x3f, euMask: 0xffff)

    /// What the engines do with a batch: execute it, or (noop) only
    /// validate and signal, drm-shim's contract with the kernel's validation.
    public var gpu = GpuMode.software

    public init() {}
}

/// struct sseu_dev_info, for one slice's worth of identical subslices.
public struct Sseu: Sendable, Equatable {
    public var maxSlices: Int
    public var maxSubslices: Int
    public var maxEUsPerSubslice: Int
    public var sliceMask: UInt8
    /// Enabled subslices of every enabled slice.
    public var subsliceMask: UInt64
    /// Enabled EUs of every enabled subslice.
    public var euMask: UInt64

    var subslices: Int { sliceMask.nonzeroBitCount * subsliceMask.nonzeroBitCount }
    var euTotal: Int { subslices * euMask.nonzeroBitCount }
}

/// `--gpu`: how requests run once execbuf has validated and placed them.
public enum GpuMode: String, Sendable, CaseIterable {
    /// The software command streamer executes every batch.
    case software
    /// Requests complete at once without executing a command: every
    /// execbuf errno, placement, relocation write-back, busy/wait and fence
    /// stays; no store, copy or hang happens.
    case noop
}
