import Foundation

/// `restore --include`: which paths a restore selects, decided on their bytes.
///
/// A path is selected when it, or one of its ancestors, matches one of the shell patterns
/// (`fnmatch` without flags, so `*` also matches `/`); the folders above a selected path are
/// restored with it. Patterns and paths are compared component-wise as bytes, empty pattern
/// components dropped (`a//b/` is `a/b`).
struct IncludePatterns {
    /// NUL-terminated patterns, without empty components.
    private let patterns: [[UInt8]]

    /// Nil when `include` is empty (everything is selected).
    init?(_ include: [String]) {
        guard !include.isEmpty else { return nil }
        let slash = RelativePath.slash
        patterns = include.map { Array(Array($0.utf8).split(separator: slash).joined(separator: [slash])) + [0] }
    }

    /// Whether `path` or one of its ancestors matches a pattern.
    func matches(_ path: [UInt8]) -> Bool {
        let slash = RelativePath.slash
        // Every prefix that ends at a component boundary, NUL-terminated, shortest first.
        var prefix: [UInt8] = []
        prefix.reserveCapacity(path.count + 1)
        var i = 0
        while i <= path.count {
            if i == path.count || path[i] == slash {
                prefix.append(0)
                let hit = patterns.contains { pattern in
                    pattern.withUnsafeBufferPointer { p in
                        prefix.withUnsafeBufferPointer { s in
                            p.withMemoryRebound(to: CChar.self) { p in
                                s.withMemoryRebound(to: CChar.self) { s in fnmatch(p.baseAddress!, s.baseAddress!, 0) == 0 }
                            }
                        }
                    }
                }
                if hit { return true }
                prefix.removeLast()
                if i == path.count { break }
            }
            prefix.append(path[i])
            i += 1
        }
        return false
    }
}

/// The entries of a walk a restore selects, streamed in walk order: with no patterns, all of
/// them; else those ``IncludePatterns`` selects, each preceded by the listed entries above it
/// not yet returned (its folders). Holds the entries above the current one, never the listing.
///
/// Entries whose paths are in `standIns` (the first names of selected hard links, when they
/// are not selected themselves) are returned too, flagged, so the restore can write their
/// content at the hard link's place.
final class SelectedEntries {
    private let walker: VersionWalker
    private let patterns: IncludePatterns?
    private let standIns: Set<[UInt8]>
    /// The listed entries above the current one, outermost first, and whether each was returned.
    private var above: [(path: [UInt8], entry: VersionEntry, returned: Bool)] = []
    /// Entries to return before pulling the walker again (reversed: popped from the end).
    private var queue: [(VersionEntry, Bool)] = []
    /// Whether any entry was selected.
    private(set) var selectedAny = false

    init(_ walker: VersionWalker, patterns: IncludePatterns?, standIns: Set<[UInt8]> = []) {
        self.walker = walker
        self.patterns = patterns
        self.standIns = standIns
    }

    /// The next entry, with `standIn` set for an unselected first name of a hard link.
    func next() throws -> (entry: VersionEntry, standIn: Bool)? {
        if let q = queue.popLast() { return (q.0, q.1) }
        while let e = try walker.next() {
            guard let patterns else {
                selectedAny = true
                return (e, false)
            }
            while let last = above.last, !ListedEntries.isBelow(e.pathBytes, last.path) { above.removeLast() }
            if patterns.matches(e.pathBytes) {
                selectedAny = true
                var out: [(VersionEntry, Bool)] = []
                for k in above.indices where !above[k].returned {
                    above[k].returned = true
                    out.append((above[k].entry, false))
                }
                above.append((e.pathBytes, e, true))
                guard !out.isEmpty else { return (e, false) }
                out.append((e, false))
                queue = out.reversed()
                return try next()
            }
            above.append((e.pathBytes, e, false))
            if standIns.contains(e.pathBytes) { return (e, true) }
        }
        return nil
    }
}
