import CZstd
import CofferCrypto
import Foundation

/// A zstd dictionary loaded for compression and decompression (format 2; Docs/FORMAT.md,
/// "Dictionaries"). Built from the dictionary bytes of one `dicts/` file, whose id it keeps.
///
/// The bytes are derived from chunk plaintext, so they are wiped when the object is freed.
public final class ZstdDictionary: @unchecked Sendable {
    /// The id of the `dicts/` file the dictionary came from (the BLAKE2b-256 of that file).
    public let id: ObjectID
    /// The dictionary id zstd writes into its header and into every frame compressed with it.
    public let zstdID: UInt32
    /// The dictionary's size in bytes.
    public var count: Int { content.count }
    private let content: UnsafeMutableRawBufferPointer
    private let ddict: OpaquePointer
    private let lock = NSLock()
    private var cdicts: [Int32: OpaquePointer] = [:]

    /// Smallest and largest dictionary a reader accepts.
    static let minimumSize = 256
    static let maximumSize = 1 << 20
    /// The four bytes a zstd dictionary starts with (`ZSTD_MAGIC_DICTIONARY`, little-endian).
    static let magic: [UInt8] = [0x37, 0xA4, 0x30, 0xEC]

    /// Loads `bytes` as a zstd dictionary; throws when it is not one.
    init(id: ObjectID, bytes: [UInt8]) throws {
        guard (Self.minimumSize...Self.maximumSize).contains(bytes.count) else {
            throw FormatError("dictionary of \(bytes.count) bytes, outside \(Self.minimumSize)–\(Self.maximumSize)")
        }
        guard Array(bytes.prefix(4)) == Self.magic else { throw FormatError("not a zstd dictionary (bad magic)") }
        let dictID = bytes.withUnsafeBytes { ZSTD_getDictID_fromDict($0.baseAddress, $0.count) }
        guard dictID != 0 else { throw FormatError("zstd dictionary without an id") }
        let content = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        bytes.withUnsafeBytes { content.copyMemory(from: $0) }
        // Copies the content and parses its entropy tables: a damaged header fails here.
        guard let d = ZSTD_createDDict(content.baseAddress, content.count) else {
            Sodium.wipe(content)
            content.deallocate()
            throw FormatError("zstd refuses the dictionary (damaged tables)")
        }
        self.id = id
        self.zstdID = dictID
        self.content = content
        self.ddict = d
    }

    deinit {
        ZSTD_freeDDict(ddict)
        for c in cdicts.values { ZSTD_freeCDict(c) }
        Sodium.wipe(content)
        content.deallocate()
    }

    /// The compression dictionary for `level`, made on first use (one per level).
    fileprivate func cdict(level: Int32) -> OpaquePointer? {
        lock.withLock {
            if let c = cdicts[level] { return c }
            guard let c = ZSTD_createCDict(content.baseAddress, content.count, level) else { return nil }
            cdicts[level] = c
            return c
        }
    }

    fileprivate var decompressionDictionary: OpaquePointer { ddict }

    /// The dictionary's bytes (for writing its file and for tests).
    var bytes: [UInt8] { Array(UnsafeRawBufferPointer(content)) }

