import CofferCrypto
import Foundation

/// The ids of the chunks and pieces one seal has stored so far, kept compact: one sorted run of
/// 32-byte ids in a buffer grown in place (`realloc`), and a small `Set` of the ids added since
/// the last merge. A `Set<ObjectID>` takes 43–85 bytes an id (load factor 0.75, doubled when
/// full, old and new table both alive while it grows: 12 MiB at 131,072 ids); this takes 32 bytes
/// an id plus the small set, with no second copy when merging (the run is merged from its end).
final class ChunkIDSet {
    /// Sorted by ``precedes(_:_:)``, `sortedCount` ids.
    private var sorted: UnsafeMutablePointer<ObjectID>?
    private var sortedCount = 0
    private var recent = Set<ObjectID>()

    var count: Int { sortedCount + recent.count }

    deinit { free(sorted) }

    /// Any total order will do (the ids are keyed hashes): the words as they are.
    private static func precedes(_ a: ObjectID, _ b: ObjectID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    func contains(_ id: ObjectID) -> Bool {
        if recent.contains(id) { return true }
        guard let sorted else { return false }
        var low = 0, high = sortedCount
        while low < high {
            let mid = (low + high) / 2
            if Self.precedes(sorted[mid], id) { low = mid + 1 } else { high = mid }
        }
        return low < sortedCount && sorted[low] == id
    }

    /// Adds `id` (which ``contains(_:)`` said is not there).
    func insert(_ id: ObjectID) {
        recent.insert(id)
        // Merged once the small set holds 16,384 ids or 1/16 of the run, whichever is more: the
        // set stays small, and merging (linear in the run) costs O(1) amortized moves an id.
        if recent.count >= max(1 << 14, sortedCount / 16) { merge() }
    }

    /// Moves the small set into the sorted run: the buffer grows in place (or moves once, by
    /// `realloc`), and the two sorted sequences are merged from the back.
    private func merge() {
        let add = recent.sorted(by: Self.precedes)
        recent.removeAll(keepingCapacity: true)
        let total = sortedCount + add.count
        guard let grown = realloc(sorted, total * MemoryLayout<ObjectID>.stride) else { fatalError("out of memory for \(total) chunk ids") }
        let buffer = grown.bindMemory(to: ObjectID.self, capacity: total)
        var i = sortedCount - 1, j = add.count - 1, k = total - 1
        while j >= 0 {
            if i >= 0 && Self.precedes(add[j], buffer[i]) {
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
