#if canImport(Glibc)
import Glibc
#endif

/// The command streamer executing one request: fetches dwords through the
/// request's ppGTT bindings, decodes each command's header and length, and
/// runs it (Commands.swift, Blitter.swift). Render, compute and media state
/// is decoded by length and skipped. Runs on the engine's thread without
/// the device lock: it touches only the request's own objects' backing.
struct CommandStreamer {
    enum Outcome: Equatable {
        case completed
        case hung(String)
        case cancelled(Request.Cancel)
        /// Gave the engine up at an arbitration point (timeslicing); `run`
        /// resumes where it stopped.
        case yielded(Yield)
    }

    /// Why a streamer gave the engine up: its MI_SEMAPHORE_WAIT is not
    /// satisfied (the kernel's timeslice on semaphore: anyone else may run),
    /// it loops waiting for the CPU (a spinner), or its timeslice expired
    /// at an MI_ARB_CHECK.
    enum Yield: Equatable { case semaphore, spinning, timeslice }

    struct Hang: Error { let reason: String }

    let request: Request
    var regs: Registers
    /// Which targets the GPU stored to: their cached CPU views go stale.
    var written: [Bool]
    var executed = 0
    var skipped = 0
    /// Makes CPU stores to a target visible (writes back its cached pages).
    let poll: (Int) -> Void
    /// Makes target i's GPU writes visible: drops every client's cached
    /// pages of it, as `poll` does, but without reloading a userptr's pages
    /// (that would undo the GPU's writes to them).
    let publish: (Int) -> Void
    /// The request's VM beyond its own objects (earlier execbufs'
    /// bindings): target indices from `request.targets.count` on.
    let resident: ResidentVmas?
    /// Bit-6 swizzle the device applies per tiling mode.
    let swizzle: (UInt32) -> UInt32
    /// Whether another request waits for this engine: arbitration points
    /// then yield (Engine.contended).
    let contended: () -> Bool
    /// Engine.preemptSince: since when a request waits to preempt this one.
    let preemptSince: () -> UInt64
    /// The engine's heartbeat interval and preempt timeout.
    let properties: EngineProperties
    /// The request watchdog (Watchdog.swift): nanoseconds, 0 for none, and
    /// when the engine first started the request.
    let watchdogNs: UInt64
    let startedNs: UInt64
    /// Where the streamer resumes: the next command and the second-level
    /// batch's return address (the ring's saved context).
    var ip: UInt64
    var returnTo: UInt64?
    /// When the streamer was last given the engine (MI_ARB_CHECK yields
    /// after a timeslice of `timesliceNs`).
    var sliceStart: UInt64 = 0
    static let timesliceNs: UInt64 = 1_000_000
    /// Resuming at a semaphore wait that yielded (counted and traced once).
    private var retrying = false
    var math = MiMath()
    private var spins = 0
    /// Jump targets taken so far.
    private var visited = Set<UInt64>()
    /// Preemption: an MI_ARB_CHECK since the last looping jump, and since
    /// when the batch has looped without one. The kernel's heartbeat cannot
    /// preempt such a loop and resets the engine: intel_engine_heartbeat.c's
    /// heartbeat() queues its pulse at I915_PRIORITY_MIN one interval (2.5 s)
    /// after the engine wakes, raises it to NORMAL (a timeslice, so a
    /// preemption attempt) one interval later, and the 640 ms preempt
    /// timeout then resets: 2 x 2.5 s + 0.64 s by default. No heartbeat
    /// (interval 0), no such reset; a preempt timeout of 0 never resets.
    var arbitrated = false
    private var unpreemptibleSince: UInt64?
    /// `--trace-commands`, or nil: the decode loop's one check.
    let tracer: (any CommandTraceSink)?
    private let tracePrefix: String
    /// Loop iterations not traced (a spinner would fill the trace).
    private var untracedLoops = 0

