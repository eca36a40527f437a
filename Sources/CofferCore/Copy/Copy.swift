import CofferCrypto
import Foundation

/// Settings for ``Vault/copyVersions(_:from:options:)``.
public struct CopyOptions: Sendable {
    /// Work out which versions would be copied and which are already there; write nothing.
    public var dryRun = false
    /// Seconds to wait for another writer's lock on the target before giving up.
    public var lockWait: Double = 0
    /// Copy even though this machine has seen a newer head of the target (rollback).
    public var force = false
    /// Asked between entries; returning true stops with ``CofferError/interrupted`` (the target
    /// is unchanged: nothing is committed before the version).
    public var isCancelled: @Sendable () -> Bool = { false }
    /// Called after each version is copied or skipped.
    public var progress: (@Sendable (CopyProgress) -> Void)?
    /// Tests only: called once the packs and index of a version are written and before its
    /// version file and head (a crash there must leave the target as it was).
    public var beforeCommit: (@Sendable () throws -> Void)?

    public init() {}
}

/// Where a copy is.
public struct CopyProgress: Sendable {
    public var versionsDone: Int
    public var versionsTotal: Int
    public var source: ObjectID
}

/// What a copy did (or, in a dry run, would do).
public struct CopyReport: Sendable {
    public struct Copied: Sendable {
        /// The version in the source vault.
        public var source: ObjectID
        /// The new version in the target (in a dry run, nil).
        public var target: ObjectID?
        public var name: String
        public var time: Date
        /// Data chunks, tree and layout pieces this version added to the target, their plaintext
        /// bytes, and the bytes written to storage (packs).
        public var addedChunks: UInt64 = 0
        public var addedPlainBytes: UInt64 = 0
        public var addedPieces: UInt64 = 0
        public var storedBytes: UInt64 = 0
        /// Source chunks read and decrypted for it.
        public var chunksRead: UInt64 = 0
    }

    public struct Skipped: Sendable {
        public var source: ObjectID
        /// The target version that holds the same content.
        public var target: ObjectID
        public var name: String
        public var time: Date
    }

    public var dryRun = false
    public var copied: [Copied] = []
    public var skipped: [Skipped] = []
    public var duration: TimeInterval = 0
}

extension Vault {
    /// The versions of this vault (the source of a copy) that `selectors` name, each once, oldest
    /// first: a series name stands for every version of the series; a full id, a unique id prefix
    /// or `NAME@latest|-N|YYYY-MM-DD` for one version. No selector: every live version.
    public func copySelection(_ selectors: [String]) throws -> [(id: ObjectID, version: Version)] {
        let all = try versions()
        guard !selectors.isEmpty else { return all }
        var wanted = Set<ObjectID>()
        for selector in selectors {
            if !selector.contains("@"), all.contains(where: { $0.version.name == selector }) {
                for v in all where v.version.name == selector { wanted.insert(v.id) }
                continue
            }
            wanted.insert(try resolve(selector))
        }
        return all.filter { wanted.contains($0.id) }
    }

    /// The note a copied version carries, naming where it came from.
    static func copyNote(source: ObjectID, vault: ObjectID) -> String {
        "copied from version \(source.hex) of vault \(vault.hex)"
    }

