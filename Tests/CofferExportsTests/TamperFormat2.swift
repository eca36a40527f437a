// TamperFormat2.swift: the tamper matrix's rows for what format 2 adds inside files: tree and
// layout pieces among a pack's blobs, the vault dictionary, the head's list of index files.
//
// The file-level rows (every byte flipped, truncated, deleted, swapped) already reach these
// objects: tree and layout pieces are blobs in packs, the dictionary is a file in `dicts/`. The
// rows here move whole blob envelopes inside packs, as storage could (it cannot read them, but it
// can cut and paste bytes), and forge what only a key holder could (a blob re-sealed under
// another type, a head listing other index files), so that the checks behind each refusal are
// exercised one at a time.

@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@testable import CofferExports

enum TamperFormat2 {
    /// Why the format-2 mutations that are not errors are not errors.
    static let extraDictionary =
        "a valid dictionary of this vault that no blob names is never read by restore; check loads it (it loads), "
        + "and a seal may pick it (the first name in byte order that loads) and compress with it, which stores correct blobs"

    /// A dictionary trained on CSV rows like the lab's, written into `dicts/` before the first seal,
    /// so every small chunk of the lab's seals that compresses uses it (flags 3). The lab's data is
    /// far below the 256 KiB a seal needs to train one itself. 2 KiB keeps the full matrix short.
    static func dictionaryBody(seed: UInt64) -> [UInt8] {
        var samples: [UInt8] = []
        var sizes: [Int] = []
        for i in 0..<48 {
            let chunk = TamperData.csv(rows: 12 + i % 9, seed: seed &+ UInt64(i))
            samples += chunk
            sizes.append(chunk.count)
        }
        return DictionaryFile.encode(ZstdDictionary.train(samples: samples, sizes: sizes, capacity: 2048)!)
    }

    @discardableResult
    static func plantDictionary(_ vault: Vault) throws -> ObjectID {
        try vault.writeMeta(dictionaryBody(seed: 500), kind: .dictionary)
    }

    /// One located blob: the pack file and its header entry.
    struct Blob {
        var pack: String
        var entry: PackEntry
        var range: Range<Int> { entry.offset..<entry.offset + entry.envelopeLength }
    }

