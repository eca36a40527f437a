import CofferCrypto
import Foundation

/// The body of a dictionary file (`dicts/<id>`, metadata envelope kind 5, format 2).
///
/// ```
/// body = u8 body_version(1) || u32le dict_len || dictionary(dict_len)
/// ```
///
/// `dictionary` is a zstd dictionary as zstd's trainer writes it (magic `37 A4 30 EC`, a non-zero
/// dictionary id, entropy tables, content), 256 bytes to 1 MiB.
enum DictionaryFile {
    static let bodyVersion: UInt8 = 1

    static func encode(_ dictionary: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: 5 + dictionary.count)
        w.u8(bodyVersion)
        w.u32(UInt32(dictionary.count))
        w.raw(dictionary)
        return w.bytes
    }

    /// The dictionary bytes of a body, bounds checked (not yet parsed by zstd).
    static func decode(_ body: [UInt8]) throws -> [UInt8] {
        var r = ByteReader(body)
        let version = try r.u8()
        guard version == bodyVersion else {
            if version > bodyVersion { throw FormatError("dictionary body version \(version) (written by a newer coffer; upgrade)") }
            throw FormatError("unknown dictionary body version \(version)")
        }
        let n = Int(try r.u32())
        guard (ZstdDictionary.minimumSize...ZstdDictionary.maximumSize).contains(n) else {
            throw FormatError("dictionary length \(n) outside \(ZstdDictionary.minimumSize)–\(ZstdDictionary.maximumSize)")
        }
        guard n <= r.remaining else { throw FormatError("truncated: needed \(n) bytes, \(r.remaining) left") }
        let bytes = try r.raw(n)
        guard r.remaining == 0 else { throw FormatError("\(r.remaining) trailing bytes") }
        return bytes
    }

    /// The largest dictionary file a reader reads.
    static var maximumFile: Int {
        2 + AEAD.overhead + Int(Padme.padded(UInt64(9 + Zstd.bound(5 + ZstdDictionary.maximumSize))))
    }
}

/// When a format-2 writer trains the vault's dictionary (Docs/FORMAT.md, "Dictionaries").
enum DictionaryPolicy {
    /// Chunks below this size are "small": dictionary samples, and compressed with it.
    static let smallChunk = Zstd.dictionaryChunkLimit
    /// The most sample bytes a seal holds (about 60 small chunks; the trainer wants ten times the
    /// dictionary or more), chosen among its streams in proportion to their sizes.
    static let sampleBytes = 1 << 20
    /// Training needs at least this many bytes in at least ``minimumChunks`` chunks.
    static let minimumSampleBytes = 256 << 10
    static let minimumChunks = 32
    /// The largest dictionary trained; a smaller sample gets one a tenth of its size.
    static let maximumDictionary = 64 << 10

    static func capacity(forSampleBytes n: Int) -> Int {
        max(4 << 10, min(maximumDictionary, (n / 10) & ~1023))
    }
}

/// Trains a format-2 vault's first dictionary during a seal: the sealer offers it the plaintext
/// of each small chunk it has just compressed (without a dictionary), sealed and verified, with
/// the stream (file, archive part) it comes from and that stream's size. It holds at most
/// ``DictionaryPolicy/sampleBytes``: past that, the stream holding the most samples for its size
/// gives back its last one. So each stream keeps its first small chunks, in proportion to its
/// size, whatever order the streams come in (a zip's first member no longer fills the samples
/// alone). The sealer trains (``train()``) before the first pack is written that could hold a
/// chunk sealed before training, or at the end of the seal, when there are enough samples
/// (``hasEnough``); the dictionary file is written, read back as a reader would, and made the
/// writer's dictionary.
///
/// The samples are copies of plaintext, held only until training and then wiped.
final class DictionaryTrainer {
    private struct Stream {
        var size: Double
        var held = 0
        var samples: [[UInt8]] = []
        var share: Double { Double(held) / size }
    }

