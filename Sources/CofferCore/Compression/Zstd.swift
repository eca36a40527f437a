import CZstd
import CofferCrypto
import Foundation

/// zstd compression of chunk payloads; the only file that imports libzstd.
///
/// Contexts are expensive to create, so each thread borrows one from a small pool.
public final class Zstd: @unchecked Sendable {
    public let level: Int32
    private let lock = NSLock()
    private var compressors: [OpaquePointer] = []
    private var decompressors: [OpaquePointer] = []
    private var writer: (dictionary: ZstdDictionary, levels: DictionaryLevels)?
    /// The minimum match length of large chunks, calibrated per opened vault (``LargeChunkMatch``).
    let largeMatch = LargeChunkMatch()

    public init(level: Int32) { self.level = level }

    /// Where a format-2 vault's reader finds the dictionaries blobs name; nil in format 1, whose
    /// readers refuse dictionary blobs.
    var dictionaries: ZstdDictionaryCache?

    /// The dictionary new small chunks are compressed with (format 2, once the vault has one).
    var writerDictionary: ZstdDictionary? { lock.withLock { writer?.dictionary } }

    /// The writer's dictionary and how the level of the chunks compressed with it is chosen.
    var writerSetting: (dictionary: ZstdDictionary, levels: DictionaryLevels)? { lock.withLock { writer } }

    /// Sets the writer's dictionary and the levels its chunks may use (nil: no dictionary).
    func setWriterDictionary(_ d: ZstdDictionary?, levels: [Int32]) {
        lock.withLock { writer = d.map { ($0, DictionaryLevels(candidates: levels)) } }
    }

    /// Chunks of at most this size (the small tier's largest) are compressed with the writer's
    /// dictionary when there is one.
    static let dictionaryChunkLimit = 64 << 10

    /// The levels a seal's dictionary chunks may use: at a default vault level (3 or less), 3
    /// and 5 in a seal that found the dictionary in place, and the vault's level (after
    /// ``level(forChunkOf:)``) and 3 in the seal that trains it, which is the large first seal,
    /// where speed counts most. A level above 3 is the user's explicit choice and the only one.
    /// Which candidate wins depends on the data (``DictionaryLevels``): on the export series'
    /// later months level 5 stored 7% less than level 3, on the mixed corpus's random-word text
    /// level 3 stored 6% less than level 5 (Docs/FORMAT.md, "Compression").
    func dictionaryLevels(trainingSeal: Bool) -> [Int32] {
        if level > 3 { return [level] }
        return trainingSeal ? [min(level, 1), 3] : [3, 5]
    }

    deinit {
        for c in compressors { ZSTD_freeCCtx(c) }
        for d in decompressors { ZSTD_freeDCtx(d) }
    }

    /// The most bytes one compressed byte can decompress to: a zstd block takes at least 4 bytes
    /// (a 3-byte header and one byte of content) and yields at most 128 KiB
    /// (`ZSTD_BLOCKSIZE_MAX`), so n bytes of frames never decompress to more than n × 32 Ki bytes.
    static let maximumRatio = (1 << 17) / 4

    /// Upper bound of the compressed size of `n` bytes.
    public static func bound(_ n: Int) -> Int { ZSTD_compressBound(n) }

