import CDrm
import FakeDRMDevice
import FakeDRMUAPI

/// One fuzz input is a program run against a fresh device: ioctls through
/// the real decoder (IoctlDispatcher) from three files, page faults,
/// writebacks, releases and reopens, resets, and zombie reclaim. The bytes
/// choose what to do and the values to use; values are drawn mostly from
/// what the device handed out (handles, names, offsets) and from the edges
/// of every field, so random bytes reach deep paths.
///
/// The oracle: no crash or hang (the run itself), and once every file is
/// released no object is left (a leak the daemon would carry forever).
public struct DeviceFuzzer {
    /// A failed invariant: the input is a bug.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    var data: ArraySlice<UInt8>
    private let device: DrmDevice
    private let dispatcher: IoctlDispatcher
    private let memory = FuzzMemory()
    private var files: [FileID] = []
    private var inodes: [InodeID] = []
    private var nextInode: InodeID = 100
    var handles: [UInt32] = [1, 2]
    var names: [UInt32] = [1]
    private var offsets: [UInt64] = [1 << 32]
    /// Offsets with the file (index) they were handed to: faults that pass the check.
    private var granted: [(file: Int, offset: UInt64)] = []

    /// What one input did: how far random bytes got.
    public struct Stats {
        public var ioctls = 0, ioctlsOK = 0, faults = 0, faultsOK = 0, objectsMade = 0

        public init() {}

        public static func += (a: inout Stats, b: Stats) {
            a.ioctls += b.ioctls; a.ioctlsOK += b.ioctlsOK; a.faults += b.faults; a.faultsOK += b.faultsOK
            a.objectsMade += b.objectsMade
        }
    }
    private var stats = Stats()

    /// Runs one input. Throws when an invariant fails.
    @discardableResult
    public static func run(_ input: UnsafeRawBufferPointer) throws(Failure) -> Stats {
        var f = DeviceFuzzer(Array(input)[...])
        try f.execute()
        return f.stats
    }

    private init(_ data: ArraySlice<UInt8>) {
        var profile = DeviceProfile()
        // A tiny aperture and few fences: eviction and fence stealing on
        // every few faults.
        profile.apertureSize = 1 << 20
        profile.fences = 2
        self.data = data
        device = DrmDevice(profile: profile)
        dispatcher = IoctlDispatcher(device: device)
        for minor in [Minor.primary, .render, .primary] { open(minor) }
        prepare()
    }

    /// The same start for every input: objects of several sizes, mapped
    /// through each view, one tiled, one shared by name with the third file,
    /// so that few bytes already reach faults, retiling and sharing.
    private mutating func prepare() {
        handles = []
        for (pages, tiled) in [(1, false), (16, false), (64, true)] {
            guard let h = try? device.gemCreate(files[0], size: UInt64(pages) << 12).handle else { continue }
            handles.append(h.rawValue)
            if tiled { _ = try? device.setTiling(files[0], handle: h, mode: UInt32(I915_TILING_X), stride: 4096) }
            for type in [MmapType.gtt, .wc] {
                if let off = try? device.mmapOffset(files[0], handle: h, flags: type.rawValue) {
                    granted.append((0, off))
                    offsets.append(off)
                }
            }
        }
        if let h = handles.last, let name = try? device.gemFlink(files[0], handle: Handle(rawValue: h)),
           let other = try? device.gemOpen(files[2], name: name).handle,
           let off = try? device.mmapOffset(files[2], handle: other, flags: MmapType.gtt.rawValue) {
            names = [name.rawValue]
            granted.append((2, off))
        }
    }

    // MARK: drawing from the input

    mutating func byte() -> UInt8 { data.popFirst() ?? 0 }
    private mutating func u32() -> UInt32 { (0..<4).reduce(0) { v, i in v | UInt32(byte()) << (8 * i) } }
    private mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
    mutating func pick<T>(_ from: [T]) -> T { from[Int(byte()) % from.count] }

    /// A 32-bit field: mostly something the device gave out or an edge.
    private mutating func value32() -> UInt32 {
        switch byte() % 10 {
        case 0: return u32()
        case 1, 2: return pick(handles)
        case 3: return pick(names)
        case 4: return UInt32(byte() % 8)
        case 5: return UInt32(byte() % 64 + 1) << 12
        case 6: return pick([0, 1, 2, 3, 0x80, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 4096, 4095, 512, 128])
        case 7: return UInt32(truncatingIfNeeded: pick(offsets))
        default: return 0
        }
    }

    /// A 64-bit field: as above, plus pointers into the arena and offsets.
    private mutating func value64() -> UInt64 {
        switch byte() % 8 {
        case 0: return u64()
        case 1, 2: return FuzzMemory.base + UInt64(byte()) * 256
        case 3: return pick(offsets)
        case 4: return UInt64(byte() % 64 + 1) << 12
        case 5: return pick([UInt64.max, 1 << 63, 1 << 32, 0xdead_0000, FuzzMemory.base - 8, FuzzMemory.base + UInt64(FuzzMemory.size) - 4])
        default: return UInt64(value32())
        }
    }

    // MARK: the program

