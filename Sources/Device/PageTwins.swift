/// What pages of an object held before the daemon stored into them itself
/// (a relocation) while a client may hold them in its page cache.
///
/// A client's copy of a page comes back whole (FUSE WRITE), where the
/// hardware's CPU stores reach memory byte by byte. A copy served before the
/// daemon's store and dirtied after it would put the old bytes back over that
/// store: forked children sharing a mapping of one batch, each relocating its
/// own dword of page 0 while the others write theirs, lost relocations
/// (IGT gem_exec_gttfill@all-engines). So while a page has a twin, a
/// writeback lands only the bytes that differ from it: the client's stores.
///
/// A twin lives until a full coherency point taken after the last store into
/// its page is done: every copy older than that store has then been written
/// back and dropped (CoherencyPoint.swift `flush`).
struct PageTwins {
    private var pages: [Int: (bytes: [UInt8], stamp: UInt64)] = [:]
    /// Daemon stores into twinned pages so far.
    private(set) var stamp: UInt64 = 0

    var isEmpty: Bool { pages.isEmpty }
    var count: Int { pages.count }

    /// Before the daemon stores into `bytes` of `backing`: keeps each page as
    /// the copies may have it. A page already twinned keeps its first twin,
    /// the oldest bytes a copy may hold.
    mutating func willStore(_ backing: Backing, bytes: Range<Int>) {
        guard backing.reserved, !bytes.isEmpty else { return }
        stamp += 1
        for page in bytes.lowerBound >> Page.shift...(bytes.upperBound - 1) >> Page.shift {
            if pages[page] != nil {
                pages[page]!.stamp = stamp
                continue
            }
            var twin = [UInt8](repeating: 0, count: Page.size)
            twin.withUnsafeMutableBytes { backing.copyOut(at: page << Page.shift, into: $0.baseAddress!, count: Page.size) }
            pages[page] = (twin, stamp)
        }
    }

    /// A full coherency point taken at `stamp` is done.
    mutating func release(upTo stamp: UInt64) {
        pages = pages.filter { $0.value.stamp > stamp }
    }

    /// Runs `writeBack` (a client's copy into `backing`), then puts back, in
    /// the twinned pages among `candidates` (all when nil), every byte the
    /// copy left as its twin has it. The bytes it did change are what the
    /// next copy of the page is served with: the twin takes them (a child's
    /// own store landed between two relocations of another is no stale byte
    /// in the copy served after it).
    mutating func merge(_ backing: Backing, candidates: ClosedRange<Int>?, _ writeBack: () -> Void) {
        let twinned = pages.keys.filter { candidates?.contains($0) ?? true }
        guard !twinned.isEmpty else { return writeBack() }
        let before = twinned.map { page in
            var bytes = [UInt8](repeating: 0, count: Page.size)
            bytes.withUnsafeMutableBytes { backing.copyOut(at: page << Page.shift, into: $0.baseAddress!, count: Page.size) }
            return (page, bytes)
        }
        writeBack()
        backing.willWrite()
        for (page, old) in before {
            let now = backing.base + page << Page.shift
            pages[page]!.bytes.withUnsafeMutableBytes { twin in
                for i in 0..<Page.size {
                    let v = now.load(fromByteOffset: i, as: UInt8.self)
                    if v == twin[i] { now.storeBytes(of: old[i], toByteOffset: i, as: UInt8.self) } else if v != old[i] { twin[i] = v }
                }
            }
        }
    }
}

/// A full coherency point's promise to release `object`'s twins up to
/// `stamp` once its revocations are done. The object rides along, touched
/// only under the device lock.
struct TwinRelease: @unchecked Sendable {
    let object: GemObject
    let stamp: UInt64
}
