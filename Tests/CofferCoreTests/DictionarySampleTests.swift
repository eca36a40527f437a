@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// How the first seal chooses its dictionary samples: every stream keeps a share whatever the
/// input order, the samples stay bounded, and the seal that trains compresses all of its small
/// chunks with the dictionary, also those in packs written before its end.
@Suite struct DictionarySampleTests {
    /// Text of another kind than ``T/csv(rows:seed:)``: message rows whose content is a few
    /// sentences of a small set.
    static func messages(rows: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let sentences = [
            "Thanks so much for reaching out about the opening on your team, I would love to set up a call next week.",
            "Congratulations on the new role! It has been a while since we worked together on the payments project.",
            "Hi there, I came across your profile and thought you might be a great fit for a senior position we have.",
            "Could you share a few times that work for you on Tuesday or Wednesday afternoon for a quick conversation?",
            "I am attaching my resume for your reference and look forward to hearing more about the interview process.",
            "Happy work anniversary! Hope everything is going well at the company and that the team is growing nicely.",
            "Unfortunately I am not looking for new opportunities right now, but please keep me in mind for the future.",
            "It was great meeting you at the conference last month; let us stay in touch and compare notes on the talk.",
        ]
        var s = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,DATE,SUBJECT,CONTENT,FOLDER\n"
        for i in 0..<rows {
            let content = (0..<(1 + Int(rng.next() % 3))).map { _ in sentences[Int(rng.next() % UInt64(sentences.count))] }.joined(separator: " ")
            s += "2-\(rng.next() % 1_000_000)==,,Member \(rng.next() % 500),https://www.linkedin.com/in/m\(i % 500),"
            s += "Me,2024-0\(1 + rng.next() % 9)-1\(rng.next() % 10),,\"\(content)\",INBOX\n"
        }
        return Array(s.utf8)
    }

