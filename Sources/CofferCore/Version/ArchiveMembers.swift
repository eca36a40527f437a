/// An archive's members as virtual entries below it, in walk order (``VersionWalker/precedes(_:_:)``),
/// read in bounded memory whatever the member count.
///
/// A member whose content is stored as such carries its SHA-256 and chunks; an encoded one carries
/// the chunks of its encoded bytes and no SHA-256 (zeros). Members with equal paths keep their
/// layout order.
///
/// A format-2 layout is read with ``ArchiveLayoutCursor`` (members, and a second cursor on the
/// parts for each member's chunks):
/// - up to ``memoryLimit`` members are held, and sorted if need be: a small archive is read once;
/// - past that, if the members met so far are in walk order, the rest of the layout is read
///   once to check that they all are, and the members are then streamed in layout order from a
///   new cursor, holding one member (most zip writers list their members sorted);
/// - otherwise they are sorted externally (``MemberRuns``): sorted runs of at most
///   ``memoryLimit`` members written to one encrypted temporary file, then merged, holding one
///   member and one block per run.
final class ArchiveMembers {
    typealias Member = (entry: VersionEntry, storage: ArchiveMemberStorage?)

    /// Members held in memory at most (about 0.5 KiB each, more with long names or many chunks).
    static let memoryLimit = 16_384

    private enum Mode {
        /// Members held, in order, from `position`.
        case held([Member], position: Int)
        /// The layout's members as they come (they are in walk order).
        case streamed(LayoutMembers)
        /// The merge of sorted runs.
        case merged(MemberRuns.Merge)
        case done
    }

    private var mode: Mode
    private var lookahead: Member?
    /// Members in layout order that have been read from `streamed` (to check the order again).
    private var previousPath: [UInt8]?
    private let object: String

    /// The members of `entry` (an archive), held already (a format-1 entry's layout, or a
    /// layout given whole).
    init(of entry: VersionEntry, layout: ArchiveLayout) {
        object = entry.displayPath
        var out: [Member] = []
        out.reserveCapacity(layout.members.count)
        for m in layout.members {
            guard let name = Self.memberPath(m.name) else { continue }
            let part = m.part.flatMap { layout.parts.indices.contains($0) ? layout.parts[$0] : nil }
            out.append(Self.member(m, path: entry.pathBytes + [UInt8(ascii: "/")] + name, part: part))
        }
        out.sort { VersionWalker.precedes($0.entry.pathBytes, $1.entry.pathBytes) }
        mode = .held(out, position: 0)
    }

    /// How the members are given (for tests).
    enum Order: Equatable {
        /// All held (at most `limit` members), sorted in memory.
        case held
        /// In layout order, which is walk order.
        case streamed
        /// Sorted externally, in `runs` runs.
        case merged(runs: Int)
    }

    private(set) var order = Order.held
    /// The external sort's run file, while members are merged.
    private(set) var runs: MemberRuns?

    /// The members of `entry`, a format-2 archive read from its layout pieces, holding at most
    /// `limit` (``memoryLimit``) at a time.
    init(vault: Vault, entry: VersionEntry, limit: Int = ArchiveMembers.memoryLimit) throws {
        precondition(limit > 0, "at least one member is held")
        object = entry.displayPath
        var source = try LayoutMembers(vault: vault, entry: entry)
        var held: [(index: Int, member: Member)] = []
        var sorted = true
        while held.count < limit, let m = try source.next() {
            if sorted, let last = held.last, VersionWalker.compare(last.member.entry.pathBytes, m.member.entry.pathBytes) > 0 { sorted = false }
            held.append(m)
        }
        guard held.count == limit else {
            // The whole archive is held: sorted in memory (stable: equal paths keep their order).
            if !sorted { held.sort { Self.before($0, $1) } }
            mode = .held(held.map(\.member), position: 0)
            return
        }
        if sorted {
            // Check the rest without holding it; then stream on from where the held ones end.
            var last = held.last!.member.entry.pathBytes
            var check = try LayoutMembers(vault: vault, entry: entry, withParts: false)
            check.skip(held.last!.index + 1)
            while sorted, let m = try check.next() {
                if VersionWalker.compare(last, m.member.entry.pathBytes) > 0 { sorted = false }
                last = m.member.entry.pathBytes
            }
            if sorted {
                previousPath = held.last!.member.entry.pathBytes
                order = .streamed
                mode = .held(held.map(\.member), position: 0)
                streamAfterHeld = source
                return
            }
        }
        held.sort { Self.before($0, $1) }
        // External sort: the held members are the first run.
        let runs = try MemberRuns(object: object, prefix: entry.pathBytes)
        try runs.write(held)
        held = []
        while true {
            var run: [(index: Int, member: Member)] = []
            while run.count < limit, let m = try source.next() { run.append(m) }
            if run.isEmpty { break }
            run.sort { Self.before($0, $1) }
            try runs.write(run)
            if run.count < limit { break }
        }
        order = .merged(runs: runs.runCount)
        self.runs = runs
        mode = .merged(try runs.merge())
    }

    /// When the members are streamed: the source to continue from once the held ones are given.
    private var streamAfterHeld: LayoutMembers?

