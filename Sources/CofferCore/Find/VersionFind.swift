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
/// What was found below a folder listing is remembered by the folder's path and tree piece ids
/// (format 2): the same listing at the same path in another version is not read again, its
/// matches are given again from memory. Tree pieces are content-addressed, so the same ids are
/// the same contents, archives' layouts included; with ``members`` the archives' members are
/// searched too. At most ``folderLimit`` matches are remembered per folder (a folder with more
/// is read again) and ``totalLimit`` in all.
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

    /// What was found below folders (path and tree pieces), in walk order.
    private var known: [FolderKey: [VersionEntry]] = [:]
    private var knownMatches = 0
    public static let folderLimit = 4_096
    public static let totalLimit = 1 << 18
    /// Folders whose contents came from memory: an earlier version had the same listing.
    public private(set) var foldersSkipped = 0
    /// Entries read from the versions' listings.
    public private(set) var entriesRead = 0
    /// Whether what was found below folders is remembered (off only to measure what that saves).
    public var remembersFolders = true

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
    /// Returns how many were found. The entries given carry their path, type, mode, size,
    /// times, owners and link targets, not their chunks, extended attributes or pieces.
    @discardableResult
    public func search(_ vault: Vault, version id: ObjectID, found: (VersionEntry) throws -> Void) throws -> Int {
        let walker = try vault.walker(for: id, expandArchives: members)
        // The folders above the current entry, and what was found below each (nil: too much to remember).
        var open: [(key: FolderKey, matches: [VersionEntry]?)] = []
        var count = 0
        func close(to path: [UInt8]?) {
            while let top = open.last, path == nil || !ListedEntries.isBelow(path!, top.key.path) {
                open.removeLast()
                guard remembersFolders, let m = top.matches, knownMatches + m.count <= Self.totalLimit else { continue }
                known[top.key] = m
                knownMatches += m.count
            }
        }
        func report(_ e: VersionEntry) throws {
            count += 1
            for i in open.indices where open[i].matches != nil {
                open[i].matches!.append(e)
                if open[i].matches!.count > Self.folderLimit { open[i].matches = nil }
            }
            try found(e)
        }
        while let e = try walker.next() {
            entriesRead += 1
            close(to: e.pathBytes)
            if selects(e) { try report(Self.light(e)) }
            guard e.type == .directory else { continue }
            if !patterns.childMayMatch(e.pathBytes) {
                walker.skipChildren()
                continue
            }
            guard !e.subtree.isEmpty else { continue }
            let key = FolderKey(path: e.pathBytes, pieces: e.subtree)
            if let m = known[key] {
                foldersSkipped += 1
                walker.skipChildren()
                for x in m { try report(x) }
                continue
            }
            open.append((key, []))
        }
        close(to: nil)
        return count
    }

    /// `e` without what `find` does not show (chunks, extended attributes, holes, pieces, layout).
    static func light(_ e: VersionEntry) -> VersionEntry {
        var l = e
        l.chunks = []
        l.xattrs = []
        l.holes = []
        l.subtree = []
        l.layoutIDs = []
        l.archive = nil
        return l
    }
}
