import FakeDRMDevice
import Synchronization

/// Open debug files. Reads are served as seq_file serves them: each open
/// keeps a position (the last record read) and at most the unread rest of
/// one piece (pieceBytes), never a copy of the whole text; a read at another offset
/// starts over from the top (like lseek on a seq_file). Only bytes move
/// here: the text and what a write means are the device's
/// (DrmDevice+Debug.swift, DrmDevice+DebugControl.swift). Their file handles live above 2^63, apart from drm_file ids.
final class DebugFiles: Sendable {
    private struct Reader {
        /// nil for a fixed text (a module parameter), held whole in `text`.
        let file: DrmDevice.DebugFile?
        var text: [UInt8] = []
        /// File offset of the first byte of `pending`.
        var offset = 0
        var position = DrmDevice.DebugPosition.start
        /// Generated and not yet read (at most a piece and a record).
        var pending: [UInt8] = []
    }

    private let open = Mutex<[UInt64: Reader]>([:])
    private let next = Atomic<UInt64>(1 << 63)

    func open(_ file: DrmDevice.DebugFile, on device: DrmDevice) -> UInt64 {
        let fh = next.add(1, ordering: .relaxed).newValue
        open.withLock { $0[fh] = Reader(file: file) }
        return fh
    }

    /// An open file reading `text` (small: kept whole).
    func open(text: String) -> UInt64 {
        let fh = next.add(1, ordering: .relaxed).newValue
        open.withLock { $0[fh] = Reader(file: nil, text: Array(text.utf8)) }
        return fh
    }

    static func isDebug(_ fh: UInt64) -> Bool { fh >= 1 << 63 }

    /// Up to `size` bytes from `offset`.
    func read(_ fh: UInt64, offset: Int, size: Int, on device: DrmDevice) -> [UInt8] {
        open.withLock { files in
            guard var r = files[fh] else { return [] }
            guard let file = r.file else {
                guard offset < r.text.count else { return [] }
                return Array(r.text[offset..<min(r.text.count, offset + size)])
            }
            defer { files[fh] = r }
            if offset != r.offset {
                r = Reader(file: file)
                _ = Self.fill(&r, upTo: offset, on: device)
                let skip = min(offset, r.pending.count)
                r.pending.removeFirst(skip)
                r.offset = skip
                guard skip == offset else { return [] } // past the end
            }
            Self.fill(&r, upTo: size, on: device)
            let n = min(size, r.pending.count)
            let out = Array(r.pending[..<n])
            r.pending.removeFirst(n)
            r.offset += n
            return out
        }
    }

    /// Pieces are generated this large at least: each costs a walk of the
    /// device's lists, and small reads must not each pay for one. Bounds
    /// what a reader keeps between reads to about this much.
    static let pieceBytes = 16 << 10

    /// Generates records until `pending` holds `count` bytes or the text ends.
    @discardableResult
    private static func fill(_ r: inout Reader, upTo count: Int, on device: DrmDevice) -> Bool {
        while r.pending.count < count, r.position != .end {
            let want = max(count - r.pending.count, pieceBytes)
            guard let file = r.file else { break }
            let (text, next) = device.debugChunk(file, from: r.position, minBytes: want)
            r.pending += Array(text.utf8)
            r.position = next
        }
        return r.pending.count >= count
    }

    func release(_ fh: UInt64) { _ = open.withLock { $0.removeValue(forKey: fh) } }
}