    /// Copies versions `ids` of `source` (another vault, another key) into this vault
    /// (Docs/FORMAT.md, "Copying versions from another vault").
    ///
    /// Under this vault's writer lock; `source` is only read. For each version, oldest first:
    /// when a live version here has the same name, time, host, set of paths and content digest
    /// (the digest of what a restore produces, the same for both formats), it is skipped.
    /// Otherwise its entries are streamed from the source's walker: each data chunk is read and
    /// decrypted in memory, its id here computed (this vault's `K_id`), and stored only when this
    /// vault lacks it; folders are rebuilt as tree pieces with this vault's ids and split rule,
    /// archive layouts with this vault's chunk ids cut into layout pieces. Then, per version:
    /// packs, index, the version (its header as in the source, the parent mapped when it was
    /// copied or found here, a note naming the source), and a head.
    ///
    /// This vault must be format 2; the source may be format 1 or 2.
    public func copyVersions(_ ids: [ObjectID], from source: Vault, options: CopyOptions = CopyOptions()) throws -> CopyReport {
        guard format >= 2 else {
            throw CofferError.invalidArgument(
                "cannot copy into \(location): it is a format-1 vault; run 'coffer upgrade' on it first")
        }
        guard source.vaultID != vaultID else {
            throw CofferError.invalidArgument("\(source.location) and \(location) are the same vault (a synced copy); nothing to copy")
        }
        if source.upgradeInProgress {
            throw CofferError.upgradeUnfinished(vault: source.location)
        }
        if let rollback, !options.force, !options.dryRun { throw CofferError.rollback(vault: location, reason: rollback.description) }
        if options.dryRun { return try copyPlan(ids, from: source) }
        return try withWriterLock(wait: options.lockWait) { try copyLocked(ids, from: source, options: options) }
    }

    /// The live versions here that hold what source version `id` holds; nil when none does.
    private func existingCopy(of v: Version, id: ObjectID, from source: Vault) throws -> ObjectID? {
        let candidates = try versions().filter {
            $0.version.name == v.name && $0.version.time == v.time && $0.version.hostBytes == v.hostBytes && $0.version.pathSet == v.pathSet
        }
        guard !candidates.isEmpty else { return nil }
        let digest = try Vault.streamedContentDigest(try source.walker(for: v, id: id))
        for c in candidates where try Vault.streamedContentDigest(try walker(for: c.version, id: c.id)) == digest {
            return c.id
        }
        return nil
    }

    /// Fills `mapped` from version `copy` here, which a copy made of source version `sourceVersion`
    /// (its note says so, or this run made it): both are walked in step, and for each file at the
    /// same path with as many chunks of the same lengths, the i-th source chunk maps to the i-th
    /// chunk here (a copy keeps the source's chunk boundaries). The walk stops at the first entry
    /// that differs. A chunk not mapped this way is read and its id computed as usual.
    private func prefill(
        _ mapped: ChunkIDMap, sourceVersion: ObjectID, copy: ObjectID, from source: Vault, isCancelled: () -> Bool
    ) throws {
        let a = try source.walker(for: sourceVersion)
        let b = try walker(for: copy)
        var count = 0
        while let x = try a.next(), let y = try b.next() {
            count += 1
            if count % 256 == 0, isCancelled() { throw CofferError.interrupted }
            guard x.pathBytes == y.pathBytes, x.type == y.type else { return }
            guard x.type == .file, x.chunks.count == y.chunks.count, x.size == y.size, x.sha256 == y.sha256, x.holes == y.holes else { continue }
            for (sc, tc) in zip(x.chunks, y.chunks) {
                guard mapped.count < 1 << 20 else { return }
                guard let sl = source.index.location(of: sc), let tl = index.location(of: tc), sl.plainLength == tl.plainLength else { break }
                mapped[sc] = tc
            }
        }
    }

    /// The live version here that an earlier copy made of source version `id` (its note names it).
    private func copyOf(_ id: ObjectID, from source: Vault) throws -> ObjectID? {
        let note = Vault.copyNote(source: id, vault: source.vaultID)
        return try versions().last { $0.version.notes.contains(note) }?.id
    }

    private func copyPlan(_ ids: [ObjectID], from source: Vault) throws -> CopyReport {
        var report = CopyReport(dryRun: true)
        for (id, v) in try ordered(ids, from: source) {
            if let there = try existingCopy(of: v, id: id, from: source) {
                report.skipped.append(.init(source: id, target: there, name: v.name, time: v.time))
            } else {
                report.copied.append(.init(source: id, target: nil, name: v.name, time: v.time))
            }
        }
        return report
    }