    /// Trains a dictionary of at most `capacity` bytes on `samples` with zstd's trainer
    /// (`ZDICT_trainFromBuffer_fastCover`, the algorithm `ZDICT_trainFromBuffer` runs, with its
    /// segment parameters fixed at k = 200, d = 8 instead of searched: on the export series the
    /// searched parameters compressed later exports no better, for four times the training time).
    /// Returns nil when zstd finds too little to learn from (too few or too similar samples).
    static func train(samples flat: [UInt8], sizes: [Int], capacity: Int) -> [UInt8]? {
        guard !sizes.isEmpty, sizes.reduce(0, +) == flat.count, capacity >= minimumSize else { return nil }
        var out = [UInt8](repeating: 0, count: capacity)
        let n = out.withUnsafeMutableBytes { o in
            flat.withUnsafeBytes { f in
                sizes.withUnsafeBufferPointer { s in
                    var p = ZDICT_fastCover_params_t()
                    p.k = 200
                    p.d = 8
                    p.f = 20
                    p.accel = 1
                    p.steps = 0
                    p.splitPoint = 1.0
                    p.zParams.compressionLevel = 3
                    return ZDICT_trainFromBuffer_fastCover(o.baseAddress, o.count, f.baseAddress, s.baseAddress, UInt32(s.count), p)
                }
            }
        }
        guard ZDICT_isError(n) == 0, n >= minimumSize else { return nil }
        out.removeLast(capacity - n)
        return out
    }
}

/// The dictionaries a vault's reader has loaded, by id, and how to load one it has not.
///
/// At most ``limit`` are kept (each costs its size twice over and its decompression tables);
/// a failure to load is remembered too, so a damaged dictionary is read once, not once per blob.
final class ZstdDictionaryCache: @unchecked Sendable {
    /// The most dictionaries kept loaded at once.
    static let limit = 8
    private let load: (ObjectID) throws -> ZstdDictionary
    private let lock = NSLock()
    private var loaded: [ObjectID: Result<ZstdDictionary, Error>] = [:]
    private var order: [ObjectID] = []

    init(load: @escaping (ObjectID) throws -> ZstdDictionary) { self.load = load }

    /// The dictionary `id`, loaded on first use. Loads run under the cache's lock: blobs opened in
    /// parallel wait for one load rather than each reading the file.
    func dictionary(_ id: ObjectID) throws -> ZstdDictionary {
        try lock.withLock {
            if let r = loaded[id] { return try r.get() }
            let r = Result { try load(id) }
            if order.count >= Self.limit { loaded[order.removeFirst()] = nil }
            loaded[id] = r
            order.append(id)
            return try r.get()
        }
    }

    /// Adds a dictionary the caller already holds (one just written).
    func insert(_ d: ZstdDictionary) {
        lock.withLock {
            if loaded[d.id] == nil {
                if order.count >= Self.limit { loaded[order.removeFirst()] = nil }
                order.append(d.id)
            }
            loaded[d.id] = .success(d)
        }
    }
}

/// Picks the level a seal's dictionary chunks use among candidates: the first
/// ``calibrationChunks`` compressible chunks (those one candidate shrinks below 90%) are
/// compressed at every candidate and the smallest output kept; from then on every chunk uses the
/// candidate whose outputs added up smallest. Costs a few extra compressions of small chunks per
/// seal. With one candidate there is nothing to calibrate.
final class DictionaryLevels: @unchecked Sendable {
    static let calibrationChunks = 16
    let candidates: [Int32]
    private let lock = NSLock()
    private var totals: [Int]
    private var seen = 0
    private var chosen: Int32?

    init(candidates: [Int32]) {
        precondition(!candidates.isEmpty)
        self.candidates = candidates
        totals = Array(repeating: 0, count: candidates.count)
        chosen = candidates.count == 1 ? candidates[0] : nil
    }

    /// The level every chunk uses now; nil while calibrating.
    var level: Int32? { lock.withLock { chosen } }

    /// Records the output sizes of one chunk at each candidate (the input size where one failed).
    func record(sizes: [Int], of count: Int) {
        guard sizes.min().map({ $0 < count - count / 10 }) == true else { return }
        lock.withLock {
            guard chosen == nil else { return }
            for i in totals.indices { totals[i] += sizes[i] }
            seen += 1
            if seen >= Self.calibrationChunks { chosen = candidates[totals.indices.min { totals[$0] < totals[$1] }!] }
        }
    }
}

/// Why a blob's dictionary cannot be used: names the dictionary file.
struct DictionaryError: Error, CustomStringConvertible {
    var description: String
}

