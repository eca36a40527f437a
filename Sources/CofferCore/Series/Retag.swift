import Foundation

/// `coffer tag`: changes a version's tags.
///
/// A version file is write-once and named by its hash, so a retag writes a **new version file**
/// with the same body but the new tags (same name, time, host, paths, parent, stats, notes and
/// root tree or entries; a new id), then commits one head that lists the new id where the old
/// one was and adds the old id to the tombstones. The new file is durable before the head
/// changes: a crash between the two leaves the old head, under which the new file is an
/// unreferenced version file (as after a seal that crashed before its head; `prune` deletes it),
/// and the vault opens with the old tags. The data is shared, so a retag adds no pack.
public struct TagChange: Sendable, Equatable {
    /// Replaces all tags (`--set`, repeatable; `--set ''` clears them).
    public var set: [String]?
    public var add: [String] = []
    public var remove: [String] = []

    public init(set: [String]? = nil, add: [String] = [], remove: [String] = []) {
        self.set = set
        self.add = add
        self.remove = remove
    }

    /// `tags` after the change: `set` first, then removals, then additions; order kept, no
    /// tag twice, empty tags dropped.
    public func apply(to tags: [String]) -> [String] {
        var out = (set ?? tags).filter { !remove.contains($0) }
        for t in add where !out.contains(t) { out.append(t) }
        var seen = Set<String>()
        return out.filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}

/// One version's retag.
public struct Retagged: Sendable {
    public var old: ObjectID
    /// Nil when the tags did not change (nothing was written for it).
    public var new: ObjectID?
    public var name: String
    public var tags: [String]
}

extension Vault {
    /// Retags `ids` (live versions) in one head commit. Takes the writer lock.
    ///
    /// - Parameter beforeHead: called after the new version files are written and before the head
    ///   is committed (tests inject a crash there).
    /// - Throws: ``CofferError/rollback(vault:reason:)`` when this copy is behind a head this
    ///   machine has seen, unless `force`; ``CofferError/versionNotFound(selector:candidates:)``
    ///   for an id that is not live.
    public func retag(
        _ ids: [ObjectID], _ change: TagChange, dryRun: Bool = false, force: Bool = false, lockWait: Double = 0,
        beforeHead: (() throws -> Void)? = nil
    ) throws -> [Retagged] {
        if let rollback, !force, !dryRun { throw CofferError.rollback(vault: location, reason: rollback.description) }
        let live = Set(head.live)
        for id in ids where !live.contains(id) { throw CofferError.versionNotFound(selector: id.short, candidates: []) }
        var unique: [ObjectID] = []
        for id in ids where !unique.contains(id) { unique.append(id) }
        var plan: [(id: ObjectID, version: Version, tags: [String])] = []
        for id in unique {
            let v = try version(id)
            plan.append((id, v, change.apply(to: v.tags)))
        }
        if dryRun {
            return plan.map { Retagged(old: $0.id, new: $0.tags == $0.version.tags ? nil : $0.id, name: $0.version.name, tags: $0.tags) }
        }
        var out: [Retagged] = []
        try withWriterLock(wait: lockWait) {
            var replaced: [ObjectID: ObjectID] = [:]
            for p in plan {
                guard p.tags != p.version.tags else {
                    out.append(Retagged(old: p.id, new: nil, name: p.version.name, tags: p.tags))
                    continue
                }
                var v = p.version
                v.tags = p.tags
                let newID = try writeMeta(v.encode(), kind: .version)
                replaced[p.id] = newID
                out.append(Retagged(old: p.id, new: newID, name: v.name, tags: v.tags))
            }
            guard !replaced.isEmpty else { return }
            try beforeHead?()
            let gone = head.live.filter { replaced[$0] != nil }
            try commitHead(live: head.live.map { replaced[$0] ?? $0 }, removed: head.removed + gone.filter { !head.removed.contains($0) })
        }
        return out
    }
}