    /// `ids` with their versions, oldest first (so parents come before their children).
    private func ordered(_ ids: [ObjectID], from source: Vault) throws -> [(ObjectID, Version)] {
        var seen = Set<ObjectID>()
        return try ids.filter { seen.insert($0).inserted }.map { ($0, try source.version($0)) }
            .sorted { ($0.1.time, $0.0) < ($1.1.time, $1.0) }
    }

    private func copyLocked(_ ids: [ObjectID], from source: Vault, options: CopyOptions) throws -> CopyReport {
        let started = Date()
        var report = CopyReport()
        // Chunks and pieces are deduplicated only against packs that exist (as seal does).
        _ = try forgetMissingPacks()
        _ = try selectWriterDictionary()
        // The source's chunks are read once each, in walk order, mostly from the few packs its seal
        // was filling at the time (the vault's open packs, two by default, blobs shuffled within
        // each; a pack of 16,383 tiny blobs spans about 40 windows): 96 windows (6 MiB, not the
        // default 16) hold those; at 131,072 tiny chunks (debug build) the copy is no slower than with 256.
        let readers = PackReaders(vault: source, windows: 96)
        // Source chunk id → this vault's, across the versions of this run (bounded; 64 bytes a pair).
        let mapped = ChunkIDMap()
        // Source version → the version here that holds it (copied or found), for parents.
        var versionMap: [ObjectID: ObjectID] = [:]
        let work = try ordered(ids, from: source)
        for (n, (id, v)) in work.enumerated() {
            if options.isCancelled() { throw CofferError.interrupted }
            if let there = try existingCopy(of: v, id: id, from: source) {
                versionMap[id] = there
                report.skipped.append(.init(source: id, target: there, name: v.name, time: v.time))
                options.progress?(CopyProgress(versionsDone: n + 1, versionsTotal: work.count, source: id))
                continue
            }
            var copied = CopyReport.Copied(source: id, target: nil, name: v.name, time: v.time)
            // The source parent's copy here maps most chunks without reading them.
            if let p = v.parent, let pc = try versionMap[p] ?? copyOf(p, from: source) {
                try prefill(mapped, sourceVersion: p, copy: pc, from: source, isCancelled: options.isCancelled)
            }
            var sealOptions = SealOptions()
            sealOptions.isCancelled = options.isCancelled
            let sealer = Sealer(vault: self, options: sealOptions, totalFiles: 0, totalBytes: 0)
            let root: [ObjectID]
            var added: (packs: [(pack: ObjectID, entries: [PackEntry])], chunks: UInt64, plainBytes: UInt64, storedBytes: UInt64)
            do {
                root = try copyTrees(of: v, id: id, from: source, readers: readers, sealer: sealer, mapped: mapped, copied: &copied, isCancelled: options.isCancelled)
                added = try sealer.finish()
            } catch {
                sealer.quiesce()  // no pack is written once the lock is released
                throw error
            }
            // Index (packs are durable), then the version, then the head.
            var newIndexFiles: [ObjectID] = []
            // One form of the new entries at a time (for tiny chunks each costs memory): the packs'
            // entries for the index files, then the batch for the index here.
            if !added.packs.isEmpty {
                for file in IndexFile.bodyVersion2Files(added.packs) {
                    newIndexFiles.append(try writeMeta(file.encode(), kind: .index))
                }
                var batch = ChunkIndex.Batch()
                for p in added.packs { batch.append(pack: p.pack, entries: p.entries) }
                added.packs = []
                index.add(consume batch)
            }
            try options.beforeCommit?()
            var nv = v
            nv.v1Entries = []
            nv.rootTree = root
            nv.parent = try v.parent.flatMap { try versionMap[$0] ?? copyOf($0, from: source) }
            var stats = v.stats
            stats.addedChunks = added.chunks
            stats.addedPlainBytes = added.plainBytes
            stats.addedBytes = added.storedBytes
            stats.addedTreePieces = sealer.addedPieces
            stats.addedTreePlainBytes = sealer.addedPiecePlain
            stats.bytesRead = 0
            nv.stats = stats
            nv.rawCounters = nil
            let note = Vault.copyNote(source: id, vault: source.vaultID)
            nv.notes.append(note)
            nv.rawText = (v.hostBytes, v.pathBytes, (v.rawText?.notes ?? v.notes.map { Array($0.utf8) }) + [Array(note.utf8)])
            let newID = try writeMeta(nv.encode(), kind: .version)
            try commitHead(live: head.live + [newID], removed: head.removed, indexFiles: (head.indexFiles ?? []) + newIndexFiles)
            versionMap[id] = newID
            copied.target = newID
            copied.addedChunks = added.chunks
            copied.addedPlainBytes = added.plainBytes
            copied.addedPieces = sealer.addedPieces
            copied.storedBytes = added.storedBytes
            report.copied.append(copied)
            options.progress?(CopyProgress(versionsDone: n + 1, versionsTotal: work.count, source: id))
        }
        report.duration = Date().timeIntervalSince(started)
        return report
    }

