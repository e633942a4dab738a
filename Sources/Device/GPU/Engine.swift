import CDrm
import Dispatch

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

/// An engine's submission queue: requests run one after the other, in
/// submission order, on the engine's own thread (a serial dispatch queue).
/// A spinning batch occupies it, as it occupies the hardware's ring.
final class Engine: Sendable {
    let id: EngineID
    private let queue: DispatchQueue

    init(_ id: EngineID) {
        self.id = id
        queue = DispatchQueue(label: "fakedrm.engine." + id.name, qos: .userInitiated)
    }

    /// Queues `body` (the execution of one request) behind everything
    /// submitted before it.
    func submit(_ body: @escaping @Sendable () -> Void) { queue.async(execute: body) }

    static func tigerLake() -> [Engine] { EngineID.all.map(Engine.init) }
}
