import CofferCrypto
import Foundation

/// The findings of a check.
public struct CheckReport: Sendable {
    /// Integrity problems: each names the file or object and what is wrong.
    public var errors: [String] = []
    /// Versions that can no longer be fully restored, with the files affected.
    public var damagedVersions: [ObjectID: [String]] = [:]
    /// Packs no index refers to (left by an interrupted seal): reclaimable by prune, not an error.
    public var unreferencedPacks: [ObjectID] = []
    /// Version files no head lists (left by an interrupted seal): reclaimable, not an error.
    public var unreferencedVersions: [ObjectID] = []
    /// Format 2: index files in `index/` that the current head does not list (the index of a seal
    /// that died before its head, or an old index file put back). They are not loaded, so no
    /// chunk is looked up in them; prune deletes them. Not an error.
    public var unlistedIndexFiles: [ObjectID] = []
    /// Findings that are not errors: no data depends on them (gaps in the head chain).
    public var notes: [String] = []
    public var rollback: RollbackFinding?
    public var packsChecked = 0
    public var packsRead = 0
    public var bytesRead: UInt64 = 0
    public var versionsChecked = 0

    public var isClean: Bool { errors.isEmpty && rollback == nil }
}

extension Vault {
    /// Verifies the vault.
    ///
    /// Structure: key slots, the head chain, every live version, every chunk of every file in the
    /// index, every indexed pack present with a header that agrees with the index. With
    /// `readDataFraction` > 0, that share of the packs (all of them at 1) is read in full: its hash
    /// against its name, its header, and every blob decrypted and verified.
    public func check(readDataFraction: Double = 0, seed: UInt64? = nil) throws -> CheckReport {
        var report = CheckReport()
        report.rollback = rollback

        // Key slots.
        for name in try backend.list(.keys) {
            let file = VaultFile.keySlot(name)
            do {
                if let size = try backend.size(file), size > KeySlot.maximumFileSize {
                    report.errors.append("\(file.path): \(size) bytes, larger than a key slot may be")
                    continue
                }
                let bytes = try backend.read(file)
                if ObjectID.hashing(bytes).hex != name { report.errors.append("\(file.path): content does not match its name") }
                else {
                    // A slot whose Argon2id parameters are refused on open can never open the vault.
                    do { try KeySlot.decode(bytes).parameters.validate() } catch let e as CryptoError {
                        report.errors.append("\(file.path): refused: \(e)")
                    }
                }
            } catch { report.errors.append("\(file.path): \((error as? CofferError)?.missingAsIntegrity ?? error)") }
        }

        // Heads: names, contents, one per generation, the chain links that are still stored.
        var heads: [UInt64: [(ObjectID, Head)]] = [:]
        for name in try backend.list(.heads) {
            guard case .head(let generation, let id)? = VaultFile(path: VaultFolder.heads.rawValue + "/" + name) else {
                report.errors.append("heads/\(name): not a head file name")
                continue
            }
            do {
                let h = try Vault.readHead(backend: backend, generation: generation, id: id, vaultID: vaultID, keys: keys, zstd: zstd)
                heads[generation, default: []].append((id, h))
            } catch { report.errors.append("\(error)") }
        }
        for (g, hs) in heads where hs.count > 1 { report.errors.append("heads/: \(hs.count) heads share generation \(g)") }
        for (g, hs) in heads where g > 1 {
            for (id, h) in hs {
                if let prev = heads[g - 1], !prev.contains(where: { $0.0 == h.previous }) {
                    report.errors.append("heads/: head \(id.short) (generation \(g)) follows \(h.previous.short), which is not the stored generation \(g - 1)")
                }
            }
        }

        // Gaps in the chain: an interrupted sync leaves them until it runs again, so they are notes.
        var previous: UInt64 = 0
        for g in heads.keys.sorted() {
            if g > previous + 1 {
                let range = g == previous + 2 ? "\(previous + 1)" : "\(previous + 1) to \(g - 1)"
                report.notes.append(
                    "heads/: no head of generation \(range): the head chain has a gap (an interrupted sync leaves one until it runs again; "
                        + "otherwise head files were deleted, and rollback detection cannot follow the chain across it)")
            }
            previous = g
        }

        // Lock files: a damaged one makes every writer wait for it, and coffer unlock cannot remove it.
        for (name, info) in try locks() where info == nil {
            guard try backend.size(.lock(name)) != nil else { continue }  // removed meanwhile (a refresh)
            report.errors.append("\(VaultFile.lock(name).path): a damaged lock file (it does not authenticate or decode); writers wait for it until it is deleted by hand")
        }

        // Stray names: not vault files (a sync tool's conflict copy, an editor's backup).
        for dir: VaultFolder in [.dicts, .index, .versions, .keys] {
            for name in try backend.list(dir) where VaultFile(path: dir.rawValue + "/" + name) == nil {
                report.errors.append("\(dir.rawValue)/\(name): not a vault file name (a stray or renamed file)")
            }
        }

        // Format 2: index files the head does not list are not loaded by other commands. Check
        // reads them: one of this vault (an interrupted seal's, an old one put back) is
        // reclaimable; anything else under an index name is damage or a planted file.
        if upgradeInProgress {
            report.notes.append(
                "config: format 2 with a format-1 head (generation \(head.generation)): an upgrade to format 2 was interrupted after its switch; "
                    + "every index file is read and the format-1 versions are restorable; run 'coffer upgrade' to finish it")
        } else if format >= 2 {
            let listedIndex = Set(head.indexFiles ?? [])
            for id in try backend.ids(in: .index).sorted() where !listedIndex.contains(id) {
                do {
                    let body = try Vault.readMeta(backend: backend, file: .index(id), kind: .index, vaultID: vaultID, keys: keys, zstd: zstd)
                    do { _ = try IndexFile.decode(body) } catch { throw CofferError.decoding(error, object: VaultFile.index(id).path) }
                    report.unlistedIndexFiles.append(id)
                } catch {
                    report.errors.append("\(error) (an index file the head does not list)")
                }
            }
        }

        // Dictionaries (format 2): each must open; blobs that name one are read under --read-data.
        for id in try dictionaryIDs() {
            do { _ = try Vault.readDictionary(backend: backend, id: id, vaultID: vaultID, keys: keys) } catch { report.errors.append("\(error)") }
        }

        // Versions: every chunk, tree piece and layout piece a live version refers to is in the
        // index. A subtree shared by several versions (format 2: the same tree pieces) is walked once.
        let listed = Set(try backend.ids(in: .versions))
        var used = UsedBlobs()
        for vid in head.live {
            report.versionsChecked += 1
            do {
                try markUsed(
                    version: vid, into: &used,
                    missing: { m in
                        let shown = m.path.isEmpty ? "(the root listing)" : TerminalText.escape(bytes: m.path)
                        report.errors.append("version \(vid.short): \(shown): \(m.kind) \(m.id.short) is not in the index")
                        report.damagedVersions[vid, default: []].append(shown)
                    },
                    damagedBelow: { path in
                        report.damagedVersions[vid, default: []].append(TerminalText.escape(bytes: path) + " (shared with a damaged version)")
                    })
            } catch {
                report.errors.append("\(error)")
                report.damagedVersions[vid, default: []].append("(the whole version: its manifest or a listing is unreadable)")
            }
        }
        let live = Set(head.live)
        let removed = Set(head.removed)
        report.unreferencedVersions = listed.filter { !live.contains($0) && !removed.contains($0) }.sorted()

        // Packs: presence and headers agree with the index.
        let stored = Set(try backend.ids(in: .packs))
        var byPack: [ObjectID: [(ObjectID, ChunkLocation)]] = [:]
        for (id, loc) in index.locations { byPack[loc.pack, default: []].append((id, loc)) }
        var badPacks = Set<ObjectID>()
        for pack in index.packs.sorted() {
            report.packsChecked += 1
            guard stored.contains(pack) else {
                report.errors.append("\(VaultFile.pack(pack).path): missing")
                badPacks.insert(pack)
                continue
            }
            do {
                let reader = try packReader(pack)
                let entries = try PackFormat.readHeader(packSize: reader.size, object: VaultFile.pack(pack).path, vaultID: vaultID, keys: keys) { off, len in
                    var b = [UInt8](repeating: 0, count: len)
                    try b.withUnsafeMutableBytes { try reader.read(into: $0, at: off) }
                    return b
                }
                var inHeader: [ObjectID: PackEntry] = [:]
                for e in entries where e.type != .padding { inHeader[e.id] = e }
                for (id, loc) in byPack[pack] ?? [] {
                    guard let e = inHeader[id], e.type == loc.type, e.offset == loc.offset, e.envelopeLength == loc.envelopeLength,
                          e.plainLength == loc.plainLength, e.flags == loc.flags else {
                        report.errors.append("\(VaultFile.pack(pack).path): index entry for chunk \(id.short) disagrees with the pack header")
                        badPacks.insert(pack)
                        continue
                    }
                }
            } catch {
                report.errors.append("\(error)")
                badPacks.insert(pack)
            }
        }
        report.unreferencedPacks = stored.subtracting(index.packs).sorted()

        // Full reads.
        if readDataFraction > 0 {
            var packs = index.packs.sorted().filter { !badPacks.contains($0) }
            if readDataFraction < 1 {
                var rng = SplitMix64(seed: seed ?? UInt64.random(in: 0...UInt64.max))
                packs.shuffle(using: &rng)
                packs = Array(packs.prefix(max(1, Int((Double(packs.count) * readDataFraction).rounded(.up)))))
            }
            // Packs in parallel, one per core (blobs in parallel when a single pack is read).
            var outcomes = [Result<UInt64, Error>?](repeating: nil, count: packs.count)
            let single = packs.count == 1
            outcomes.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                parallelFor(packs.count) { i in
                    base[i] = Result { try self.verifyPack(packs[i], parallelBlobs: single) }
                }
            }
            for (pack, outcome) in zip(packs, outcomes) {
                switch outcome! {
                case .success(let bytes):
                    report.bytesRead += bytes
                    report.packsRead += 1
                case .failure(let error):
                    report.errors.append("\(error)")
                    badPacks.insert(pack)
                }
            }
        }

