import CofferCrypto
import Foundation

/// How to run `upgrade`.
public struct UpgradeOptions: Sendable {
    /// Upgrade even though this copy is behind a head this machine has seen (rollback).
    public var force = false
    /// Seconds to wait for another writer's lock before giving up.
    public var lockWait: Double = 0
    /// Asked between versions and entries; returning true stops with ``CofferError/interrupted``.
    public var isCancelled: @Sendable () -> Bool = { false }

    public init() {}
}

/// What `upgrade` did.
public struct UpgradeResult: Sendable {
    /// True when the vault was already format 2 with a format-2 head: nothing was written.
    public var alreadyFormat2 = false
    /// True when `config` already said format 2 (an earlier upgrade was interrupted after its switch).
    public var resumed = false
    /// Each live format-1 version and the format-2 version that replaces it, in the head's order.
    public var mapping: [(old: ObjectID, new: ObjectID)] = []
    /// Tree and layout pieces stored (new to the vault), their plaintext bytes, and the packs
    /// written for them (bytes in storage).
    public var addedPieces: UInt64 = 0
    public var addedPieceBytes: UInt64 = 0
    public var packsWritten = 0
    public var storedBytes: UInt64 = 0
    public var duration: TimeInterval = 0
}

extension Vault {
    /// True for a format-2 vault whose current head is still a format-1 head (body_version 1):
    /// `upgrade` switched `config` to format 2 and did not commit its head yet. Readers load every
    /// index file and read the versions the head lists; every writer but `upgrade` refuses.
    public var upgradeInProgress: Bool { format >= 2 && head.indexFiles == nil }

    /// The note an upgraded version carries, naming the format-1 version it replaces.
    static func upgradeNote(_ old: ObjectID) -> String { "upgraded from format-1 version \(old.hex)" }

    /// Converts a format-1 vault to format 2 in place (Docs/FORMAT.md, "Upgrading from format 1").
    ///
    /// Under the writer lock: each live format-1 version's entries go, in walk order, through the
    /// seal's ``TreeBuilder`` (packs are reused: chunk ids do not change; only tree and layout
    /// pieces are stored, into new packs); then the index of those packs, then one format-2
    /// version per old one (same header, parent mapped, a note naming the old id). Then the
    /// switch: `config` rewritten with format 2. Last, a format-2 head: the new versions live in
    /// the old order, the old ones tombstoned, every index file listed.
    ///
    /// Killed at any point, the vault opens (as format 1 before the switch, as "upgrade in
    /// progress" after it) with every version restorable, and running `upgrade` again finishes.
    public func upgrade(options: UpgradeOptions = UpgradeOptions()) throws -> UpgradeResult {
        if format >= 2 && !upgradeInProgress { return UpgradeResult(alreadyFormat2: true) }
        if let rollback, !options.force { throw CofferError.rollback(vault: location, reason: rollback.description) }
        return try withWriterLock(wait: options.lockWait, upgrading: true) {
            if format >= 2 && !upgradeInProgress { return UpgradeResult(alreadyFormat2: true) }
            return try upgradeLocked(options)
        }
    }

