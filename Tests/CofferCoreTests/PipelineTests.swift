@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// The sealing pipeline's building blocks: compression choices, pack filling, and a seal that
/// spans many batches.
@Suite struct PipelineTests {
    @Test func incompressibleChunksAreStoredRawAndTextIsCompressed() throws {
        let f = try T.vault()
        let keys = f.vault.keys
        for (plain, compressed) in [(T.bytes(256 << 10, seed: 1), false), (T.csv(rows: 3000, seed: 2), true), (T.csv(rows: 100, seed: 3), true)] {
            let id = plain.withUnsafeBytes { keys.chunkID(of: $0) }
            let blob = try plain.withUnsafeBytes { try BlobCrypto.seal($0, id: id, type: .data, keys: keys, zstd: f.vault.zstd) }
            #expect((blob.flags == BlobFlags.zstd) == compressed)
            if !compressed { #expect(blob.envelope.count == plain.count + AEAD.overhead) }
            let back = try BlobCrypto.open(blob.envelope, type: .data, flags: blob.flags, id: id, plainLength: plain.count, keys: keys, zstd: f.vault.zstd, object: "t")
            #expect(back == plain)
        }
        // A chunk that starts random but is mostly text is still compressed: only when both
        // samples fail is the full attempt skipped.
        var mixed = T.bytes(8192, seed: 4)
        mixed += T.csv(rows: 4000, seed: 5)
        let work = UnsafeMutableRawBufferPointer.allocate(byteCount: mixed.count, alignment: 8)
        defer { work.deallocate() }
        let n = mixed.withUnsafeBytes { f.vault.zstd.compressChunk($0, into: work) }
        #expect(n != nil && n! < mixed.count / 2)
    }

    @Test func smallChunksUseLevelOneAtDefaultLevels() {
        #expect(Zstd(level: 3).level(forChunkOf: 16 << 10) == 1)
        #expect(Zstd(level: 3).level(forChunkOf: 1 << 20) == 3)
        #expect(Zstd(level: 1).level(forChunkOf: 1 << 20) == 1)
        #expect(Zstd(level: 9).level(forChunkOf: 16 << 10) == 9)
    }

    @Test func aPackPastItsTargetTakesBlobsOnlyWhileItsPaddedSizeStays() {
        let target = 1 << 20
        let p = PackBuilder()
        let blob = [UInt8](repeating: 7, count: 3000)
        var added = 0
        while !p.isFull(before: blob.count, target: target) {
            let before = PackBuilder.finishedSize(blobs: added, bytes: p.byteCount)
            p.add(type: .data, flags: 0, id: ObjectID.hashing([UInt8(added & 0xFF), UInt8(added >> 8)]), plainLength: 2960, envelope: blob)
            added += 1
            if p.byteCount - blob.count >= target {
                // Past the target, a blob was accepted only without growing the finished size.
                #expect(PackBuilder.finishedSize(blobs: added, bytes: p.byteCount) == before)
            }
        }
        #expect(p.byteCount >= target)
        // What is left for padding is less than one more blob (plus the header growth it brings).
        let finished = PackBuilder.finishedSize(blobs: added, bytes: p.byteCount)
        #expect(finished - p.byteCount - PackFormat.headerEnvelopeLength(entries: added + 1) - 44 < blob.count + 46)
    }

    @Test func aFullPackOfManyBlobsIsPaddedInFineSteps() {
        let target = 1 << 20
        let p = PackBuilder(target: target)
        let blob = [UInt8](repeating: 7, count: 3000)
        var added = 0
        while !p.isFull(before: blob.count, target: target) {
            p.add(type: .data, flags: 0, id: ObjectID.hashing([UInt8(added & 0xFF), UInt8(added >> 8)]), plainLength: 2960, envelope: blob)
            added += 1
        }
        let base = p.byteCount + PackFormat.headerEnvelopeLength(entries: added + 1) + 44
        let finished = p.finishedSize()
        // 4 KiB steps at 1 MiB instead of Padmé's 32 KiB: less than one step of padding.
        #expect(PackBuilder.fullPackStep(base) == 4096)
        #expect(finished % 4096 == 0 && finished >= base && finished - base < 4096)
        #expect(finished < Int(Padme.padded(UInt64(base))) || Int(Padme.padded(UInt64(base))) - base < 4096)
    }

    @Test func aPackWithOneDominantBlobKeepsItsPadmeSize() {
        let target = 1 << 20
        // One blob larger than a quarter of the pack: its size must not show through the pack's.
        let p = PackBuilder(target: target)
        p.add(type: .data, flags: 0, id: ObjectID.hashing([1]), plainLength: 600_000, envelope: [UInt8](repeating: 1, count: 600_040))
        for i in 0..<4 {
            p.add(type: .data, flags: 0, id: ObjectID.hashing([2, UInt8(i)]), plainLength: 120_000, envelope: [UInt8](repeating: 2, count: 120_040))
        }
        #expect(p.byteCount >= target)
        let base = p.byteCount + PackFormat.headerEnvelopeLength(entries: 6) + 44
        #expect(p.finishedSize() == Int(Padme.padded(UInt64(base))))
        // Three blobs below the target: Padmé too (a small pack's few blobs keep its rounding).
        let q = PackBuilder(target: target)
        for i in 0..<3 { q.add(type: .data, flags: 0, id: ObjectID.hashing([3, UInt8(i)]), plainLength: 1000, envelope: [UInt8](repeating: 3, count: 1040)) }
        #expect(q.finishedSize() == Int(Padme.padded(UInt64(q.byteCount + PackFormat.headerEnvelopeLength(entries: 4) + 44))))
    }

    @Test func aSealAcrossManyBatchesRestoresExactlyAndFillsPacks() throws {
        var o = T.cheap
        o.packTargetSize = 256 << 10
        let root = T.scratch("pipeline")
        let state = RollbackState(directory: root + "/state")
        let v = try Vault.create(at: root + "/vault", passphrase: T.secret("pw"), options: o, state: state)
        // 13 MiB across several batches (4 MiB blocks): a large file streamed in blocks, many
        // small files sharing batches, duplicates and an empty file.
        let src = root + "/src"
        T.write(src + "/big.bin", T.bytes(9 << 20, seed: 11))
        for i in 0..<40 { T.write(src + "/small/\(i).csv", T.csv(rows: 200 + i * 37, seed: UInt64(100 + i))) }
        T.write(src + "/copy.bin", T.read(src + "/big.bin")!)
        T.write(src + "/empty", [])
        let sealed = try v.seal([src])
        #expect(sealed.unreadable.isEmpty)
        try v.restore(sealed.id, to: root + "/out")
        #expect(T.tree(src) == T.tree(root + "/out/src"))
        let report = try v.check(readDataFraction: 1)
        #expect(report.isClean)
        #expect(report.packsRead >= 4)
    }
}