    private mutating func execute() throws(Failure) {
        var steps = 0
        while !data.isEmpty, steps < 512 {
            steps += 1
            switch byte() % 16 {
            case 0...8: ioctl()
            case 9, 10: fault()
            case 11: writeback()
            case 12: fillArena()
            case 13:
                // A file goes (RELEASE) and another comes.
                let i = Int(byte()) % files.count
                device.release(files[i])
                files.remove(at: i)
                inodes.remove(at: i)
                open(byte() & 1 == 0 ? .primary : .render)
            case 14:
                switch byte() % 3 {
                case 0: device.gpuReset()
                case 1: device.dropCaches(DrmDevice.DropCaches.all)
                default: device.sync(inode: pick(inodes))
                }
            default:
                // Zombie reclaim as the transport drives it, with some mappings.
                let snapshot = device.zombieSnapshot()
                var mapped = DrmDevice.MappedRanges()
                for _ in 0..<Int(byte() % 3) { mapped.add(inode: pick(inodes), offset: pick(offsets), length: UInt64(byte()) << 12) }
                device.reclaimUnmapped(snapshot, mapped: mapped)
            }
        }
        stats.objectsMade = Int(device.debugText(.objects).split(separator: " ").first.flatMap { Int($0) } ?? 0)
        for f in files { device.release(f) }
        let objects = device.debugText(.objects).split(separator: " ").first.flatMap { Int($0) }
        guard objects == 0 else { throw Failure(description: "\(objects ?? -1) objects live after every file was released") }
        guard device.zombieUsage.count == 0 else { throw Failure(description: "\(device.zombieUsage.count) zombies left") }
    }

    /// Every ioctl the device knows: the dispatcher's table.
    static let table = IoctlDispatcher.ioctls

    /// The calls that build state, for half of the picks.
    static let hot: [IoctlDesc] = {
        let weights: [(UInt32, Int)] = [(FDRM_IOCTL_I915_GEM_CREATE, 4), (FDRM_IOCTL_I915_GEM_MMAP_OFFSET, 4),
                                        (FDRM_IOCTL_I915_GEM_PWRITE, 2), (FDRM_IOCTL_I915_GEM_SET_TILING, 2),
                                        (FDRM_IOCTL_I915_GEM_SET_DOMAIN, 1), (FDRM_IOCTL_GEM_CLOSE, 1),
                                        (FDRM_IOCTL_GEM_FLINK, 1), (FDRM_IOCTL_GEM_OPEN, 1), (FDRM_IOCTL_I915_GEM_PREAD, 1)]
        return weights.flatMap { cmd, w in Array(repeating: table.filter { $0.cmd == cmd }, count: w).joined() }
    }()

    /// A plausible struct from the entry's fuzz template, or nil to fill it field by field.
    private mutating func template(_ desc: IoctlDesc) -> [UInt8]? {
        var choices = FuzzChoices(data: data, handles: handles, names: names, memory: FuzzMemory.base)
        let t = desc.fuzzTemplate(&choices)
        data = choices.data
        return t
    }

    private mutating func open(_ minor: Minor) {
        nextInode = InodeID(rawValue: nextInode.rawValue + 1)
        files.append(device.open(minor: minor, inode: nextInode, pid: 1, privileged: byte() & 1 == 0))
        inodes.append(nextInode)
    }

    /// Mostly the first file (handles are per file), now and then another.
    private mutating func someFile() -> Int { byte() < 160 ? 0 : Int(byte()) % files.count }

