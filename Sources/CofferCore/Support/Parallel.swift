import Dispatch

/// Wraps a value whose thread safety the caller guarantees by construction.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
}

/// Runs `body(i)` for every `i` in `0..<count` across the cores and returns when all are done.
///
/// The caller guarantees that iterations touch disjoint memory (each writes its own slot).
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count == 0 { return }
    if count == 1 { body(0); return }
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedSendable(value: escapable)
        DispatchQueue.concurrentPerform(iterations: count) { i in box.value(i) }
    }
}
