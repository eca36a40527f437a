@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Format-2 index files (entry counts bucketed, blob type per entry) and heads that list the
/// current index files; format-1 vaults keep writing format-1 files.
@Suite struct IndexHeadTests {
    /// The names in `index/`.
    static func indexNames(_ vault: String) -> Set<String> {
        Set(T.files(in: vault).filter { $0.hasPrefix("index/") })
    }

    static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : -1
    }

    /// The decrypted body of `index/<id>`.
    static func indexBody(_ v: Vault, _ id: ObjectID) throws -> [UInt8] {
        try Vault.readMeta(backend: v.backend, file: .index(id), kind: .index, vaultID: v.vaultID, keys: v.keys, zstd: v.zstd)
    }

    /// The decrypted body of the vault's current head.
    static func headBody(_ v: Vault) throws -> [UInt8] {
        try Vault.readMeta(
            backend: v.backend, file: .head(generation: v.head.generation, id: v.headID), kind: .head, vaultID: v.vaultID, keys: v.keys, zstd: v.zstd)
    }

    /// Seals `count` small files (one chunk each) with contents no other seal has; returns the
    /// index file the seal wrote.
    static func sealSmallFiles(_ f: T.Fixture, _ v: Vault, count: Int, seed: UInt64) throws -> (version: SealResult, index: String) {
        let before = indexNames(f.path)
        let dir = T.scratch("in") + "/d\(seed)"
        for i in 0..<count { T.write(dir + "/f\(i).bin", T.bytes(1_000, seed: seed * 1_000 + UInt64(i))) }
        let r = try v.seal([dir])
        let new = indexNames(f.path).subtracting(before)
        try #require(new.count == 1)
        return (r, new.first!)
    }

    // MARK: Bucketed index

    @Test("format 2: seals adding 1 and 20 chunks write index files of the same size; format 1 shows the count")
    func bucketedSizes() throws {
        let f = try T.vault(format: 2)
        #expect(f.vault.format == 2)
        let one = try Self.sealSmallFiles(f, f.vault, count: 1, seed: 1)
        let twenty = try Self.sealSmallFiles(f, f.vault, count: 20, seed: 2)
        #expect(one.version.version.stats.addedChunks == 1)
        #expect(twenty.version.version.stats.addedChunks == 20)
        let a = Self.size(f.path + "/" + one.index), b = Self.size(f.path + "/" + twenty.index)
        #expect(a > 0 && a == b, "index files of 1 and 20 chunks: \(a) and \(b) bytes")

        // The body: version 2, one pack, 46 bytes per entry bucketed to 32, zeros after the
        // entries: the 20 chunks and the seal's new tree pieces (the listings that changed).
        let id = try #require(ObjectID(hex: String(twenty.index.dropFirst("index/".count))))
        let body = try Self.indexBody(f.vault, id)
        #expect(body[0] == 2)
        #expect(body.count == 5 + 36 + 46 * 32)
        let file = try IndexFile.decode(body)
        try #require(file.packs.count == 1)
        let entries = file.packs[0].entries
        #expect(entries.filter { $0.type == .data }.count == 20)
        #expect(entries.contains { $0.type == .tree })
        #expect(entries.allSatisfy { $0.type == .data || $0.type == .tree })
        #expect(body[(5 + 36 + 46 * entries.count)...].allSatisfy { $0 == 0 })
        #expect(try f.reopen().check(readDataFraction: 1).isClean)

        // Format 1 for comparison: 45 bytes a chunk, so the two files differ in size.
        let g = try T.vault(format: 1)
        let one1 = try Self.sealSmallFiles(g, g.vault, count: 1, seed: 1)
        let twenty1 = try Self.sealSmallFiles(g, g.vault, count: 20, seed: 2)
        let a1 = Self.size(g.path + "/" + one1.index), b1 = Self.size(g.path + "/" + twenty1.index)
        #expect(a1 < b1)
        print("index file of 1 and 20 chunks: format 2 \(a) and \(b) bytes; format 1 \(a1) and \(b1) bytes")
    }

    @Test("bucket sizes: 32 entries share one size, 33 take the next bucket")
    func bucketBoundaries() throws {
        func entries(_ n: Int) -> [PackEntry] {
            (0..<n).map { PackEntry(type: .data, flags: 0, id: ObjectID.hashing([UInt8(n & 0xFF), UInt8(n >> 8), UInt8($0 & 0xFF), UInt8($0 >> 8)]), offset: $0 * 100, envelopeLength: 100, plainLength: 60) }
        }
        let pack = ObjectID.hashing([9])
        for (n, bucket) in [(0, 32), (1, 32), (32, 32), (33, 64), (1000, 1024)] {
            let file = IndexFile(bodyVersion: 2, packs: n == 0 ? [] : [(pack, entries(n))])
            let body = file.encode()
            #expect(body.count == 5 + (n == 0 ? 0 : 36) + 46 * bucket, "\(n) entries")
            let back = try IndexFile.decode(body)
            #expect(back.packs.first?.entries == file.packs.first?.entries)
        }
    }

    @Test("a body_version 2 index is refused when its padding or counts are inconsistent")
    func readerChecks() throws {
        let pack = ObjectID.hashing([1])
        let e = PackEntry(type: .data, flags: 1, id: ObjectID.hashing([2]), offset: 0, envelopeLength: 100, plainLength: 80)
        let good = IndexFile(bodyVersion: 2, packs: [(pack, [e])]).encode()
        _ = try IndexFile.decode(good)
        var nonzero = good
        nonzero[nonzero.count - 1] = 1
        #expect(throws: FormatError.self) { try IndexFile.decode(nonzero) }
        #expect(throws: FormatError.self) { try IndexFile.decode(Array(good.dropLast(46))) }  // the bucket of one entry is 32
        #expect(throws: FormatError.self) { try IndexFile.decode(good + [UInt8](repeating: 0, count: 46)) }
        var padding = good
        padding[41] = BlobType.padding.rawValue  // the first entry's type
        #expect(throws: FormatError.self) { try IndexFile.decode(padding) }
        var unknown = good
        unknown[41] = 0xEE
        #expect(throws: FormatError.self) { try IndexFile.decode(unknown) }
        let twice = IndexFile(bodyVersion: 2, packs: [(pack, [e]), (pack, [e])]).encode()
        #expect(throws: FormatError.self) { try IndexFile.decode(twice) }
        let empty = IndexFile(bodyVersion: 2, packs: [(pack, [])]).encode()
        #expect(throws: FormatError.self) { try IndexFile.decode(empty) }
        // body_version 3 is a newer coffer's.
        var newer = good
        newer[0] = 3
        #expect(throws: FormatError.self) { try IndexFile.decode(newer) }
        #expect((try? IndexFile.decode(newer)) == nil)
    }

    @Test("more than 2^20 entries are split into several index files, a pack never across two")
    func splitting() {
        let big = (0..<3).map { p in
            (pack: ObjectID.hashing([UInt8(p)]), entries: [PackEntry](repeating: PackEntry(type: .data, flags: 0, id: .zero, offset: 0, envelopeLength: 40, plainLength: 0), count: 400_000))
        }
        let files = IndexFile.bodyVersion2Files(big)
        #expect(files.map { $0.packs.count } == [2, 1])
        #expect(files.allSatisfy { $0.bodyVersion == 2 && $0.packs.reduce(0) { $0 + $1.entries.count } <= IndexFile.maximumEntries })
        #expect(IndexFile.bodyVersion2Files([]).count == 1)
    }

    @Test("whole packs are split between index files when their buckets waste less, every pack in one file")
    func splittingByBucket() throws {
        // The entry counts of the packs of one seal of the mixed corpus: 2,119 entries, which one
        // file pads to 4,096.
        let counts = [151, 166, 109, 113, 422, 223, 354, 581]
        let packs = counts.enumerated().map { i, n in
            (pack: ObjectID.hashing([UInt8(i)]), entries: [PackEntry](repeating: PackEntry(type: .data, flags: 0, id: .zero, offset: 0, envelopeLength: 40, plainLength: 0), count: n))
        }
        let files = IndexFile.bodyVersion2Files(packs)
        let sums = files.map { $0.packs.reduce(0) { $0 + $1.entries.count } }
        #expect(sums.reduce(0, +) == 2119)
        #expect(files.count == 2)
        #expect(sums.map { PackFormat.bucket($0) }.reduce(0, +) < 4096)
        #expect(Set(files.flatMap { $0.packs.map(\.pack) }) == Set(packs.map(\.pack)))
        #expect(files.flatMap { $0.packs }.count == packs.count)
        // Every file decodes as written.
        for f in files { #expect(try IndexFile.decode(f.encode()).packs.count == f.packs.count) }
        // A seal's entries already near a power of two, and a single pack, stay in one file.
        #expect(IndexFile.bodyVersion2Files(Array(packs.prefix(1))).count == 1)
        let near = [(pack: ObjectID.hashing([9]), entries: [PackEntry](repeating: packs[0].entries[0], count: 1000)),
                    (pack: ObjectID.hashing([10]), entries: [PackEntry](repeating: packs[0].entries[0], count: 20))]
        #expect(IndexFile.bodyVersion2Files(near).count == 1)
    }

    // MARK: The head lists the index files

    @Test("format 2: seal appends its index to the head, forget carries the list, prune lists exactly what it leaves")
    func headListsIndexFiles() throws {
        let f = try T.vault(format: 2)
        #expect(f.vault.head.indexFiles == [])
        #expect(try Self.headBody(f.vault)[0] == 2)
        let a = try Self.sealSmallFiles(f, f.vault, count: 3, seed: 3)
        let b = try Self.sealSmallFiles(f, f.vault, count: 3, seed: 4)
        let listed = try #require(f.vault.head.indexFiles)
        #expect(listed.map { "index/" + $0.hex } == [a.index, b.index])
        // A seal that adds nothing (b's folder again: no new chunk, no new tree piece) writes no
        // index and carries the list over.
        let again = try f.vault.seal(b.version.version.paths)
        #expect(again.version.stats.addedChunks == 0 && again.version.stats.addedTreePieces == 0)
        #expect(f.vault.head.indexFiles == listed)

        try f.vault.forget([a.version.id])
        #expect(f.vault.head.indexFiles == listed)
        let generation = f.vault.head.generation
        let report = try f.vault.prune(options: { var o = PruneOptions(); o.repackThreshold = 0; return o }())
        #expect(report.packsDeleted + report.packsRepacked >= 1)
        #expect(f.vault.head.generation == generation + 1)
        let after = try #require(f.vault.head.indexFiles)
        #expect(Set(after.map { "index/" + $0.hex }) == Self.indexNames(f.path))
        #expect(!after.contains { listed.contains($0) })

        let v = try f.reopen()
        #expect(v.head.indexFiles == after)
        let check = try v.check(readDataFraction: 1)
        #expect(check.isClean && check.unlistedIndexFiles.isEmpty)
        let out = T.scratch("out")
        try v.restore(b.version.id, to: out)
        #expect(T.read(out + "/d4/f0.bin") == T.bytes(1_000, seed: 4_000))
    }

    @Test("format 1: seal writes body_version 1 index and head files, and prune writes no head")
    func formatOneKeepsFormatOneFiles() throws {
        let f = try T.vault(format: 1)
        #expect(f.vault.format == 1)
        #expect(f.vault.head.indexFiles == nil)
        let a = try Self.sealSmallFiles(f, f.vault, count: 3, seed: 5)
        #expect(f.vault.head.indexFiles == nil)
        #expect(try Self.headBody(f.vault)[0] == 1)
        let id = try #require(ObjectID(hex: String(a.index.dropFirst("index/".count))))
        let body = try Self.indexBody(f.vault, id)
        #expect(body[0] == 1)
        #expect(body.count == 5 + 36 + 45 * 3)
        try f.vault.forget([a.version.id])
        let generation = f.vault.head.generation
        _ = try f.vault.prune()
        #expect(f.vault.head.generation == generation)
        let v = try f.reopen()
        #expect(v.format == 1 && v.head.indexFiles == nil)
        #expect(try v.check().isClean)
    }

    // MARK: Index files the head does not list

    @Test("format 2: an old index put back after prune is not loaded, check names it, a seal stores its chunks anew, prune removes it")
    func replayedIndexIsNotLoaded() throws {
        let f = try T.vault(format: 2)
        let dir = T.scratch("in") + "/d"
        let content = T.bytes(300_000, seed: 8)
        T.write(dir + "/a.bin", content)
        let first = try f.vault.seal([dir])
        let oldIndex = Self.indexNames(f.path).map { ($0, T.read(f.path + "/" + $0)!) }
        try #require(oldIndex.count == 1)
        try f.vault.forget([first.id])
        _ = try f.vault.prune()
        #expect(try f.vault.backend.list("packs").isEmpty)
        for (name, bytes) in oldIndex { T.write(f.path + "/" + name, bytes, mode: 0o400) }

        let v = try f.reopen()
        #expect(v.index.count == 0)
        let check = try v.check()
        #expect(check.isClean)
        #expect(check.unlistedIndexFiles.map { "index/" + $0.hex } == [oldIndex[0].0])

        // The seal does not deduplicate against the replayed index: its chunks are stored anew,
        // with no note (nothing was wrong with what the head lists), in packs that exist.
        let again = try v.seal([dir])
        #expect(again.version.stats.addedChunks > 0)
        #expect(!again.version.notes.contains { $0.contains("storage does not hold") })
        let stored = Set(try v.backend.ids(in: .packs))
        for e in try v.listing(again.id) { for c in e.storedChunks { #expect(v.index.location(of: c).map { stored.contains($0.pack) } == true) } }
        let out = T.scratch("o")
        try v.restore(again.id, to: out)
        #expect(T.read(out + "/d/a.bin") == content)

        let report = try v.prune()
        #expect(report.indexFilesReplaced >= 1)
        #expect(!Self.indexNames(f.path).contains(oldIndex[0].0))
        let after = try f.reopen().check(readDataFraction: 1)
        #expect(after.isClean && after.unlistedIndexFiles.isEmpty)
    }

    @Test("format 2: the index of a seal that died before its head is not loaded; check names it, prune removes it and its packs")
    func interruptedSealIndexIsUnlisted() throws {
        let f = try T.vault(format: 2)
        _ = try Self.sealSmallFiles(f, f.vault, count: 2, seed: 10)
        // A second seal that dies after its index and version: its head is taken away again (a
        // copy of the vault as it was before that head, opened by another machine).
        let headsBefore = Set(T.files(in: f.path).filter { $0.hasPrefix("heads/") })
        let dead = try Self.sealSmallFiles(f, f.vault, count: 5, seed: 11)
        for h in Set(T.files(in: f.path).filter { $0.hasPrefix("heads/") }).subtracting(headsBefore) { unlink(f.path + "/" + h) }
        let deadPacks = Set(try f.vault.backend.ids(in: .packs)).subtracting(try f.reopenFresh().index.packs)

        let v = try f.reopenFresh()
        #expect(!deadPacks.isEmpty)
        #expect(!v.index.packs.contains { deadPacks.contains($0) })
        let check = try v.check()
        #expect(check.isClean)
        #expect(check.unlistedIndexFiles.map { "index/" + $0.hex } == [dead.index])
        #expect(Set(check.unreferencedPacks) == deadPacks)

        // New packs are kept by default (a writer may still be committing them); these are a
        // dead seal's, so no age is asked for.
        #expect(try v.prune().unreferencedPacksKept == deadPacks.count)
        var options = PruneOptions()
        options.minimumAge = 0
        let report = try v.prune(options: options)
        #expect(report.unreferencedPacksDeleted == deadPacks.count)
        #expect(!Self.indexNames(f.path).contains(dead.index))
        #expect(Set(try v.backend.ids(in: .packs)).isDisjoint(with: deadPacks))
        let after = try f.reopenFresh().check(readDataFraction: 1)
        #expect(after.isClean && after.unlistedIndexFiles.isEmpty && after.unreferencedPacks.isEmpty)
    }

    @Test("format 2: a listed index file missing or damaged is an integrity error naming it")
    func listedIndexMissingOrDamaged() throws {
        let f = try T.vault(format: 2)
        let a = try Self.sealSmallFiles(f, f.vault, count: 2, seed: 12)
        let path = f.path + "/" + a.index
        let bytes = try #require(T.read(path))

        T.flip(path, at: 100)
        #expect {
            try f.reopen()
        } throws: { e in
            guard case CofferError.integrity(let object, let reason) = e else { return false }
            return object == a.index && reason.contains("the current head lists it")
        }

        unlink(path)
        #expect {
            try f.reopen()
        } throws: { e in
            guard case CofferError.integrity(let object, let reason) = e else { return false }
            return object == a.index && reason.contains("missing")
        }
        T.write(path, bytes, mode: 0o400)
        #expect(try f.reopen().check().isClean)
    }

    @Test("format 2: a current head of body_version 1 is an unfinished upgrade: read with every index file, writers refuse")
    func formatTwoWithAVersionOneHead() throws {
        let f = try T.vault(format: 2)
        let v = f.vault
        let old = Head(generation: v.head.generation + 1, previous: v.headID, time: 1, live: v.head.live, removed: [])
        let file = MetaObject.seal(old.encode(), kind: .head, vaultID: v.vaultID, key: v.keys.meta, zstd: v.zstd)
        try v.backend.write(.head(generation: old.generation, id: ObjectID.hashing(file)), file)
        let reopened = try f.reopen()
        #expect(reopened.upgradeInProgress)
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("a".utf8))
        #expect { try reopened.seal([dir]) } throws: { e in
            guard case CofferError.upgradeUnfinished = e else { return false }
            return true
        }
    }

    @Test("the body_version 2 seeds of the index and head fuzz targets decode and encode back to themselves")
    func fuzzSeeds() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .path + "/Fuzz/Corpus"
        var seen = 0
        for (folder, roundTrip) in [("index", { try IndexFile.decode($0).encode() }), ("head", { try Head.decode($0).encode() })] as [(String, ([UInt8]) throws -> [UInt8])] {
            for name in try FileManager.default.contentsOfDirectory(atPath: corpus + "/" + folder) where name.hasPrefix("synthetic-v2-") {
                let body = try #require(T.read(corpus + "/" + folder + "/" + name))
                #expect(body[0] == 2, "\(folder)/\(name)")
                #expect(try roundTrip(body) == body, "\(folder)/\(name)")
                seen += 1
            }
        }
        #expect(seen >= 4)
    }

    @Test("head bodies round-trip in both versions; a duplicated index file is refused")
    func headEncoding() throws {
        let ids = (0..<3).map { ObjectID.hashing([UInt8($0)]) }
        let v1 = Head(generation: 2, previous: ids[0], time: 5, live: [ids[1]], removed: [])
        #expect(try Head.decode(v1.encode()) == v1)
        #expect(v1.encode()[0] == 1)
        let v2 = Head(generation: 2, previous: ids[0], time: 5, live: [ids[1]], removed: [ids[2]], indexFiles: [ids[2], ids[1]])
        #expect(v2.encode()[0] == 2)
        #expect(v2.encode().count == v1.encode().count + 32 + 4 + 64)  // one removed id, the index list
        #expect(try Head.decode(v2.encode()) == v2)
        let empty = Head(generation: 1, previous: .zero, time: 5, live: [], removed: [], indexFiles: [])
        #expect(try Head.decode(empty.encode()).indexFiles == [])
        var twice = v2
        twice.indexFiles = [ids[1], ids[1]]
        #expect(throws: FormatError.self) { try Head.decode(twice.encode()) }
        var truncated = v2.encode()
        truncated.removeLast()
        #expect(throws: FormatError.self) { try Head.decode(truncated) }
        var newer = v2.encode()
        newer[0] = 3
        #expect(throws: FormatError.self) { try Head.decode(newer) }
    }
}

extension T.Fixture {
    /// The vault opened as by another machine (a rollback state of its own).
    func reopenFresh() throws -> Vault {
        try Vault.open(at: path, passphrase: T.secret("pw"), state: RollbackState(directory: T.scratch("state")))
    }
}
