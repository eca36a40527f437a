@testable import CofferCore
@_spi(Fuzzing) import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Format 2's per-vault zstd dictionary: trained during the first seal with enough small
/// compressible chunks, used by later blobs (flags 3), checked, synced, never pruned.
@Suite struct DictionaryTests {
    /// A folder of `files` small CSV files (about 12 KB each, so one to three chunks each).
    static func csvFolder(_ root: String, files: Int, seed: UInt64) -> String {
        let dir = root + "/export"
        for i in 0..<files { T.write(dir + "/part-\(seed)-\(i).csv", T.csv(rows: 110, seed: seed &* 1000 &+ UInt64(i))) }
        return dir
    }

    /// The flags the index records for every chunk of `version`'s files that a writer may
    /// compress (64 bytes or more: a file's last chunk can be shorter, where the vault's keyed
    /// chunker happens to cut, and is then always stored raw).
    /// Restores `version` from a reopened vault into `root/restored` and expects the folder
    /// sealed from `input` back byte for byte; returns `check --read-data`'s report (not yet
    /// checked: callers expect it clean, or not).
    @discardableResult
    static func expectRestores(_ f: T.Fixture, _ version: ObjectID, input: String, check: Bool = true) throws -> CheckReport? {
        let v = try f.reopen()
        let out = f.root + "/restored"
        _ = try v.restore(version, to: out)
        #expect(T.tree(out + "/export").mapValues { $0.split(separator: ":").last! } == T.tree(input).mapValues { $0.split(separator: ":").last! })
        guard check else { return nil }
        let report = try v.check(readDataFraction: 1)
        #expect(report.isClean, "\(report.errors)")
        return report
    }

    static func flags(_ vault: Vault, _ version: ObjectID) throws -> [UInt8] {
        try vault.listing(version).flatMap { $0.chunks }.compactMap { vault.index.location(of: $0) }.filter { $0.plainLength >= 64 }.map(\.flags)
    }

    /// Two seals: the first trains the dictionary, the second's small chunks use it.
    static func sealedTwice() throws -> (f: T.Fixture, second: ObjectID, input: String, dictionary: ObjectID) {
        let f = try T.vault()
        #expect(f.vault.format == 2 && f.vault.usesDictionaries)
        let first = csvFolder(f.root + "/one", files: 48, seed: 1)
        _ = try f.vault.seal([first])
        let dicts = try f.vault.dictionaryIDs()
        #expect(dicts.count == 1, "the first seal stored about 560 KB of small CSV chunks: enough to train")
        let input = csvFolder(f.root + "/two", files: 24, seed: 2)
        let second = try f.vault.seal([input]).id
        return (f, second, input, dicts[0])
    }

    @Test func smallChunksUseTheDictionaryAndRestoreByteForByte() throws {
        let (f, second, input, dictionary) = try Self.sealedTwice()
        let flags = try Self.flags(f.vault, second)
        // Compressed chunks use the dictionary (flags 3, never zstd alone: flags 1). A chunk the
        // dictionary does not shrink is stored raw (flags 0) by rule; whether one occurs depends on
        // the vault's keyed chunk boundaries, so only most chunks are required to use it.
        #expect(flags.filter { $0 == BlobFlags.zstd | BlobFlags.dictionary }.count > flags.count / 2, "\(flags)")
        #expect(!flags.contains(BlobFlags.zstd), "\(flags)")
        // The dictionary file: write-once, named by its hash, kind 5.
        let file = T.read(f.path + "/" + VaultFile.dictionary(dictionary).path)!
        #expect(ObjectID.hashing(file) == dictionary && file[0] == MetaKind.dictionary.rawValue)

        let report = try Self.expectRestores(f, second, input: input)
        #expect((report?.packsRead ?? 0) > 0)
    }

    /// The seal that trains the dictionary compresses its own small chunks with it too: those
    /// sealed before training are sealed again while their packs are open, and restore and
    /// `check --read-data` read them.
    @Test func theTrainingSealsOwnChunksUseTheDictionary() throws {
        let f = try T.vault()
        let input = Self.csvFolder(f.root + "/one", files: 48, seed: 1)
        let first = try f.vault.seal([input]).id
        #expect(try f.vault.dictionaryIDs().count == 1)
        let flags = try Self.flags(f.vault, first)
        #expect(flags.filter { $0 == BlobFlags.zstd | BlobFlags.dictionary }.count > flags.count / 2, "\(flags)")
        #expect(!flags.contains(BlobFlags.zstd), "\(flags)")

        try Self.expectRestores(f, first, input: input)
    }

