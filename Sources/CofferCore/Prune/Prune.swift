import CofferCrypto
import Foundation

/// How prune decides.
public struct PruneOptions: Sendable {
    /// A pack is repacked when at least this share of its bytes is no longer used (0...1).
    public var repackThreshold: Double = 0.2
    /// Say what would be done; change nothing.
    public var dryRun = false
    /// Write even though this copy is behind a head this machine has seen (rollback).
    public var force = false
    /// Seconds to wait for another writer's lock.
    public var lockWait: Double = 0
    /// Unreferenced packs and `.tmp-*` leftovers are removed only once they are older than this
    /// many seconds (default: the stale-lock time, ``LockInfo/staleAfter``), so a writer that is
    /// still uploading (another machine's, or one whose lock was taken over) never loses a pack
    /// it is about to commit. A file whose age the backend cannot tell is kept.
    public var minimumAge: Double = Double(LockInfo.staleAfter)

    public init() {}
}

/// What prune did (or, with `dryRun`, would do).
public struct PruneReport: Sendable {
    public var packsBefore = 0
    public var packsDeleted = 0
    public var packsRepacked = 0
    public var packsWritten = 0
    public var unreferencedPacksDeleted = 0
    /// Unreferenced packs kept because they are newer than ``PruneOptions/minimumAge`` (or of unknown age).
    public var unreferencedPacksKept = 0
    /// `.tmp-*` files of writes that never finished, older than ``PruneOptions/minimumAge``, removed (or to be removed).
    public var temporaryFilesRemoved = 0
    public var versionFilesDeleted = 0
    public var indexFilesReplaced = 0
    public var bytesBefore: UInt64 = 0
    public var bytesAfter: UInt64 = 0
    public var freedBytes: UInt64 { bytesBefore > bytesAfter ? bytesBefore - bytesAfter : 0 }
}

extension Vault {
    /// Gives back the space of data no live version uses.
    ///
    /// Under the writer lock: the chunks of every live version are collected (prune stops if any
    /// is missing from the index or a version cannot be read: it never deletes on incomplete
    /// knowledge). Packs without a used chunk are deleted; packs with at least `repackThreshold`
    /// of their bytes unused have their used chunks copied (each decrypted and verified) into
    /// new packs. Then, in this order: the new packs are written, one new index file listing
    /// every kept chunk is written, the old index files are deleted, the packs no index lists
    /// any more are deleted, and version files no head lists are deleted. Killed at any point,
    /// every live version stays restorable (an index never refers to a deleted pack) and a
    /// re-run finishes the job.
    public func prune(options: PruneOptions = PruneOptions()) throws -> PruneReport {
        if let rollback, !options.force { throw CofferError.rollback(vault: location, reason: rollback.description) }
        return try withWriterLock(wait: options.lockWait) { try pruneLocked(options) }
    }

