import CDrm
import FakeDRMDevice

/// GEM objects (i915_gem.c and drm_gem.c): create, name, read and write,
/// domains, caching, busy and wait, and GETPARAM/QUERY, which describe the
/// device. User pointers are followed here, outside the device lock.
enum Gem {
    static func getParam(_ dev: DrmDevice, _ g: inout drm_i915_getparam, _ c: IoctlCaller) throws(DrmError) {
        let value = try dev.getParam(g.param, file: c.file)
        try c.memory.store(value, at: address(g.value))
    }

    static func getParamFields(_ g: drm_i915_getparam, out: Bool) -> Fields {
        [("param", "\(g.param)"), ("value", TraceFields.hex(address(g.value)))]
    }

    /// The value went through the caller's pointer: read it back.
    static func getParamResult(_ g: drm_i915_getparam, errno: Int32, _ memory: any UserMemory) -> String {
        guard errno == 0, let v = try? memory.load(Int32.self, at: address(g.value)) else { return "" }
        return "{*value=\(v)}"
    }

    static func getParamFuzz(_ f: inout FuzzChoices) -> drm_i915_getparam {
        _ = f.handle()
        return drm_i915_getparam(param: Int32(f.byte() % 64), value: UnsafeMutablePointer(bitPattern: UInt(f.memory)))
    }

    static func create(_ dev: DrmDevice, _ g: inout drm_i915_gem_create, _ c: IoctlCaller) throws(DrmError) {
        let made = try dev.gemCreate(c.file, size: g.size)
        (g.handle, g.size) = (made.handle.rawValue, made.size)
    }

    static func createFields(_ c: drm_i915_gem_create, out: Bool) -> Fields {
        out ? [("handle", "\(c.handle)"), ("size", "\(c.size)")] : [("size", "\(c.size)")]
    }

    static func createFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_create {
        _ = f.handle()
        return drm_i915_gem_create(size: UInt64(f.byte() % 32 + 1) << 12, handle: 0, pad: 0)
    }

    static func createExtFields(_ c: drm_i915_gem_create_ext, out: Bool) -> Fields {
        out ? [("handle", "\(c.handle)"), ("size", "\(c.size)")]
            : [("size", "\(c.size)"), ("flags", TraceFields.hex(c.flags)), ("extensions", TraceFields.hex(c.extensions))]
    }

    static func close(_ dev: DrmDevice, _ g: inout drm_gem_close, _ c: IoctlCaller) throws(DrmError) {
        try dev.gemClose(c.file, handle: Handle(rawValue: g.handle))
    }

    static func closeFields(_ g: drm_gem_close, out: Bool) -> Fields { [("handle", "\(g.handle)")] }

    /// For every ioctl whose struct begins with the handle: the rest stays zero.
    static func handleFuzz<T>(_ f: inout FuzzChoices) -> T {
        let h = f.handle()
        return withUnsafeTemporaryAllocation(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment) { raw in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            raw.storeBytes(of: h, as: UInt32.self)
            return raw.load(as: T.self)
        }
    }

    static func flink(_ dev: DrmDevice, _ g: inout drm_gem_flink, _ c: IoctlCaller) throws(DrmError) {
        g.name = try dev.gemFlink(c.file, handle: Handle(rawValue: g.handle)).rawValue
    }

    static func flinkFields(_ g: drm_gem_flink, out: Bool) -> Fields { out ? [("name", "\(g.name)")] : [("handle", "\(g.handle)")] }

    static func open(_ dev: DrmDevice, _ g: inout drm_gem_open, _ c: IoctlCaller) throws(DrmError) {
        let opened = try dev.gemOpen(c.file, name: FlinkName(rawValue: g.name))
        (g.handle, g.size) = (opened.handle.rawValue, opened.size)
    }

    static func openFields(_ g: drm_gem_open, out: Bool) -> Fields {
        out ? [("handle", "\(g.handle)"), ("size", "\(g.size)")] : [("name", "\(g.name)")]
    }

    static func openFuzz(_ f: inout FuzzChoices) -> drm_gem_open {
        _ = f.handle()
        return drm_gem_open(name: f.pick(f.names), handle: 0, size: 0)
    }

