import Foundation

/// The patterns of `find`: restic's pattern rules on raw bytes (``GlobPattern``), applied in
/// order as a ``PatternSet`` is (a later `!pattern` takes back what earlier ones matched).
///
/// A pattern without `/` (after its `!`) is matched against the entry's base name alone, at any
/// depth: `*.pdf` finds `a/b/c.pdf` but not what lies below a folder named `x.pdf`. A pattern
/// with `/` is matched against the whole path, as `restore --include` matches it: unanchored
/// it may start at any component, `/` anchors it at the top, and a pattern that matches a
/// folder matches everything below it.
public struct FindPatterns: Sendable {
    struct Item: Sendable {
        var glob: GlobPattern
        /// Matched against the base name only.
        var baseName: Bool
    }

    let items: [Item]
    public let isCaseInsensitive: Bool

    /// - Throws: ``PatternError`` for the first malformed pattern.
    public init(_ patterns: [[UInt8]], caseInsensitive: Bool = false) throws {
        let slash = UInt8(ascii: "/"), bang = UInt8(ascii: "!")
        items = try patterns.map { p in
            let body = p.first == bang ? p.dropFirst() : p[...]
            return Item(glob: try GlobPattern(p, caseInsensitive: caseInsensitive), baseName: !body.contains(slash))
        }
        isCaseInsensitive = caseInsensitive
    }

    /// Whether the patterns select `path`.
    public func matches(_ path: [UInt8]) -> Bool {
        let slash = UInt8(ascii: "/")
        var base: [UInt8]? = nil
        var full: PatternPath? = nil
        var matched = false
        for item in items {
            if item.glob.isNegated && !matched { continue }
            if !item.glob.isNegated && matched { continue }
            let m: Bool
            if item.baseName {
                if base == nil {
                    let start = path.lastIndex(of: slash).map { $0 + 1 } ?? 0
                    base = Array(path[start...])
                }
                m = item.glob.matches(base!)
            } else {
                if full == nil { full = PatternPath(path, folded: isCaseInsensitive) }
                var steps = 0
                m = item.glob.matches(full!, steps: &steps)
            }
            matched = item.glob.isNegated ? matched && !m : matched || m
        }
        return matched
    }

    /// Whether something below folder `path` may be selected: false only when every pattern
    /// without `!` is anchored and cannot match below it (a folder that matches itself matches
    /// below too).
    public func childMayMatch(_ path: [UInt8]) -> Bool {
        items.contains { !$0.glob.isNegated && ($0.baseName || $0.glob.childMayMatch(path) || $0.glob.matches(path)) }
    }
}

/// What `find` looks for, over one or more versions: the entries the patterns select whose
/// modification time lies in `[oldest, newest]`.
///
/// A folder listing below which nothing was found is remembered by its path and tree piece ids
/// (format 2): the same listing at the same path in another version is not read again. Tree
/// pieces are content-addressed, so the same ids are the same contents, archives' layouts
/// included; with ``members`` the archives' members are searched too.
public final class VersionFind {
    public let patterns: FindPatterns
    /// Also search the members of archives (zips), by their paths below the archive.
    public let members: Bool
    public let oldest: Date?
    public let newest: Date?

    struct FolderKey: Hashable {
        var path: [UInt8]
        var pieces: [ObjectID]
    }

    /// Folders (path and tree pieces) below which nothing matched.
    private var empty = Set<FolderKey>()
    /// Folders skipped because an earlier version's identical listing held no match.
    public private(set) var foldersSkipped = 0
    /// Entries looked at.
    public private(set) var entriesRead = 0

    public init(patterns: FindPatterns, members: Bool = false, oldest: Date? = nil, newest: Date? = nil) {
        self.patterns = patterns
        self.members = members
        self.oldest = oldest
        self.newest = newest
    }

    /// Whether entry `e` is selected.
    public func selects(_ e: VersionEntry) -> Bool {
        let t = Double(e.mtimeSeconds) + Double(e.mtimeNanoseconds) / 1e9
        if let oldest, t < oldest.timeIntervalSince1970 { return false }
        if let newest, t > newest.timeIntervalSince1970 { return false }
        return patterns.matches(e.pathBytes)
    }

    /// Walks version `id` of `vault` and calls `found` for each selected entry, in walk order.
    /// Returns how many were found.
    @discardableResult
    public func search(_ vault: Vault, version id: ObjectID, found: (VersionEntry) throws -> Void) throws -> Int {
        let walker = try vault.walker(for: id, expandArchives: members)
        // The folders above the current entry, and whether something below each was found.
        var open: [(key: FolderKey, found: Bool)] = []
        var count = 0
        func close(to path: [UInt8]?) {
            while let top = open.last, path == nil || !ListedEntries.isBelow(path!, top.key.path) {
                open.removeLast()
                if !top.found { empty.insert(top.key) }
            }
        }
        while let e = try walker.next() {
            entriesRead += 1
            close(to: e.pathBytes)
            if selects(e) {
                count += 1
                for i in open.indices { open[i].found = true }
                try found(e)
            }
            guard e.type == .directory else { continue }
            if !patterns.childMayMatch(e.pathBytes) {
                walker.skipChildren()
                continue
            }
            guard !e.subtree.isEmpty else { continue }
            let key = FolderKey(path: e.pathBytes, pieces: e.subtree)
            if empty.contains(key) {
                foldersSkipped += 1
                walker.skipChildren()
                continue
            }
            open.append((key, false))
        }
        close(to: nil)
        return count
    }
}