        // Name the versions that lost data (a listing in a bad pack stops that version's walk).
        if !badPacks.isEmpty {
            func lost(_ id: ObjectID) -> Bool { index.location(of: id).map { badPacks.contains($0.pack) } ?? false }
            for vid in head.live {
                var names: [String] = []
                do {
                    let v = try version(vid)
                    if v.rootTree?.contains(where: lost) == true { names.append("(the root listing)") }
                    let walker = try walker(for: v, id: vid)
                    while let e = try walker.next() {
                        var hit = e.chunks.contains(where: lost) || e.subtree.contains(where: lost) || e.layoutIDs.contains(where: lost)
                        if !hit, e.type == .archive, let layout = try? ArchiveLayoutCursor(vault: self, entry: e) {
                            while !hit, let part = try? layout.nextPart() { part.forEachChunk { if lost($0) { hit = true } } }
                        }
                        if hit { names.append(e.displayPath) }
                    }
                } catch {
                    names.append("(a listing: \(error))")
                }
                for name in names where !(report.damagedVersions[vid]?.contains(name) ?? false) {
                    report.damagedVersions[vid, default: []].append(name)
                }
            }
        }
        return report
    }

    /// Reads a whole pack: its hash against its name, its header, and every blob. The pack is
    /// read into reused per-thread memory, so checking allocates nothing per pack or blob.
    func verifyPack(_ pack: ObjectID, parallelBlobs: Bool = true) throws -> UInt64 {
        let path = VaultFile.pack(pack).path
        let reader = try packReader(pack)
        let size = reader.size
        guard size <= PackFormat.maximumSize(target: config.packTargetSize) else {
            throw CofferError.integrity(object: path, reason: "\(size) bytes, larger than any pack of this vault may be")
        }
        return try BlobScratch.with { packScratch in
            let buffer = packScratch.fourth(size)
            try reader.read(into: buffer, at: 0)
            let all = UnsafeRawBufferPointer(buffer)
            guard ObjectID.hashing(all) == pack else { throw CofferError.integrity(object: path, reason: "content does not match its name") }
            let entries = try PackFormat.readHeader(packSize: size, object: path, vaultID: vaultID, keys: keys) { off, len in
                Array(all[off..<off + len])
            }
            var errors = [Error?](repeating: nil, count: entries.count)
            errors.withUnsafeMutableBufferPointer { errs in
                let eBase = errs.baseAddress!
                let verify = { (i: Int) in
                    let e = entries[i]
                    do {
                        try BlobScratch.with { scratch in
                            let plain = try BlobCrypto.open(
                                UnsafeRawBufferPointer(rebasing: all[e.offset..<e.offset + e.envelopeLength]), type: e.type, flags: e.flags, id: e.id,
                                plainLength: e.plainLength, keys: self.keys, zstd: e.type != .padding ? self.zstd : nil, object: path, verifyID: true,
                                scratch: scratch)
                            if e.type == .padding && !plain.allSatisfy({ $0 == 0 }) {
                                eBase[i] = CofferError.integrity(object: path, reason: "padding is not zeros")
                            }
                        }
                    } catch {
                        eBase[i] = error
                    }
                }
                if parallelBlobs { parallelFor(entries.count, verify) } else { for i in entries.indices { verify(i) } }
            }
            if let err = errors.lazy.compactMap({ $0 }).first { throw err }
            return UInt64(size)
        }
    }
}

/// A small seedable generator for reproducible sampling (`--seed`).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
