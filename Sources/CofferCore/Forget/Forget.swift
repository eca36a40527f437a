extension Vault {
    /// Removes versions from the vault's live list (a new head, with the removed ids kept as
    /// tombstones so their disappearance is not mistaken for tampering). Their data stays until
    /// `prune`. Takes the writer lock.
    ///
    /// - Throws: ``CofferError/rollback(vault:reason:)`` when this copy is behind a head this
    ///   machine has seen, unless `force`; ``CofferError/versionNotFound(selector:candidates:)``
    ///   for an id that is not live.
    public func forget(_ ids: [ObjectID], force: Bool = false, lockWait: Double = 0) throws {
        if let rollback, !force { throw CofferError.rollback(vault: location, reason: rollback.description) }
        let live = Set(head.live)
        for id in ids where !live.contains(id) {
            throw CofferError.versionNotFound(selector: id.short, candidates: [])
        }
        guard !ids.isEmpty else { return }
        let gone = Set(ids)
        try withWriterLock(wait: lockWait) {
            try commitHead(live: head.live.filter { !gone.contains($0) }, removed: head.removed + ids.filter { !head.removed.contains($0) })
        }
    }
}
