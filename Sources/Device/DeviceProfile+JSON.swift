import CDrm

/// Device profiles as JSON: the keys of Mesa's `intel_dev_info --json`
/// (intel_device_info_dump_json: `pci_device_id`, `ver`, `slice_masks`...)
/// for the hardware, and a `fakedrm` object for what only the emulation
/// has (aperture, fences, swizzle, what HAS_LLC says, the GPU mode). Keys
/// Mesa dumps that the device has no use for are ignored; a key it uses
/// with a wrong type or value is an error naming the key and what was
/// expected. Only gen 12.0 (verx10 120) integrated parts are accepted: the
/// engines, registers and uapi rules are Tiger Lake's.
extension DeviceProfile {
    public struct LoadError: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// The emulation's own keys, under "fakedrm".
    static let fakedrmKeys = ["aperture_size", "ggtt_size", "fences", "swizzle_x", "swizzle_y", "has_llc", "gpu"]
    static let swizzleNames: [(String, UInt32)] = [
        ("none", UInt32(I915_BIT_6_SWIZZLE_NONE)), ("9", UInt32(I915_BIT_6_SWIZZLE_9)),
        ("9_10", UInt32(I915_BIT_6_SWIZZLE_9_10)), ("9_11", UInt32(I915_BIT_6_SWIZZLE_9_11)),
        ("9_10_11", UInt32(I915_BIT_6_SWIZZLE_9_10_11)),
    ]

    /// A profile from JSON text: the built-in Tiger Lake GT2 with what the
    /// text says on top. `pci_device_id` is required.
    public init(json text: String) throws(LoadError) {
        self.init()
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch { throw LoadError("not JSON: \(error)") }
        guard case .object(let members) = root else { throw LoadError("expected an object at the top, got \(root.kind)") }
        let keys = Keys(members, path: "")

        guard let id = try keys.integer("pci_device_id", max: 0xFFFF) else {
            throw LoadError("pci_device_id: missing (the PCI device id CHIPSET_ID reports, e.g. 39497 or \"0x9a49\")")
        }
        chipsetID = UInt16(id)
        if let ver = try keys.integer("ver", max: 1000), ver != 12 {
            throw LoadError("ver: expected 12 (FakeDRM models gen 12.0 parts: Tiger Lake, Rocket Lake, Alder Lake), got \(ver)")
        }
        if let verx10 = try keys.integer("verx10", max: 10000), verx10 != 120 {
            throw LoadError("verx10: expected 120 (gen 12.0; 12.5+ parts such as DG2 and Meteor Lake are not modelled), got \(verx10)")
        }
        if try keys.bool("has_local_mem") == true {
            throw LoadError("has_local_mem: expected false (discrete parts with local memory are not modelled)")
        }
        if let rev = try keys.integer("pci_revision_id", max: 0xFF) {
            revision = Int32(rev)
        } else if let rev = try keys.integer("revision", max: 0xFF) {
            revision = Int32(rev)
        }
        if let freq = try keys.integer("timestamp_frequency", max: UInt64.max), freq != Registers.timestampHz {
            throw LoadError("timestamp_frequency: expected \(Registers.timestampHz) (the engines' 19.2 MHz command streamer clock), got \(freq)")
        }
        if let n = try keys.string("name") { name = n }
        if let p = try keys.string("platform") {
            guard p.hasPrefix("INTEL_PLATFORM_") else {
                throw LoadError("platform: expected a Mesa platform name such as \"INTEL_PLATFORM_TGL\", got \"\(p)\"")
            }
            platform = p
        }
        if let g = try keys.integer("gt", max: 16) { gt = Int(g) }
        if let s = try keys.sseu(default: sseu) { sseu = s }

        if let f = try keys.object("fakedrm") {
            let fk = Keys(f, path: "fakedrm.")
            for (k, _) in f where !Self.fakedrmKeys.contains(k) {
                throw LoadError("fakedrm.\(k): unknown key (known: \(Self.fakedrmKeys.joined(separator: ", ")))")
            }
            if let v = try fk.size("aperture_size") { apertureSize = v }
            if let v = try fk.size("ggtt_size") { ggttSize = v }
            if let v = try fk.integer("fences", max: 64) { fences = Int(v) }
            if let v = try fk.swizzle("swizzle_x") { swizzleX = v }
            if let v = try fk.swizzle("swizzle_y") { swizzleY = v }
            if let v = try fk.bool("has_llc") { hasLLC = v }
            if let v = try fk.string("gpu") {
                guard let mode = GpuMode(rawValue: v) else {
                    throw LoadError("fakedrm.gpu: expected one of \(GpuMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(v)\"")
                }
                gpu = mode
            }
        }
        try validate()
    }

