import Foundation

/// Reads a version's entries one at a time, in depth-first order with each folder's children
/// sorted by their name bytes, a folder before its contents: that is, in the lexicographic order
/// of the paths' components (``VersionWalker/precedes(_:_:)``). Two walkers can therefore be
/// merged like sorted lists (`diff`).
///
/// A format-2 version is read tree piece by tree piece, so a walker holds one listing per level
/// of depth, never the whole version. A format-1 version is one object and is held whole.
///
/// With `expandArchives`, each archive is followed by its members as virtual files and folders
/// (`Export.zip/Connections.csv`), sorted the same way: what `ls` shows and `diff` compares.
/// They are read in bounded memory, whatever the member count (``ArchiveMembers``).
public final class VersionWalker {
    /// Where entries come from: one implementation per format.
    protocol Source: AnyObject {
        /// The next entry in order, or nil at the end.
        func next() throws -> VersionEntry?
        /// Do not descend into the folder last returned by ``next()``.
        func skipChildren()
    }

    private let source: Source
    private let expandArchives: Bool
    private let members: (VersionEntry) throws -> ArchiveMembers?
    /// Members of the archive being expanded that are still to be returned.
    private var pendingMembers: ArchiveMembers?
    /// Where the entry last returned came from: nil (the source), or the member entry itself.
    private var lastMember: VersionEntry?
    /// How the member last returned is stored, nil for an entry that is no archive member
    /// (and for a member folder or empty member).
    public private(set) var lastMemberStorage: ArchiveMemberStorage?
    private var lastWasExpandedArchive = false
    private var skipError: Error?

    /// `layout`: an archive entry's layout, held whole.
    convenience init(source: Source, expandArchives: Bool, layout: @escaping (VersionEntry) throws -> ArchiveLayout?) {
        self.init(source: source, members: { e in try layout(e).map { ArchiveMembers(of: e, layout: $0) } }, expandArchives: expandArchives)
    }

    /// `members`: an archive entry's members, in walk order.
    init(source: Source, members: @escaping (VersionEntry) throws -> ArchiveMembers?, expandArchives: Bool) {
        self.source = source
        self.expandArchives = expandArchives
        self.members = members
    }

    /// The next entry, or nil when the version has no more.
    public func next() throws -> VersionEntry? {
        lastWasExpandedArchive = false
        if let skipError {
            self.skipError = nil
            throw skipError
        }
        if let m = try pendingMembers?.next() {
            lastMember = m.entry
            lastMemberStorage = m.storage
            return m.entry
        }
        pendingMembers = nil
        lastMember = nil
        lastMemberStorage = nil
        guard let e = try source.next() else { return nil }
        if expandArchives, e.type == .archive, let members = try members(e) {
            pendingMembers = members
            lastWasExpandedArchive = true
        }
        return e
    }

    /// Skips the contents of the folder (or the members of the archive) last returned by ``next()``.
    /// (A member folder's members are read past; an error doing so is thrown by the next ``next()``.)
    public func skipChildren() {
        if lastWasExpandedArchive {
            pendingMembers = nil
        } else if let m = lastMember {
            do {
                while let p = try pendingMembers?.peek(), ListedEntries.isBelow(p.entry.pathBytes, m.pathBytes) { _ = try pendingMembers?.next() }
            } catch {
                skipError = error
            }
        } else {
            source.skipChildren()
        }
    }

    /// Calls `body` for every entry, in order.
    public func forEach(_ body: (VersionEntry) throws -> Void) throws {
        while let e = try next() { try body(e) }
    }

    /// True when path `a` comes before path `b` in walk order: compared component by component,
    /// bytes unsigned, a shorter component (a prefix) first.
    public static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool { compare(a, b) < 0 }

    /// -1, 0 or 1 as `a` comes before, equals, or comes after `b` in walk order.
    public static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let slash = UInt8(ascii: "/")
        var i = 0
        while i < a.count && i < b.count {
            let x = a[i], y = b[i]
            if x != y {
                // The end of a component sorts before any byte of a longer one.
                if x == slash { return -1 }
                if y == slash { return 1 }
                return x < y ? -1 : 1
            }
            i += 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

/// A format-1 version's entries, held whole (the version file is one object), sorted into walk order.
final class ListedEntries: VersionWalker.Source {
    private let entries: [VersionEntry]
    private var position = 0

    init(_ entries: [VersionEntry]) {
        // Writers list depth-first with names sorted; readers do not depend on it. Already in
        // walk order, the array is shared with the version (no copy of the listing).
        let inOrder = zip(entries, entries.dropFirst()).allSatisfy { !VersionWalker.precedes($1.pathBytes, $0.pathBytes) }
        self.entries = inOrder ? entries : entries.sorted { VersionWalker.precedes($0.pathBytes, $1.pathBytes) }
    }

    func next() throws -> VersionEntry? {
        guard position < entries.count else { return nil }
        position += 1
        return entries[position - 1]
    }

    func skipChildren() {
        guard position > 0 else { return }
        let folder = entries[position - 1].pathBytes
        while position < entries.count, Self.isBelow(entries[position].pathBytes, folder) { position += 1 }
    }

    static func isBelow(_ path: [UInt8], _ folder: [UInt8]) -> Bool {
        path.count > folder.count && path[folder.count] == UInt8(ascii: "/") && path.starts(with: folder)
    }
}

extension Vault {
    /// A walker over the entries of version `id` (see ``VersionWalker``).
    public func walker(for id: ObjectID, expandArchives: Bool = false) throws -> VersionWalker {
        let v = try version(id)
        return try walker(for: v, id: id, expandArchives: expandArchives)
    }

    /// A walker over the entries of `version`, whose id is `id`.
    public func walker(for version: Version, id: ObjectID, expandArchives: Bool = false) throws -> VersionWalker {
        let source: VersionWalker.Source
        if let root = version.rootTree {
            source = TreeSource(vault: self, root: root, object: VaultFile.version(id).path)
        } else {
            source = ListedEntries(version.v1Entries)
        }
        return VersionWalker(
            source: source,
            members: { [unowned self] e in
                if let a = e.archive { return ArchiveMembers(of: e, layout: a) }
                guard e.type == .archive else { return nil }
                return try ArchiveMembers(vault: self, entry: e)
            }, expandArchives: expandArchives)
    }

    /// The layout of an archive entry: its own in format 1; read from its layout pieces in format 2.
    public func archiveLayout(of entry: VersionEntry) throws -> ArchiveLayout? {
        if let a = entry.archive { return a }
        guard entry.type == .archive else { return nil }
        return try layoutFromPieces(of: entry)
    }
}