    /// The format-2 rows, for the finished lab (`pristine` as it will be restored after each).
    static func rows(
        vault: Vault, pristine: [String: [UInt8]], packEntries: [String: [PackEntry]], prunedIndexFiles: [String: [UInt8]],
        pruneIndex: String
    ) throws -> [TamperMutation] {
        var out: [TamperMutation] = []
        func add(_ f: TamperFileKind, _ k: TamperMutationKind, put: [String: [UInt8]], remove: [String] = [], expect e: TamperExpectation = .detected, _ label: String) {
            out.append(TamperMutation(fileKind: f, kind: k, action: .replace(put: put, remove: remove), expectation: e, label: label))
        }
        let blobs = packEntries.keys.sorted().flatMap { p in packEntries[p]!.map { Blob(pack: p, entry: $0) } }
        func of(_ t: BlobType) -> [Blob] { blobs.filter { $0.entry.type == t } }
        let trees = of(.tree), layouts = of(.layout), data = of(.data)
        #expect(trees.count >= 2 && !layouts.isEmpty && !data.isEmpty, "the lab has tree pieces, layout pieces and data blobs")
        #expect(data.contains { $0.entry.flags == BlobFlags.zstd | BlobFlags.dictionary }, "the lab's small chunks use the dictionary")

        /// `into`'s pack with `bytes` written over `into`'s envelope (cut or zero-filled to its
        /// length: the header's offsets stay as they are, as storage must leave them).
        func pasted(_ into: Blob, _ bytes: [UInt8], base: [String: [UInt8]] = [:]) -> [String: [UInt8]] {
            var pack = base[into.pack] ?? pristine[into.pack]!
            var b = Array(bytes.prefix(into.entry.envelopeLength))
            b += [UInt8](repeating: 0, count: into.entry.envelopeLength - b.count)
            pack.replaceSubrange(into.range, with: b)
            var put = base
            put[into.pack] = pack
            return put
        }
        func envelope(_ b: Blob) -> [UInt8] { Array(pristine[b.pack]![b.range]) }
        func name(_ b: Blob) -> String { "\(b.entry.type) \(b.entry.id.short) (\(b.entry.envelopeLength) B in \(b.pack))" }

        // Storage cutting and pasting envelopes. Another tree piece of the vault: prefer one in
        // another pack and one of the same envelope length (offsets then stay right everywhere).
        let a = trees[0]
        let sameLength = trees.dropFirst().first { $0.entry.envelopeLength == a.entry.envelopeLength }
        let otherPack = trees.dropFirst().first { $0.pack != a.pack }
        for b in [sameLength, otherPack, trees[1]].compactMap({ $0 }).reduce(into: [Blob]()) { acc, b in
            if !acc.contains(where: { $0.pack == b.pack && $0.entry.offset == b.entry.offset }) { acc.append(b) }
        } {
            add(.pack, .blobMoved, put: pasted(a, envelope(b)), "tree piece \(name(a)) replaced by tree piece \(name(b))")
        }
        if let b = otherPack {
            add(.pack, .blobMoved, put: pasted(b, envelope(a), base: pasted(a, envelope(b))), "tree pieces \(name(a)) and \(name(b)) exchanged between their packs")
        }
        add(.pack, .blobMoved, put: pasted(a, envelope(data[0])), "tree piece \(name(a)) replaced by data blob \(name(data[0]))")
        add(.pack, .blobMoved, put: pasted(a, envelope(layouts[0])), "tree piece \(name(a)) replaced by layout piece \(name(layouts[0]))")
        add(.pack, .blobMoved, put: pasted(layouts[0], envelope(a)), "layout piece \(name(layouts[0])) replaced by tree piece \(name(a))")
        add(.pack, .blobMoved, put: pasted(data[0], envelope(a)), "data blob \(name(data[0])) replaced by tree piece \(name(a))")
        if let dictBlob = data.first(where: { $0.entry.flags == BlobFlags.zstd | BlobFlags.dictionary }),
           let plain = data.first(where: { $0.entry.flags != BlobFlags.zstd | BlobFlags.dictionary && $0.entry.id != dictBlob.entry.id }) {
            add(.pack, .blobMoved, put: pasted(dictBlob, envelope(plain)), "dictionary-compressed data blob \(name(dictBlob)) replaced by data blob \(name(plain))")
        }

        // A key holder re-sealing a blob in place (same length, so the header still fits): the
        // AD's type, or the keyed id of the plaintext, must refuse it.
        func opened(_ b: Blob) throws -> [UInt8] {
            try AEAD.open(envelope(b), ad: BlobCrypto.ad(type: b.entry.type, flags: b.entry.flags, id: b.entry.id, plainLength: b.entry.plainLength), key: vault.keys.data)
        }
        func resealed(_ b: Blob, type: BlobType, payload: [UInt8]) -> [UInt8] {
            AEAD.seal(payload, ad: BlobCrypto.ad(type: type, flags: b.entry.flags, id: b.entry.id, plainLength: b.entry.plainLength), key: vault.keys.data)
        }
        add(.pack, .forged, put: pasted(a, resealed(a, type: .data, payload: try opened(a))),
            "forged: tree piece \(name(a)) sealed as a data blob with the same id")
        add(.pack, .forged, put: pasted(layouts[0], resealed(layouts[0], type: .tree, payload: try opened(layouts[0]))),
            "forged: layout piece \(name(layouts[0])) sealed as a tree piece with the same id")
        add(.pack, .forged, put: pasted(data[0], resealed(data[0], type: .tree, payload: try opened(data[0]))),
            "forged: data blob \(name(data[0])) sealed as a tree piece with the same id")
        // Plaintext changed under a valid AD: only the keyed id (K_tree for pieces) can tell.
        for b in [a, layouts[0]] where b.entry.flags == 0 {
            var p = try opened(b)
            p[p.count / 2] ^= 0x01
            add(.pack, .forged, put: pasted(b, resealed(b, type: b.entry.type, payload: p)),
                "forged: \(name(b)) with one plaintext bit changed, sealed under its own id and a valid AD")
        }

        // The dictionary: another valid dictionary of this vault, under the used one's name
        // (a swap) and beside it; one sealed for another vault; none at all is the delete row.
        let dicts = pristine.keys.filter { $0.hasPrefix("dicts/") }.sorted()
        #expect(dicts.count == 1, "the lab has one dictionary")
        if let used = dicts.first {
            let other = MetaObject.seal(dictionaryBody(seed: 900), kind: .dictionary, vaultID: vault.vaultID, key: vault.keys.meta, zstd: vault.zstd)
            let otherPath = VaultFile.dictionary(ObjectID.hashing(other)).path
            add(.dictionary, .swapSame, put: [used: other], "another valid dictionary of this vault in place of \(used) (under its name)")
            add(.dictionary, .putBack, put: [otherPath: other], expect: .harmless(extraDictionary), "another valid dictionary of this vault added beside \(used)")
            add(.dictionary, .swapSame, put: [used: other, otherPath: pristine[used]!],
                "\(used) and another valid dictionary of this vault exchange their names")
            let foreign = MetaObject.seal(dictionaryBody(seed: 500), kind: .dictionary,
                                          vaultID: ObjectID(bytes: [UInt8](repeating: 0x77, count: 32)), key: vault.keys.meta, zstd: vault.zstd)
            add(.dictionary, .copyInto, put: [VaultFile.dictionary(ObjectID.hashing(foreign)).path: foreign],
                "a dictionary sealed for another vault id added to dicts/ (under its own hash)")
            add(.dictionary, .copyInto, put: [used: foreign], "a dictionary sealed for another vault id in place of \(used)")
        }

        // Index files and the head's list of them.
        if let old = prunedIndexFiles.keys.sorted().first, !pruneIndex.isEmpty {
            add(.index, .putBack, put: [pruneIndex: prunedIndexFiles[old]!], "replay: \(old)'s bytes (pruned) under the listed name \(pruneIndex)")
        }
        let head = vault.head
        let listed = head.indexFiles ?? []
        #expect(listed.count >= 2, "the format-2 head lists several index files: \(listed.count)")
        func forgedHead(_ indexFiles: [ObjectID]) -> (String, [UInt8]) {
            let h = Head(generation: head.generation + 1, previous: vault.headID, time: head.time + 60, live: head.live, removed: head.removed,
                         indexFiles: indexFiles)
            let file = MetaObject.seal(h.encode(), kind: .head, vaultID: vault.vaultID, key: vault.keys.meta, zstd: vault.zstd)
            return ("heads/" + Head.fileName(generation: h.generation, id: ObjectID.hashing(file)), file)
        }
        for (i, dropped) in listed.enumerated() {
            let (p, file) = forgedHead(listed.enumerated().filter { $0.offset != i }.map(\.element))
            add(.headCurrent, .forged, put: [p: file], "forged: a head one generation up without index file \(dropped.short) in its list")
        }
        if !pruneIndex.isEmpty, let pruneID = ObjectID(hex: String(pruneIndex.dropFirst("index/".count))) {
            let olds = prunedIndexFiles.keys.sorted().compactMap { ObjectID(hex: String($0.dropFirst("index/".count))) }
            let (p, file) = forgedHead(listed.filter { $0 != pruneID } + olds)
            add(.headCurrent, .forged, put: prunedIndexFiles.merging([p: file]) { x, _ in x },
                "forged: a head one generation up listing the \(olds.count) index files prune replaced (put back) instead of \(pruneIndex)")
            let (p2, file2) = forgedHead(listed + olds)
            add(.headCurrent, .forged, put: prunedIndexFiles.merging([p2: file2]) { x, _ in x },
                "forged: a head one generation up listing the \(olds.count) index files prune replaced (put back) beside the current ones")
        }
        let (p, file) = forgedHead(listed + [ObjectID(bytes: [UInt8](repeating: 0x42, count: 32))])
        add(.headCurrent, .forged, put: [p: file], "forged: a head one generation up listing an index file storage does not hold")
        return out
    }
}