    /// Each `coffer seal` is a new process: a vault opened after the dictionary was trained must
    /// find it in `dicts/` and use it (the format-2 tree seal once skipped that step, so only the
    /// seal that trained the dictionary ever used it).
    @Test func aSealAfterReopeningUsesTheDictionary() throws {
        let f = try T.vault()
        _ = try f.vault.seal([Self.csvFolder(f.root + "/one", files: 48, seed: 1)])
        let dicts = try f.vault.dictionaryIDs()
        #expect(dicts.count == 1)
        let reopened = try f.reopen()
        let second = try reopened.seal([Self.csvFolder(f.root + "/two", files: 24, seed: 2)]).id
        // Every compressed chunk used the dictionary (flags 3, none zstd alone: flags 1); a short
        // chunk the dictionary does not shrink is stored raw (flags 0), by rule.
        let flags = try Self.flags(reopened, second)
        #expect(flags.filter { $0 == BlobFlags.zstd | BlobFlags.dictionary }.count > flags.count / 2, "\(flags)")
        #expect(!flags.contains(BlobFlags.zstd), "\(flags)")
        #expect(try reopened.dictionaryIDs() == dicts, "no second dictionary trained")
    }

    @Test func aTamperedDictionaryIsNamedByCheckAndRestore() throws {
        let (f, second, _, dictionary) = try Self.sealedTwice()
        let path = VaultFile.dictionary(dictionary).path
        T.flip(f.path + "/" + path, at: 60)
        let v = try f.reopen()
        let report = try v.check(readDataFraction: 1)
        #expect(report.errors.contains { $0.contains(path) && $0.contains("does not match its name") }, "\(report.errors)")
        let error = #expect(throws: CofferError.self) { try v.restore(second, to: f.root + "/restored") }
        #expect(error.map(T.isIntegrity) == true)
        #expect("\(error!)".contains(path))
    }

    @Test func aBlobNamingAMissingDictionaryIsAnIntegrityError() throws {
        let (f, second, _, dictionary) = try Self.sealedTwice()
        let path = VaultFile.dictionary(dictionary).path
        chmod(f.path + "/dicts", 0o700)
        #expect(unlink(f.path + "/" + path) == 0)
        let v = try f.reopen()
        let report = try v.check(readDataFraction: 1)
        #expect(report.errors.contains { $0.contains(path) && $0.contains("missing") }, "\(report.errors)")
        let error = #expect(throws: CofferError.self) { try v.restore(second, to: f.root + "/restored") }
        #expect(error.map(T.isIntegrity) == true && "\(error!)".contains(path))
    }

