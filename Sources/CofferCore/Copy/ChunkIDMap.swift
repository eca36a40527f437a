import Foundation

/// Copy's map from a source vault's chunk ids to the target's, kept compact: one sorted run of
/// (source id, target id) pairs, 64 bytes a pair, in a buffer grown in place (`realloc`), and a
/// small `Dictionary` of the pairs added since the last merge (as ``ChunkIDSet`` does for ids).
/// A `[ObjectID: ObjectID]` takes 85–170 bytes a pair (load factor 0.75, doubled when full, old
/// and new table both alive while it grows: 24 MiB at 131,072 pairs); this takes 64 bytes a pair
/// plus the small dictionary, with no second copy when merging (the run is merged from its end).
final class ChunkIDMap {
    struct Pair: ChunkIDKeyed {
        var key: ObjectID
        var value: ObjectID
        var chunkID: ObjectID { key }
    }

    /// Keys unique and not in `recent`.
    private let run = SortedIDRun<Pair>()
    private var recent: [ObjectID: ObjectID] = [:]

    /// Pairs in the map.
    var count: Int { run.count + recent.count }

    /// Pairs in the sorted run (tests: merges happen).
    var mergedCount: Int { run.count }

    init() {}

    /// The value of `key`; setting replaces the value of a key already there.
    subscript(key: ObjectID) -> ObjectID? {
        get {
            if let v = recent[key] { return v }
            return run.position(of: key).map { run[$0].value }
        }
        set {
            guard let newValue else {
                preconditionFailure("ChunkIDMap does not remove single keys")
            }
            if let at = run.position(of: key) {
                run[at] = Pair(key: key, value: newValue)
                return
            }
            recent[key] = newValue
            // Merged once the small dictionary holds 4,096 pairs or 1/32 of the run, whichever is
            // more: it stays small (under 1 MiB), and merging (linear in the run) costs O(1)
            // amortized moves a pair past 131,072 pairs (at most 32 a pair below).
            if recent.count >= max(1 << 12, run.count / 32) {
                run.merge(recent.lazy.map { Pair(key: $0.key, value: $0.value) })
                recent.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Empties the map and gives its memory back.
    func removeAll() {
        run.removeAll()
        recent = [:]
    }
}
