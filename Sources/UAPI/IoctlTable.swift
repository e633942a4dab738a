import CDrm
import FakeDRMDevice

/// The device's ioctls, one entry each, as the kernel's drm_ioctls[] and
/// i915_ioctls[]: number (libdrm's, through CDrm), flags, handler, trace
/// decoder (nil: its first bytes, raw), and where there is one a fuzz
/// template and a mount-root handler.
/// Dispatch, trace, root dispatch, `fakedrm ioctl-table` (the C fuzzer's
/// list) and the in-process fuzzer all read this; adding an ioctl is an entry
/// here plus its handler (docs/uapi.md, "Adding an ioctl").
extension IoctlDispatcher {
    public static let ioctls: [IoctlDesc] = [
        // drm_ioctl.c's drm_ioctls[] as of v6.12, with its flags (the
        // DRM_LEGACY entries are gone since v6.8: unknown, EINVAL).
        IoctlDesc(FDRM_IOCTL_VERSION, .renderAllow, Core.version, trace: Core.versionFields),
        IoctlDesc(FDRM_IOCTL_GET_UNIQUE, [], Core.getUnique, trace: Core.getUniqueFields),
        IoctlDesc(FDRM_IOCTL_GET_MAGIC, [], Core.getMagic, trace: Core.getMagicFields),
        IoctlDesc(FDRM_IOCTL_GET_CLIENT, [], Core.getClient, trace: Core.getClientFields),
        IoctlDesc(FDRM_IOCTL_GET_STATS, [], Core.getStats, trace: { _, _ in [] }),
        IoctlDesc(FDRM_IOCTL_GET_CAP, .renderAllow, Core.getCap, trace: Core.getCapFields),
        IoctlDesc(FDRM_IOCTL_SET_CLIENT_CAP, [], Core.setClientCap, trace: Core.setClientCapFields),
        IoctlDesc(FDRM_IOCTL_SET_VERSION, .master, Core.setVersion, trace: Core.setVersionFields),
        IoctlDesc(FDRM_IOCTL_SET_UNIQUE, [.auth, .master, .rootOnly], Core.invalid),
        IoctlDesc(FDRM_IOCTL_BLOCK, [.auth, .master, .rootOnly], Core.noop),
        IoctlDesc(FDRM_IOCTL_UNBLOCK, [.auth, .master, .rootOnly], Core.noop),
        IoctlDesc(FDRM_IOCTL_AUTH_MAGIC, .master, Core.authMagic, trace: Core.authMagicFields),
        IoctlDesc(FDRM_IOCTL_SET_MASTER, [], Core.setMaster),
        IoctlDesc(FDRM_IOCTL_DROP_MASTER, [], Core.dropMaster),
        IoctlDesc(FDRM_IOCTL_ADD_DRAW, [.auth, .master, .rootOnly], Core.noop),
        IoctlDesc(FDRM_IOCTL_RM_DRAW, [.auth, .master, .rootOnly], Core.noop),
        IoctlDesc(FDRM_IOCTL_FINISH, .auth, Core.noop),
        // drm_wait_vblank_ioctl: no vblank without a display.
        IoctlDesc(FDRM_IOCTL_WAIT_VBLANK, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_UPDATE_DRAW, [.auth, .master, .rootOnly], Core.noop),
        IoctlDesc(FDRM_IOCTL_GEM_CLOSE, .renderAllow, Gem.close, trace: Gem.closeFields, fuzz: Gem.handleFuzz),
        IoctlDesc(FDRM_IOCTL_GEM_FLINK, .auth, Gem.flink, trace: Gem.flinkFields, fuzz: Gem.handleFuzz),
        IoctlDesc(FDRM_IOCTL_GEM_OPEN, .auth, Gem.open, trace: Gem.openFields, fuzz: Gem.openFuzz),
        // A dma-buf fd cannot be installed in the caller from here.
        IoctlDesc(FDRM_IOCTL_PRIME_HANDLE_TO_FD, .renderAllow, Core.primeHandleToFd, trace: Core.primeFields),
        IoctlDesc(FDRM_IOCTL_PRIME_FD_TO_HANDLE, .renderAllow, Core.primeFdToHandle, trace: Core.primeFields),

        // KMS: i915 clears DRIVER_MODESET on a display-less part, and every
        // mode ioctl starts with drm_core_check_feature(DRIVER_MODESET).
        IoctlDesc(FDRM_IOCTL_MODE_GETRESOURCES, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETPLANERESOURCES, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETCRTC, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_SETCRTC, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETPLANE, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_SETPLANE, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_CURSOR, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETGAMMA, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_SETGAMMA, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETENCODER, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETCONNECTOR, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_ATTACHMODE, .master, Core.noop),
        IoctlDesc(FDRM_IOCTL_MODE_DETACHMODE, .master, Core.noop),
        IoctlDesc(FDRM_IOCTL_MODE_GETPROPERTY, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_SETPROPERTY, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETPROPBLOB, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETFB, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GETFB2, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_ADDFB, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_ADDFB2, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_RMFB, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_CLOSEFB, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_PAGE_FLIP, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_DIRTYFB, .master, Core.noModeset),
        // Dumb buffers need only the driver's dumb_create, which i915 has
        // with or without a display (i915_gem_dumb_create).
        IoctlDesc(FDRM_IOCTL_MODE_CREATE_DUMB, [], Core.createDumb, trace: Core.createDumbFields),
        IoctlDesc(FDRM_IOCTL_MODE_MAP_DUMB, [], Core.mapDumb, trace: Core.mapDumbFields),
        IoctlDesc(FDRM_IOCTL_MODE_DESTROY_DUMB, [], Core.destroyDumb, trace: Core.destroyDumbFields),
        IoctlDesc(FDRM_IOCTL_MODE_OBJ_GETPROPERTIES, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_OBJ_SETPROPERTY, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_CURSOR2, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_ATOMIC, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_CREATEPROPBLOB, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_DESTROYPROPBLOB, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_CRTC_GET_SEQUENCE, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_CRTC_QUEUE_SEQUENCE, [], Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_CREATE_LEASE, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_LIST_LESSEES, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_GET_LEASE, .master, Core.noModeset),
        IoctlDesc(FDRM_IOCTL_MODE_REVOKE_LEASE, .master, Core.noModeset),

        // i915 has DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE. EVENTFD takes a
        // duplicate of the caller's eventfd (pidfd_getfd). The fd ioctls take
        // the kernel's struct with its 6.16 point (CDrm.h).
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_CREATE, .renderAllow, Syncobj.create, trace: Syncobj.createFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_DESTROY, .renderAllow, Syncobj.destroy, trace: Syncobj.destroyFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_HANDLE_TO_FD_POINT, .renderAllow, Syncobj.handleToFd, trace: Syncobj.handleFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_FD_TO_HANDLE_POINT, .renderAllow, Syncobj.fdToHandle, trace: Syncobj.handleFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_TRANSFER, .renderAllow, Syncobj.transfer, trace: Syncobj.transferFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_WAIT, .renderAllow, Syncobj.wait, trace: Syncobj.waitFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, .renderAllow, Syncobj.timelineWait, trace: Syncobj.timelineWaitFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_EVENTFD, .renderAllow, Syncobj.eventfd, trace: Syncobj.eventfdFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_RESET, .renderAllow, Syncobj.reset, trace: Syncobj.arrayFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_SIGNAL, .renderAllow, Syncobj.signal, trace: Syncobj.arrayFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, .renderAllow, Syncobj.timelineSignal, trace: Syncobj.timelineArrayFields),
        IoctlDesc(FDRM_IOCTL_SYNCOBJ_QUERY, .renderAllow, Syncobj.query, trace: Syncobj.timelineArrayFields),

