import Foundation

/// What a sync does, worked out from the two listings alone (no I/O): which files to copy and
/// in which order, which to skip, what to delete, what to report as extra.
struct SyncPlan: Equatable {
    /// Files to copy before the heads, in copy order (config, key slots, packs and
    /// dictionaries, index, versions; by path within each).
    var plain: [String] = []
    /// Heads to copy: the source's current head first, then older heads newest first.
    var heads: [String] = []
    /// Destination files whose size differs from the source's, or found damaged: replaced.
    var repairs: [String] = []
    /// Source files already at the destination with the right size.
    var skipped = 0
    /// The destination's own heads, removed before the source's are written (``SyncRelation/diverged``
    /// or ``SyncRelation/ahead``, with force only), newest first.
    var divergedHeads: [String] = []
    /// Vault files only the destination has (never `config`, never a diverged head).
    var extra: [String] = []
    /// What `delete` removes once the new head is in place: `extra` with delete, else nothing.
    var toDelete: [String] = []

    /// Whether the destination changes at all.
    var changesDestination: Bool { !(plain.isEmpty && heads.isEmpty && toDelete.isEmpty && divergedHeads.isEmpty) }

    /// - Parameters:
    ///   - source: the source's files (already without heads newer than the open one) and sizes.
    ///   - destination: the destination's vault files and sizes.
    ///   - topHead: the path of the source's current head.
    ///   - relation: how the destination's chain stands (``SyncPlan/relation(dstHeads:srcHeadNames:...)``).
    ///   - damaged: destination files known to be damaged (found by verify, or a bad config).
    ///   - delete: whether extra files are to be removed.
    init(source: [String: Int], destination: [String: Int], topHead: String, relation: SyncRelation, damaged: Set<String>, delete: Bool) {
        var repairs = damaged
        for (path, size) in source {
            let there = destination[path]
            if there == nil {
                // missing
            } else if there != size || repairs.contains(path) {
                repairs.insert(path)
            } else {
                skipped += 1
                continue
            }
            if VaultFile(path: path)?.folder == .heads { heads.append(path) } else { plain.append(path) }
        }
        plain.sort { (Self.rank($0), $0) < (Self.rank($1), $1) }
        heads.sort { lhs, rhs in
            if lhs == topHead { return rhs != topHead }
            if rhs == topHead { return false }
            return lhs > rhs
        }
        self.repairs = repairs.filter { source[$0] != nil }.sorted()
        let srcHeadNames = Set(source.keys.filter { VaultFile(path: $0)?.folder == .heads })
        switch relation {
        case .diverged, .ahead:
            divergedHeads = destination.keys.filter { VaultFile(path: $0)?.folder == .heads && !srcHeadNames.contains($0) }.sorted(by: >)
        default:
            divergedHeads = []
        }
        let configPath = VaultFile.config.path
        let diverged = Set(divergedHeads)
        extra = destination.keys.filter { source[$0] == nil && $0 != configPath && !diverged.contains($0) }.sorted()
        toDelete = delete ? extra : []
    }

    /// Copy order: config, key slots, packs and dictionaries, index, versions, heads.
    static func rank(_ path: String) -> Int {
        switch VaultFile(path: path) {
        case .config: return 0
        case .keySlot: return 1
        case .pack, .dictionary: return 2
        case .index: return 3
        case .version: return 4
        default: return 5
        }
    }

    /// A destination head: its generation, id and path.
    typealias DestinationHead = (generation: UInt64, id: ObjectID, path: String)

    /// The destination's heads from its listing, oldest first.
    static func heads(in destination: [String: Int]) -> [DestinationHead] {
        destination.keys.compactMap { path -> DestinationHead? in
            guard case .head(let generation, let id)? = VaultFile(path: path) else { return nil }
            return (generation, id, path)
        }.sorted { ($0.generation, $0.path) < ($1.generation, $1.path) }
    }

    /// Where the destination's head stands relative to the source's chain.
    /// - Parameters:
    ///   - sourceGeneration, sourceHead: the source's open head.
    ///   - sourceHeadAt: the source's head id at a generation of its chain (nil: unknown, a
    ///     missing link); only asked for a destination head the source also has.
    ///   - destinationReaches: whether the destination's top head's chain comes back to the
    ///     source's head at the source's generation; only asked when the destination is newer.
    static func relation(
        dstHeads: [DestinationHead], srcHeadNames: Set<String>, sourceGeneration: UInt64, sourceHead: ObjectID,
        sourceHeadAt: (UInt64) -> ObjectID?, destinationReaches: (DestinationHead) -> Bool
    ) -> SyncRelation {
        guard let top = dstHeads.last else { return .new }
        let tied = dstHeads.filter { $0.generation == top.generation }
        if tied.count > 1 { return .diverged }
        if srcHeadNames.contains(top.path) {
            if top.id == sourceHead { return .same }
            if top.generation > sourceGeneration { return .ahead(top.generation - sourceGeneration) }
            // On our chain? (A missing link in the source's own chain cannot tell; the head is ours.)
            if let atGen = sourceHeadAt(top.generation), atGen != top.id { return .diverged }
            return .behind(sourceGeneration - top.generation)
        }
        if top.generation > sourceGeneration, destinationReaches(top) { return .ahead(top.generation - sourceGeneration) }
        return .diverged
    }
}
