/// What a seal adds to the vault, counted whole: ``VersionStats/addedBytes`` is every byte the
/// seal wrote, its packs (chunks and tree pieces), index files, dictionary, its version file and
/// its head, so a seal of unchanged data reports what the vault really grew by.
///
/// The version file holds the figure and so counts itself: its size is found by encoding it
/// until the size it states is the size it has (the stats are fixed-width; compression and
/// padding settle within a step or two). The head is written uncompressed, so its size is known
/// before the version's id is.
extension Vault {
    /// The size of the head file a commit with these lists would write (the ids' values do not matter).
    func headFileSize(live: Int, removed: [ObjectID], indexFiles: [ObjectID]?) -> UInt64 {
        let probe = Head(
            generation: head.generation + 1, previous: headID, time: 0, live: [ObjectID](repeating: .zero, count: live), removed: removed,
            indexFiles: format >= 2 ? indexFiles ?? head.indexFiles ?? [] : nil)
        return UInt64(MetaObject.seal(probe.encode(), kind: .head, vaultID: vaultID, key: keys.meta, zstd: zstd, compress: false).count)
    }

    /// Sets `version.stats.addedBytes` to `others` (the bytes written besides the version file)
    /// plus the version file's own size, and returns the version's body encoded with it.
    func encodeCountingItself(_ version: inout Version, others: UInt64) -> [UInt8] {
        var own: UInt64 = 0
        var body: [UInt8] = []
        for _ in 0..<8 {
            version.stats.addedBytes = others + own
            body = version.encode()
            let size = UInt64(MetaObject.seal(body, kind: .version, vaultID: vaultID, key: keys.meta, zstd: zstd).count)
            if size == own { break }
            own = size
        }
        return body
    }
}
