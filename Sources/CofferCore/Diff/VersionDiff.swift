/// What changed between two versions: files, folders, links and archive members added, removed
/// and changed, compared by path (archive members as `Export.zip/Connections.csv`).
public struct VersionDiff: Sendable {
    public enum Change: Sendable, Equatable {
        case added(VersionEntry)
        case removed(VersionEntry)
        /// Same path, different content (or a different kind of entry, or a new link target).
        case changed(before: VersionEntry, after: VersionEntry)

        public var path: String {
            switch self {
            case .added(let e), .removed(let e): return e.path
            case .changed(_, let a): return a.path
            }
        }
    }

    /// Changes in path order.
    public var changes: [Change]
    /// Entries present in both with the same content.
    public var unchanged: Int

    /// Compares `before` and `after`. Content is compared by SHA-256 where both sides have one,
    /// else by chunk list and size; folders only by presence.
    /// When each version holds one top-level item and their names differ (two exports named by
    /// date, `…_01-15-2025.zip` and `…_02-14-2025.zip`), the items are compared with each other:
    /// this holds (before, after) and paths are reported under the newer name.
    public var renamedRoot: (before: String, after: String)?

    public init(from before: Version, to after: Version) {
        // Names are compared as bytes throughout: Unicode-equivalent spellings (`é`, `e` + U+0301)
        // are different files to the kernel, so they are different entries here.
        let roots = { (v: Version) in Set(v.entries.map { Array(Paths.firstComponent($0.path).utf8) }) }
        let rb = roots(before), ra = roots(after)
        var rename: (String, String)?
        if rb.count == 1, ra.count == 1, let b = rb.first, let a = ra.first, a != b {
            rename = (String(decoding: b, as: UTF8.self), String(decoding: a, as: UTF8.self))
        }
        self.renamedRoot = rename
        func mapped(_ e: VersionEntry) -> ([UInt8], VersionEntry) {
            guard let (b, a) = rename, Paths.isSelfOrDescendant(e.path, of: b) else { return (Array(e.path.utf8), e) }
            var m = e
            m.path = Paths.replacingAncestor(b, with: a, in: e.path)
            return (Array(m.path.utf8), m)
        }
        let old = Dictionary(before.expandedEntries.map(mapped), uniquingKeysWith: { a, _ in a })
        let new = Dictionary(after.expandedEntries.map { (Array($0.path.utf8), $0) }, uniquingKeysWith: { a, _ in a })
        var changes: [Change] = []
        var unchanged = 0
        for path in Set(old.keys).union(new.keys).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            switch (old[path], new[path]) {
            case (nil, let a?): changes.append(.added(a))
            case (let b?, nil): changes.append(.removed(b))
            case (let b?, let a?):
                if VersionDiff.sameContent(b, a) { unchanged += 1 } else { changes.append(.changed(before: b, after: a)) }
            default: break
            }
        }
        self.changes = changes
        self.unchanged = unchanged
    }

    /// The path, as stored in the older version, of an entry reported under `path`.
    public func pathInBefore(_ path: String) -> String {
        guard let (b, a) = renamedRoot, Paths.isSelfOrDescendant(path, of: a) else { return path }
        return Paths.replacingAncestor(a, with: b, in: path)
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
            return a.size == b.size && a.storedChunks == b.storedChunks
        }
    }
}
