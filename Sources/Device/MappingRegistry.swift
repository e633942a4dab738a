/// The mappings strict mode reports: what i915's VMAs do for object
/// lifetime (the second holder of ObjectLifetime.swift's rule). Each registered mapping holds its object, as a VMA holds an
/// object reference from i915_gem_mmap to vm_close; a fork's copy is one
/// more holder of the same mapping (vm_open).
///
/// The daemon never sees mmap(2), so this is only as complete as what the
/// preload library tells it. A file's mappings are trusted to be all known
/// once the library has registered one through it ("tracked"), until a fault
/// through it hits a node it has no registered mapping of (a raw syscall or
/// a process without the library): then the file is untracked for good and
/// its objects wait for its release again, as in plain mode.
struct MappingRegistry {
    struct Mapping {
        let file: FileID
        let mmo: MmapOffset
        /// Processes holding a copy: 1 at mmap, +1 per fork.
        var holders: Int
    }

    private var mappings: [Cookie: Mapping] = [:]
    private var nextCookie: UInt64 = 0
    private var perObject: [ObjectIdentifier: Int] = [:]
    private var perNode: [NodeFile: Int] = [:]
    private var perFile: [FileID: Int] = [:]
    private var tracked: Set<FileID> = []
    private var untracked: Set<FileID> = []

    private struct NodeFile: Hashable {
        let node: ObjectIdentifier
        let file: FileID
    }

    /// Mappings one open may hold: a process may have vm.max_map_count
    /// (65530) VMAs, an open is shared by a few. Past it mmap is ENOMEM, as
    /// past max_map_count, and a client cannot grow the daemon without bound.
    var maxPerFile = 1 << 20

    /// A new mapping of `mmo` made through `file`; returns its cookie.
    mutating func register(file: FileID, mmo: MmapOffset) throws(DrmError) -> Cookie {
        guard perFile[file, default: 0] < maxPerFile else { throw DrmError.ENOMEM }
        perFile[file, default: 0] += 1
        nextCookie += 1
        let cookie = Cookie(rawValue: nextCookie)
        mappings[cookie] = Mapping(file: file, mmo: mmo, holders: 1)
        perObject[ObjectIdentifier(mmo.object), default: 0] += 1
        perNode[NodeFile(node: ObjectIdentifier(mmo), file: file), default: 0] += 1
        if !untracked.contains(file) { tracked.insert(file) }
        return cookie
    }

    /// The open a mapping was made through.
    func file(of cookie: Cookie) -> FileID? { mappings[cookie]?.file }

    /// vm_open: one more process holds the mapping. False: no such mapping.
    mutating func open(_ cookie: Cookie) -> Bool {
        guard mappings[cookie] != nil else { return false }
        mappings[cookie]!.holders += 1
        return true
    }

    /// vm_close: one holder let go. Returns the mapping's object when this
    /// was the last holder (it may now be unused), nil when others remain;
    /// ENOENT for an unknown cookie.
    mutating func close(_ cookie: Cookie) throws(DrmError) -> GemObject? {
        guard var m = mappings[cookie] else { throw DrmError.ENOENT }
        m.holders -= 1
        guard m.holders == 0 else {
            mappings[cookie] = m
            return nil
        }
        remove(cookie, m)
        return m.mmo.object
    }

    /// The file is released: FUSE proves no mapping made through it is left
    /// in any process, whatever was (not) reported. Forgets them all.
    mutating func release(_ file: FileID) {
        for (cookie, m) in mappings where m.file == file { remove(cookie, m) }
        perFile[file] = nil
        tracked.remove(file)
        untracked.remove(file)
    }

    private mutating func remove(_ cookie: Cookie, _ m: Mapping) {
        mappings[cookie] = nil
        let obj = ObjectIdentifier(m.mmo.object), node = NodeFile(node: ObjectIdentifier(m.mmo), file: m.file)
        perObject[obj]! -= 1
        if perObject[obj] == 0 { perObject[obj] = nil }
        perNode[node]! -= 1
        if perNode[node] == 0 { perNode[node] = nil }
        perFile[m.file]! -= 1
        if perFile[m.file] == 0 { perFile[m.file] = nil }
    }

    /// Whether any registered mapping holds the object.
    func isMapped(_ obj: GemObject) -> Bool { perObject[ObjectIdentifier(obj)] != nil }

    /// Whether `file` has a registered mapping of `mmo`.
    func maps(_ file: FileID, _ mmo: MmapOffset) -> Bool { perNode[NodeFile(node: ObjectIdentifier(mmo), file: file)] != nil }

    /// Whether every mapping made through `file` is registered here, so an
    /// object it may map needs nothing from it but its registered mappings.
    func tracksEveryMapping(of file: FileID) -> Bool { tracked.contains(file) }

    /// A fault through `file` on `mmo`: from a mapping nobody registered, the
    /// file cannot be trusted any more.
    mutating func noteFault(_ file: FileID, _ mmo: MmapOffset) {
        guard tracked.contains(file), !maps(file, mmo) else { return }
        tracked.remove(file)
        untracked.insert(file)
    }
}