    /// The rules every profile keeps, from a file or from options.
    public func validate() throws(LoadError) {
        guard apertureSize >= 1 << 20, apertureSize % 4096 == 0 else {
            throw LoadError("aperture size: expected a multiple of 4 KiB and at least 1 MiB, got \(apertureSize)")
        }
        guard ggttSize >= apertureSize, ggttSize % 4096 == 0 else {
            throw LoadError("GGTT size: expected a multiple of 4 KiB and at least the aperture (\(apertureSize)), got \(ggttSize)")
        }
        guard (0...64).contains(fences) else { throw LoadError("fences: expected 0 to 64, got \(fences)") }
    }

    /// The profile as JSON `--profile` reads back: Mesa's key names and
    /// layouts (masks as byte arrays with Mesa's strides), then "fakedrm".
    public var json: String {
        func q(_ s: String) -> String {
            "\"" + s.unicodeScalars.map { c -> String in
                switch c {
                case "\"": "\\\""
                case "\\": "\\\\"
                case "\n": "\\n"
                default: c.value < 0x20 ? "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16) : String(c)
                }
            }.joined() + "\""
        }
        let l = sseu.layout
        let swz = { (v: UInt32) in Self.swizzleNames.first { $0.1 == v }?.0 ?? "none" }
        let lines: [String] = [
            "  \"name\": " + q(name),
            "  \"platform\": " + q(platform),
            "  \"ver\": \(graphicsVersion)",
            "  \"verx10\": \(graphicsVersion * 10)",
            "  \"gt\": \(gt)",
            "  \"pci_device_id\": \(chipsetID)",
            "  \"pci_revision_id\": \(revision)",
            "  \"has_local_mem\": false",
            "  \"timestamp_frequency\": \(Registers.timestampHz)",
            "  \"max_slices\": \(sseu.maxSlices)",
            "  \"max_subslices_per_slice\": \(sseu.maxSubslices)",
            "  \"max_eus_per_subslice\": \(sseu.maxEUsPerSubslice)",
            "  \"slice_masks\": \(sseu.sliceMask)",
            "  \"subslice_slice_stride\": \(l.subsliceSliceStride)",
            "  \"subslice_masks\": [" + l.subsliceMasks.map(String.init).joined(separator: ", ") + "]",
            "  \"eu_slice_stride\": \(l.euSliceStride)",
            "  \"eu_subslice_stride\": \(l.euSubsliceStride)",
            "  \"eu_masks\": [" + l.euMasks.map(String.init).joined(separator: ", ") + "]",
            "  \"fakedrm\": {\n"
                + "    \"aperture_size\": \(apertureSize),\n"
                + "    \"ggtt_size\": \(ggttSize),\n"
                + "    \"fences\": \(fences),\n"
                + "    \"swizzle_x\": " + q(swz(swizzleX)) + ",\n"
                + "    \"swizzle_y\": " + q(swz(swizzleY)) + ",\n"
                + "    \"has_llc\": \(hasLLC),\n"
                + "    \"gpu\": " + q(gpu.rawValue) + "\n  }",
        ]
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }
}

extension Sseu {
    /// Mesa's byte-array layout of the masks (intel_device_info.c: strides
    /// from the maxima, subslices of a slice and EUs of a subslice little-endian).
    struct Layout {
        var subsliceSliceStride: Int, euSubsliceStride: Int, euSliceStride: Int
        var subsliceMasks: [UInt8], euMasks: [UInt8]
    }

