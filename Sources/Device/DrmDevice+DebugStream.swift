/// Debug files read in pieces, as seq_file iterates its records: a reader
/// holds a position (the last record read), never a copy of the whole text,
/// so a listing of many objects costs its readers nothing between reads
/// (issue 11: each open used to keep a snapshot of ~3 MiB).
extension DrmDevice {
    /// Where a reader of a debug file stands: nothing read yet, after the
    /// record with `key` (object serial, file id, GGTT page), or at the end.
    public enum DebugPosition: Sendable, Equatable {
        case start, after(UInt64), end
    }

    /// The text of `file` from `position`: whole records (the header first
    /// when starting) until at least `minBytes` are there or the file ends,
    /// and the position after them. Files that are not lists of records
    /// come whole.
    public func debugChunk(_ file: DebugFile, from position: DebugPosition, minBytes: Int) -> (text: String, next: DebugPosition) {
        guard position != .end else { return ("", .end) }
        switch file {
        case .objects, .clients, .gtt:
            return state.withLock { s in
                let after: UInt64? = if case .after(let k) = position { k } else { nil }
                var out = ""
                if after == nil {
                    out = file == .objects ? s.objectsHeader : file == .clients ? s.clientsHeader : s.gttHeader
                }
                var last: UInt64?
                var more = false
                // Ascending keys; at least one record per piece.
                func take(_ key: UInt64, _ line: () -> String) -> Bool {
                    if let after, key <= after { return true }
                    if last != nil, out.utf8.count >= minBytes {
                        more = true
                        return false
                    }
                    out += line()
                    last = key
                    return true
                }
                switch file {
                case .objects:
                    for o in s.liveObjects(after: after ?? 0) { guard take(o.serial, { s.objectLine(o) }) else { break } }
                case .clients:
                    for f in s.files.values.sorted(by: { $0.id < $1.id }) { guard take(f.id.rawValue, { s.clientLine(f) }) else { break } }
                default:
                    for v in s.ggtt.vmas { guard take(UInt64(v.start), { s.bindingLine(v) }) else { break } }
                }
                return (out, more ? .after(last!) : .end)
            }
        default:
            return (debugText(file), .end)
        }
    }
}

extension DeviceState {
    /// liveObjects past serial `after`: the rest of a listing, sorted
    /// without sorting what was read already.
    func liveObjects(after serial: UInt64) -> [GemObject] {
        var seen = Set<ObjectIdentifier>(), out: [GemObject] = []
        for f in files.values {
            for o in f.handles.values where o.serial > serial && seen.insert(ObjectIdentifier(o)).inserted { out.append(o) }
            for o in f.mappable.values where o.serial > serial && seen.insert(ObjectIdentifier(o)).inserted { out.append(o) }
        }
        return out.sorted { $0.serial < $1.serial }
    }
}