    private func upgradeLocked(_ options: UpgradeOptions) throws -> UpgradeResult {
        let started = Date()
        var result = UpgradeResult()
        result.resumed = format >= 2
        // Pieces are deduplicated only against packs that exist (as seal does).
        _ = try forgetMissingPacks()

        // 1. Trees: every live version, in the head's order, through the seal's tree builder.
        var sealOptions = SealOptions()
        sealOptions.isCancelled = options.isCancelled
        let sealer = Sealer(vault: self, options: sealOptions, totalFiles: 0, totalBytes: 0)
        struct Converted {
            var old: ObjectID
            var time: Date
            var root: [ObjectID]?
            var pieces: (count: UInt64, bytes: UInt64)
        }
        var converted: [Converted] = []
        let added: (packs: [(pack: ObjectID, entries: [PackEntry])], chunks: UInt64, plainBytes: UInt64, storedBytes: UInt64)
        do {
            for id in head.live {
                if options.isCancelled() { throw CofferError.interrupted }
                // Read without the version cache: one format-1 listing is held at a time.
                let v = try uncachedVersion(id)
                guard v.rootTree == nil else {
                    // Already a format-2 version (none in a head of body_version 1 this coffer wrote): kept as it is.
                    converted.append(Converted(old: id, time: v.time, root: nil, pieces: (0, 0)))
                    continue
                }
                let before = sealer.pieceCounts()
                let root = try convertTrees(of: v, id: id, sealer: sealer, isCancelled: options.isCancelled)
                let after = sealer.pieceCounts()
                converted.append(Converted(old: id, time: v.time, root: root, pieces: (after.count - before.count, after.bytes - before.bytes)))
            }
            added = try sealer.finish()
        } catch {
            sealer.quiesce()  // no pack is written once the lock is released
            throw error
        }
        result.addedPieces = sealer.addedPieces
        result.addedPieceBytes = sealer.addedPiecePlain
        result.packsWritten = added.packs.count
        result.storedBytes = added.storedBytes

        // 2. The index of the new packs: body_version 2 (typed entries), which format-1 readers
        // of this coffer load too; stored uncompressed, as format 2 writes it.
        if !added.packs.isEmpty {
            var batch = ChunkIndex.Batch()
            for p in added.packs { batch.append(pack: p.pack, entries: p.entries) }
            for file in IndexFile.bodyVersion2Files(added.packs) {
                try heldLock?.verify()
                let bytes = MetaObject.seal(file.encode(), kind: .index, vaultID: vaultID, key: keys.meta, zstd: zstd, compress: false)
                let id = ObjectID.hashing(bytes)
                try backend.write(.index(id), bytes)
                loadedIndexFiles.insert(id.hex)
            }
            index.add(batch)
        }

        // 3. The format-2 versions, parents first (oldest first), no head referring to them yet.
        var newID: [ObjectID: ObjectID] = [:]
        for c in converted.sorted(by: { ($0.time, $0.old) < ($1.time, $1.old) }) {
            guard let root = c.root else {
                newID[c.old] = c.old
                continue
            }
            if options.isCancelled() { throw CofferError.interrupted }
            // The header as it was (read again: the listing is not kept), with the root tree,
            // which makes it a body_version 3 (its format-1 listing is not written).
            var v = try uncachedVersion(c.old)
            v.rootTree = root
            v.parent = v.parent.map { newID[$0] ?? $0 }
            v.stats.addedTreePieces = c.pieces.count
            v.stats.addedTreePlainBytes = c.pieces.bytes
            v.notes.append(Vault.upgradeNote(c.old))
            newID[c.old] = try writeMeta(v.encode(), kind: .version)
        }
        result.mapping = head.live.map { ($0, newID[$0]!) }

        // 4. The switch: config says format 2 (the one file that is rewritten: temporary file,
        // fsync, rename, fsync of the folder; the MAC recomputed).
        if format < 2 {
            try heldLock?.verify()
            var c = config
            c.format = 2
            try backend.write(.config, c.encode(macKey: keys.config))
            config = c
        }

        // 5. The format-2 head: the new versions in the old order, the old ones tombstoned (so
        // this machine's rollback state sees them forgotten, not vanished), every index file.
        let replaced = result.mapping.filter { $0.old != $0.new }.map(\.old)
        let removed = head.removed + replaced.filter { !head.removed.contains($0) }
        let indexFiles = try backend.ids(in: .index).filter { loadedIndexFiles.contains($0.hex) }
        try commitHead(live: result.mapping.map(\.new), removed: removed, indexFiles: indexFiles)
        result.duration = Date().timeIntervalSince(started)
        return result
    }

    /// Reads version `id` as ``version(_:)`` does, without keeping it in the cache.
    private func uncachedVersion(_ id: ObjectID) throws -> Version {
        let file = VaultFile.version(id)
        let body = try Vault.readMeta(backend: backend, file: file, kind: .version, vaultID: vaultID, keys: keys, zstd: zstd)
        do { return try Version.decode(body) } catch { throw CofferError.decoding(error, object: file.path) }
    }

    /// Feeds a format-1 version's entries, in walk order, to a tree builder whose pieces go into
    /// `sealer`'s packs; an archive's layout is cut into layout pieces. Returns the root pieces.
    private func convertTrees(of v: Version, id: ObjectID, sealer: Sealer, isCancelled: () -> Bool) throws -> [ObjectID] {
        let builder = TreeBuilder(sink: sealer, keys: keys)
        let walker = try walker(for: v, id: id)
        var count = 0
        do {
            while var e = try walker.next() {
                count += 1
                if count % 1024 == 0, isCancelled() { throw CofferError.interrupted }
                if e.type == .archive, let layout = e.archive {
                    e.layoutIDs = try layout.storePieces(sink: sealer, vault: self)
                    e.archive = nil
                }
                try builder.add(e)
            }
            return try builder.finish()
        } catch CofferError.integrity(let object, let reason) {
            throw CofferError.integrity(object: "version \(id.hex): \(object)", reason: reason + "; this version cannot be upgraded")
        }
    }
}