    init(request: Request, regs: Registers, swizzle: @escaping (UInt32) -> UInt32, poll: @escaping (Int) -> Void,
         publish: @escaping (Int) -> Void = { _ in }, contended: @escaping () -> Bool = { false },
         preemptSince: @escaping () -> UInt64 = { 0 }, properties: EngineProperties = EngineProperties(),
         watchdogNs: UInt64 = 0,
         resident: ResidentVmas? = nil,
         tracer: (any CommandTraceSink)? = nil) {
        self.resident = resident
        self.contended = contended
        self.preemptSince = preemptSince
        self.properties = properties
        self.watchdogNs = watchdogNs
        self.startedNs = watchdogNs != 0 ? Registers.monotonicNs() : 0
        self.ip = request.batchStart
        self.tracer = tracer
        self.tracePrefix = tracer == nil ? "" : Self.tracePrefix(request)
        self.request = request
        self.regs = regs
        self.written = Array(repeating: false, count: request.targets.count)
        self.swizzle = swizzle
        self.poll = poll
        self.publish = publish
    }

    /// The dwords of 48-bit address space (canonical high bits dropped).
    static func address(_ lo: UInt32, _ hi: UInt32) -> UInt64 { (UInt64(hi) << 32 | UInt64(lo)) & (GpuVm.size - 1) }

