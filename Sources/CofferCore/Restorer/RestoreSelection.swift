import Foundation

/// The entries of a walk a restore selects, streamed in walk order: with no patterns, all of
/// them; else those ``RestorePatterns`` selects, each preceded by the listed entries above it
/// not yet returned (its folders). Holds the entries above the current one, never the listing.
/// A folder the patterns rule out whole (``RestorePatterns/mayHaveSelectedChildren(_:)``) is
/// skipped, unless a stand-in lies inside it: then only the stand-in is returned from it.
///
/// Entries whose paths are in `standIns` (the first names of selected hard links, when they
/// are not selected themselves) are returned too, flagged, so the restore can write their
/// content at the hard link's place.
final class SelectedEntries {
    private let walker: VersionWalker
    private let patterns: RestorePatterns?
    private let standIns: Set<[UInt8]>
    /// The folders above the stand-ins, which the walk must enter.
    private let standInFolders: Set<[UInt8]>
    /// A folder ruled out whole but entered for a stand-in: nothing below it is selected.
    private var ruledOut: [UInt8]?
    /// The listed entries above the current one, outermost first, and whether each was returned.
    private var above: [(path: [UInt8], entry: VersionEntry, returned: Bool)] = []
    /// Entries to return before pulling the walker again (reversed: popped from the end).
    private var queue: [(VersionEntry, Bool)] = []
    /// Whether any entry was selected.
    private(set) var selectedAny = false

    init(_ walker: VersionWalker, patterns: RestorePatterns?, standIns: Set<[UInt8]> = []) {
        self.walker = walker
        self.patterns = patterns
        self.standIns = standIns
        var folders = Set<[UInt8]>()
        for path in standIns {
            for k in path.indices where path[k] == RelativePath.slash { folders.insert(Array(path[..<k])) }
        }
        standInFolders = folders
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
            if let r = ruledOut, !ListedEntries.isBelow(e.pathBytes, r) { ruledOut = nil }
            if ruledOut == nil && patterns.matches(e.pathBytes) {
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
            if ruledOut == nil && e.type == .directory && !patterns.mayHaveSelectedChildren(e.pathBytes) {
                if standInFolders.contains(e.pathBytes) { ruledOut = e.pathBytes } else { walker.skipChildren() }
            }
        }
        return nil
    }
}
