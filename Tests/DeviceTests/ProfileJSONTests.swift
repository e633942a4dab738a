import CDrm
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FakeDRMDevice

/// Device profiles from `intel_dev_info --json`-style files.
@Suite struct ProfileJSONTests {
    /// What Mesa's dump of an Alder Lake-P GT2 looks like, cut down: its
    /// arrays at Mesa's full sizes, keys FakeDRM ignores, the hash.
    static let adlp = """
        {
          "kmd_type": "INTEL_KMD_TYPE_I915", "ver": 12, "verx10": 120, "gfx_ip_ver": 786432, "revision": 12,
          "gt": 2, "pci_domain": 0, "pci_bus": 0, "pci_dev": 2, "pci_func": 0,
          "pci_device_id": 18086, "pci_revision_id": 12, "platform": "INTEL_PLATFORM_ADL",
          "has_llc": true, "has_bit6_swizzle": false, "has_local_mem": false,
          "num_slices": 1, "max_slices": 1, "num_subslices": [6, 0, 0, 0, 0, 0, 0, 0],
          "max_subslices_per_slice": 6, "max_eus_per_subslice": 16, "num_thread_per_eu": 7,
          "slice_masks": 1, "subslice_masks": [63, 0, 0, 0, 0, 0, 0, 0],
          "subslice_slice_stride": 1, "eu_slice_stride": 12, "eu_subslice_stride": 2,
          "eu_masks": [255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, \(Array(repeating: "0", count: 116).joined(separator: ", "))],
          "timestamp_frequency": 19200000, "aperture_bytes": 281474976710656, "gtt_size": 281474976710656,
          "name": "Intel(R) Graphics (ADL GT2)", "no_hw": false,
          "mem": { "use_class_instance": true, "sram": { "mem": { "klass": 0, "instance": 0 } } },
          "devinfo_type_sha1": "0123456789abcdef"
        }
        """

    @Test func mesaDumpDecodes() throws {
        let p = try DeviceProfile(json: Self.adlp)
        #expect(p.chipsetID == 0x46A6)
        #expect(p.revision == 12)
        #expect(p.name == "Intel(R) Graphics (ADL GT2)")
        #expect(p.platform == "INTEL_PLATFORM_ADL")
        #expect(p.sseu.sliceMask == 1 && p.sseu.subsliceMask == 0x3F && p.sseu.euMask == 0xFFFF)
        #expect(p.sseu.euTotal == 96)
        // Mesa's has_llc is the hardware's; what HAS_LLC says is FakeDRM's ("fakedrm").
        #expect(p.hasLLC == false)
        // Nothing else moved from the built-in profile.
        var expected = DeviceProfile()
        (expected.chipsetID, expected.revision, expected.name, expected.platform) = (p.chipsetID, 12, p.name, p.platform)
        #expect(p == expected)
    }

    @Test func builtInProfileRoundTrips() throws {
        let json = DeviceProfile().json
        #expect(json.contains("\"pci_device_id\": 39497"))
        #expect(try DeviceProfile(json: json) == DeviceProfile())
        var odd = DeviceProfile()
        (odd.apertureSize, odd.fences, odd.swizzleX, odd.swizzleY, odd.hasLLC, odd.gpu) =
            (8 << 20, 4, UInt32(I915_BIT_6_SWIZZLE_9_10), UInt32(I915_BIT_6_SWIZZLE_9), true, .noop)
        odd.name = "a \"quoted\" name"
        odd.sseu = Sseu(maxSlices: 2, maxSubslices: 10, maxEUsPerSubslice: 8, sliceMask: 3, subsliceMask: 0x2F3, euMask: 0xF7)
        #expect(try DeviceProfile(json: odd.json) == odd)
    }

    @Test func fakedrmKeys() throws {
        let p = try DeviceProfile(json: """
            {"pci_device_id": "0x9a40", "fakedrm": {"aperture_size": "64M", "ggtt_size": 1073741824, "fences": 8,
             "swizzle_x": "9_10", "has_llc": true, "gpu": "noop"}}
            """)
        #expect(p.chipsetID == 0x9A40 && p.apertureSize == 64 << 20 && p.ggttSize == 1 << 30 && p.fences == 8)
        #expect(p.swizzleX == UInt32(I915_BIT_6_SWIZZLE_9_10) && p.swizzleY == UInt32(I915_BIT_6_SWIZZLE_NONE))
        #expect(p.hasLLC && p.gpu == .noop)
        let dev = DrmDevice(profile: p)
        #expect(try dev.getParam(I915_PARAM_CHIPSET_ID) == 0x9A40)
        #expect(try dev.getParam(I915_PARAM_NUM_FENCES_AVAIL) == 8)
    }