    private let vault: Vault
    private var streams: [Int: Stream] = [:]
    /// The streams by share, largest first; an entry whose `held` is no longer its stream's is stale.
    private var byShare = MaxHeap()
    /// Bytes and count of the samples held.
    private(set) var heldBytes = 0
    private(set) var heldCount = 0

    /// A trainer when `vault` is format 2 and has no dictionary (``Vault/selectWriterDictionary()``
    /// ran first); nil otherwise.
    init?(vault: Vault) {
        guard vault.usesDictionaries, vault.zstd.dictionaries != nil, vault.zstd.writerDictionary == nil,
              (try? vault.dictionaryIDs().isEmpty) == true else { return nil }
        self.vault = vault
    }

    deinit { wipe() }

    private func wipe() {
        for k in streams.keys {
            for i in streams[k]!.samples.indices { streams[k]!.samples[i].withUnsafeMutableBytes { Sodium.wipe($0) } }
        }
        streams = [:]
        byShare = MaxHeap()
        heldBytes = 0
        heldCount = 0
    }

    /// Offers a small chunk zstd compressed without a dictionary, from stream `stream` of
    /// `streamSize` bytes (a stream's chunks come in order).
    func offer(_ plain: UnsafeRawBufferPointer, stream: Int, streamSize: UInt64) {
        guard plain.count < DictionaryPolicy.smallChunk else { return }
        var s = streams[stream] ?? Stream(size: Double(max(streamSize, 1)))
        let budget = DictionaryPolicy.sampleBytes
        if heldBytes + plain.count > budget {
            // Full: a sample that would leave its stream with the largest share goes straight back.
            let share = Double(s.held + plain.count) / s.size
            if let top = largestShare(), share >= streams[top]!.share { return }
        }
        s.samples.append(Array(plain))
        s.held += plain.count
        streams[stream] = s
        byShare.push(share: s.share, key: stream, held: s.held)
        heldBytes += plain.count
        heldCount += 1
        while heldBytes > budget, let k = largestShare() {
            var v = streams[k]!
            var last = v.samples.removeLast()
            last.withUnsafeMutableBytes { Sodium.wipe($0) }
            v.held -= last.count
            heldBytes -= last.count
            heldCount -= 1
            if v.samples.isEmpty {
                streams[k] = nil
            } else {
                streams[k] = v
                byShare.push(share: v.share, key: k, held: v.held)
            }
        }
        if byShare.count > 4 * streams.count + 64 {
            byShare = MaxHeap()
            for (k, v) in streams { byShare.push(share: v.share, key: k, held: v.held) }
        }
    }

    /// The stream holding the most samples for its size (stale heap entries dropped on the way).
    private func largestShare() -> Int? {
        while let top = byShare.top {
            if streams[top.key]?.held == top.held { return top.key }
            byShare.pop()
        }
        return nil
    }

    /// Whether the samples suffice for a dictionary.
    var hasEnough: Bool { heldBytes >= DictionaryPolicy.minimumSampleBytes && heldCount >= DictionaryPolicy.minimumChunks }

    /// The sample bytes held, by stream (tests).
    var bytesByStream: [Int: Int] { streams.mapValues(\.held) }

    /// The dictionary the samples make (streams in order, each one's samples in order), or nil
    /// when they are too few or zstd found nothing to learn. Keeps the samples.
    func trainedBytes() -> [UInt8]? {
        guard hasEnough else { return nil }
        var all: [UInt8] = []
        all.reserveCapacity(heldBytes)
        defer { all.withUnsafeMutableBytes { Sodium.wipe($0) } }
        var sizes: [Int] = []
        sizes.reserveCapacity(heldCount)
        for k in streams.keys.sorted() {
            for b in streams[k]!.samples {
                all += b
                sizes.append(b.count)
            }
        }
        return ZstdDictionary.train(samples: all, sizes: sizes, capacity: DictionaryPolicy.capacity(forSampleBytes: all.count))
    }