    private mutating func ioctl() {
        let i = someFile()
        var cmd: UInt32
        var op: UInt32? // the table entry's number, when one was picked
        var template: [UInt8]?
        if byte() % 8 == 0 {
            cmd = u32() // anything, foreign types included
        } else {
            // A real ioctl of the table: mostly a plausible call, sometimes
            // fields drawn one by one, or its size or direction bent.
            let desc = byte() % 2 == 0 ? pick(Self.hot) : pick(Self.table)
            cmd = desc.cmd
            op = desc.cmd
            switch byte() % 8 {
            case 0: cmd = desc.cmd & ~(0x3fff << 16) | UInt32(byte()) << 16
            case 1: cmd = desc.cmd ^ (UInt32(byte() % 4) << 30)
            case 2: break
            default: template = self.template(desc)
            }
        }
        let size = Int((cmd >> 16) & 0x3fff)
        withUnsafeTemporaryAllocation(byteCount: max(size, 8) + 8, alignment: 16) { buf in
            buf.initializeMemory(as: UInt8.self, repeating: 0)
            var at = 0
            if let template {
                UnsafeMutableRawBufferPointer(rebasing: buf[0..<min(size, template.count)]).copyBytes(from: template.prefix(size))
                // Now and then one field bent.
                if byte() % 4 == 0, size >= 4 {
                    buf.storeBytes(of: value32(), toByteOffset: Int(byte()) % (size / 4) * 4, as: UInt32.self)
                }
                at = size
            }
            while at + 8 <= size {
                if byte() & 1 == 0 {
                    buf.storeBytes(of: value64(), toByteOffset: at, as: UInt64.self)
                } else {
                    buf.storeBytes(of: value32(), toByteOffset: at, as: UInt32.self)
                    buf.storeBytes(of: value32(), toByteOffset: at + 4, as: UInt32.self)
                }
                at += 8
            }
            if at + 4 <= size, template == nil { buf.storeBytes(of: value32(), toByteOffset: at, as: UInt32.self) }
            // USERPTR reaches the real memory of the pid it is given: no
            // process (0) for it, so the fuzzer never pins init's pages.
            let userptr = fdrm_ioc_nr(cmd) == fdrm_ioc_nr(FDRM_IOCTL_I915_GEM_USERPTR)
            let pid: Int32 = userptr ? 0 : 1
            let caller = IoctlCaller(file: files[i], pid: pid, privileged: byte() & 1 == 0, memory: memory)
            let r = dispatcher.dispatch(cmd: cmd, input: UnsafeRawBufferPointer(rebasing: buf[0..<size]),
                                        output: UnsafeMutableRawBufferPointer(rebasing: buf[0..<size]), caller: caller)
            stats.ioctls += 1
            guard r.errno == 0 else { return }
            stats.ioctlsOK += 1
            // Harvest what came back: new handles, small numbers as names,
            // page-aligned values past 4 GiB as offsets.
            let handleAt: Int? = switch op {
            case FDRM_IOCTL_I915_GEM_CREATE: MemoryLayout<drm_i915_gem_create>.offset(of: \.handle)
            case FDRM_IOCTL_I915_GEM_CREATE_EXT: MemoryLayout<drm_i915_gem_create_ext>.offset(of: \.handle)
            case FDRM_IOCTL_GEM_OPEN: MemoryLayout<drm_gem_open>.offset(of: \.handle)
            default: nil
            }
            if let handleAt, handleAt + 4 <= r.outBytes { handles.append(buf.load(fromByteOffset: handleAt, as: UInt32.self)) }
            if op == FDRM_IOCTL_GEM_CLOSE, handles.count > 2, let gone = handles.firstIndex(of: buf.load(as: UInt32.self)) {
                handles.remove(at: gone)
            }
            // MMAP_OFFSET's answer (MMAP_GTT shares its number and layout start).
            let offsetAt = MemoryLayout<drm_i915_gem_mmap_offset>.offset(of: \.offset)!
            if op == FDRM_IOCTL_I915_GEM_MMAP_OFFSET, offsetAt + 8 <= r.outBytes {
                granted.append((i, buf.load(fromByteOffset: offsetAt, as: UInt64.self)))
            }
            var o = 0
            while o + 4 <= r.outBytes {
                let v = buf.load(fromByteOffset: o, as: UInt32.self)
                if v > 0, v < 256 { names.append(v) }
                if o % 8 == 0, o + 8 <= r.outBytes {
                    let w = buf.load(fromByteOffset: o, as: UInt64.self)
                    if w >= 1 << 32, w & 4095 == 0, w < 1 << 46 { offsets.append(w) }
                }
                o += 4
            }
            if handles.count > 64 { handles.removeFirst(handles.count - 64) }
            if names.count > 64 { names.removeFirst(names.count - 64) }
            if offsets.count > 64 { offsets.removeFirst(offsets.count - 64) }
            if granted.count > 64 { granted.removeFirst(granted.count - 64) }
        }
    }

    private mutating func fault() {
        var i = someFile()
        var offset = pick(offsets) &+ UInt64(byte() % 64) << 12
        if !granted.isEmpty, byte() % 4 != 0 {
            // Mostly where a file was let in, by that file.
            let g = pick(granted)
            (i, offset) = (g.file, g.offset + UInt64(byte() % 4 == 0 ? byte() % 8 : 0) << 12)
        }
        if byte() % 16 == 0 { offset = offset &+ UInt64(byte()) } // a read(2) at any offset
        let count = (Int(byte() % 32) + 1) << 12
        withUnsafeTemporaryAllocation(byteCount: count, alignment: 4096) { buf in
            var revocations: [Invalidation] = []
            stats.faults += 1
            do throws(DrmError) {
                try device.fault(files[i], inode: inodes[i], offset: offset, into: buf, deferring: &revocations)
                stats.faultsOK += 1
            } catch {
                _ = error
            }
        }
    }

    private mutating func writeback() {
        let inode = byte() % 8 == 0 ? InodeID(rawValue: UInt64(byte())) : pick(inodes)
        let offset = pick(offsets) &+ UInt64(byte() % 64) << 12
        let count = Int(byte() % 3 + 1) << 12
        let fillByte = byte()
        withUnsafeTemporaryAllocation(byteCount: count, alignment: 4096) { buf in
            buf.initializeMemory(as: UInt8.self, repeating: fillByte)
            _ = try? device.writeback(inode: inode, offset: offset, data: UnsafeRawBufferPointer(buf))
        }
    }

    /// Raw bytes into the arena: what nested pointers (extensions, query
    /// items, strings, PWRITE data) lead to.
    private mutating func fillArena() {
        let at = Int(byte()) * 256
        let n = Int(byte())
        memory.fill(at: at, from: data.prefix(n))
        data = data.dropFirst(n)
    }
}