    var layout: Layout {
        let ssStride = (maxSubslices + 7) / 8, euStride = (maxEUsPerSubslice + 7) / 8
        let euSlice = maxSubslices * euStride
        var ss = [UInt8](repeating: 0, count: maxSlices * ssStride)
        var eu = [UInt8](repeating: 0, count: maxSlices * euSlice)
        for s in 0..<maxSlices where sliceMask & (1 << s) != 0 {
            for b in 0..<ssStride { ss[s * ssStride + b] = UInt8(truncatingIfNeeded: subsliceMask >> (8 * b)) }
            for sub in 0..<maxSubslices where subsliceMask & (1 << sub) != 0 {
                for b in 0..<euStride { eu[s * euSlice + sub * euStride + b] = UInt8(truncatingIfNeeded: euMask >> (8 * b)) }
            }
        }
        return Layout(subsliceSliceStride: ssStride, euSubsliceStride: euStride, euSliceStride: euSlice,
                      subsliceMasks: ss, euMasks: eu)
    }
}

/// Typed lookups in one JSON object, with errors that name the key.
private struct Keys {
    let members: [(String, JSONValue)]
    let path: String
    typealias LoadError = DeviceProfile.LoadError

    init(_ members: [(String, JSONValue)], path: String) { (self.members, self.path) = (members, path) }

    func value(_ key: String) -> JSONValue? {
        guard let v = members.last(where: { $0.0 == key })?.1, v != .null else { return nil }
        return v
    }

    func integer(_ key: String, max: UInt64) throws(LoadError) -> UInt64? {
        guard let v = value(key) else { return nil }
        let n: UInt64?
        switch v {
        case .number(let t): n = UInt64(t) ?? Double(t).flatMap { $0 >= 0 && $0 < 1.8e19 && $0.rounded() == $0 ? UInt64($0) : nil }
        case .string(let t) where t.lowercased().hasPrefix("0x"): n = UInt64(t.dropFirst(2), radix: 16)
        default: n = nil
        }
        guard let n else { throw LoadError("\(path)\(key): expected a non-negative integer (or a \"0x...\" string), got \(Self.show(v))") }
        guard n <= max else { throw LoadError("\(path)\(key): expected at most \(max), got \(n)") }
        return n
    }

    /// Bytes: an integer, or a string with a K/M/G/T (KiB...) suffix.
    func size(_ key: String) throws(LoadError) -> UInt64? {
        guard let v = value(key) else { return nil }
        if case .string(let t) = v, !t.lowercased().hasPrefix("0x") {
            let units: [(String, UInt64)] = [("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30), ("TIB", 1 << 40),
                                             ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
            let u = t.uppercased()
            for (suffix, scale) in units where u.hasSuffix(suffix) {
                if let n = UInt64(u.dropLast(suffix.count)), n <= UInt64.max / scale { return n * scale }
            }
            if let n = UInt64(t) { return n }
            throw LoadError("\(path)\(key): expected bytes, as an integer or a string like \"256M\", got \(Self.show(v))")
        }
        return try integer(key, max: UInt64.max)
    }

    func bool(_ key: String) throws(LoadError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw LoadError("\(path)\(key): expected true or false, got \(Self.show(v))") }
        return b
    }

    func string(_ key: String) throws(LoadError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw LoadError("\(path)\(key): expected a string, got \(Self.show(v))") }
        return s
    }

    func object(_ key: String) throws(LoadError) -> [(String, JSONValue)]? {
        guard let v = value(key) else { return nil }
        guard case .object(let o) = v else { throw LoadError("\(path)\(key): expected an object, got \(Self.show(v))") }
        return o
    }