extension Zstd {
    /// The length of a dictionary reference at the start of a dictionary blob's payload.
    static let dictionaryReference = 32

    /// Compresses a chunk with the writer's dictionary when there is one and the chunk is small
    /// enough to gain from it, else as ``compressChunk(_:into:)``. With the dictionary the output
    /// is `dictionary id(32) || zstd frame`. Returns nil when the chunk should be stored raw: a
    /// small chunk the dictionary does not shrink is not tried again without it (incompressible
    /// data would pay two failed passes; a frame without the dictionary is never much smaller).
    func compressBlob(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> (count: Int, dictionary: Bool)? {
        if let (d, levels) = writerSetting, input.count <= Zstd.dictionaryChunkLimit {
            let n = levels.level.map { compress(input, into: output, dictionary: d, level: $0) } ?? calibrate(input, into: output, dictionary: d, levels: levels)
            return n.map { ($0, true) }
        }
        return compressChunk(input, into: output).map { ($0, false) }
    }

    /// Compresses at every candidate level, keeps the smallest output, and records the sizes.
    private func calibrate(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, dictionary d: ZstdDictionary, levels: DictionaryLevels
    ) -> Int? {
        let levelsTried = levels.candidates
        let (n, sizes) = compressSmallest(input, into: output, candidates: levelsTried.count) { i, out in
            compress(input, into: out, dictionary: d, level: levelsTried[i])
        }
        levels.record(sizes: sizes, of: input.count)
        return n
    }

    /// `id(32) || frame` of `input` compressed with `d`, when strictly smaller than the input.
    func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, dictionary d: ZstdDictionary, level: Int32) -> Int? {
        let ref = Zstd.dictionaryReference
        let capacity = min(output.count, input.count - 1) - ref
        guard input.count > 0, capacity > 0, let cdict = d.cdict(level: level) else { return nil }
        let ctx = takeCompressor()
        defer { giveBack(compressor: ctx) }
        let n = ZSTD_compress_usingCDict(ctx, output.baseAddress! + ref, capacity, input.baseAddress, input.count, cdict)
        if ZSTD_isError(n) != 0 { return nil }
        withUnsafeBytes(of: d.id) { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: ref) }
        return ref + n
    }

    /// Decompresses a dictionary blob's payload (`id(32) || frame`) into exactly `output.count`
    /// bytes, loading the dictionary it names through ``dictionaries``.
    func decompressWithDictionary(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        guard let dictionaries else { throw DictionaryError(description: "uses a dictionary, which this vault's format does not have") }
        guard payload.count > Zstd.dictionaryReference else { throw DictionaryError(description: "dictionary payload too short") }
        let id = ObjectID(bytes: Array(payload[0..<Zstd.dictionaryReference]))
        let frame = UnsafeRawBufferPointer(rebasing: payload[Zstd.dictionaryReference...])
        let d: ZstdDictionary
        do { d = try dictionaries.dictionary(id) } catch {
            throw DictionaryError(description: "\(error)")
        }
        // The frame names the dictionary it was made with; another one would decode garbage.
        let frameDict = ZSTD_getDictID_fromFrame(frame.baseAddress, frame.count)
        guard frameDict == d.zstdID else {
            throw DictionaryError(description: "zstd frame made with dictionary \(frameDict), not \(VaultFile.dictionary(id).path) (\(d.zstdID))")
        }
        let ctx = takeDecompressor()
        defer { giveBack(decompressor: ctx) }
        let n = ZSTD_decompress_usingDDict(ctx, output.baseAddress, output.count, frame.baseAddress, frame.count, d.decompressionDictionary)
        if ZSTD_isError(n) != 0 { throw FormatError("zstd with \(VaultFile.dictionary(id).path): \(String(cString: ZSTD_getErrorName(n)))") }
        guard n == output.count else { throw FormatError("zstd: decompressed \(n) bytes, expected \(output.count)") }
    }
}
