import CofferCrypto
import Foundation

/// An element of a ``SortedIDRun``: a plain value (no references) found by a chunk id.
protocol ChunkIDKeyed {
    var chunkID: ObjectID { get }
}

extension ObjectID: ChunkIDKeyed {
    var chunkID: ObjectID { self }
}

/// Elements sorted by chunk id in one buffer grown in place (`realloc`): the in-memory index's
/// records (``ChunkIndex``), and the compact part of ``ChunkIDSet`` and ``ChunkIDMap``, which
/// keep the elements added since the last merge in a small `Set` or `Dictionary` and merge them
/// in batches. A batch is merged from the back, so a merge never holds a second copy of the run.
///
/// Not synchronized: one owner changes it (``ChunkIndex`` copies a run it shares before a
/// change, so readers of another copy never see one).
final class SortedIDRun<Element: ChunkIDKeyed>: @unchecked Sendable {
    private var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0

    init() {
        precondition(_isPOD(Element.self), "a sorted run moves its elements with realloc")
    }

    /// A copy of `other`'s elements in a buffer of its own.
    init(copying other: SortedIDRun) {
        count = other.count
        guard count > 0, let from = other.base else { return }
        guard let raw = malloc(count * MemoryLayout<Element>.stride) else { fatalError("out of memory for \(count) chunk ids") }
        base = raw.bindMemory(to: Element.self, capacity: count)
        base!.initialize(from: from, count: count)
    }

    deinit { free(base) }

    /// Any total order will do (the ids are keyed hashes): the words as they are.
    static func precedes(_ a: ObjectID, _ b: ObjectID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// The position of the element with `id`, or nil.
    func position(of id: ObjectID) -> Int? {
        guard let base else { return nil }
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if Self.precedes(base[mid].chunkID, id) { low = mid + 1 } else { high = mid }
        }
        return low < count && base[low].chunkID == id ? low : nil
    }

    /// The element at `position` (one ``position(of:)`` gave); setting must keep its id.
    subscript(position: Int) -> Element {
        get { base![position] }
        set {
            precondition(newValue.chunkID == base![position].chunkID, "an element keeps its place")
            base![position] = newValue
        }
    }

    /// Merges `batch`, whose ids are in none of the run's elements and each once.
    func merge<S: Sequence<Element>>(_ batch: S) {
        let add = batch.sorted { Self.precedes($0.chunkID, $1.chunkID) }
        let total = count + add.count
        guard let grown = realloc(base, total * MemoryLayout<Element>.stride) else { fatalError("out of memory for \(total) chunk ids") }
        let buffer = grown.bindMemory(to: Element.self, capacity: total)
        var i = count - 1, j = add.count - 1, k = total - 1
        while j >= 0 {
            if i >= 0 && Self.precedes(add[j].chunkID, buffer[i].chunkID) {
                (buffer + k).initialize(to: buffer[i])
                i -= 1
            } else {
                (buffer + k).initialize(to: add[j])
                j -= 1
            }
            k -= 1
        }
        base = buffer
        count = total
    }

    /// Empties the run and gives its memory back.
    func removeAll() {
        free(base)
        base = nil
        count = 0
    }
}