    /// Trains, writes and loads the dictionary and makes it the writer's; returns its id, or nil
    /// when zstd found nothing to learn. The samples are wiped either way.
    @discardableResult
    func train() throws -> ObjectID? {
        defer { wipe() }
        guard let bytes = trainedBytes() else { return nil }
        let id = try vault.writeMeta(DictionaryFile.encode(bytes), kind: .dictionary)
        // Read back as any reader would: the file must load before a blob may name it.
        let loaded = try Vault.readDictionary(backend: vault.backend, id: id, vaultID: vault.vaultID, keys: vault.keys)
        vault.zstd.dictionaries?.insert(loaded)
        vault.zstd.setWriterDictionary(loaded, levels: vault.zstd.dictionaryLevels(trainingSeal: true))
        return id
    }
}

/// A binary max-heap of (share, stream, bytes held) entries: the largest share on top, the
/// later stream first on a tie.
private struct MaxHeap {
    private var items: [(share: Double, key: Int, held: Int)] = []

    var count: Int { items.count }
    var top: (share: Double, key: Int, held: Int)? { items.first }

    private static func above(_ a: (share: Double, key: Int, held: Int), _ b: (share: Double, key: Int, held: Int)) -> Bool {
        a.share > b.share || (a.share == b.share && a.key > b.key)
    }

    mutating func push(share: Double, key: Int, held: Int) {
        items.append((share, key, held))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.above(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && Self.above(items[l], items[m]) { m = l }
            if r < items.count && Self.above(items[r], items[m]) { m = r }
            guard m != i else { return }
            items.swapAt(i, m)
            i = m
        }
    }
}

extension Vault {
    /// Whether blobs may use zstd dictionaries (format 2 and later).
    var usesDictionaries: Bool { config.format >= 2 }

    /// Reads, authenticates and loads the dictionary file `id`. Every failure is an integrity
    /// error that names the file.
    static func readDictionary(backend: Backend, id: ObjectID, vaultID: ObjectID, keys: VaultKeys) throws -> ZstdDictionary {
        let file = VaultFile.dictionary(id)
        if let size = try backend.size(file), size > DictionaryFile.maximumFile {
            throw CofferError.integrity(object: file.path, reason: "\(size) bytes, larger than a dictionary file may be")
        }
        // Metadata zstd is only used to decompress the body: a level is never used here.
        let body = try readMeta(backend: backend, file: file, kind: .dictionary, vaultID: vaultID, keys: keys, zstd: Zstd(level: 1))
        do {
            return try ZstdDictionary(id: id, bytes: try DictionaryFile.decode(body))
        } catch {
            throw CofferError.decoding(error, object: file.path)
        }
    }

    /// The cache a format-2 vault's readers load dictionaries through (set up when it opens).
    static func dictionaryCache(backend: Backend, vaultID: ObjectID, keys: VaultKeys) -> ZstdDictionaryCache {
        ZstdDictionaryCache { id in try Vault.readDictionary(backend: backend, id: id, vaultID: vaultID, keys: keys) }
    }

    /// The dictionary files listed in `dicts/`, by id (sorted).
    func dictionaryIDs() throws -> [ObjectID] {
        try backend.ids(in: .dicts).sorted()
    }

    /// Before a seal: the dictionary new small chunks use, the first listed that loads (a vault
    /// normally has one). Returns a note when a listed dictionary cannot be used.
    func selectWriterDictionary() throws -> String? {
        zstd.setWriterDictionary(nil, levels: [])
        guard usesDictionaries, let cache = zstd.dictionaries else { return nil }
        var refused: [String] = []
        for id in try dictionaryIDs() {
            do {
                zstd.setWriterDictionary(try cache.dictionary(id), levels: zstd.dictionaryLevels(trainingSeal: false))
                break
            } catch {
                refused.append("\(error)")
            }
        }
        guard !refused.isEmpty else { return nil }
        return "a dictionary could not be used (\(refused[0])); run coffer check"
    }
}
