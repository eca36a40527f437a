import Foundation

/// Copy's map from a source vault's chunk ids to the target's, kept compact: one sorted run of
/// (source id, target id) pairs, 64 bytes a pair, in a buffer grown in place (`realloc`), and a
/// small `Dictionary` of the pairs added since the last merge (as ``ChunkIDSet`` does for ids).
/// A `[ObjectID: ObjectID]` takes 85–170 bytes a pair (load factor 0.75, doubled when full, old
/// and new table both alive while it grows: 24 MiB at 131,072 pairs); this takes 64 bytes a pair
/// plus the small dictionary, with no second copy when merging (the run is merged from its end).
final class ChunkIDMap {
    struct Pair: Equatable {
        var key: ObjectID
        var value: ObjectID
    }

    /// Sorted by key (``precedes(_:_:)``), `sortedCount` pairs, keys unique and not in `recent`.
    private var sorted: UnsafeMutablePointer<Pair>?
    private var sortedCount = 0
    private var recent: [ObjectID: ObjectID] = [:]

    /// Pairs in the map.
    var count: Int { sortedCount + recent.count }

    /// Pairs in the sorted run (tests: merges happen).
    var mergedCount: Int { sortedCount }

    init() {}

    deinit { free(sorted) }

    /// Any total order will do (the ids are keyed hashes): the words as they are.
    private static func precedes(_ a: ObjectID, _ b: ObjectID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// The position of `key` in the sorted run, or nil.
    private func position(of key: ObjectID) -> Int? {
        guard let sorted else { return nil }
        var low = 0, high = sortedCount
        while low < high {
            let mid = (low + high) / 2
            if Self.precedes(sorted[mid].key, key) { low = mid + 1 } else { high = mid }
        }
        return low < sortedCount && sorted[low].key == key ? low : nil
    }

    /// The value of `key`; setting replaces the value of a key already there.
    subscript(key: ObjectID) -> ObjectID? {
        get {
            if let v = recent[key] { return v }
            return position(of: key).map { sorted![$0].value }
        }
        set {
            guard let newValue else {
                preconditionFailure("ChunkIDMap does not remove single keys")
            }
            if let at = position(of: key) {
                sorted![at].value = newValue
                return
            }
            recent[key] = newValue
            // Merged once the small dictionary holds 4,096 pairs or 1/32 of the run, whichever is
            // more: it stays small (under 1 MiB), and merging (linear in the run) costs O(1)
            // amortized moves a pair past 131,072 pairs (at most 32 a pair below).
            if recent.count >= max(1 << 12, sortedCount / 32) { merge() }
        }
    }

    /// Empties the map and gives its memory back.
    func removeAll() {
        free(sorted)
        sorted = nil
        sortedCount = 0
        recent = [:]
    }

    /// Moves the small dictionary into the sorted run: the buffer grows in place (or moves once,
    /// by `realloc`), and the two sorted sequences are merged from the back.
    private func merge() {
        let add = recent.map { Pair(key: $0.key, value: $0.value) }.sorted { Self.precedes($0.key, $1.key) }
        recent.removeAll(keepingCapacity: true)
        let total = sortedCount + add.count
        guard let grown = realloc(sorted, total * MemoryLayout<Pair>.stride) else { fatalError("out of memory for \(total) chunk id pairs") }
        let buffer = grown.bindMemory(to: Pair.self, capacity: total)
        var i = sortedCount - 1, j = add.count - 1, k = total - 1
        while j >= 0 {
            if i >= 0 && Self.precedes(add[j].key, buffer[i].key) {
                (buffer + k).initialize(to: buffer[i])
                i -= 1
            } else {
                (buffer + k).initialize(to: add[j])
                j -= 1
            }
            k -= 1
        }
        sorted = buffer
        sortedCount = total
    }
}
