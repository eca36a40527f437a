/// The blobs live versions refer to: data chunks, and in format 2 tree pieces (folder listings)
/// and layout pieces (archive layouts). `check` and `prune` fill it with the same walk.
struct UsedBlobs {
    var chunks = Set<ObjectID>()
    var trees = Set<ObjectID>()
    var layouts = Set<ObjectID>()
    /// Tree and layout pieces below which something was missing: a later version that shares
    /// them (and so skips what is below) is damaged too.
    var damaged = Set<ObjectID>()

    func contains(_ id: ObjectID) -> Bool { chunks.contains(id) || trees.contains(id) || layouts.contains(id) }

    /// The blob type a used blob is stored as (the AEAD binds it): 1 data, 3 tree piece, 4
    /// layout piece; nil when no live version uses it.
    func blobTypeCode(of id: ObjectID) -> UInt8? {
        if chunks.contains(id) { return 1 }
        if trees.contains(id) { return 3 }
        if layouts.contains(id) { return 4 }
        return nil
    }

    /// Something a version refers to that the index does not list.
    struct Missing {
        /// The entry that refers to it (empty for the version's root listing).
        var path: [UInt8]
        var kind: String
        var id: ObjectID
    }
}

extension Vault {
    /// Walks version `id` and adds every blob it refers to to `used`. What earlier calls saw
    /// is not walked again: a folder whose tree pieces are all in `used` is skipped (its
    /// contents were marked with them), and so is an archive whose layout pieces are. Format-1
    /// entries have no pieces and are always walked.
    ///
    /// `missing` is called for each blob the index does not list (per entry, the first missing
    /// chunk only); what lies below a missing tree piece cannot be read and is not walked.
    /// `damagedBelow` is called for a skipped folder or archive below which an earlier walk
    /// found something missing. An unreadable listing throws.
    func markUsed(
        version id: ObjectID, into used: inout UsedBlobs, missing: (UsedBlobs.Missing) -> Void, damagedBelow: ([UInt8]) -> Void = { _ in }
    ) throws {
        let v = try version(id)
        try markUsed(rootTree: v.rootTree, walk: { try self.walker(for: v, id: id) }, into: &used, missing: missing, damagedBelow: damagedBelow)
    }

    /// ``markUsed(version:into:missing:damagedBelow:)`` for a version with root listing
    /// `rootTree` (format 2; nil in format 1) whose entries `walk` gives.
    func markUsed(
        rootTree: [ObjectID]?, walk: () throws -> VersionWalker, into used: inout UsedBlobs, missing: (UsedBlobs.Missing) -> Void,
        damagedBelow: ([UInt8]) -> Void
    ) throws {
        // The pieces of the folders above the current entry: something missing marks them all.
        var above: [(path: [UInt8], pieces: [ObjectID])] = []
        func report(_ path: [UInt8], _ kind: String, _ blob: ObjectID, pieces: [ObjectID] = []) {
            missing(UsedBlobs.Missing(path: path, kind: kind, id: blob))
            for a in above { used.damaged.formUnion(a.pieces) }
            used.damaged.formUnion(pieces)
            if let rootTree { used.damaged.formUnion(rootTree) }
        }
        if let root = rootTree {
            var absent = false
            for t in root {
                used.trees.insert(t)
                if !index.contains(t) { report([], "tree piece", t); absent = true }
            }
            if absent { return }
        }
        let walker = try walk()
        while let e = try walker.next() {
            while let last = above.last, !ListedEntries.isBelow(e.pathBytes, last.path) { above.removeLast() }
            switch e.type {
            case .file:
                for c in e.chunks {
                    used.chunks.insert(c)
                    if !index.contains(c) {
                        report(e.pathBytes, "chunk", c)
                        break
                    }
                }
            case .directory where !e.subtree.isEmpty:
                if e.subtree.allSatisfy(used.trees.contains) {
                    if e.subtree.contains(where: used.damaged.contains) { damagedBelow(e.pathBytes) }
                    walker.skipChildren()
                    continue
                }
                var absent = false
                for t in e.subtree {
                    used.trees.insert(t)
                    if !index.contains(t) {
                        report(e.pathBytes, "tree piece", t, pieces: e.subtree)
                        absent = true
                    }
                }
                if absent { walker.skipChildren() } else { above.append((e.pathBytes, e.subtree)) }
            case .archive:
                if !e.layoutIDs.isEmpty {
                    if e.layoutIDs.allSatisfy(used.layouts.contains) {
                        if e.layoutIDs.contains(where: used.damaged.contains) { damagedBelow(e.pathBytes) }
                        continue
                    }
                    var absent = false
                    for l in e.layoutIDs {
                        used.layouts.insert(l)
                        if !index.contains(l) {
                            report(e.pathBytes, "layout piece", l, pieces: e.layoutIDs)
                            absent = true
                        }
                    }
                    if absent { continue }
                }
                // The layout record by record (never held whole): the parts' chunks, then the
                // members, which are checked as they decode.
                guard e.archive != nil || !e.layoutIDs.isEmpty else { continue }
                let layout = try ArchiveLayoutCursor(vault: self, entry: e)
                var missing = false
                while let part = try layout.nextPart() {
                    guard !missing else { continue }
                    part.forEachChunk { c in
                        guard !missing else { return }
                        used.chunks.insert(c)
                        if !index.contains(c) {
                            report(e.pathBytes, "chunk", c, pieces: e.layoutIDs)
                            missing = true
                        }
                    }
                }
                while try layout.nextMember() != nil {}
            default:
                break
            }
        }
    }
}
