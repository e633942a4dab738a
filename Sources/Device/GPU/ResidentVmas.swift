/// The rest of a request's ppGTT: objects an earlier execbuf bound in the
/// context's VM stay bound (their PTEs stay) after that execbuf, so a batch
/// reaches them at their address without listing them; another VM never
/// does (gem_vm_create@isolation). The command streamer asks on an address
/// none of its own objects holds; the lookup takes the device lock, and
/// what it found is kept until the request ends.
///
/// Such an object gets no implicit sync and no busy bits (as in the kernel:
/// only the exec list is tracked). A userptr reached this way takes each
/// store through to the client's memory (CommandStreamer.write32); it is
/// not re-read from it (deviation).
///
/// Touched only on the engine's thread, by the request's command streamer.
final class ResidentVmas: @unchecked Sendable {
    /// Found so far (the streamer's target indices past its request's).
    private(set) var list: [Request.Target] = []
    /// Indices into `list` the GPU stored to.
    var written: Set<Int> = []
    private let lookup: (UInt64) -> Request.Target?
    private let drop: (ResidentVmas, Int) -> Void

    init(lookup: @escaping (UInt64) -> Request.Target?, drop: @escaping (ResidentVmas, Int) -> Void) {
        self.lookup = lookup
        self.drop = drop
    }

    /// The index in `list` of the binding holding `addr`, or nil (scratch).
    func find(_ addr: UInt64) -> Int? {
        if let j = list.firstIndex(where: { $0.start <= addr && addr < $0.end }) { return j }
        guard let t = lookup(addr) else { return nil }
        list.append(t)
        return list.count - 1
    }

    /// Writes back and drops every client's cached copy of list[j]'s
    /// object: the CPU's stores reach the engine, the GPU's the clients.
    func flush(_ j: Int) { drop(self, j) }

    /// Makes every store the GPU did to these objects visible.
    func publish() {
        for j in written.sorted() { flush(j) }
    }
}

extension DrmDevice {
    /// A request's view of its VM's other bindings.
    func residentVmas(_ rq: Request) -> ResidentVmas {
        ResidentVmas(lookup: { [unowned self] addr in
            state.withLock { _ -> Request.Target? in
                guard let b = rq.context.vm.overlapping(addr, 1).first, let obj = b.object,
                      obj.madv == .willNeed, obj.pagesError == nil else { return nil }
                if !obj.readonly { obj.backing.willWrite() }
                var t = Request.Target(object: obj, backing: obj.backing, start: b.start, size: min(b.size, obj.size),
                                       write: false, readonly: obj.readonly)
                t.unlistedUserptr = obj.userptr
                return t
            }
        }, drop: { [unowned self] found, j in
            flush(state.withLock { $0.takeCached(of: found.list[j].object) })
        })
    }
}