    /// Each bad file says which key and what was expected.
    @Test(arguments: [
        ("[1, 2]", "expected an object at the top, got an array"),
        ("{\"pci_device_id\": 1,\n  \"ver\": }", "not JSON: line 2, column 10: expected a value"),
        ("{\"pci_device_id\": 1", "not JSON: line 1, column 20: expected ',' or '}' in an object"),
        ("{}", "pci_device_id: missing"),
        ("{\"pci_device_id\": true}", "pci_device_id: expected a non-negative integer (or a \"0x...\" string), got true"),
        ("{\"pci_device_id\": 70000}", "pci_device_id: expected at most 65535, got 70000"),
        ("{\"pci_device_id\": -1}", "pci_device_id: expected a non-negative integer"),
        ("{\"pci_device_id\": 1, \"ver\": 9}", "ver: expected 12"),
        ("{\"pci_device_id\": 1, \"verx10\": 125}", "verx10: expected 120"),
        ("{\"pci_device_id\": 1, \"has_local_mem\": true}", "has_local_mem: expected false"),
        ("{\"pci_device_id\": 1, \"timestamp_frequency\": 12000000}", "timestamp_frequency: expected 19200000"),
        ("{\"pci_device_id\": 1, \"name\": 5}", "name: expected a string, got 5"),
        ("{\"pci_device_id\": 1, \"platform\": \"TGL\"}", "platform: expected a Mesa platform name"),
        ("{\"pci_device_id\": 1, \"slice_masks\": 1}", "max_slices: missing (the topology needs all of"),
        ("{\"pci_device_id\": 1, \"max_slices\": 2, \"max_subslices_per_slice\": 2, \"max_eus_per_subslice\": 8, \"slice_masks\": 3, \"subslice_masks\": [3, 1], \"eu_masks\": [255, 255, 255, 255]}",
         "subslice_masks: slices differ (0x3 and 0x1); FakeDRM's topology has identical slices"),
        ("{\"pci_device_id\": 1, \"max_slices\": 1, \"max_subslices_per_slice\": 2, \"max_eus_per_subslice\": 8, \"slice_masks\": 1, \"subslice_masks\": [3], \"eu_masks\": [255]}",
         "eu_masks: expected at least 2 entries, got 1"),
        ("{\"pci_device_id\": 1, \"max_slices\": 1, \"max_subslices_per_slice\": 2, \"max_eus_per_subslice\": 8, \"slice_masks\": 1, \"subslice_masks\": [3], \"eu_masks\": [255, 300]}",
         "eu_masks[1]: expected a byte (0 to 255), got 300"),
        ("{\"pci_device_id\": 1, \"fakedrm\": {\"apperture_size\": 1}}", "fakedrm.apperture_size: unknown key (known: aperture_size,"),
        ("{\"pci_device_id\": 1, \"fakedrm\": {\"fences\": 65}}", "fakedrm.fences: expected at most 64, got 65"),
        ("{\"pci_device_id\": 1, \"fakedrm\": {\"swizzle_y\": \"9_12\"}}", "fakedrm.swizzle_y: expected one of \"none\", \"9\""),
        ("{\"pci_device_id\": 1, \"fakedrm\": {\"gpu\": \"fast\"}}", "fakedrm.gpu: expected one of \"software\", \"noop\", got \"fast\""),
        ("{\"pci_device_id\": 1, \"fakedrm\": {\"aperture_size\": \"12X\"}}", "fakedrm.aperture_size: expected bytes"),
        ("{\"pci_device_id\": 1, \"fakedrm\": {\"aperture_size\": 4096}}", "aperture size: expected a multiple of 4 KiB and at least 1 MiB, got 4096"),
        ("{\"pci_device_id\": 1, \"fakedrm\": 3}", "fakedrm: expected an object, got 3"),
    ])
    func badFilesSayWhy(_ text: String, _ message: String) {
        do {
            _ = try DeviceProfile(json: text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message.hasPrefix(message), "got '\(error.message)'")
        }
    }
}

/// The example profiles shipped in docs/profiles load.
@Suite struct ShippedProfileTests {
    @Test func docsProfilesLoad() throws {
        let dir = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        let path = "/" + dir + "/docs/profiles/adl-p-gt2.json"
        guard let f = fopen(path, "r") else { Issue.record("no \(path)"); return }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var c = fgetc(f)
        while c != EOF { bytes.append(UInt8(c)); c = fgetc(f) }
        let p = try DeviceProfile(json: String(decoding: bytes, as: UTF8.self))
        #expect(p.chipsetID == 0x46A6 && p.revision == 12 && p.platform == "INTEL_PLATFORM_ADL" && !p.hasLLC)
    }
}