    static func pread(_ dev: DrmDevice, _ p: inout drm_i915_gem_pread, _ c: IoctlCaller) throws(DrmError) {
        let ptr = p.data_ptr
        try dev.pread(c.file, handle: Handle(rawValue: p.handle), offset: p.offset, size: p.size, dataPtr: ptr, interruption: c.interruption) { (src: UnsafeRawBufferPointer) throws(DrmError) in
            try c.memory.write(ptr, from: src)
        }
    }

    static func preadFields(_ p: drm_i915_gem_pread, out: Bool) -> Fields {
        [("handle", "\(p.handle)"), ("offset", "\(p.offset)"), ("size", "\(p.size)"), ("data_ptr", TraceFields.hex(p.data_ptr))]
    }

    /// PREAD and PWRITE share their layout.
    static func preadFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_pread {
        let p = pwriteFuzz(&f)
        return drm_i915_gem_pread(handle: p.handle, pad: 0, offset: p.offset, size: p.size, data_ptr: p.data_ptr)
    }

    static func pwrite(_ dev: DrmDevice, _ p: inout drm_i915_gem_pwrite, _ c: IoctlCaller) throws(DrmError) {
        let ptr = p.data_ptr
        try dev.pwrite(c.file, handle: Handle(rawValue: p.handle), offset: p.offset, size: p.size, dataPtr: ptr, interruption: c.interruption) { (dst: UnsafeMutableRawBufferPointer) throws(DrmError) in
            try c.memory.read(ptr, into: dst)
        }
    }

    static func pwriteFields(_ p: drm_i915_gem_pwrite, out: Bool) -> Fields {
        [("handle", "\(p.handle)"), ("offset", "\(p.offset)"), ("size", "\(p.size)"), ("data_ptr", TraceFields.hex(p.data_ptr))]
    }

    static func pwriteFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_pwrite {
        let h = f.handle()
        return drm_i915_gem_pwrite(handle: h, pad: 0, offset: UInt64(f.byte()) << 8, size: UInt64(f.byte()) << 6,
                                   data_ptr: f.memory + UInt64(f.byte()) << 8)
    }

    static func setDomain(_ dev: DrmDevice, _ d: inout drm_i915_gem_set_domain, _ c: IoctlCaller) throws(DrmError) {
        try dev.setDomain(c.file, handle: Handle(rawValue: d.handle), readDomains: d.read_domains, writeDomain: d.write_domain, pid: c.pid,
                          interruption: c.interruption)
    }

    /// USERPTR: the calling thread's memory backs the object
    /// (DrmDevice+Userptr.swift decides everything).
    static func userptr(_ dev: DrmDevice, _ u: inout drm_i915_gem_userptr, _ c: IoctlCaller) throws(DrmError) {
        u.handle = try dev.gemUserptr(c.file, pid: c.pid, address: u.user_ptr, size: u.user_size, flags: u.flags).rawValue
    }

    static func userptrFields(_ u: drm_i915_gem_userptr, out: Bool) -> Fields {
        [("user_ptr", TraceFields.hex(u.user_ptr)), ("user_size", "\(u.user_size)"), ("flags", TraceFields.hex(u.flags))]
            + (out ? [("handle", "\(u.handle)")] : [])
    }

    static func setDomainFields(_ d: drm_i915_gem_set_domain, out: Bool) -> Fields {
        [("handle", "\(d.handle)"), ("read_domains", TraceFields.hex(d.read_domains)), ("write_domain", TraceFields.hex(d.write_domain))]
    }

    static func setDomainFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_set_domain {
        let h = f.handle()
        let d = f.pick([UInt32(I915_GEM_DOMAIN_CPU), UInt32(I915_GEM_DOMAIN_GTT), UInt32(I915_GEM_DOMAIN_WC)])
        return drm_i915_gem_set_domain(handle: h, read_domains: d, write_domain: f.byte() & 1 == 0 ? d : 0)
    }

    static func swFinish(_ dev: DrmDevice, _ d: inout drm_i915_gem_sw_finish, _ c: IoctlCaller) throws(DrmError) {
        try dev.swFinish(c.file, handle: Handle(rawValue: d.handle))
    }

    static func swFinishFields(_ d: drm_i915_gem_sw_finish, out: Bool) -> Fields { [("handle", "\(d.handle)")] }

    static func getAperture(_ dev: DrmDevice, _ a: inout drm_i915_gem_get_aperture, _ c: IoctlCaller) throws(DrmError) {
        (a.aper_size, a.aper_available_size) = dev.aperture
    }