    func bytes(_ key: String) throws(LoadError) -> [UInt8]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw LoadError("\(path)\(key): expected an array of bytes, got \(Self.show(v))") }
        var out: [UInt8] = []
        for (i, item) in items.enumerated() {
            guard case .number(let t) = item, let b = UInt8(t) else {
                throw LoadError("\(path)\(key)[\(i)]: expected a byte (0 to 255), got \(Self.show(item))")
            }
            out.append(b)
        }
        return out
    }

    func swizzle(_ key: String) throws(LoadError) -> UInt32? {
        guard let s = try string(key) else { return nil }
        guard let v = DeviceProfile.swizzleNames.first(where: { $0.0 == s })?.1 else {
            throw LoadError("\(path)\(key): expected one of \(DeviceProfile.swizzleNames.map { "\"\($0.0)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return v
    }

    /// Slices, subslices and EUs from Mesa's masks. FakeDRM's topology has
    /// identical slices and subslices, so the masks must say so.
    func sseu(default d: Sseu) throws(LoadError) -> Sseu? {
        let names = ["max_slices", "max_subslices_per_slice", "max_eus_per_subslice", "slice_masks", "subslice_masks", "eu_masks"]
        let given = names.filter { value($0) != nil }
        guard !given.isEmpty else { return nil }
        if let missing = names.first(where: { value($0) == nil }) {
            throw LoadError("\(missing): missing (the topology needs all of \(names.joined(separator: ", ")); \(given.joined(separator: ", ")) given)")
        }
        let maxSlices = Int(try integer("max_slices", max: 8)!), maxSub = Int(try integer("max_subslices_per_slice", max: 64)!)
        let maxEU = Int(try integer("max_eus_per_subslice", max: 64)!)
        let sliceMask = UInt8(try integer("slice_masks", max: 0xFF)!)
        guard maxSlices > 0, maxSub > 0, maxEU > 0 else { throw LoadError("max_slices, max_subslices_per_slice, max_eus_per_subslice: expected at least 1") }
        guard sliceMask != 0, Int(sliceMask) < 1 << maxSlices else {
            throw LoadError("slice_masks: expected a non-empty mask of max_slices (\(maxSlices)) bits, got \(sliceMask)")
        }
        let givenSS = try integer("subslice_slice_stride", max: 8), givenEU = try integer("eu_subslice_stride", max: 8)
        let givenEUSlice = try integer("eu_slice_stride", max: 512)
        let ssStride = givenSS.map { Int($0) } ?? (maxSub + 7) / 8
        let euStride = givenEU.map { Int($0) } ?? (maxEU + 7) / 8
        let euSlice = givenEUSlice.map { Int($0) } ?? maxSub * euStride
        guard ssStride * 8 >= maxSub, euStride * 8 >= maxEU, euSlice >= maxSub * euStride else {
            throw LoadError("subslice_slice_stride, eu_subslice_stride, eu_slice_stride: too small for max_subslices_per_slice \(maxSub) and max_eus_per_subslice \(maxEU)")
        }
        let ss = try bytes("subslice_masks")!, eu = try bytes("eu_masks")!
        func le(_ a: [UInt8], _ at: Int, _ n: Int, _ key: String) throws(LoadError) -> UInt64 {
            guard at + n <= a.count else { throw LoadError("\(key): expected at least \(at + n) entries, got \(a.count)") }
            var v: UInt64 = 0
            for b in 0..<min(n, 8) { v |= UInt64(a[at + b]) << (8 * b) }
            return v
        }
        var subMask: UInt64?, euMask: UInt64?
        for s in 0..<maxSlices where sliceMask & (1 << s) != 0 {
            let m = try le(ss, s * ssStride, ssStride, "subslice_masks")
            guard m != 0 else { throw LoadError("subslice_masks: slice \(s) is enabled in slice_masks but has no subslice") }
            guard subMask == nil || subMask == m else {
                throw LoadError("subslice_masks: slices differ (0x\(String(subMask!, radix: 16)) and 0x\(String(m, radix: 16))); FakeDRM's topology has identical slices")
            }
            subMask = m
            for sub in 0..<maxSub where m & (1 << sub) != 0 {
                let e = try le(eu, s * euSlice + sub * euStride, euStride, "eu_masks")
                guard e != 0 else { throw LoadError("eu_masks: subslice \(s).\(sub) is enabled but has no EU") }
                guard euMask == nil || euMask == e else {
                    throw LoadError("eu_masks: subslices differ (0x\(String(euMask!, radix: 16)) and 0x\(String(e, radix: 16))); FakeDRM's topology has identical subslices")
                }
                euMask = e
            }
        }
        return Sseu(maxSlices: maxSlices, maxSubslices: maxSub, maxEUsPerSubslice: maxEU, sliceMask: sliceMask,
                    subsliceMask: subMask!, euMask: euMask!)
    }

    static func show(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): "\"\(s)\""
        case .number(let n): n
        case .bool(let b): "\(b)"
        default: v.kind
        }
    }
}
