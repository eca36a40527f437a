/// What changed between two versions: files, folders, links and archive members added, removed
/// and changed, compared by path (archive members as `Export.zip/Connections.csv`).
///
/// The two versions are read as two walks merged like sorted lists (both come in walk order,
/// ``VersionWalker/compare(_:_:)``): nothing but the current entry of each side is held, and a
/// folder whose listing is the same tree pieces on both sides (format 2), or an archive with the
/// same layout pieces, is compared as one entry without reading what is below it.
public struct VersionDiff: Sendable {
    public enum Change: Sendable, Equatable {
        case added(VersionEntry)
        case removed(VersionEntry)
        /// Same path, different content (or a different kind of entry, or a new link target).
        case changed(before: VersionEntry, after: VersionEntry)

        /// The path, for display (see ``pathBytes`` for the exact bytes).
        public var path: String { String(decoding: pathBytes, as: UTF8.self) }

        /// The path as stored (in the newer version's naming when the root was renamed).
        public var pathBytes: [UInt8] {
            switch self {
            case .added(let e), .removed(let e): return e.pathBytes
            case .changed(_, let a): return a.pathBytes
            }
        }
    }

    /// What a streamed comparison found besides the changes.
    public struct Summary: Sendable, Equatable {
        /// Entries present in both with the same content; a folder or archive skipped as identical
        /// (same tree or layout pieces) counts once, whatever it holds.
        public var unchanged = 0
        /// Folders and archives found identical by their pieces and not walked.
        public var identicalSubtrees = 0
    }

    /// Changes in walk order.
    public var changes: [Change]
    /// Entries present in both with the same content (see ``Summary/unchanged``).
    public var unchanged: Int
    /// When each version holds one top-level item and their names differ (two exports named by
    /// date, `…_01-15-2025.zip` and `…_02-14-2025.zip`), the items are compared with each other:
    /// this holds (before, after) and paths are reported under the newer name.
    public var renamedRoot: (before: String, after: String)? {
        renamedRootBytes.map { (String(decoding: $0.before, as: UTF8.self), String(decoding: $0.after, as: UTF8.self)) }
    }
    public var renamedRootBytes: (before: [UInt8], after: [UInt8])?

    /// Compares version `before` with version `after` of `vault`, collecting the changes (their
    /// number grows with the change, not with the versions). Content is compared by SHA-256 where
    /// both sides have one, else by chunk list and size; folders only by presence.
    public init(_ vault: Vault, from before: ObjectID, to after: ObjectID) throws {
        var changes: [Change] = []
        let (rename, summary) = try vault.diff(from: before, to: after) { changes.append($0) }
        self.changes = changes
        self.unchanged = summary.unchanged
        self.renamedRootBytes = rename
    }

    /// The path, as stored in the older version, of an entry reported under `path`.
    public func pathInBefore(_ path: String) -> String {
        String(decoding: pathInBefore(Array(path.utf8)), as: UTF8.self)
    }

    /// ``pathInBefore(_:)`` on raw bytes.
    public func pathInBefore(_ path: [UInt8]) -> [UInt8] { Self.path(path, from: renamedRootBytes?.after, to: renamedRootBytes?.before) }

    /// `path` with its first component `old` replaced by `new` (unchanged when it is not below `old`).
    static func path(_ path: [UInt8], from old: [UInt8]?, to new: [UInt8]?) -> [UInt8] {
        guard let old, let new, path == old || ListedEntries.isBelow(path, old) else { return path }
        return new + path.dropFirst(old.count)
    }