    /// The target holding [addr, addr+len), and the offset in it: one of
    /// the request's objects, else another binding of its VM (an index
    /// past the request's targets).
    func resolve(_ addr: UInt64, _ len: UInt64 = 4) -> (Int, Int)? {
        let t = request.targets
        var lo = 0, hi = t.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if t[mid].end <= addr { lo = mid + 1 } else { hi = mid }
        }
        if lo < t.count, t[lo].start <= addr, addr + len <= t[lo].end { return (lo, Int(addr - t[lo].start)) }
        guard let resident, let j = resident.find(addr) else { return nil }
        let r = resident.list[j]
        return addr + len <= r.end ? (t.count + j, Int(addr - r.start)) : nil
    }

    /// Target `i` of resolve(): the request's, or a resident one.
    func target(_ i: Int) -> Request.Target {
        let n = request.targets.count
        return i < n ? request.targets[i] : resident!.list[i - n]
    }

    /// Records a GPU store to target `i`.
    mutating func markWritten(_ i: Int) {
        if i < written.count { written[i] = true } else { resident?.written.insert(i - written.count) }
    }

    /// An instruction fetch: outside the request's objects it hangs (nil).
    func fetch32(_ addr: UInt64) -> UInt32? {
        guard let (i, off) = resolve(addr) else { return nil }
        return target(i).backing.base.loadUnaligned(fromByteOffset: off, as: UInt32.self)
    }

    /// A dword read: the request's objects or another binding of its VM;
    /// unbound addresses read the scratch page (nil: zeros).
    func read32(_ addr: UInt64) -> UInt32? { fetch32(addr) }

    /// A dword store: dropped on an unbound address (scratch) or a readonly
    /// object (read-only PTE), as on hardware.
    mutating func write32(_ addr: UInt64, _ value: UInt32) {
        guard let (i, off) = resolve(addr) else { return }
        let t = target(i)
        guard !t.readonly else { return }
        t.backing.base.storeBytes(of: value, toByteOffset: off, as: UInt32.self)
        markWritten(i)
        // A userptr reached through the VM: the store reaches the client's
        // memory at once (gem_exec_schedule@u-submit-*-slice ends a spinner so).
        if let user = t.unlistedUserptr { user.write(at: off, from: t.backing.base + off, count: 4) }
    }

    mutating func write64(_ addr: UInt64, _ value: UInt64) {
        write32(addr, UInt32(truncatingIfNeeded: value))
        write32(addr + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    /// Runs the batch to its MI_BATCH_BUFFER_END, a hang, cancellation, or
    /// an arbitration point where another request waits for the engine.
    /// When it ends, what it wrote outside its own objects is made visible
    /// (the engine does its own objects before the fence signals).
    mutating func run() -> Outcome {
        request.lastRan.store(Registers.monotonicNs(), ordering: .relaxed)
        let outcome = runCommands()
        if case .yielded = outcome { return outcome }
        publishResidents()
        return outcome
    }

    private mutating func runCommands() -> Outcome {
        var ip = self.ip
        defer { self.ip = ip }
        while true {
            let why = request.cancelled
            if why != .none { return .cancelled(why) }
            guard let header = fetch32(ip) else {
                return .hung("instruction fetch at 0x" + String(ip, radix: 16) + " outside the request's objects")
            }
            do throws(Hang) {
                let len = try length(of: header)
                var dw = [UInt32](repeating: 0, count: len)
                for i in 0..<len {
                    guard let d = fetch32(ip + UInt64(i) * 4) else {
                        throw Hang(reason: "command at 0x" + String(ip, radix: 16) + " runs past its object")
                    }
                    dw[i] = d
                }
                // A semaphore wait resumed after a yield is the same command.
                if retrying { retrying = false } else {
                    executed += 1
                    if let tracer { trace(tracer, dw, at: ip) }
                }
                switch try execute(dw, at: ip) {
                case .next:
                    ip += UInt64(len) * 4
                case .blocked:
                    retrying = true
                    return .yielded(.semaphore)
                case .arbitrate:
                    ip += UInt64(len) * 4
                    if Registers.monotonicNs() - sliceStart >= Self.timesliceNs { return .yielded(.timeslice) }
                case .end:
                    guard let r = returnTo else {
                        if let tracer { leaveLoop(tracer) }
                        return .completed
                    }
                    returnTo = nil
                    ip = r
                case .jump(let target, let secondLevel):
                    if secondLevel { returnTo = ip + UInt64(len) * 4 }
                    // A jump to a target seen before is a loop (a spinner,
                    // possibly across several batches).
                    if !visited.insert(target).inserted {
                        let preemptible = arbitrated
                        try heartbeat()
                        if let tracer { enterLoop(tracer) }
                        // An arbitrating loop gives the engine up to another
                        // request instead of sleeping (the scheduler sleeps
                        // when every started request is waiting).
                        if preemptible, spins >= 4, contended() {
                            spins += 1
                            refresh(target)
                            ip = target
                            return .yielded(.spinning)
                        }
                        spin(target)
                    } else if let tracer {
                        leaveLoop(tracer)
                    }
                    ip = target
                }
            } catch {
                return .hung(error.reason + " at 0x" + String(ip, radix: 16) + " (batch 0x" + String(request.batchStart, radix: 16) + ")")
            }
        }
    }

    /// `blocked`: stay at this command and yield; `arbitrate`: a
    /// preemption point, yield after the next command if the slice expired.
    enum Flow { case next, end, jump(UInt64, secondLevel: Bool), blocked, arbitrate }

    /// One command's trace line, unless the batch is looping (traced once).
    private func trace(_ tracer: any CommandTraceSink, _ dw: [UInt32], at ip: UInt64) {
        guard untracedLoops == 0 else { return }
        tracer.commandTrace(tracePrefix + "0x" + String(ip, radix: 16) + ": " + describe(dw))
    }

    private mutating func enterLoop(_ tracer: any CommandTraceSink) {
        if untracedLoops == 0 {
            tracer.commandTrace(tracePrefix + "looping: commands not traced until the batch leaves the loop")
        }
        untracedLoops += 1
    }

    private mutating func leaveLoop(_ tracer: any CommandTraceSink) {
        guard untracedLoops > 0 else { return }
        tracer.commandTrace(tracePrefix + "left the loop after " + String(untracedLoops) + " iterations")
        untracedLoops = 0
    }

    /// A loop with no arbitration point is reset as the heartbeat would.
    /// Called on every jump back to a target already taken.
    mutating func heartbeat() throws(Hang) {
        defer { arbitrated = false }
        expireIfOverdue()
        if arbitrated {
            unpreemptibleSince = nil
            return
        }
        let now = Registers.monotonicNs()
        guard let since = unpreemptibleSince else {
            unpreemptibleSince = now
            return
        }
        let heartbeat = properties.heartbeatIntervalNs, timeout = properties.preemptTimeoutNs
        if heartbeat != 0, now - since > 2 * heartbeat + timeout {
            throw Hang(reason: "looping without an arbitration point (heartbeat preemption timed out)")
        }
        // A request waits to preempt this one (higher priority, or a killed
        // context's): execlists resets the engine after the preempt timeout.
        let asked = preemptSince()
        if asked != 0, timeout != 0, now > asked, now - asked > timeout {
            throw Hang(reason: "looping without an arbitration point (preempt timeout)")
        }
    }

    /// A batch looping on itself (a spinner) waits for the CPU to rewrite it:
    /// back off, and write back the client's cached stores to the loop so
    /// they reach the backing the engine reads. Bounded: at most one flush
    /// and one sleep of up to 1 ms per loop iteration. What it has written
    /// is published meanwhile: a client may be polling
    /// for it (IGT's POLL_RUN spinners store to a page the CPU busy-waits
    /// on), and on hardware the store is visible at once.
    mutating func spin(_ target: UInt64) {
        spins += 1
        guard spins > 4 else { return }
        usleep(UInt32(min(1000, 20 << min(spins - 4, 6))))
        refresh(target)
    }

    /// Between polls of a spinner or a semaphore: the CPU's stores to the
    /// page at `addr` are fetched, and the batch's own are made visible.
    private func refresh(_ addr: UInt64) {
        if let (i, _) = resolve(addr) {
            if i < written.count { poll(i) } else { resident?.flush(i - written.count) }
        }
        publishWritten()
    }

    private func publishWritten() {
        for i in written.indices where written[i] { publish(i) }
        publishResidents()
    }

    private func publishResidents() { resident?.publish() }

    /// Polls until `check` holds (MI_SEMAPHORE_WAIT), with the same backoff;
    /// false (yield) once another request waits for the engine.
    mutating func waitUntil(_ addr: UInt64, _ check: (UInt32) -> Bool) -> Bool {
        var n = 0
        while !check(read32(addr) ?? 0) {
            if request.cancelled != .none { return true }
            expireIfOverdue()
            refresh(addr)
            if check(read32(addr) ?? 0) { return true }
            if contended() { return false }
            n += 1
            usleep(UInt32(min(1000, 10 << min(n, 7))))
        }
        return true
    }

    /// The command's length in dwords, from its header (intel_decoder's rules).
    func length(of h: UInt32) throws(Hang) -> Int {
        switch h >> 29 {
        case 0: // MI
            let op = (h >> 23) & 0x3F
            if op <= 0x0D { return 1 }
            guard Self.miMultiDword.contains(op) else {
                throw Hang(reason: "unknown MI opcode 0x" + String(op, radix: 16) + " (header 0x" + String(h, radix: 16) + ")")
            }
            return Int(h & (op == 0x20 || op == 0x21 ? 0x3FF : 0xFF)) + 2
        case 2: // 2D (blitter)
            return Int(h & 0xFF) + 2
        case 3: // GFXPIPE: render, compute, media
            let subtype = (h >> 27) & 3, opcode = (h >> 24) & 7
            if h >> 16 == 0x6904 || h >> 16 == 0x780B { return 1 } // PIPELINE_SELECT, 3DSTATE_VF_STATISTICS
            if subtype == 1 && opcode < 2 { return 1 }
            if subtype == 2 { return Int(h & 0xFFFF) + 2 }
            return Int(h & 0xFF) + 2
        default:
            throw Hang(reason: "bad command type in header 0x" + String(h, radix: 16))
        }
    }

    /// MI opcodes with a length field the model knows (gen12).
    static let miMultiDword: Set<UInt32> = [0x10, 0x11, 0x13, 0x14, 0x15, 0x16, 0x18, 0x1A, 0x1B, 0x1C, 0x1D, 0x20,
                                            0x21, 0x22, 0x23, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D,
                                            0x2E, 0x2F, 0x31, 0x36]
}
