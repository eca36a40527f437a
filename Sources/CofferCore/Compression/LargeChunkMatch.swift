import CZstd
import CofferCrypto
import Foundation

/// zstd's minimum match length for the compressible chunks of 64 KiB or more, chosen per opened
/// vault among two candidates: the level's own (zstd's parameter table for the chunk's size) and
/// 6. The first ``calibrationChunks`` chunks of a size class that one candidate shrinks below 90%
/// are compressed with both and the smaller output is kept; every later chunk of that class uses
/// the candidate whose outputs added up smaller. A writer rule: the frame describes itself and a
/// reader needs nothing (Docs/FORMAT.md, "Compression").
///
/// Why: zstd picks its parameters by input size (tables for up to 16, 128 and 256 KiB and
/// larger), and at level 3 its minimum match of 5 bytes suits some text and not other. On the
/// mixed corpus's random-word text a minimum match of 6 stored 1 MiB pieces 2.4% smaller and
/// 256 KiB pieces 6% smaller at no extra CPU, while on prose, source code and Python it stored
/// 1.1–1.6% more: hence a vote per size class instead of a fixed setting.
final class LargeChunkMatch: @unchecked Sendable {
    /// Candidate minimum match lengths; 0 is the level's own.
    static let candidates: [Int32] = [0, 6]
    static let calibrationChunks = 16
    /// Size classes as zstd's parameter tables have them (above 64 KiB: up to 128 KiB, up to 256 KiB, larger).
    static func sizeClass(_ count: Int) -> Int { count <= 128 << 10 ? 0 : count <= 256 << 10 ? 1 : 2 }

    private let lock = NSLock()
    private var totals = [[Int]](repeating: [Int](repeating: 0, count: candidates.count), count: 3)
    private var seen = [Int](repeating: 0, count: 3)
    private var chosen = [Int32?](repeating: nil, count: 3)

    /// The minimum match every chunk of `count` bytes uses now; nil while its class calibrates.
    func minimumMatch(forChunkOf count: Int) -> Int32? {
        let c = Self.sizeClass(count)
        return lock.withLock { chosen[c] }
    }

    /// The candidate each size class settled on (nil: still calibrating), for tests and reports.
    var settled: [Int32?] { lock.withLock { chosen } }

    /// Records the output sizes of one chunk of `count` bytes at each candidate (`count` where one failed).
    func record(sizes: [Int], of count: Int) {
        guard sizes.count == Self.candidates.count, sizes.min().map({ $0 < count - count / 10 }) == true else { return }
        let c = Self.sizeClass(count)
        lock.withLock {
            guard chosen[c] == nil else { return }
            for i in sizes.indices { totals[c][i] += sizes[i] }
            seen[c] += 1
            if seen[c] >= Self.calibrationChunks {
                chosen[c] = Self.candidates[totals[c].indices.min { totals[c][$0] < totals[c][$1] }!]
            }
        }
    }
}

extension Zstd {
    /// Compresses a chunk of 64 KiB or more that passed the incompressibility probe at `level`,
    /// with the minimum match its size class settled on, or with both candidates while it
    /// calibrates (keeping the smaller output). Returns nil when neither is smaller than the chunk.
    func compressLarge(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, level: Int32) -> Int? {
        if let m = largeMatch.minimumMatch(forChunkOf: input.count) {
            return compress(input, into: output, level: level, minimumMatch: m)
        }
        let candidates = LargeChunkMatch.candidates
        let (n, sizes) = compressSmallest(input, into: output, candidates: candidates.count) { i, out in
            compress(input, into: out, level: level, minimumMatch: candidates[i])
        }
        largeMatch.record(sizes: sizes, of: input.count)
        return n
    }

    /// One zstd frame of `input` at `level` with zstd's minimum match length `minimumMatch`
    /// (0: the level's own), when strictly smaller than the input.
    func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, level: Int32, minimumMatch: Int32) -> Int? {
        if minimumMatch == 0 { return compress(input, into: output, level: level) }
        guard input.count > 0 else { return nil }
        let capacity = min(output.count, input.count - 1)
        guard capacity > 0 else { return nil }
        let ctx = takeCompressor()
        defer {
            // Pooled contexts must not keep these parameters for the next caller.
            ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters)
            giveBack(compressor: ctx)
        }
        guard ZSTD_isError(ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level)) == 0,
              ZSTD_isError(ZSTD_CCtx_setParameter(ctx, ZSTD_c_minMatch, minimumMatch)) == 0
        else { return compress(input, into: output, level: level) }
        let n = ZSTD_compress2(ctx, output.baseAddress, capacity, input.baseAddress, input.count)
        if ZSTD_isError(n) != 0 { return nil }  // dstSize_tooSmall: incompressible
        return n
    }
}