    /// Format 1 has no dictionaries: a reader without them refuses flags 3, as it refuses any
    /// unknown flag; a format-2 reader refuses a reference too short to name a dictionary.
    @Test func dictionaryFlagsAreRefusedWithoutDictionaries() throws {
        let keys = VaultKeys(master: SecureBytes.random(count: 32))
        let plain = T.csv(rows: 100, seed: 9)
        let id = plain.withUnsafeBytes { keys.chunkID(of: $0) }
        let payload = [UInt8](repeating: 7, count: 40)
        let env = AEAD.seal(payload, ad: BlobCrypto.ad(type: .data, flags: 3, id: id, plainLength: plain.count), key: keys.data)
        let formatOne = Zstd(level: 1)
        let e1 = #expect(throws: CofferError.self) {
            try BlobCrypto.open(env, type: .data, flags: 3, id: id, plainLength: plain.count, keys: keys, zstd: formatOne, object: "p")
        }
        #expect("\(e1!)".contains("unknown flags 3"))
        let formatTwo = Zstd(level: 1)
        formatTwo.dictionaries = ZstdDictionaryCache { id in throw CofferError.integrity(object: VaultFile.dictionary(id).path, reason: "missing") }
        let e2 = #expect(throws: CofferError.self) {
            try BlobCrypto.open(env, type: .data, flags: 3, id: id, plainLength: plain.count, keys: keys, zstd: formatTwo, object: "p")
        }
        #expect("\(e2!)".contains("dicts/0707070707"))
    }

    @Test func pruneKeepsAndSyncCopiesTheDictionary() throws {
        let (f, second, _, dictionary) = try Self.sealedTwice()
        try f.vault.forget(f.vault.head.live)
        _ = try f.vault.prune()
        #expect(try f.vault.dictionaryIDs() == [dictionary])
        #expect(second != dictionary)

        let (g, _, _, _) = try Self.sealedTwice()
        let dest = g.root + "/copy"
        _ = try g.vault.sync(to: LocalBackend(root: dest))
        let copy = try Vault.open(at: dest, passphrase: T.secret("pw"), state: nil)
        #expect(try copy.dictionaryIDs() == g.vault.dictionaryIDs())
        #expect(try copy.check(readDataFraction: 1).isClean)
    }

    @Test func aStrayNameInDictsIsReported() throws {
        let (f, _, _, _) = try Self.sealedTwice()
        chmod(f.path + "/dicts", 0o700)
        T.write(f.path + "/dicts/notes.txt", [1, 2, 3])
        let report = try f.reopen().check()
        #expect(report.errors.contains { $0.contains("dicts/notes.txt") && $0.contains("not a vault file name") })
        #expect(VaultFile(path: "dicts/" + String(repeating: "a", count: 64)) == .dictionary(ObjectID(hex: String(repeating: "a", count: 64))!))
        #expect(VaultFile(path: "dicts/" + String(repeating: "A", count: 64)) == nil)
    }

    /// The level of a seal's dictionary chunks is the candidate whose outputs were smaller over
    /// the first compressible chunks; incompressible chunks do not vote.
    /// The writer uses the dictionary up to and including 64 KiB, the small tier's largest chunk
    /// (a chunk cut at that maximum is about a fifth smaller with it), and not above.
    @Test func theDictionaryCoversChunksUpTo64KiB() throws {
        var samples: [UInt8] = []
        var sizes: [Int] = []
        for i in 0..<64 {
            let s = T.csv(rows: 60, seed: 500 + UInt64(i))
            samples += s
            sizes.append(s.count)
        }
        let bytes = try #require(ZstdDictionary.train(samples: samples, sizes: sizes, capacity: 16 << 10))
        let zstd = Zstd(level: 3)
        zstd.setWriterDictionary(try ZstdDictionary(id: ObjectID.hashing(bytes), bytes: bytes), levels: [3])
        var text: [UInt8] = []
        var seed: UInt64 = 900
        while text.count <= Zstd.dictionaryChunkLimit { text += T.csv(rows: 60, seed: seed); seed += 1 }
        var output = [UInt8](repeating: 0, count: Zstd.bound(text.count) + 64)
        func usesDictionary(_ n: Int) -> Bool? {
            text.withUnsafeBytes { t in
                output.withUnsafeMutableBytes { zstd.compressBlob(UnsafeRawBufferPointer(rebasing: t[0..<n]), into: $0)?.dictionary }
            }
        }
        #expect(Zstd.dictionaryChunkLimit == 64 << 10)
        #expect(usesDictionary(8 << 10) == true)
        #expect(usesDictionary(Zstd.dictionaryChunkLimit) == true)
        #expect(usesDictionary(Zstd.dictionaryChunkLimit + 1) == false)
    }

    @Test func dictionaryLevelsFollowTheSmallerOutputs() {
        let levels = DictionaryLevels(candidates: [3, 5])
        #expect(levels.level == nil)
        for _ in 0..<100 { levels.record(sizes: [990, 995], of: 1000) }  // random-like: no vote
        #expect(levels.level == nil)
        for i in 0..<DictionaryLevels.calibrationChunks {
            #expect(levels.level == nil)
            levels.record(sizes: [400, i == 0 ? 600 : 380], of: 1000)
        }
        #expect(levels.level == 5)
        levels.record(sizes: [100, 900], of: 1000)  // decided: later chunks do not change it
        #expect(levels.level == 5)
        #expect(DictionaryLevels(candidates: [9]).level == 9)
        #expect(Zstd(level: 1).dictionaryLevels(trainingSeal: true) == [1, 3])
        #expect(Zstd(level: 3).dictionaryLevels(trainingSeal: false) == [3, 5])
        #expect(Zstd(level: 12).dictionaryLevels(trainingSeal: false) == [12])
    }

    /// fuzz-dictionary: the seed round-trips and its dictionary carries the sample through the
    /// blob path; damaged bodies are refused with the reader's error, never trapped on.
    @Test func fuzzEntryPointDecodesAndRefuses() throws {
        let seed = try #require(FuzzingEntryPoints.dictionarySeed())
        let r = try FuzzingEntryPoints.dictionaryRoundTrip(seed)
        #expect(r.reencoded == seed && r.sample == FuzzingEntryPoints.dictionarySample)
        var badMagic = seed
        badMagic[5] ^= 0xFF
        var tables = seed
        for i in 13..<60 { tables[i] = 0xFF }  // entropy tables after the 8-byte zstd header
        _ = try? FuzzingEntryPoints.dictionaryRoundTrip(tables)  // refused or usable, never a trap
        let bodies: [[UInt8]] = [
            [], [1], [2] + seed.dropFirst(), Array(seed.dropLast()), seed + [0], badMagic,
            [1, 0xFF, 0xFF, 0xFF, 0x7F] + seed.dropFirst(5),  // a length above the limit
            [1, 8, 0, 0, 0] + Array(seed[5..<13]),  // a dictionary below the minimum size
        ]
        for body in bodies {
            #expect(throws: CofferError.self) { _ = try FuzzingEntryPoints.dictionaryRoundTrip(body) }
        }
    }
}
