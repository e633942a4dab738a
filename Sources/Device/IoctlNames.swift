import CDrm

/// Short ioctl names from libdrm's list (CDrm's ioctl_list.def): "GEM_CREATE"
/// for DRM_IOCTL_I915_GEM_CREATE, "GEM_CLOSE" for DRM_IOCTL_GEM_CLOSE. Fault
/// injection and CLI messages use them. The model does not know which of
/// them the device implements (that is the uapi layer's table): a rule for
/// an unimplemented one never fires, since dispatch refuses it first.
public enum IoctlNames {
    /// The short name of DRM ioctl number `nr`, or nil when libdrm has none.
    public static func name(nr: UInt32) -> String? { byNr[Int(nr & 0xff)] }

    /// "DRM_IOCTL_I915_GEM_CREATE" without its prefixes.
    public static func short(_ full: String) -> String {
        var s = Substring(full)
        for prefix in ["DRM_IOCTL_", "I915_"] where s.hasPrefix(prefix) { s = s.dropFirst(prefix.count) }
        return String(s)
    }

    /// The number of an ioctl named by its short or full name
    /// ("GEM_CREATE", "DRM_IOCTL_I915_GEM_CREATE"), its number ("0x5b"), or
    /// a full ioctl value ("0xc010645b"); nil when libdrm names none.
    public static func nr(named text: String) -> UInt32? {
        let t = text.uppercased()
        let number = t.hasPrefix("0X") ? UInt32(t.dropFirst(2), radix: 16) : UInt32(t)
        if let number {
            let nr = number > 0xff ? fdrm_ioc_nr(number) : number
            return name(nr: nr) != nil ? nr : nil
        }
        let wanted = short(t)
        return (0..<fdrm_libdrm_ioctl_count()).first { short(String(cString: fdrm_libdrm_ioctl_name_at($0))) == wanted }
            .map { fdrm_ioc_nr(fdrm_libdrm_ioctl_cmd($0)) }
    }

    /// Per number, the name of its largest struct (MMAP_OFFSET, not
    /// MMAP_GTT; EXECBUFFER2_WR; CONTEXT_CREATE_EXT): the one the device serves.
    private static let byNr: [String?] = {
        var names = [String?](repeating: nil, count: 256), sizes = [UInt32](repeating: 0, count: 256)
        for i in 0..<fdrm_libdrm_ioctl_count() {
            let cmd = fdrm_libdrm_ioctl_cmd(i), nr = Int(fdrm_ioc_nr(cmd))
            guard fdrm_ioc_type(cmd) == FDRM_IOCTL_BASE, names[nr] == nil || fdrm_ioc_size(cmd) >= sizes[nr] else { continue }
            names[nr] = short(String(cString: fdrm_libdrm_ioctl_name_at(i)))
            sizes[nr] = fdrm_ioc_size(cmd)
        }
        return names
    }()
}
