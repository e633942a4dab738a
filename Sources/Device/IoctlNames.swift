import CDrm

/// Short ioctl names from the device's descriptor table: "GEM_CREATE" for
/// DRM_IOCTL_I915_GEM_CREATE, "GEM_CLOSE" for DRM_IOCTL_GEM_CLOSE. Traces,
/// CLI messages and fault injection use them.
public enum IoctlNames {
    /// The short name of ioctl number `nr`, or nil when the device has none.
    public static func name(nr: UInt32) -> String? {
        guard let d = fdrm_ioctl_lookup(nr) else { return nil }
        return short(String(cString: d.pointee.name))
    }

    static func short(_ full: String) -> String {
        var s = Substring(full)
        for prefix in ["DRM_IOCTL_", "I915_"] where s.hasPrefix(prefix) { s = s.dropFirst(prefix.count) }
        return String(s)
    }

    /// The number of an ioctl named by its short or full name
    /// ("GEM_CREATE", "DRM_IOCTL_I915_GEM_CREATE"), its number ("0x5b"), or
    /// a full ioctl value ("0xc010645b"); nil when the device has none.
    public static func nr(named text: String) -> UInt32? {
        let t = text.uppercased()
        let number = t.hasPrefix("0X") ? UInt32(t.dropFirst(2), radix: 16) : UInt32(t)
        if let number {
            let nr = number > 0xff ? fdrm_ioc_nr(number) : number
            return fdrm_ioctl_lookup(nr) != nil ? nr : nil
        }
        let wanted = short(t)
        return all.first { $0.name == wanted }?.nr
    }

    /// Every ioctl of the device, by number.
    public static let all: [(nr: UInt32, name: String)] = (0..<256).compactMap { nr in
        name(nr: UInt32(nr)).map { (UInt32(nr), $0) }
    }
}
