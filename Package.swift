// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "FakeDRM",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fakedrm", targets: ["fakedrm"]),
        // Strict mode: LD_PRELOAD=.build/debug/libfakedrm-preload.so (README).
        .library(name: "fakedrm-preload", type: .dynamic, targets: ["FakeDRMPreload"]),
        .executable(name: "fakedrm-fuzz", targets: ["fakedrm-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libdrm's real uapi (drm.h, i915_drm.h) plus our fakedrm.h, and the
        // kernel's ioctl descriptor table built from the real ioctl numbers.
        .target(name: "CDrm", path: "Sources/CDrm"),
        // libfuse3 low-level API, pinned to FUSE_USE_VERSION 35.
        .target(
            name: "CFuse", path: "Sources/CFuse",
            linkerSettings: [.linkedLibrary("fuse3"), .linkedLibrary("pthread")]),
        // unshare(2) and its CLONE_* flags, which Swift's Glibc module hides.
        .target(name: "CNamespace", path: "Sources/CNamespace"),
        // The device model: every rule and errno. Pure Swift, no FUSE.
        .target(name: "FakeDRMDevice", dependencies: ["CDrm", "CTsan"], path: "Sources/Device"),
        // ThreadSanitizer annotations for the device lock (no-ops without TSan).
        .target(name: "CTsan", path: "Sources/CTsan"),
        // ioctl decoding: DRM dispatch rules, struct marshalling, user pointers.
        .target(name: "FakeDRMUAPI", dependencies: ["CDrm", "FakeDRMDevice"], path: "Sources/UAPI"),
        // FUSE transport: per-open inodes, faults, writeback, invalidation.
        .target(
            name: "FakeDRMTransport",
            dependencies: ["CFuse", "CDrm", "FakeDRMDevice", "FakeDRMUAPI"],
            path: "Sources/Transport"),
        .executableTarget(
            name: "fakedrm",
            dependencies: [
                "FakeDRMTransport", "FakeDRMDevice", "FakeDRMUAPI", "CDrm", "CNamespace",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CLI"),
        // The strict-mode preload library: C only, and no Swift runtime in
        // what it loads: no swiftrt.o, no toolchain runpath, and libswiftCore
        // dropped as unneeded (Sources/Preload/no_swift_runtime.c).
        .target(name: "FakeDRMPreload", path: "Sources/Preload",
                linkerSettings: [.linkedLibrary("dl"),
                                 .unsafeFlags(["-nostartfiles", "-no-toolchain-stdlib-rpath", "-Xlinker", "--as-needed"])]),
        // In-process fuzzing of the ioctl decoder and device model (no FUSE).
        .target(name: "FakeDRMFuzz", dependencies: ["CDrm", "FakeDRMDevice", "FakeDRMUAPI"], path: "Sources/Fuzz"),
        .executableTarget(name: "fakedrm-fuzz", dependencies: ["FakeDRMFuzz"], path: "Sources/FuzzMain"),
        .testTarget(name: "DeviceTests", dependencies: ["FakeDRMDevice", "CDrm"]),
        .testTarget(name: "UAPITests", dependencies: ["FakeDRMUAPI", "FakeDRMDevice", "CDrm"]),
        // The FUSE ops behind a recording FuseChannel: no mount, no root.
        .testTarget(name: "TransportTests", dependencies: ["FakeDRMTransport", "FakeDRMDevice", "CFuse", "CDrm"]),
        .testTarget(name: "IntegrationTests", dependencies: ["CDrm"]),
    ],
    swiftLanguageModes: [.v6]
)
