/// What a trace line says about a range of fake offsets: the first node in
/// it (a readahead window may start in the gap before it).
extension DrmDevice {
    /// "gtt obj 3 +0x1000" for the first node byte in [offset, offset +
    /// length), "no node" when there is none. Only traced faults ask.
    public func describeRange(_ offset: UInt64, _ length: Int) -> String {
        state.withLock { s in
            for page in PageRange(bytes: offset, count: UInt64(max(length, 1))).range {
                if let mmo = s.offsets.lookup(page: page)?.value {
                    let at = max(offset, page << Page.shift)
                    return "\(mmo.type.name) obj \(mmo.object.serial) +0x" + String(at - mmo.byteOffset, radix: 16)
                }
            }
            return "no node"
        }
    }
}
