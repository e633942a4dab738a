import ArgumentParser
import FakeDRMUAPI

/// `fakedrm ioctl-table`: the device's ioctl table as a C X-macro list.
/// conformance/Makefile writes it to conformance/build/ioctl_table.h, so the C
/// fuzzer takes its list from the same table as dispatch.
struct IoctlTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ioctl-table",
        abstract: "Print the device's ioctl table as a C X-macro list (for conformance/ioctl_fuzz.c).",
        shouldDisplay: false)

    func run() { print(IoctlDispatcher.cTable, terminator: "") }
}
