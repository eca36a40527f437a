@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Pooled plaintext working memory is all zeros once returned.
@Suite("Scratch wiping")
struct ScratchWipeTests {
    /// Compressible plaintext with a recognisable pattern (never zero).
    static func plaintext(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 % 251) | 1) }
    }

    @Test("a blob opened in a scratch object: its plaintext buffers hold the chunk, then are zero once back in the pool")
    func openWipes() throws {
        let f = try T.vault()
        let keys = f.vault.keys
        let plain = Self.plaintext(300_000)
        let id = plain.withUnsafeBytes { keys.chunkID(of: $0) }
        let blob = try plain.withUnsafeBytes { try BlobCrypto.seal($0, id: id, type: .data, keys: keys, zstd: f.vault.zstd) }
        #expect(blob.flags == BlobFlags.zstd, "compressed: both plaintext buffers are used")
        let pool = BlobScratch.Pool()
        let back: [UInt8] = try BlobScratch.with(pool: pool) { scratch in
            let view = try blob.envelope.withUnsafeBytes {
                try BlobCrypto.open(
                    $0, type: .data, flags: blob.flags, id: id, plainLength: plain.count, keys: keys, zstd: f.vault.zstd, object: "t",
                    verifyID: true, scratch: scratch)
            }
            #expect(!scratch.plaintextState.allZero, "the plaintext is in the scratch buffers while in use")
            return Array(view)
        }
        #expect(back == plain)
        let states = pool.inspectIdle { $0.map(\.plaintextState) }
        #expect(states.count == 1)
        let state = try #require(states.first)
        #expect(state.capacity >= plain.count, "the buffers were not freed, only wiped")
        #expect(state.allZero, "plaintext left in a pooled scratch object")
    }

    @Test("sealing: the compression buffer is zero once back in the pool; a buffer replaced by a larger one is wiped first")
    func sealWipes() throws {
        let f = try T.vault()
        let pool = BlobScratch.Pool()
        let small = Self.plaintext(100_000)
        BlobScratch.with(pool: pool) { scratch in
            let a = scratch.first(small.count)
            small.withUnsafeBytes { a.copyMemory(from: $0) }
            let b = scratch.second(small.count)
            small.withUnsafeBytes { b.copyMemory(from: $0) }
            // Growing: the old buffer goes away wiped, the new one starts zeroed.
            _ = scratch.first(4 << 20)
        }
        #expect(pool.inspectIdle { $0.map(\.plaintextState.allZero) } == [true])
        // BlobCrypto.seal borrows from the shared pool: whatever it left there is zero.
        let plain = Self.plaintext(200_000)
        let id = plain.withUnsafeBytes { f.vault.keys.chunkID(of: $0) }
        _ = try plain.withUnsafeBytes { try BlobCrypto.seal($0, id: id, type: .data, keys: f.vault.keys, zstd: f.vault.zstd) }
        let shared = BlobScratch.shared.inspectIdle { $0.map(\.plaintextState) }
        #expect(!shared.isEmpty)
        #expect(shared.allSatisfy { $0.allZero }, "plaintext left in the shared pool")
    }
}

/// The sealer's batch buffers (file contents on their way to chunks) are wiped too.
@Suite("Sealer batch wiping")
struct SealerBatchWipeTests {
    @Test("a batch's wipe clears every byte written since the last one, also past a `used` that was moved back")
    func batchWipe() {
        let batch = Sealer.Batch(capacity: 1 << 20)
        let pattern = ScratchWipeTests.plaintext(600_000)
        pattern.withUnsafeBytes { batch.buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        batch.used = pattern.count
        // A file that failed mid-read drops its bytes by moving `used` back.
        batch.used = 1000
        #expect(batch.buffer[0..<pattern.count].contains { $0 != 0 })
        batch.wipe()
        #expect(!batch.buffer[0..<pattern.count].contains { $0 != 0 }, "file contents left in a batch buffer")
    }
}
