import CofferCrypto
import Foundation

/// The ids of the chunks and pieces one seal has stored so far, kept compact: one sorted run of
/// 32-byte ids in a buffer grown in place (`realloc`), and a small `Set` of the ids added since
/// the last merge. A `Set<ObjectID>` takes 43–85 bytes an id (load factor 0.75, doubled when
/// full, old and new table both alive while it grows: 12 MiB at 131,072 ids); this takes 32 bytes
/// an id plus the small set, with no second copy when merging (the run is merged from its end).
final class ChunkIDSet {
    private let run = SortedIDRun<ObjectID>()
    private var recent = Set<ObjectID>()

    var count: Int { run.count + recent.count }

    func contains(_ id: ObjectID) -> Bool {
        recent.contains(id) || run.position(of: id) != nil
    }

    /// Adds `id` (which ``contains(_:)`` said is not there).
    func insert(_ id: ObjectID) {
        recent.insert(id)
        // Merged once the small set holds 16,384 ids or 1/16 of the run, whichever is more: the
        // set stays small, and merging (linear in the run) costs O(1) amortized moves an id.
        if recent.count >= max(1 << 14, run.count / 16) {
            run.merge(recent)
            recent.removeAll(keepingCapacity: true)
        }
    }
}