    private func pruneLocked(_ options: PruneOptions) throws -> PruneReport {
        var report = PruneReport()
        // 1. What is used: chunks, tree pieces and layout pieces, by the walk check makes (a
        // subtree shared by several versions walked once).
        var used = UsedBlobs()
        var missing = Set<ObjectID>()
        for id in head.live {
            try markUsed(version: id, into: &used, missing: { missing.insert($0.id) })
        }
        guard missing.isEmpty else {
            throw CofferError.integrity(
                object: VaultFolder.index.rawValue,
                reason: "\(missing.count) chunks or pieces used by live versions are not in the index; prune stopped without deleting anything (run coffer check)")
        }
        // 2. What is stored (a listing error stops prune: never treat it as empty).
        let storedPacks = Set(try backend.ids(in: .packs))
        var byPack: [ObjectID: [(ObjectID, ChunkLocation)]] = [:]
        for (id, loc) in index.locations { byPack[loc.pack, default: []].append((id, loc)) }
        var sizes: [ObjectID: Int] = [:]
        for pack in storedPacks { sizes[pack] = try backend.size(.pack(pack)) ?? 0 }
        report.packsBefore = storedPacks.count
        report.bytesBefore = sizes.values.reduce(0) { $0 + UInt64($1) }
        for pack in index.packs where !storedPacks.contains(pack) {
            if byPack[pack]?.contains(where: { used.contains($0.0) }) == true {
                throw CofferError.integrity(
                    object: VaultFile.pack(pack).path, reason: "missing, and live versions use it; prune stopped without deleting anything (run coffer check)")
            }
        }

        // 3. Decide per pack.
        var keep: [ObjectID] = []
        var repack: [ObjectID] = []
        var delete: [ObjectID] = []
        for pack in index.packs.sorted() where storedPacks.contains(pack) {
            let entries = byPack[pack] ?? []
            let usedBytes = entries.filter { used.contains($0.0) }.reduce(0) { $0 + $1.1.envelopeLength }
            let total = max(sizes[pack] ?? 0, 1)
            if usedBytes == 0 {
                delete.append(pack)
            } else if Double(total - usedBytes) / Double(total) >= options.repackThreshold {
                repack.append(pack)
            } else {
                keep.append(pack)
            }
        }
        var unreferenced = storedPacks.subtracting(index.packs)
        let now = Date()
        func oldEnough(_ file: StoredFile?) -> Bool {
            guard let modified = file?.modified else { return options.minimumAge <= 0 }
            return now.timeIntervalSince(modified) >= options.minimumAge
        }
        if !unreferenced.isEmpty && options.minimumAge > 0 {
            let listed = try backend.listDetailed(VaultFolder.packs.rawValue)
            let young = unreferenced.filter { pack in
                let path = VaultFile.pack(pack).path
                return !oldEnough(listed[String(path.dropFirst(VaultFolder.packs.rawValue.count + 1))])
            }
            unreferenced.subtract(young)
            report.unreferencedPacksKept = young.count
        }
        let leftovers = try backend.listTemporary().filter { oldEnough($0.value) }.keys.sorted()
        report.temporaryFilesRemoved = leftovers.count
        let liveSet = Set(head.live)
        let strayVersions = try backend.ids(in: .versions).filter { !liveSet.contains($0) }
        // Format 2: index files the head does not list (a seal that died before its head, an old
        // index put back) are never loaded; prune deletes them.
        let listedIndex = Set((head.indexFiles ?? []).map { VaultFile.index($0) })
        let unlistedIndex = format >= 2 ? try backend.files(in: .index).filter { !listedIndex.contains($0) } : []
        report.packsDeleted = delete.count
        report.packsRepacked = repack.count
        report.unreferencedPacksDeleted = unreferenced.count
        report.versionFilesDeleted = strayVersions.count
        // The used blobs of each pack to repack, in the order they are copied (by offset).
        func usedBlobs(of pack: ObjectID) -> [(ObjectID, ChunkLocation)] {
            (byPack[pack] ?? []).filter { used.contains($0.0) }.sorted { $0.1.offset < $1.1.offset }
        }
        if options.dryRun {
            // The new packs' sizes as the real run makes them: the same blobs in the same order,
            // cut where a PackBuilder cuts, each pack with its header, padding blob and Padmé size.
            var newPacks: UInt64 = 0
            var (blobs, bytes, largest) = (0, 0, 0)
            let target = config.packTargetSize
            for pack in repack {
                for (_, loc) in usedBlobs(of: pack) {
                    let now = PackBuilder.finishedSize(blobs: blobs, bytes: bytes, largest: largest, target: target)
                    if bytes >= target, PackBuilder.finishedSize(
                        blobs: blobs + 1, bytes: bytes + loc.envelopeLength, largest: max(largest, loc.envelopeLength), target: target) != now {
                        newPacks += UInt64(now)
                        (blobs, bytes, largest) = (0, 0, 0)
                    }
                    blobs += 1
                    bytes += loc.envelopeLength
                    largest = max(largest, loc.envelopeLength)
                }
            }
            if blobs > 0 { newPacks += UInt64(PackBuilder.finishedSize(blobs: blobs, bytes: bytes, largest: largest, target: target)) }
            report.bytesAfter = keep.reduce(UInt64(0)) { $0 + UInt64(sizes[$1] ?? 0) } + newPacks
            return report
        }
        for path in leftovers { try backend.remove(path) }
        if delete.isEmpty && repack.isEmpty && unreferenced.isEmpty && strayVersions.isEmpty {
            for file in unlistedIndex { try backend.remove(file) }
            report.indexFilesReplaced = unlistedIndex.count
            report.bytesAfter = report.bytesBefore
            return report
        }

        // 4. Repack: copy the used, verified blobs of partly used packs into new packs.
        var newIndex = ChunkIndex()
        var kept = ChunkIndex.Batch()
        for pack in keep {
            kept.append(pack: pack, entries: (byPack[pack] ?? []).map { id, loc in
                PackEntry(type: loc.type, flags: loc.flags, id: id, offset: loc.offset, envelopeLength: loc.envelopeLength, plainLength: loc.plainLength)
            })
        }
        newIndex.add(kept)
        var builder = PackBuilder(target: config.packTargetSize)
        var written: [(ObjectID, [PackEntry])] = []
        func flush() throws {
            guard !builder.isEmpty else { return }
            let (id, bytes, entries) = try builder.finish(vaultID: vaultID, keys: keys)
            try backend.write(.pack(id), bytes)
            written.append((id, entries))
            builder = PackBuilder(target: config.packTargetSize)
        }
        for pack in repack {
            let path = VaultFile.pack(pack).path
            let bytes: [UInt8]
            do { bytes = try backend.read(.pack(pack)) } catch let e as CofferError { throw e.missingAsIntegrity }
            guard ObjectID.hashing(bytes) == pack else {
                throw CofferError.integrity(object: path, reason: "content does not match its name; prune stopped before deleting anything")
            }
            for (id, loc) in usedBlobs(of: pack) {
                guard loc.offset >= 0, loc.offset + loc.envelopeLength <= bytes.count else {
                    throw CofferError.integrity(object: path, reason: "chunk \(id.short) lies outside the pack")
                }
                // Copied with the type it was stored as (the AEAD binds it): a tree or layout
                // piece stays one.
                guard let code = used.blobTypeCode(of: id), let type = BlobType(rawValue: code) else {
                    throw CofferError.integrity(object: path, reason: "blob \(id.short) has a type this build cannot copy; prune stopped before deleting anything")
                }
                try bytes.withUnsafeBytes { all in
                    let env = UnsafeRawBufferPointer(rebasing: all[loc.offset..<loc.offset + loc.envelopeLength])
                    // Verify before copying: a damaged blob is never carried into a new pack.
                    try BlobScratch.with { scratch in
                        _ = try BlobCrypto.open(
                            env, type: type, flags: loc.flags, id: id, plainLength: loc.plainLength, keys: keys, zstd: zstd, object: path,
                            verifyID: true, scratch: scratch)
                    }
                    if builder.isFull(before: env.count, target: config.packTargetSize) { try flush() }
                    builder.add(type: type, flags: loc.flags, id: id, plainLength: loc.plainLength, envelope: env)
                }
            }
        }
        try flush()
        var repacked = ChunkIndex.Batch()
        for (id, entries) in written { repacked.append(pack: id, entries: entries) }
        newIndex.add(repacked)
        report.packsWritten = written.count

        // 5. One new index with every kept chunk (format 2: in files of at most 2^20 entries, and a
        // head that lists exactly them), then the old index files go.
        var grouped: [ObjectID: [PackEntry]] = [:]
        for (id, loc) in newIndex.locations {
            grouped[loc.pack, default: []].append(
                PackEntry(type: loc.type, flags: loc.flags, id: id, offset: loc.offset, envelopeLength: loc.envelopeLength, plainLength: loc.plainLength))
        }
        let packs: [(pack: ObjectID, entries: [PackEntry])] = grouped.keys.sorted().map { ($0, grouped[$0]!.sorted { $0.offset < $1.offset }) }
        var newIndexIDs: [ObjectID] = []
        for file in format >= 2 ? IndexFile.bodyVersion2Files(packs) : [IndexFile(packs: packs)] {
            newIndexIDs.append(try writeMeta(file.encode(), kind: .index))
        }
        if format >= 2 { try commitHead(live: head.live, removed: head.removed, indexFiles: newIndexIDs) }
        let newIndexFiles = Set(newIndexIDs.map { VaultFile.index($0) })
        let oldIndexFiles = try backend.files(in: .index).filter { !newIndexFiles.contains($0) }
        for file in oldIndexFiles { try backend.remove(file) }
        report.indexFilesReplaced = oldIndexFiles.count
        index = newIndex
        loadedIndexFiles = Set(newIndexIDs.map(\.hex))

        // 6. Packs no index refers to any more, then version files no head lists.
        for pack in delete + repack + Array(unreferenced) where !newIndex.packs.contains(pack) {
            try backend.remove(.pack(pack))
        }
        for v in strayVersions { try backend.remove(.version(v)) }
        report.bytesAfter = try backend.list(.packs).reduce(UInt64(0)) { $0 + UInt64(try backend.size(VaultFolder.packs.rawValue + "/" + $1) ?? 0) }
        return report
    }
}
