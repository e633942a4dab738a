import ArgumentParser

@main
struct FakeDRMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fakedrm",
        abstract: "An emulated Intel i915 DRM device in userspace, served over FUSE.",
        discussion: """
            Programs open MOUNTPOINT/card0 or MOUNTPOINT/renderD128 as they would \
            /dev/dri/card0, issue the real i915 GEM ioctls and mmap the offsets \
            MMAP_GTT / MMAP_OFFSET return. Page faults on those mappings are served \
            by the daemon, which enforces who may fault what.
            """,
        subcommands: [Mount.self, Run.self, Ioctl.self, IoctlTableCommand.self, ProfileCommand.self])
}
