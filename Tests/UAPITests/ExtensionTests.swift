import CDrm
import Testing
@testable import FakeDRMDevice
@testable import FakeDRMUAPI

/// i915_user_extensions(): the chain walk behind MMAP_OFFSET and CREATE_EXT.
@Suite struct ExtensionTests {
    let c = Client(minor: .render)

    func ext(next: UInt64 = 0, name: UInt32 = 0, flags: UInt32 = 0,
             rsvd: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)) -> i915_user_extension {
        i915_user_extension(next_extension: next, name: name, flags: flags, rsvd: rsvd)
    }

    func mmapOffset(extensions: UInt64, handle: UInt32? = nil) -> IoctlDispatcher.Result {
        var m = drm_i915_gem_mmap_offset(handle: handle ?? c.create(4096), pad: 0, offset: 0,
                                         flags: UInt64(I915_MMAP_OFFSET_WB), extensions: extensions)
        return c.ioctl(i915Cmd(DRM_I915_GEM_MMAP_GTT) /* = MMAP_OFFSET */, &m)
    }

    @Test func unreadableExtensionIsEFAULT() {
        #expect(mmapOffset(extensions: 0x1000).errno == DrmError.EFAULT.errno)
        #expect(mmapOffset(extensions: .max).errno == DrmError.EFAULT.errno)
        #expect(mmapOffset(extensions: c.mem.end - 16).errno == DrmError.EFAULT.errno) // half readable
    }

    @Test func extensionsComeBeforeTheHandle() {
        #expect(mmapOffset(extensions: 0x1000, handle: 99).errno == DrmError.EFAULT.errno)
        #expect(mmapOffset(extensions: 0, handle: 99).errno == DrmError.ENOENT.errno)
    }

    @Test func anyNameIsEINVAL() {
        #expect(mmapOffset(extensions: c.mem.put(ext(name: 0xffff_ffff))).errno == errnoEINVAL)
        #expect(mmapOffset(extensions: c.mem.put(ext(name: 0))).errno == errnoEINVAL)
    }

    @Test func nonZeroFlagsOrRsvdIsEINVAL() {
        #expect(mmapOffset(extensions: c.mem.put(ext(flags: 1))).errno == errnoEINVAL)
        #expect(mmapOffset(extensions: c.mem.put(ext(rsvd: (0, 0, 0, 1)))).errno == errnoEINVAL)
        #expect(mmapOffset(extensions: c.mem.put(ext(rsvd: (5, 0, 0, 0)))).errno == errnoEINVAL)
    }

    /// The kernel judges a link's name before following `next`, and no name
    /// is valid for MMAP_OFFSET: a cycle fails on its first link, EINVAL.
    @Test func selfReferencingChainOnMmapOffsetIsEINVAL() {
        let at = c.mem.alloc(32)
        c.mem.set(ext(next: at), at: at)
        #expect(mmapOffset(extensions: at).errno == errnoEINVAL)
    }

    /// With a visitor that accepts every link, a cycle hits the 512-link
    /// stack depth: E2BIG after exactly 512 visits.
    @Test func cycleWithAcceptedNamesIsE2BIGAfter512() {
        let at = c.mem.alloc(32)
        c.mem.set(ext(next: at, name: 3), at: at)
        var visits = 0
        #expect(throws: DrmError.E2BIG) {
            try UserExtensions.walk(at, c.mem) { (name, addr) throws(DrmError) in
                #expect(name == 3 && addr == at)
                visits += 1
            }
        }
        #expect(visits == 512)
    }

    @Test func chainOf512IsAcceptedAndNullIsEmpty() throws {
        let links = (0..<512).map { _ in c.mem.alloc(32) }
        for (i, at) in links.enumerated() {
            c.mem.set(ext(next: i + 1 < links.count ? links[i + 1] : 0, name: UInt32(i)), at: at)
        }
        var names: [UInt32] = []
        try UserExtensions.walk(links[0], c.mem) { (name, _) throws(DrmError) in names.append(name) }
        #expect(names == (0..<512).map(UInt32.init))
        // A null chain visits nothing.
        try UserExtensions.walk(0, c.mem) { (_, _) throws(DrmError) in Issue.record("visited") }
        #expect(mmapOffset(extensions: 0).errno == 0)
    }
}