    /// Merges two walks, calling `each` for every change in walk order. Entries of `before` under
    /// `renamedRoot.before` are compared as if under `renamedRoot.after` (the renamed item is the
    /// only top-level item of each side, so renaming keeps the walk order).
    public static func compare(
        _ before: VersionWalker, _ after: VersionWalker, renamedRoot: (before: [UInt8], after: [UInt8])? = nil, each: (Change) throws -> Void
    ) throws -> Summary {
        var summary = Summary()
        func nextBefore() throws -> VersionEntry? {
            guard var e = try before.next() else { return nil }
            if let renamedRoot { e.pathBytes = path(e.pathBytes, from: renamedRoot.before, to: renamedRoot.after) }
            return e
        }
        var x = try nextBefore()
        var y = try after.next()
        while true {
            switch (x, y) {
            case (nil, nil):
                return summary
            case (let b?, nil):
                try each(.removed(b))
                x = try nextBefore()
            case (nil, let a?):
                try each(.added(a))
                y = try after.next()
            case (let b?, let a?):
                let order = VersionWalker.compare(b.pathBytes, a.pathBytes)
                if order < 0 {
                    try each(.removed(b))
                    x = try nextBefore()
                } else if order > 0 {
                    try each(.added(a))
                    y = try after.next()
                } else {
                    if sameContent(b, a) {
                        summary.unchanged += 1
                        if identicalBelow(b, a) {
                            before.skipChildren()
                            after.skipChildren()
                            summary.identicalSubtrees += 1
                        }
                    } else {
                        try each(.changed(before: b, after: a))
                    }
                    x = try nextBefore()
                    y = try after.next()
                }
            }
        }
    }

    /// Whether what lies below two entries of the same path is known to be the same without
    /// reading it: folders listed by the same tree pieces, archives laid out by the same layout
    /// pieces (format 2; format-1 entries carry no pieces and are always walked).
    static func identicalBelow(_ a: VersionEntry, _ b: VersionEntry) -> Bool {
        switch (a.type, b.type) {
        case (.directory, .directory): return !a.subtree.isEmpty && a.subtree == b.subtree
        case (.archive, .archive): return !a.layoutIDs.isEmpty && a.layoutIDs == b.layoutIDs
        default: return false
        }
    }

    static func sameContent(_ a: VersionEntry, _ b: VersionEntry) -> Bool {
        guard a.type == b.type else { return false }
        switch a.type {
        case .directory: return true
        case .symlink: return a.linkTargetBytes == b.linkTargetBytes
        case .fifo: return true
        case .charDevice, .blockDevice: return a.rdev == b.rdev
        case .hardlink: return a.hardlinkTargetBytes == b.hardlinkTargetBytes
        case .file, .archive:
            let zero = [UInt8](repeating: 0, count: 32)
            if a.sha256 != zero && b.sha256 != zero { return a.sha256 == b.sha256 && a.size == b.size }
            if a.type == .archive && !a.layoutIDs.isEmpty && a.layoutIDs == b.layoutIDs { return a.size == b.size }
            return a.size == b.size && a.storedChunks == b.storedChunks
        }
    }
}

extension Vault {
    /// Streams the changes from version `before` to version `after` (archives compared member
    /// by member) into `each`; returns the renamed root (see ``VersionDiff/renamedRoot``) and
    /// the summary.
    @discardableResult
    public func diff(
        from before: ObjectID, to after: ObjectID, each: (VersionDiff.Change) throws -> Void
    ) throws -> (renamedRoot: (before: [UInt8], after: [UInt8])?, summary: VersionDiff.Summary) {
        let vb = try version(before), va = try version(after)
        let rename = try renamedRoot(from: before, to: after)
        let summary = try VersionDiff.compare(
            try walker(for: vb, id: before, expandArchives: true), try walker(for: va, id: after, expandArchives: true), renamedRoot: rename,
            each: each)
        return (rename, summary)
    }

    /// The two names compared with each other when each version holds one top-level item and
    /// their names differ (see ``VersionDiff/renamedRoot``); nil otherwise. Names are compared as
    /// bytes: Unicode-equivalent spellings (`é`, `e` + U+0301) are different names.
    public func renamedRoot(from before: ObjectID, to after: ObjectID) throws -> (before: [UInt8], after: [UInt8])? {
        guard let rb = try soleRoot(try version(before), id: before), let ra = try soleRoot(try version(after), id: after), rb != ra else {
            return nil
        }
        return (rb, ra)
    }

    /// The first component shared by every path of a version, if there is exactly one (read
    /// from the top level of the walk, skipping what is below each top-level entry).
    func soleRoot(_ v: Version, id: ObjectID) throws -> [UInt8]? {
        let w = try walker(for: v, id: id)
        var root: [UInt8]?
        while let e = try w.next() {
            let first = Array(e.pathBytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).first ?? [])
            if let root, root != first { return nil }
            root = first
            w.skipChildren()
        }
        return root
    }
}