        // i915_ioctls[] (i915_driver.c).
        IoctlDesc(FDRM_IOCTL_I915_GETPARAM, .renderAllow, Gem.getParam, trace: Gem.getParamFields,
                  result: Gem.getParamResult, fuzz: Gem.getParamFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_BUSY, .renderAllow, Gem.busy, trace: Gem.busyFields, fuzz: Gem.handleFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_THROTTLE, .renderAllow, Gem.throttle),
        IoctlDesc(FDRM_IOCTL_I915_GEM_CREATE, .renderAllow, Gem.create, trace: Gem.createFields, fuzz: Gem.createFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_CREATE_EXT, .renderAllow, Gem.createExt, trace: Gem.createExtFields),
        IoctlDesc(FDRM_IOCTL_I915_GEM_PREAD, .renderAllow, Gem.pread, trace: Gem.preadFields, fuzz: Gem.preadFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_PWRITE, .renderAllow, Gem.pwrite, trace: Gem.pwriteFields, fuzz: Gem.pwriteFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_MMAP, .renderAllow, Mmap.gemMmap, trace: Mmap.gemMmapFields),
        // MMAP_GTT shares this number; its 16-byte struct is zero-extended.
        IoctlDesc(FDRM_IOCTL_I915_GEM_MMAP_OFFSET, .renderAllow, Mmap.mmapOffset, trace: Mmap.mmapOffsetFields,
                  fuzz: Mmap.mmapOffsetFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_SET_DOMAIN, .renderAllow, Gem.setDomain, trace: Gem.setDomainFields,
                  fuzz: Gem.setDomainFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_SW_FINISH, .renderAllow, Gem.swFinish, trace: Gem.swFinishFields, fuzz: Gem.handleFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_SET_TILING, .renderAllow, Tiling.set, trace: Tiling.setFields, fuzz: Tiling.setFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_GET_TILING, .renderAllow, Tiling.get, trace: Tiling.getFields, fuzz: Gem.handleFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_GET_APERTURE, .renderAllow, Gem.getAperture, trace: Gem.getApertureFields),
        IoctlDesc(FDRM_IOCTL_I915_GEM_MADVISE, .renderAllow, Gem.madvise, trace: Gem.madviseFields, fuzz: Gem.madviseFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_SET_CACHING, .renderAllow, Gem.setCaching, trace: Gem.setCachingFields,
                  fuzz: Gem.setCachingFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_GET_CACHING, .renderAllow, Gem.getCaching, trace: Gem.getCachingFields,
                  fuzz: Gem.handleFuzz),
        IoctlDesc(FDRM_IOCTL_I915_GEM_USERPTR, .renderAllow, Gem.userptr, trace: Gem.userptrFields),
        IoctlDesc(FDRM_IOCTL_I915_GEM_WAIT, .renderAllow, Gem.wait, trace: Gem.waitFields),
        IoctlDesc(FDRM_IOCTL_I915_QUERY, .renderAllow, Gem.query, trace: Gem.queryFields, result: Gem.queryResult),
        // EXECBUFFER2 shares its number with _WR; CONTEXT_CREATE with _EXT
        // (the short struct is zero-extended).
        IoctlDesc(FDRM_IOCTL_I915_GEM_EXECBUFFER2_WR, .renderAllow, Gpu.execbuffer2, trace: Gpu.execbuffer2Fields,
                  result: Gpu.execbuffer2Result),
        IoctlDesc(FDRM_IOCTL_I915_GEM_CONTEXT_CREATE_EXT, .renderAllow, Gpu.contextCreate, trace: Gpu.contextCreateFields),
        IoctlDesc(FDRM_IOCTL_I915_GEM_CONTEXT_DESTROY, .renderAllow, Gpu.contextDestroy, trace: Gpu.contextDestroyFields),
        IoctlDesc(FDRM_IOCTL_I915_GEM_CONTEXT_GETPARAM, .renderAllow, Gpu.contextGetParam, trace: Gpu.contextGetParamFields),
        IoctlDesc(FDRM_IOCTL_I915_GEM_CONTEXT_SETPARAM, .renderAllow, Gpu.contextSetParam, trace: Gpu.contextSetParamFields),
        IoctlDesc(FDRM_IOCTL_I915_GET_RESET_STATS, .renderAllow, Gpu.resetStats, trace: nil),
        IoctlDesc(FDRM_IOCTL_I915_GEM_VM_CREATE, .renderAllow, Gpu.vmCreate, trace: nil),
        IoctlDesc(FDRM_IOCTL_I915_GEM_VM_DESTROY, .renderAllow, Gpu.vmDestroy, trace: nil),
        IoctlDesc(FDRM_IOCTL_I915_REG_READ, .renderAllow, Gpu.regRead, trace: nil),