    static func getApertureFields(_ a: drm_i915_gem_get_aperture, out: Bool) -> Fields {
        out ? [("aper_size", "\(a.aper_size)"), ("aper_available_size", "\(a.aper_available_size)")] : []
    }

    static func madvise(_ dev: DrmDevice, _ m: inout drm_i915_gem_madvise, _ c: IoctlCaller) throws(DrmError) {
        m.retained = try dev.madvise(c.file, handle: Handle(rawValue: m.handle), madv: m.madv) ? 1 : 0
    }

    static func madviseFields(_ m: drm_i915_gem_madvise, out: Bool) -> Fields {
        out ? [("retained", "\(m.retained)")] : [("handle", "\(m.handle)"), ("madv", "\(m.madv)")]
    }

    /// DONTNEED purges at once: now and then, or nothing stays mappable.
    static func madviseFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_madvise {
        let h = f.handle()
        return drm_i915_gem_madvise(handle: h, madv: f.byte() % 8 == 0 ? 1 : 0, retained: 0)
    }

    static func setCaching(_ dev: DrmDevice, _ g: inout drm_i915_gem_caching, _ c: IoctlCaller) throws(DrmError) {
        try dev.setCaching(c.file, handle: Handle(rawValue: g.handle), caching: g.caching)
    }

    static func setCachingFields(_ c: drm_i915_gem_caching, out: Bool) -> Fields {
        [("handle", "\(c.handle)"), ("caching", "\(c.caching)")]
    }

    static func setCachingFuzz(_ f: inout FuzzChoices) -> drm_i915_gem_caching {
        let h = f.handle()
        return drm_i915_gem_caching(handle: h, caching: UInt32(f.byte() % 3))
    }

    static func getCaching(_ dev: DrmDevice, _ g: inout drm_i915_gem_caching, _ c: IoctlCaller) throws(DrmError) {
        g.caching = try dev.getCaching(c.file, handle: Handle(rawValue: g.handle))
    }

    static func getCachingFields(_ c: drm_i915_gem_caching, out: Bool) -> Fields {
        out ? [("caching", "\(c.caching)")] : [("handle", "\(c.handle)")]
    }

    static func busy(_ dev: DrmDevice, _ b: inout drm_i915_gem_busy, _ c: IoctlCaller) throws(DrmError) {
        b.busy = try dev.gemBusy(c.file, handle: Handle(rawValue: b.handle))
    }

    static func busyFields(_ b: drm_i915_gem_busy, out: Bool) -> Fields {
        out ? [("busy", TraceFields.hex(b.busy))] : [("handle", "\(b.handle)")]
    }

    static func wait(_ dev: DrmDevice, _ w: inout drm_i915_gem_wait, _ c: IoctlCaller) throws(DrmError) {
        try dev.gemWait(c.file, handle: Handle(rawValue: w.bo_handle), flags: w.flags, timeoutNs: &w.timeout_ns, interruption: c.interruption)
    }

    static func waitFields(_ w: drm_i915_gem_wait, out: Bool) -> Fields {
        [("bo_handle", "\(w.bo_handle)"), ("flags", TraceFields.hex(w.flags)), ("timeout_ns", "\(w.timeout_ns)")]
    }

    static func throttle(_ dev: DrmDevice, _ c: IoctlCaller) throws(DrmError) { try dev.throttle() }

    static func queryFields(_ q: drm_i915_query, out: Bool) -> Fields {
        [("num_items", "\(q.num_items)"), ("flags", TraceFields.hex(q.flags)), ("items_ptr", TraceFields.hex(q.items_ptr))]
    }

    /// Each item's answer is its length, or -errno, in the caller's array.
    static func queryResult(_ q: drm_i915_query, errno: Int32, _ memory: any UserMemory) -> String {
        TraceFields.queryItems(q, memory)
    }

    /// DRM_IOCTL_FAKEDRM_GEM_SET_READONLY: the kernel's I915_BO_READONLY, one-way.
    static func setReadonly(_ dev: DrmDevice, _ r: inout drm_fakedrm_gem_set_readonly, _ c: IoctlCaller) throws(DrmError) {
        try dev.setReadonly(c.file, handle: Handle(rawValue: r.handle), flags: r.flags)
    }

    static func setReadonlyFields(_ r: drm_fakedrm_gem_set_readonly, out: Bool) -> Fields {
        [("handle", "\(r.handle)"), ("flags", TraceFields.hex(r.flags))]
    }

}