    /// Streams version `id` of `source` into `sealer`: chunks re-stored under this vault's ids,
    /// layouts rewritten and cut into layout pieces, entries through a ``TreeBuilder``. Returns
    /// the root pieces.
    private func copyTrees(
        of v: Version, id: ObjectID, from source: Vault, readers: PackReaders, sealer: Sealer, mapped: ChunkIDMap,
        copied: inout CopyReport.Copied, isCancelled: () -> Bool
    ) throws -> [ObjectID] {
        let builder = TreeBuilder(sink: sealer, keys: keys)
        let walker = try source.walker(for: v, id: id)
        var count = 0
        func map(_ chunks: [ObjectID], context: String) throws -> [ObjectID] {
            var out: [ObjectID] = []
            out.reserveCapacity(chunks.count)
            for c in chunks {
                if let m = mapped[c] {
                    out.append(m)
                    continue
                }
                if isCancelled() { throw CofferError.interrupted }
                var plain = try source.readChunk(c, readers: readers, context: context)
                guard plain.withUnsafeBytes({ source.keys.chunkID(of: $0) }) == c else {
                    throw CofferError.integrity(object: context, reason: "chunk \(c.short) does not match its id")
                }
                let t = try sealer.storeChunk(plain)
                plain.withUnsafeMutableBytes { Sodium.wipe($0) }
                copied.chunksRead += 1
                // The map is a cache: past a million chunks it starts again (a chunk met again is read again).
                if mapped.count >= 1 << 20 { mapped.removeAll() }
                mapped[c] = t
                out.append(t)
            }
            return out
        }
        do {
            while var e = try walker.next() {
                count += 1
                if count % 256 == 0, isCancelled() { throw CofferError.interrupted }
                let context = "\(e.displayPath) in version \(id.short) of \(source.location)"
                switch e.type {
                case .file:
                    e.chunks = try map(e.chunks, context: context)
                case .archive:
                    // Streamed record by record through the seal's layout writer: one part or
                    // member and at most one piece held, whatever the member count.
                    let layout = try ArchiveLayoutCursor(vault: source, entry: e, readers: readers)
                    let writer = LayoutPieceWriter(sink: sealer, vault: self)
                    writer.header(format: layout.format, partCount: layout.partCount)
                    while var part = try layout.nextPart() {
                        if part.kind != .inline { part.chunks = try map(part.chunks, context: context) }
                        writer.append(part)
                        try writer.storeReady()
                    }
                    writer.memberCount(try layout.memberTotal())
                    while let m = try layout.nextMember() {
                        writer.append(m)
                        try writer.storeReady()
                    }
                    e.layoutIDs = try writer.finish()
                    e.archive = nil
                case .directory:
                    e.subtree = []
                default:
                    break
                }
                try builder.add(e)
            }
            return try builder.finish()
        } catch CofferError.integrity(let object, let reason) {
            throw CofferError.integrity(object: "version \(id.hex) of \(source.location): \(object)", reason: reason + "; this version cannot be copied")
        }
    }
}