        // fakedrm.h: the device's own, then strict mode's (the preload
        // library); PROBE, VMA_OPEN and VMA_CLOSE are also served on the
        // mount's root.
        IoctlDesc(FDRM_IOCTL_FAKEDRM_GEM_SET_READONLY, .renderAllow, Gem.setReadonly, trace: Gem.setReadonlyFields,
                  fuzz: Gem.handleFuzz),
        IoctlDesc(FDRM_IOCTL_FAKEDRM_GPU_RESET, .renderAllow, Gpu.reset),
        IoctlDesc(FDRM_IOCTL_FAKEDRM_PROBE, .renderAllow, Strict.probe, trace: nil, root: Strict.probeRoot),
        IoctlDesc(FDRM_IOCTL_FAKEDRM_MMAP, .renderAllow, Strict.mmap, trace: nil),
        IoctlDesc(FDRM_IOCTL_FAKEDRM_VMA_OPEN, .renderAllow, Strict.vmaOpen, trace: nil, root: Strict.vmaOpenRoot),
        IoctlDesc(FDRM_IOCTL_FAKEDRM_VMA_CLOSE, .renderAllow, Strict.vmaClose, trace: nil, root: Strict.vmaCloseRoot),
        IoctlDesc(FDRM_IOCTL_FAKEDRM_GEM_MMAP, .renderAllow, Strict.gemMmap, trace: nil),
    ].filter { $0.cmd != 0 } // an ioctl newer than this libdrm

    /// The table by number (core 0x00..0x3f and 0xa0..0xff, driver
    /// 0x40..0x9f), as drm_ioctl indexes drm_ioctls[] or the driver's.
    static let byNr: [IoctlDesc?] = {
        var slots = [IoctlDesc?](repeating: nil, count: 256)
        for d in ioctls {
            precondition(slots[Int(fdrm_ioc_nr(d.cmd))] == nil, "two ioctls numbered \(fdrm_ioc_nr(d.cmd))")
            slots[Int(fdrm_ioc_nr(d.cmd))] = d
        }
        return slots
    }()

    /// The entry for DRM ioctl value `cmd` (its type 'd' and number), or nil.
    public static func lookup(_ cmd: UInt32) -> IoctlDesc? {
        fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE ? byNr[Int(fdrm_ioc_nr(cmd))] : nil
    }
}

extension IoctlDispatcher {
    /// The table for C: one `FDRM_IOCTL(DRM_IOCTL_..., FLAGS)` line an
    /// ioctl (`fakedrm ioctl-table`, conformance/build/ioctl_table.h).
    public static var cTable: String {
        var text = "/* Generated by `fakedrm ioctl-table` from Sources/UAPI/IoctlTable.swift: do not edit. */\n"
        for d in ioctls {
            var flags: [String] = []
            if d.flags.contains(.auth) { flags.append("DRM_AUTH") }
            if d.flags.contains(.master) { flags.append("DRM_MASTER") }
            if d.flags.contains(.rootOnly) { flags.append("DRM_ROOT_ONLY") }
            if d.flags.contains(.renderAllow) { flags.append("DRM_RENDER_ALLOW") }
            if d.servedOnRoot { flags.append("FAKEDRM_ON_ROOT") }
            text += "FDRM_IOCTL(\(d.name), \(flags.isEmpty ? "0" : flags.joined(separator: " | ")))\n"
        }
        return text
    }
}
