import Synchronization
import Testing
@testable import FakeDRMDevice

/// A page cache that holds dirty pages and writes them back when revoked,
/// as the kernel does on fuse_lowlevel_notify_inval_inode (launder).
final class DirtyPageCache: PageCacheControl, @unchecked Sendable {
    private let dirty = Mutex<[Invalidation: [UInt8]]>([:])
    /// Weak: the device holds its cache, a strong back reference would leak both.
    private struct WeakDevice { weak var device: DrmDevice? }
    private let device = Mutex(WeakDevice())
    let revoked = Mutex<[Invalidation]>([])

    func attach(_ dev: DrmDevice) { device.withLock { $0.device = dev } }

    /// A store through a mapping: the page is cached and dirty.
    func store(inode: InodeID, offset: UInt64, _ bytes: [UInt8]) {
        dirty.withLock { $0[Invalidation(inode: inode, offset: offset, length: UInt64(bytes.count))] = bytes }
    }

    func invalidate(_ ranges: [Invalidation]) {
        revoked.withLock { $0 += ranges }
        guard let dev = device.withLock({ $0.device }) else { return }
        for r in ranges {
            let hits = dirty.withLock { d in
                let keys = d.keys.filter { $0.inode == r.inode && $0.offset >= r.offset && $0.offset < r.offset + r.length }
                return keys.map { k in (k, d.removeValue(forKey: k)!) }
            }
            for (k, bytes) in hits { try? dev.writeBack(inode: k.inode, offset: k.offset, bytes) }
        }
    }

    func refuse(_ range: Invalidation, contents: [UInt8]) {}
}

/// Issue 9 §1: after a coherency point every view, in every open, faulted
/// before or after it, shows the bytes stored through any other view. The
/// views of one open are separate page caches (one per node), so the
/// lone-view shortcut must not skip the write-back when another node is
/// allowed, and a node granted after a skipped write-back must flush first.
@Suite struct CoherencyViewTests {
    struct Setup {
        let cache = DirtyPageCache()
        let dev: DrmDevice
        let a: FileID
        let h: Handle

        init(size: UInt64) throws {
            dev = DrmDevice(cache: cache)
            cache.attach(dev)
            a = dev.open(minor: .primary, inode: 1, pid: 100, privileged: false)
            h = try dev.gemCreate(a, size: size).handle
        }

        func offset(_ t: MmapType) throws -> UInt64 { try dev.mmapOffset(a, handle: h, flags: t.rawValue) }

        /// Faults `page` of a view, then stores `value` into the cached copy.
        func store(_ off: UInt64, page: UInt64, _ value: UInt8) throws {
            _ = try dev.faultBytes(a, inode: 1, offset: off + page << 12)
            cache.store(inode: 1, offset: off + page << 12, [UInt8](repeating: value, count: 4096))
        }

        func firstFault(_ off: UInt64, page: UInt64) throws -> UInt8 {
            try dev.faultBytes(a, inode: 1, offset: off + page << 12)[17]
        }
    }

    static let cpuTypes: [MmapType] = [.wc, .wb, .uc]
    static let pairs: [(MmapType, MmapType)] = {
        let all: [MmapType] = [.gtt, .wc, .wb, .uc]
        return all.flatMap { a in all.filter { $0 != a }.map { (a, $0) } }
    }()
    /// Small (revoked whole) and large (revoked by cached pages) nodes.
    static let sizes: [UInt64] = [8192, 4 << 20]

    @Test(arguments: sizes)
    func readerMappedUntouchedBeforeSeesTheStore(size: UInt64) throws {
        for (w, r) in Self.pairs {
            let s = try Setup(size: size)
            let wo = try s.offset(w), ro = try s.offset(r)
            let page = size / 4096 - 1
            try s.store(wo, page: page, 0x5A)
            try s.dev.setDomain(s.a, handle: s.h, readDomains: 0x41, writeDomain: 0) // CPU|GTT
            #expect(try s.firstFault(ro, page: page) == 0x5A, "\(w.name) -> \(r.name), \(size) bytes")
        }
    }

    @Test(arguments: sizes)
    func readerGrantedAfterSeesTheStore(size: UInt64) throws {
        for (w, r) in Self.pairs {
            let s = try Setup(size: size)
            let wo = try s.offset(w)
            try s.store(wo, page: 0, 0xA5)
            try s.dev.setDomain(s.a, handle: s.h, readDomains: 0x41, writeDomain: 0)
            #expect(s.cache.revoked.withLock { $0.isEmpty }, "a lone view's SET_DOMAIN skips the write-back")
            let ro = try s.offset(r)
            #expect(try s.firstFault(ro, page: 0) == 0xA5, "\(w.name) -> \(r.name), \(size) bytes")
        }
    }

    /// The legacy CPU mmap (strict mode) grants a view too.
    @Test func legacyMmapAfterASkippedWriteBackFlushes() throws {
        let s = try Setup(size: 8192)
        let gtt = try s.offset(.gtt)
        try s.store(gtt, page: 1, 0x33)
        try s.dev.swFinish(s.a, handle: s.h)
        let m = try s.dev.legacyMmap(s.a, handle: s.h, offset: 0, size: 8192, flags: 0)
        #expect(try s.dev.faultBytes(s.a, inode: 1, offset: m.mapOffset + 4096)[0] == 0x33)
    }

    /// The shortcut stays where it is safe: one node, one file, repeated
    /// coherency points cost nothing; re-granting the same node neither.
    @Test func loneViewShortcutStaysForOneNode() throws {
        let s = try Setup(size: 8192)
        let wc = try s.offset(.wc)
        try s.store(wc, page: 0, 1)
        for _ in 0..<3 { try s.dev.setDomain(s.a, handle: s.h, readDomains: 0x80, writeDomain: 0x80) }
        _ = try s.offset(.wc)
        #expect(s.cache.revoked.withLock { $0.isEmpty })
        // A PWRITE is a full flush: the next grant owes nothing.
        try s.dev.write(s.a, handle: s.h, offset: 8, [9])
        s.cache.revoked.withLock { $0 = [] }
        _ = try s.offset(.wb)
        #expect(s.cache.revoked.withLock { $0.isEmpty })
    }

    /// Another open mapping untouched before the point sees the store.
    @Test func otherOpenSeesTheStore() throws {
        let s = try Setup(size: 4 << 20)
        let b = s.dev.open(minor: .primary, inode: 2, pid: 101, privileged: false)
        let hb = try s.dev.gemOpen(b, name: try s.dev.gemFlink(s.a, handle: s.h)).handle
        let gtt = try s.offset(.gtt)
        let wb = try s.dev.mmapOffset(b, handle: hb, flags: MmapType.wb.rawValue)
        try s.store(gtt, page: 3, 0x77)
        try s.dev.setDomain(b, handle: hb, readDomains: 1, writeDomain: 0)
        #expect(try s.dev.faultBytes(b, inode: 2, offset: wb + 3 << 12)[0] == 0x77)
    }
}