    /// The next member without taking it.
    func peek() throws -> Member? {
        if lookahead == nil { lookahead = try read() }
        return lookahead
    }

    /// The next member, or nil after the last.
    func next() throws -> Member? {
        if let m = lookahead {
            lookahead = nil
            return m
        }
        return try read()
    }

    private func read() throws -> Member? {
        switch mode {
        case .held(let members, let position):
            if position < members.count {
                mode = .held(members, position: position + 1)
                return members[position]
            }
            guard let source = streamAfterHeld else {
                mode = .done
                return nil
            }
            streamAfterHeld = nil
            var s = source
            mode = .streamed(s)
            // `source` is where the held members ended.
            return try readStreamed(&s)
        case .streamed(var s):
            return try readStreamed(&s)
        case .merged(let merge):
            guard let m = try merge.next() else {
                mode = .done
                return nil
            }
            return m
        case .done:
            return nil
        }
    }

    private func readStreamed(_ s: inout LayoutMembers) throws -> Member? {
        let m = try s.next()
        mode = m == nil ? .done : .streamed(s)
        guard let m else { return nil }
        // Checked when the order was; a layout that changed under the reader is damage.
        if let p = previousPath, VersionWalker.compare(p, m.member.entry.pathBytes) > 0 {
            throw CofferError.integrity(object: object, reason: "layout: members read twice differ")
        }
        previousPath = m.member.entry.pathBytes
        return m.member
    }

    private static func before(_ a: (index: Int, member: Member), _ b: (index: Int, member: Member)) -> Bool {
        let c = VersionWalker.compare(a.member.entry.pathBytes, b.member.entry.pathBytes)
        return c != 0 ? c < 0 : a.index < b.index
    }

    /// A member's name as a path below its archive: trailing slashes dropped; nil when empty.
    static func memberPath(_ name: String) -> [UInt8]? {
        var nameBytes = Array(name.utf8)
        while nameBytes.last == UInt8(ascii: "/") { nameBytes.removeLast() }
        return nameBytes.isEmpty ? nil : nameBytes
    }

    /// Member `m` as a virtual entry at `path`, with its part's chunks (`part`: its part).
    static func member(_ m: ArchiveMember, path: [UInt8], part: ArchivePart?) -> Member {
        var v = VersionEntry(
            type: m.isDirectory ? .directory : .file, pathBytes: path,
            mode: m.isDirectory ? 0o755 : m.mode != 0 ? m.mode & 0o777 : 0o644, mtimeSeconds: m.mtimeSeconds, mtimeNanoseconds: 0,
            size: m.isDirectory ? 0 : m.size)
        var storage: ArchiveMemberStorage?
        if let p = part {
            v.chunks = p.chunks
            if m.data == .content { v.sha256 = p.contentSHA256 }
            storage = m.isDirectory ? nil : m.data != .content ? .keptCompressed : p.kind == .transformed ? .reproduced : .stored
        }
        return (v, storage)
    }
}

/// An archive's members in layout order, as virtual entries with their parts' chunks: a cursor
/// on the members and a second one on the parts (read forward; opened again for a member whose
/// part comes before the last one read).
struct LayoutMembers {
    private let vault: Vault
    private let entry: VersionEntry
    private let withParts: Bool
    private var members: ArchiveLayoutCursor
    private var parts: ArchiveLayoutCursor?
    private var lastPart: (index: Int, part: ArchivePart)?
    /// Members read so far (their layout index).
    private var read = 0

    /// `withParts`: false gives entries without chunks or storage (to check the order only).
    init(vault: Vault, entry: VersionEntry, withParts: Bool = true) throws {
        self.vault = vault
        self.entry = entry
        self.withParts = withParts
        members = try ArchiveLayoutCursor(vault: vault, entry: entry)
    }

    /// Passes over the first `n` members.
    mutating func skip(_ n: Int) {
        // Decoded by next(): only counted here.
        skipping = n
    }

    private var skipping = 0

    /// The next member with a name, and its index in the layout; nil after the last.
    mutating func next() throws -> (index: Int, member: ArchiveMembers.Member)? {
        while let m = try members.nextMember() {
            read += 1
            if skipping > 0 {
                skipping -= 1
                continue
            }
            guard let name = ArchiveMembers.memberPath(m.name) else { continue }
            let path = entry.pathBytes + [UInt8(ascii: "/")] + name
            guard withParts else { return (read - 1, ArchiveMembers.member(m, path: path, part: nil)) }
            return (read - 1, ArchiveMembers.member(m, path: path, part: try part(of: m)))
        }
        return nil
    }

    private mutating func part(of m: ArchiveMember) throws -> ArchivePart? {
        guard let k = m.part else { return nil }
        if let lastPart, lastPart.index == k { return lastPart.part }
        if parts == nil || k < parts!.partsRead { parts = try ArchiveLayoutCursor(vault: vault, entry: entry) }
        guard let p = try parts!.part(k) else {
            throw CofferError.integrity(object: entry.displayPath, reason: "layout: member \(m.name) refers to a missing part")
        }
        lastPart = (k, p)
        return p
    }
}
