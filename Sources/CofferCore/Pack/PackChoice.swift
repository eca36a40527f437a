/// Which open pack takes a new blob (Docs/FORMAT.md, "Packs", writer rules).
extension Array where Element == PackBuilder {
    /// The open pack a blob of `length` bytes goes to, `pick` being the one drawn at random: `pick`
    /// when it takes the blob; else another open pack that takes it (below the target, or within
    /// its Padmé size), so `pick` stays open and a smaller blob may still fill the room its Padmé
    /// size leaves; nil when none does (the caller finishes `pick` and starts a new pack there).
    /// Large chunks (1 MiB on average) seldom fit the room a finished pack's padding leaves (up to
    /// 512 KiB on 16 MiB packs), so finishing at the first misfit wasted about half of it.
    func pack(for length: Int, pick: Int, target: Int) -> Int? {
        if !self[pick].isFull(before: length, target: target) { return pick }
        return indices.first { $0 != pick && !self[$0].isFull(before: length, target: target) }
    }
}
