import CofferCrypto

/// Minimum, average and maximum chunk size of one chunking tier.
public struct ChunkSizes: Sendable, Equatable, CustomStringConvertible {
    public var min: Int
    public var average: Int
    public var max: Int

    public init(min: Int, average: Int, max: Int) {
        self.min = min
        self.average = average
        self.max = max
    }

    /// Sizes the format accepts: powers of two for the average, 64 B ≤ min < avg < max ≤ 8 MiB.
    func validate() throws {
        guard min >= 64, min < average, average < max, max <= ChunkSizes.formatMaximum,
              average.nonzeroBitCount == 1 else {
            throw FormatError("invalid chunk sizes \(self)")
        }
    }

    /// The largest chunk any vault may hold (bounds every allocation on read).
    public static let formatMaximum = 8 << 20

    public var description: String { "\(min)/\(average)/\(max)" }
}

/// A chunk-size tier: files up to `maxFileSize` bytes (inclusive) are cut with `sizes`.
public struct ChunkTier: Sendable, Equatable {
    public var maxFileSize: UInt64
    public var sizes: ChunkSizes

    public init(maxFileSize: UInt64, sizes: ChunkSizes) {
        self.maxFileSize = maxFileSize
        self.sizes = sizes
    }

    /// Defaults chosen by measurement (Docs/FORMAT.md, "Choosing the chunk sizes"): small chunks
    /// for the 0.1–5 MB files of personal exports, larger ones for big files, where the index and
    /// per-chunk overhead would dominate. Format 2 halves the small tier (4/16/128 KiB before):
    /// with a vault dictionary small chunks compress nearly as well as large ones, and the export
    /// series stored in 1.56–1.66 MB instead of 1.68–1.83 MB (three vaults each); the mixed
    /// corpus pays about 0.5 MB of per-chunk metadata for it. Files of 4–16 MiB (larger than an
    /// export's files, 1.5 MB at most in the generator's series) get 64 KiB chunks: their small
    /// chunks cost about 200 bytes of metadata each, 8% of a compressed 8 KiB text chunk, and the
    /// 64 KiB tier still rewrites little of a large file for a small change (Docs/FORMAT.md,
    /// "Choosing the chunk sizes"). Incompressible files take the last tier (``Vault/chunkSizes(forFileSize:start:)``).
    public static let defaults: [ChunkTier] = [
        ChunkTier(maxFileSize: 4 << 20, sizes: ChunkSizes(min: 2 << 10, average: 8 << 10, max: 64 << 10)),
        ChunkTier(maxFileSize: 16 << 20, sizes: ChunkSizes(min: 16 << 10, average: 64 << 10, max: 256 << 10)),
        ChunkTier(maxFileSize: UInt64.max, sizes: ChunkSizes(min: 256 << 10, average: 1 << 20, max: 4 << 20)),
    ]
}

/// The gear table of a vault: 256 64-bit words expanded from the chunker secret with
/// `randombytes_buf_deterministic`, so chunk boundaries differ between vaults.
public final class GearTable: Sendable {
    let words: [UInt64]

    init(secret: SecureBytes) {
        let raw = Sodium.deterministicBytes(count: 256 * 8, seed: secret)
        words = raw.withUnsafeBytes { r in (0..<256).map { UInt64(littleEndian: r.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) } }
    }

    /// A fixed table for measurements and tests that need no vault.
    public init(seed: UInt64) {
        var s = seed
        words = (0..<256).map { _ in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

/// Content-defined chunking with a keyed gear rolling hash (FastCDC's hash, without its
/// normalized masks): no cut before `min`; from there, a cut where the top `log2(avg)` bits of the
/// fingerprint are zero; a cut is forced at `max`.
///
/// The fingerprint restarts at every chunk and only the last 64 bytes affect it, so a cut depends
/// on the bytes since the previous cut and on nothing else but the `min` skip: after an edit the
/// chunking falls back into step at the next cut point that lies at least `min` past the new
/// chunk start. FastCDC's normalization (a stricter mask before `avg`, a looser one after) was
/// measured and not kept: it makes a cut depend on the distance from the chunk start as well, and
/// then one changed row in a CSV can cost up to nine chunks instead of at most two (Docs/FORMAT.md,
/// "Choosing the chunk sizes").
///
/// The caller streams a file through a buffer and keeps the uncut tail for the next read.
public struct Chunker: Sendable {
    public let sizes: ChunkSizes
    private let table: GearTable
    private let mask: UInt64

    public init(sizes: ChunkSizes, table: GearTable) {
        self.sizes = sizes
        self.table = table
        mask = ~(UInt64.max >> UInt64(sizes.average.trailingZeroBitCount))
    }

    /// Length of the next chunk at the start of `data`, or nil when `data` is shorter than
    /// `max` and more input may follow (`isFinal == false`).
    public func nextCut(in data: UnsafeRawBufferPointer, isFinal: Bool) -> Int? {
        var scanned = 0
        return nextCut(in: data, isFinal: isFinal, scanned: &scanned)
    }

    /// Like ``nextCut(in:isFinal:)`` for a caller that offers the same chunk start again with
    /// more bytes after a nil: `scanned` (0 for a new chunk) says how far earlier calls looked,
    /// and the scan resumes there instead of starting over. The fingerprint depends only on the
    /// last 64 bytes, so resuming 64 bytes back gives the same cuts as a full scan.
    func nextCut(in data: UnsafeRawBufferPointer, isFinal: Bool, scanned: inout Int) -> Int? {
        let n = data.count
        if n == 0 { return nil }
        if n < sizes.max && !isFinal {
            // A cut inside the buffer is still valid: it depends only on bytes we have.
            let c = scan(data, from: scanned, limit: n)
            if c < n { scanned = 0; return c }
            // A boundary on the last byte reads as "none found" (it returns `n`), so that byte
            // is looked at again next time.
            scanned = n - 1
            return nil
        }
        let c = scan(data, from: scanned, limit: Swift.min(n, sizes.max))
        scanned = 0
        return c
    }

    /// Cut position in `data[0..<limit]`, looking at positions from `resume` on (earlier ones
    /// held no cut); returns `limit` when no boundary is found.
    private func scan(_ data: UnsafeRawBufferPointer, from resume: Int, limit: Int) -> Int {
        if limit <= sizes.min { return limit }
        let p = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var fp: UInt64 = 0
        // The 64 bytes before the first position looked at prime the fingerprint, so every
        // possible cut depends on a full window.
        let first = Swift.min(Swift.max(sizes.min, resume), limit)
        var i = Swift.max(0, first - 64)
        return table.words.withUnsafeBufferPointer { g in
            let gear = g.baseAddress!
            while i < first {
                fp = (fp << 1) &+ gear[Int(p[i])]
                i += 1
            }
            while i < limit {
                fp = (fp << 1) &+ gear[Int(p[i])]
                if fp & mask == 0 { return i + 1 }
                i += 1
            }
            return limit
        }
    }
}
