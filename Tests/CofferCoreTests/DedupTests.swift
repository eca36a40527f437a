@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct DedupTests {
    @Test func sealingTheSameDataAgainAddsUnderOnePercent() throws {
        let f = try T.vault()
        let a = T.scratch("a") + "/data"
        T.write(a + "/text.csv", T.csv(rows: 40_000, seed: 1))
        T.write(a + "/random.bin", T.bytes(3 << 20, seed: 2))
        let first = try f.vault.seal([a])
        // The same content under another folder: every file is read again, no chunk is new.
        let b = T.scratch("b") + "/data"
        T.write(b + "/text.csv", T.csv(rows: 40_000, seed: 1))
        T.write(b + "/random.bin", T.bytes(3 << 20, seed: 2))
        let second = try f.vault.seal([b])
        #expect(second.version.stats.bytesRead == first.version.stats.bytes)
        #expect(second.version.stats.addedChunks == 0)
        #expect(Double(second.version.stats.addedBytes) < 0.01 * Double(first.version.stats.addedBytes))
    }

    @Test func unchangedFilesAreNotReadAgain() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/export"
        T.write(dir + "/Connections.csv", T.csv(rows: 5_000, seed: 4))
        T.write(dir + "/messages.csv", T.csv(rows: 9_000, seed: 5))
        let first = try f.vault.seal([dir])
        #expect(first.version.stats.bytesRead == first.version.stats.bytes)
        let second = try f.reopen().seal([dir])
        #expect(second.version.stats.bytesRead == 0)
        #expect(second.version.stats.unchangedFiles == 2)
        #expect(try f.vault.listing(second.id) == f.vault.listing(first.id))
        // Touching one file makes it be read again, and only it.
        T.write(dir + "/messages.csv", T.csv(rows: 9_000, seed: 5))
        let third = try f.reopen().seal([dir])
        #expect(third.version.stats.bytesRead == UInt64(T.csv(rows: 9_000, seed: 5).count))
        #expect(third.version.stats.addedChunks == 0)
    }

    @Test func oneChangedRowInA500KBCSVAddsAtMostTwoChunks() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/e"
        var csv = T.csv(rows: 6_000, seed: 8)
        #expect(csv.count > 500_000)
        T.write(dir + "/Connections.csv", csv)
        _ = try f.vault.seal([dir])
        // Rewrite one row in place, in the middle (a job change).
        let text = String(decoding: csv, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[3_000] = lines[3_000].replacingOccurrences(of: "Engineer", with: "Director of Engineering")
        csv = Array(lines.joined(separator: "\n").utf8)
        T.write(dir + "/Connections.csv", csv)
        let r = try f.vault.seal([dir])
        #expect(r.version.stats.addedChunks >= 1)
        #expect(r.version.stats.addedChunks <= 2)
        let out = T.scratch("o")
        try f.vault.restore(r.id, to: out)
        #expect(T.read(out + "/e/Connections.csv") == csv)
    }

    @Test func rowsAddedAtTheTopCostLittle() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/e"
        let body = T.csv(rows: 20_000, seed: 11)
        T.write(dir + "/Connections.csv", body)
        let first = try f.vault.seal([dir])
        let header = Array("First Name,Last Name,URL,Email Address,Company,Position,Connected On\n".utf8)
        let newRows = Array(T.csv(rows: 30, seed: 12).dropFirst(header.count))
        T.write(dir + "/Connections.csv", header + newRows + Array(body.dropFirst(header.count)))
        let second = try f.vault.seal([dir])
        // The chunker resynchronises after the insertion: the cost is the new rows plus a few
        // chunks around them, not the 2 MB file (normalized chunking resynchronises at the next
        // boundary that passes the strict mask, about 64 KiB apart at these sizes).
        let tier = f.vault.config.tier(forFileSize: UInt64(body.count))
        #expect(first.version.stats.addedPlainBytes > 1_900_000)
        #expect(second.version.stats.addedPlainBytes <= UInt64(newRows.count + 4 * tier.max))
    }

    /// Format 2: a file whose first bytes do not compress is cut with the last tier's sizes; a
    /// text file of the same size keeps its tier's; the same random file sealed again deduplicates.
    @Test func incompressibleFilesTakeTheLargeTier() throws {
        let f = try T.vault()
        #expect(f.vault.format >= 2)
        let dir = T.scratch("in") + "/tiers"
        T.write(dir + "/random.bin", T.bytes(3 << 20, seed: 31))
        T.write(dir + "/text.csv", Array(T.csv(rows: 40_000, seed: 32).prefix(3 << 20)))
        let r = try f.vault.seal([dir])
        func chunkLengths(_ name: String) throws -> [Int] {
            let e = try #require(try f.vault.listing(r.id).first { $0.path.hasSuffix(name) })
            return e.chunks.compactMap { f.vault.index.location(of: $0)?.plainLength }
        }
        let large = f.vault.config.tiers.last!.sizes
        let small = f.vault.config.tier(forFileSize: 3 << 20)
        #expect(small != large)
        let random = try chunkLengths("random.bin"), text = try chunkLengths("text.csv")
        #expect(random.count <= (3 << 20) / large.min + 1 && random.dropLast().allSatisfy { $0 >= large.min }, "\(random)")
        #expect(text.count > (3 << 20) / small.max && text.allSatisfy { $0 <= small.max }, "\(text.count) chunks")
        // A copy of the random file under another name adds no chunk.
        T.write(dir + "/copy.bin", T.bytes(3 << 20, seed: 31))
        let again = try f.vault.seal([dir])
        #expect(again.version.stats.addedPlainBytes == 0)
    }

    @Test func chunksAreSpreadOverPacksAndPacksArePadded() throws {
        var o = T.cheap
        o.packTargetSize = 1 << 20
        // One tier: random data would otherwise take the large tier (Vault.chunkSizes) and fill
        // a few packs with 1 MiB chunks; this test is about many small chunks.
        o.tiers = [ChunkTier(maxFileSize: UInt64.max, sizes: ChunkSizes(min: 2 << 10, average: 8 << 10, max: 64 << 10))]
        let f = try T.vault(o)
        let dir = T.scratch("in") + "/many"
        T.write(dir + "/r.bin", T.bytes(6 << 20, seed: 21))
        let r = try f.vault.seal([dir])
        let packs = try f.vault.backend.list("packs")
        #expect(packs.count >= 5)
        for p in packs {
            // A pack that reached its 1 MiB target with many small chunks is padded to the full
            // pack's step (4 KiB here); a smaller one, the last of the seal, to its Padmé size.
            let size = try f.vault.backend.size("packs/" + p)!
            if size >= 1 << 20 {
                #expect(size % PackBuilder.fullPackStep(size) == 0)
            } else {
                #expect(Padme.padded(UInt64(size)) == UInt64(size))
            }
        }
        // Chunks of one file are not laid out in file order inside a pack.
        let entry = try #require(try f.vault.listing(r.id).first { $0.type == .file })
        let locs = entry.chunks.compactMap { f.vault.index.location(of: $0) }
        #expect(locs.count == entry.chunks.count)
        let samePack = Dictionary(grouping: locs, by: \.pack).values.max { $0.count < $1.count }!
        #expect(samePack.map(\.offset) != samePack.map(\.offset).sorted() || samePack.count < 3)
    }

    @Test func noStoredFileHasTheSizeOfAChunk() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/known"
        T.write(dir + "/known.bin", T.bytes(2 << 20, seed: 99))
        _ = try f.vault.seal([dir])
        let envSizes = Set(f.vault.index.locations.values.map(\.envelopeLength))
        for file in T.files(in: f.path) {
            let size = try f.vault.backend.size(file)!
            #expect(!envSizes.contains(size), "\(file) has the size of a single chunk envelope")
        }
    }
}