    /// `bytes` cut into `size`-byte pieces (the last may be shorter).
    static func pieces(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min(bytes.count, $0 + size)]) }
    }

    /// The bytes zstd makes of `chunks` with `dictionary` at level 1, summed.
    static func compressed(_ chunks: [[UInt8]], with dictionary: [UInt8]) throws -> Int {
        let d = try ZstdDictionary(id: .zero, bytes: dictionary)
        let zstd = Zstd(level: 1)
        var total = 0
        for c in chunks {
            var out = [UInt8](repeating: 0, count: c.count + 1024)
            let n = c.withUnsafeBytes { i in out.withUnsafeMutableBytes { zstd.compress(i, into: $0, dictionary: d, level: 1) } }
            total += n ?? c.count
        }
        return total
    }

    /// A first stream of 1 MiB of one kind of text, then 3 MiB of another: the samples never
    /// exceed 1 MiB, the bulk keeps a share of them, and the dictionary they make compresses
    /// the bulk better than one made of the first MiB (what a seal trained on before).
    @Test func theBulkOfAnInputWhoseFirstMiBIsAnotherKindIsSampled() throws {
        let f = try T.vault()
        let trainer = try #require(DictionaryTrainer(vault: f.vault))
        let first = Self.pieces(T.csv(rows: 14000, seed: 1), size: 12 << 10)
        let bulk = Self.pieces(Self.messages(rows: 16000, seed: 2), size: 12 << 10)
        #expect(first.reduce(0) { $0 + $1.count } >= 1 << 20 && bulk.reduce(0) { $0 + $1.count } >= 3 << 20)
        let firstSize = UInt64(first.reduce(0) { $0 + $1.count }), bulkSize = UInt64(bulk.reduce(0) { $0 + $1.count })
        var most = 0
        for c in first { c.withUnsafeBytes { trainer.offer($0, stream: 1, streamSize: firstSize) }; most = max(most, trainer.heldBytes) }
        for c in bulk { c.withUnsafeBytes { trainer.offer($0, stream: 2, streamSize: bulkSize) }; most = max(most, trainer.heldBytes) }
        #expect(most <= DictionaryPolicy.sampleBytes, "samples bounded")
        #expect(trainer.heldBytes > DictionaryPolicy.sampleBytes - (12 << 10) && trainer.hasEnough)
        let share = trainer.bytesByStream
        #expect(share[2, default: 0] * 5 >= trainer.heldBytes * 2, "the bulk holds at least 40% of the samples: \(share)")
        #expect(share[1, default: 0] * 10 >= trainer.heldBytes, "the first stream keeps at least 10%: \(share)")

        let dictionary = try #require(trainer.trainedBytes())
        // The dictionary a seal trained on the first MiB of small chunks.
        var firstMiB: [[UInt8]] = []
        for c in first + bulk where firstMiB.reduce(0, { $0 + $1.count }) < DictionaryPolicy.sampleBytes { firstMiB.append(c) }
        let old = try #require(ZstdDictionary.train(
            samples: firstMiB.flatMap { $0 }, sizes: firstMiB.map(\.count), capacity: DictionaryPolicy.capacity(forSampleBytes: 1 << 20)))
        let later = Self.pieces(Self.messages(rows: 3000, seed: 3), size: 12 << 10)
        let now = try Self.compressed(later, with: dictionary), before = try Self.compressed(later, with: old)
        #expect(now * 100 < before * 90, "the bulk's kind compresses to \(now) bytes with the new samples' dictionary, \(before) with the first MiB's")
    }

    /// Streams of 2, 1 and 0.5 MiB: the samples stay within 1 MiB after every offer and end in
    /// proportion to the streams' sizes, in either order; a chunk of 64 KiB or more is never one.
    @Test func samplesEndInProportionToStreamSizesWhateverTheOrder() throws {
        let f = try T.vault()
        let piece = 8 << 10
        let sizes = [1: 2 << 20, 2: 1 << 20, 3: 512 << 10]
        var shares: [[Int: Int]] = []
        for order in [[1, 2, 3], [3, 2, 1]] {
            let trainer = try #require(DictionaryTrainer(vault: f.vault))
            var most = 0
            for s in order {
                for c in Self.pieces(T.bytes(sizes[s]!, seed: UInt64(s)), size: piece) {
                    c.withUnsafeBytes { trainer.offer($0, stream: s, streamSize: UInt64(sizes[s]!)) }
                    most = max(most, trainer.heldBytes)
                }
            }
            #expect(most <= DictionaryPolicy.sampleBytes)
            #expect(trainer.heldBytes > DictionaryPolicy.sampleBytes - piece)
            let share = trainer.bytesByStream
            // 4/7, 2/7 and 1/7 of 1 MiB, each within one piece.
            for (s, parts) in [(1, 4), (2, 2), (3, 1)] {
                #expect(abs(share[s, default: 0] - DictionaryPolicy.sampleBytes * parts / 7) <= piece, "stream \(s): \(share)")
            }
            shares.append(share)
            let big = [UInt8](repeating: 65, count: DictionaryPolicy.smallChunk)
            let before = trainer.heldBytes
            big.withUnsafeBytes { trainer.offer($0, stream: 99, streamSize: UInt64(big.count)) }
            #expect(trainer.heldBytes == before && trainer.bytesByStream[99] == nil)
        }
        for s in 1...3 { #expect(abs(shares[0][s, default: 0] - shares[1][s, default: 0]) <= piece, "the same shares whatever the order: \(shares)") }
    }

    /// A first seal larger than its open packs writes packs before its end: training happens
    /// before the first of them is written, so every small compressed chunk of the seal, in
    /// every pack, uses the dictionary; the seal restores byte for byte and checks clean.
    @Test func aFirstSealThatWritesSeveralPacksUsesTheDictionaryInAll() throws {
        var o = T.cheap
        o.packTargetSize = 64 << 10
        let f = try T.vault(o)
        let input = DictionaryTests.csvFolder(f.root + "/one", files: 220, seed: 4)
        let first = try f.vault.seal([input]).id
        #expect(try f.vault.dictionaryIDs().count == 1)
        #expect(T.files(in: f.path).filter { $0.hasPrefix("packs/") }.count > o.openPacks + 1, "packs were written before the seal's end")
        let flags = try DictionaryTests.flags(f.vault, first)
        #expect(flags.filter { $0 == BlobFlags.zstd | BlobFlags.dictionary }.count > flags.count * 9 / 10, "\(flags)")
        #expect(!flags.contains(BlobFlags.zstd), "no small chunk left without the dictionary: \(flags)")

        try DictionaryTests.expectRestores(f, first, input: input)
    }

    /// A first seal with too few small chunks trains nothing and still seals: its chunks are
    /// plain zstd, it restores byte for byte, and the next seal may train.
    @Test func aFirstSealTooSmallToTrainStillSeals() throws {
        let f = try T.vault()
        let input = DictionaryTests.csvFolder(f.root + "/one", files: 8, seed: 5)
        let first = try f.vault.seal([input]).id
        #expect(try f.vault.dictionaryIDs().isEmpty)
        #expect(try DictionaryTests.flags(f.vault, first).contains(BlobFlags.zstd))
        try DictionaryTests.expectRestores(f, first, input: input, check: false)
        _ = try f.vault.seal([DictionaryTests.csvFolder(f.root + "/two", files: 48, seed: 6)])
        #expect(try f.vault.dictionaryIDs().count == 1)
    }
}
