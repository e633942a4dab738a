import CDrm
import Dispatch
import Synchronization

/// One of Tiger Lake's user-visible engines (intel_engine_cs), as the uabi
/// names it: class and instance, plus the MMIO base its registers live at.
public struct EngineID: Sendable, Hashable {
    public let index: Int
    public let uabiClass: UInt16
    public let instance: UInt16
    public let name: String
    /// RING_MMIO base: TIMESTAMP and the GPRs are relative to it.
    public let mmioBase: UInt32

    /// TGL: rcs0, bcs0, vcs0, vcs2 (uabi vcs1), vecs0 (intel_engine_cs.c intel_engines[]).
    public static let all: [EngineID] = [
        EngineID(index: 0, uabiClass: UInt16(I915_ENGINE_CLASS_RENDER.rawValue), instance: 0, name: "rcs0", mmioBase: 0x2000),
        EngineID(index: 1, uabiClass: UInt16(I915_ENGINE_CLASS_COPY.rawValue), instance: 0, name: "bcs0", mmioBase: 0x22000),
        EngineID(index: 2, uabiClass: UInt16(I915_ENGINE_CLASS_VIDEO.rawValue), instance: 0, name: "vcs0", mmioBase: 0x1C0000),
        EngineID(index: 3, uabiClass: UInt16(I915_ENGINE_CLASS_VIDEO.rawValue), instance: 1, name: "vcs1", mmioBase: 0x1D0000),
        EngineID(index: 4, uabiClass: UInt16(I915_ENGINE_CLASS_VIDEO_ENHANCE.rawValue), instance: 0, name: "vecs0", mmioBase: 0x1C8000),
    ]

    public static let rcs0 = all[0], bcs0 = all[1], vcs0 = all[2], vcs1 = all[3], vecs0 = all[4]

    /// The engine a class/instance pair names, if the device has it.
    public static func lookup(class cls: UInt16, instance: UInt16) -> EngineID? {
        all.first { $0.uabiClass == cls && $0.instance == instance }
    }
}

/// An engine's submission port and run list owner. Requests are handed to
/// the engine's thread (a serial dispatch queue, running only while the
/// engine has work), which keeps a run list of started command streamers
/// and timeslices between contexts at arbitration points (an unsatisfied
/// MI_SEMAPHORE_WAIT, a looping jump in an arbitrating loop, MI_ARB_CHECK
/// after a timeslice): DrmDevice.runEngine. One request costs as a FIFO did.
final class Engine: Sendable {
    let id: EngineID
    private let queue: DispatchQueue
    /// Submitted and not yet taken by the engine's thread; whether that
    /// thread runs.
    private let port = Mutex<(pending: [Request], running: Bool)>(([], false))
    /// Requests submitted and not yet completed: more than one makes an
    /// arbitration point yield (one atomic load).
    let queued = Atomic<Int>(0)
    /// The priority of the request that has the engine (Int64.min: none).
    let runningPriority = Atomic<Int64>(Int64.min)
    /// Since when (CLOCK_MONOTONIC ns) a request waits to preempt the
    /// running one, 0 if none: a loop without an arbitration point is reset
    /// after the preempt timeout (preempt_timeout_ms).
    let preemptSince = Atomic<UInt64>(0)
    /// Its sysfs tunables (heartbeat, preempt timeout...).
    let properties = EngineProperties()
    /// Wakes the engine's thread when it sleeps with nothing to run.
    private let kicker = DispatchSemaphore(value: 0)

    init(_ id: EngineID) {
        self.id = id
        queue = DispatchQueue(label: "fakedrm.engine." + id.name, qos: .userInitiated)
    }

    /// Hands `rq` to the engine; `start` runs the engine's loop on its
    /// thread when it was idle.
    /// A ready request of higher priority than the running one preempts it.
    func submit(_ rq: Request, ready: Bool, start: @escaping @Sendable () -> Void) {
        queued.add(1, ordering: .relaxed)
        if ready {
            let running = runningPriority.load(ordering: .relaxed)
            if running != Int64.min, rq.priority > running { requestPreemption() }
        }
        let idle = port.withLock { p -> Bool in
            p.pending.append(rq)
            defer { p.running = true }
            return !p.running
        }
        if idle { queue.async(execute: start) } else { kick() }
    }

    /// What was submitted since the last call, in submission order. When
    /// there is nothing and `idle`, the loop ends (nil): the next submit
    /// starts it again.
    func take(idle: Bool) -> [Request]? {
        port.withLock { p -> [Request]? in
            if p.pending.isEmpty {
                if idle { p.running = false; return nil }
                return []
            }
            defer { p.pending = [] }
            return p.pending
        }
    }

    /// Whether a submission waits to be taken.
    var hasPending: Bool { port.withLock { !$0.pending.isEmpty } }

    /// Asks the running request to give the engine up (a higher-priority
    /// request, a killed context's request that must be retired).
    func requestPreemption() {
        _ = preemptSince.compareExchange(expected: 0, desired: Registers.monotonicNs(), ordering: .relaxed)
    }

    func completed() { queued.subtract(1, ordering: .relaxed) }

    var contended: Bool { queued.load(ordering: .relaxed) > 1 }

    func kick() { kicker.signal() }

    /// Sleeps until kicked or `ns` passed, then forgets extra kicks.
    func sleep(ns: Int) {
        _ = kicker.wait(timeout: .now() + .nanoseconds(ns))
        while kicker.wait(timeout: .now()) == .success {}
    }

    static func tigerLake() -> [Engine] { EngineID.all.map(Engine.init) }
}
