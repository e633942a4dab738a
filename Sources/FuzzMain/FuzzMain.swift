import FakeDRMFuzz
#if canImport(Glibc)
import Glibc
#endif

/// The in-process fuzz target over the ioctl decoder and device model.
///
///   fakedrm-fuzz [ITERATIONS [SEED]]   random inputs and mutations of the
///                                      inputs that reached new outcomes
///   fakedrm-fuzz --replay FILE...      run saved inputs (libFuzzer crashes)
///
/// With libFuzzer instead (coverage-guided, for long runs):
///   swift build --product fakedrm-fuzz --scratch-path .build-fuzz \
///       -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLIBFUZZER
///   .build-fuzz/debug/fakedrm-fuzz -max_len=4096 -timeout=10 CORPUS_DIR
#if !LIBFUZZER
@main
struct FuzzMain {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        if args.first == "--replay" {
            for path in args.dropFirst() { check(readFile(path), label: path) }
            print("replayed \(args.count - 1) inputs: no failure")
            return
        }
        let iterations = args.first.flatMap { Int($0) } ?? 100_000
        var rng = args.dropFirst().first.flatMap { UInt64($0, radix: 16) } ?? UInt64(time(nil))
        let seed = rng
        // A small pool of earlier inputs to mutate: random bytes rarely form
        // a long valid sequence, mutations of one that did reach further.
        var pool: [[UInt8]] = []
        var total = DeviceFuzzer.Stats()
        for i in 0..<iterations {
            var input: [UInt8]
            if pool.isEmpty || next(&rng) % 2 == 0 {
                input = (0..<Int(next(&rng) % 2048 + 16)).map { _ in UInt8(truncatingIfNeeded: next(&rng)) }
            } else {
                input = pool[Int(next(&rng) % UInt64(pool.count))]
                for _ in 0..<Int(next(&rng) % 8 + 1) {
                    let at = Int(next(&rng) % UInt64(input.count))
                    switch next(&rng) % 3 {
                    case 0: input[at] = UInt8(truncatingIfNeeded: next(&rng))
                    case 1: input.insert(UInt8(truncatingIfNeeded: next(&rng)), at: at)
                    default: input[at] ^= 1 << (next(&rng) % 8)
                    }
                }
            }
            total += check(input, label: "iteration \(i) of seed \(String(seed, radix: 16))")
            if pool.count < 256 { pool.append(input) } else if next(&rng) % 16 == 0 { pool[Int(next(&rng) % 256)] = input }
        }
        print("fakedrm-fuzz: \(iterations) inputs (seed \(String(seed, radix: 16))): \(total.ioctlsOK) of \(total.ioctls) ioctls succeeded, "
              + "\(total.faultsOK) of \(total.faults) faults served, \(total.objectsMade) objects live at the ends; no crash, no leak")
    }

    @discardableResult
    static func check(_ input: [UInt8], label: String) -> DeviceFuzzer.Stats {
        let outcome: Result<DeviceFuzzer.Stats, DeviceFuzzer.Failure> = input.withUnsafeBytes { b in
            do throws(DeviceFuzzer.Failure) { return .success(try DeviceFuzzer.run(b)) } catch { return .failure(error) }
        }
        switch outcome {
        case .success(let stats): return stats
        case .failure(let error):
            let path = "/tmp/fakedrm-fuzz-failure-\(getpid())"
            if let f = fopen(path, "w") { _ = fwrite(input, 1, input.count, f); fclose(f) }
            print("fakedrm-fuzz: \(label): \(error) (input saved to \(path); fakedrm-fuzz --replay \(path))")
            exit(1)
        }
    }

    static func next(_ s: inout UInt64) -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func readFile(_ path: String) -> [UInt8] {
        guard let f = fopen(path, "r") else { return [] }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}
#endif

#if LIBFUZZER
/// SwiftPM links an executable's entry point as `main`, so libFuzzer's own
/// main stays out of the link; this one hands over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) })
    }
}
#endif

/// libFuzzer's entry point (also present, unused, in the plain build).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    do throws(DeviceFuzzer.Failure) {
        try DeviceFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        print("fakedrm-fuzz: \(error)")
        abort()
    }
    return 0
}
