import CofferCrypto
import Foundation

/// Which chunk sizes a file gets (Docs/FORMAT.md, "Choosing the chunk sizes"). A writer rule: a
/// reader never needs to know how a chunk was cut.
extension Vault {
    /// Files below this size keep their tier's sizes unprobed: they make few chunks either way.
    static let tierProbeMinimum: UInt64 = 64 << 10

    /// The sizes of the tier for `size` bytes (the vault's `config`), except in format 2: a file of
    /// at least ``tierProbeMinimum`` bytes in a smaller tier whose first bytes (`start`, as the
    /// sealer has read them) look incompressible (two 4 KiB samples, the start and the middle of
    /// `start`, shrink by less than 2% at zstd level 1, the probe large chunks get) is cut with the
    /// largest tier's sizes. Random data (photos, archives, encrypted files) gains nothing from
    /// small chunks and the dictionary: they only add per-chunk metadata and a failed dictionary
    /// pass per chunk. The choice depends only on the file's size and content, so the same file
    /// is cut the same way by every seal and deduplicates.
    func chunkSizes(forFileSize size: UInt64, start: UnsafeRawBufferPointer) -> ChunkSizes {
        let sizes = config.tier(forFileSize: size)
        guard config.format >= 2, size >= Vault.tierProbeMinimum, let largest = config.tiers.last?.sizes, sizes != largest,
              start.count >= 8 << 10
        else { return sizes }
        let incompressible = withUnsafeTemporaryAllocation(byteCount: 8 << 10, alignment: 16) { scratch in
            defer { Sodium.wipe(scratch) }  // compressed plaintext
            return zstd.looksIncompressible(start, scratch: scratch)
        }
        return incompressible ? largest : sizes
    }
}