    /// Compresses `input` into `output`; returns the compressed size, or nil when the result
    /// would not be smaller than the input (the caller stores the chunk raw then).
    public func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        compress(input, into: output, level: level)
    }

    /// The level used for a chunk of `count` bytes. Below 64 KiB, zstd's level 1 measured both
    /// faster and no larger than level 3 on text chunks (4–16 KiB: ratio 0.296 vs 0.299, 1.3x the
    /// speed; Docs/FORMAT.md "Compression"), so levels 2 and 3 drop to 1 there. Levels
    /// above 3 are a user's explicit choice and apply to every chunk.
    public func level(forChunkOf count: Int) -> Int32 {
        count < Zstd.smallChunk && level <= 3 ? min(level, 1) : level
    }

    /// Chunks below this size are compressed at ``level(forChunkOf:)`` and never sampled.
    public static let smallChunk = 64 << 10

    /// Compresses a chunk at the level for its size, after a cheap test for incompressible
    /// data: chunks of 64 KiB or more first compress two 4 KiB samples (start and middle) at
    /// level 1, and when neither shrinks by 2% the chunk is stored raw without a full attempt.
    /// Random data (photos, archives, encrypted files) then costs two small probes instead of a
    /// full pass. Returns nil when the chunk should be stored raw.
    /// Chunks of 64 KiB or more that pass compress with a calibrated minimum match length
    /// (``LargeChunkMatch``).
    public func compressChunk(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard input.count >= Zstd.smallChunk else { return compress(input, into: output, level: level(forChunkOf: input.count)) }
        if looksIncompressible(input, scratch: output) { return nil }
        return compressLarge(input, into: output, level: level(forChunkOf: input.count))
    }

    func looksIncompressible(_ input: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) -> Bool {
        let sample = 4096
        guard scratch.count >= sample else { return false }
        for start in [0, (input.count / 2) & ~4095] {
            let s = UnsafeRawBufferPointer(rebasing: input[start..<min(input.count, start + sample)])
            if let n = compress(s, into: scratch, level: 1), n < s.count - s.count / 50 { return false }
        }
        return true
    }

    func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, level: Int32) -> Int? {
        guard input.count > 0 else { return nil }
        let ctx = takeCompressor()
        defer { giveBack(compressor: ctx) }
        // Only accept output that is strictly smaller than the input.
        let capacity = min(output.count, input.count - 1)
        guard capacity > 0 else { return nil }
        let n = ZSTD_compressCCtx(ctx, output.baseAddress, capacity, input.baseAddress, input.count, level)
        if ZSTD_isError(n) != 0 { return nil }  // dstSize_tooSmall: incompressible
        return n
    }

    /// The decompressed size a zstd frame declares in its header; nil when `input` does not start
    /// with a frame that declares one (Coffer's frames always do).
    static func frameContentSize(_ input: UnsafeRawBufferPointer) -> UInt64? {
        let n = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        // ZSTD_CONTENTSIZE_UNKNOWN is 2^64-1, ZSTD_CONTENTSIZE_ERROR 2^64-2.
        return n >= UInt64.max - 1 ? nil : n
    }

    /// Decompresses `input` into exactly `output.count` bytes.
    func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let ctx = takeDecompressor()
        defer { giveBack(decompressor: ctx) }
        let n = ZSTD_decompressDCtx(ctx, output.baseAddress, output.count, input.baseAddress, input.count)
        if ZSTD_isError(n) != 0 {
            throw FormatError("zstd: \(String(cString: ZSTD_getErrorName(n)))")
        }
        guard n == output.count else { throw FormatError("zstd: decompressed \(n) bytes, expected \(output.count)") }
    }

    func takeCompressor() -> OpaquePointer {
        lock.lock()
        if let c = compressors.popLast() { lock.unlock(); return c }
        lock.unlock()
        guard let c = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx failed: out of memory") }
        return c
    }

    func giveBack(compressor c: OpaquePointer) {
        lock.lock(); compressors.append(c); lock.unlock()
    }

    func takeDecompressor() -> OpaquePointer {
        lock.lock()
        if let d = decompressors.popLast() { lock.unlock(); return d }
        lock.unlock()
        guard let d = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx failed: out of memory") }
        return d
    }

    func giveBack(decompressor d: OpaquePointer) {
        lock.lock(); decompressors.append(d); lock.unlock()
    }
}

extension Zstd {
    /// Compresses `input` with each of `candidates` settings (`compress(i, buffer)`: a frame's
    /// length, or nil when not smaller), copies the smallest frame to `output`, and returns its
    /// length (nil when none was smaller than the input) with every candidate's size (the
    /// input's where one failed), for a calibration to record. The scratch copies hold
    /// compressed plaintext and are wiped.
    func compressSmallest(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, candidates: Int,
        _ compress: (Int, UnsafeMutableRawBufferPointer) -> Int?
    ) -> (count: Int?, sizes: [Int]) {
        var best: (count: Int, bytes: [UInt8])?
        var sizes: [Int] = []
        var work = [UInt8](repeating: 0, count: output.count)
        defer { work.withUnsafeMutableBytes { Sodium.wipe($0) } }
        for i in 0..<candidates {
            let n = work.withUnsafeMutableBytes { compress(i, $0) }
            sizes.append(n ?? input.count)
            if let n, n < best?.count ?? Int.max {
                best?.bytes.withUnsafeMutableBytes { Sodium.wipe($0) }
                best = (n, Array(work[0..<n]))
            }
        }
        guard var best else { return (nil, sizes) }
        best.bytes.withUnsafeBytes { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: best.count) }
        best.bytes.withUnsafeMutableBytes { Sodium.wipe($0) }
        return (best.count, sizes)
    }
}
