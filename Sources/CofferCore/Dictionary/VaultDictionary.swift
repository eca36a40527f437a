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
    /// A seal trains a dictionary once it has stored this many bytes of small chunks that zstd
    /// compressed (about 60 small chunks; the trainer wants ten times the dictionary or more)…
    static let sampleBytes = 1 << 20
    /// …or, when the seal ends before that, at least this many bytes in at least
    /// ``minimumChunks`` chunks.
    static let minimumSampleBytes = 256 << 10
    static let minimumChunks = 32
    /// The largest dictionary trained; a smaller sample gets one a tenth of its size.
    static let maximumDictionary = 64 << 10

    static func capacity(forSampleBytes n: Int) -> Int {
        max(4 << 10, min(maximumDictionary, (n / 10) & ~1023))
    }
}

/// Trains a format-2 vault's first dictionary during a seal: the sealer offers it the plaintext
/// of each small chunk it has just compressed (without a dictionary), sealed and verified; once
/// ``DictionaryPolicy/sampleBytes`` are in, or at the end of the seal when there are enough, it
/// trains the dictionary, writes `dicts/<id>`, reads the file back as a reader would, and makes
/// it the writer's dictionary: the seal's following small chunks already use it.
///
/// The samples are copies of plaintext, held only until training and then wiped.
final class DictionaryTrainer {
    private let vault: Vault
    private var samples: [UInt8] = []
    private var sizes: [Int] = []

    /// A trainer when `vault` is format 2 and has no dictionary (``Vault/selectWriterDictionary()``
    /// ran first); nil otherwise.
    init?(vault: Vault) {
        guard vault.usesDictionaries, vault.zstd.dictionaries != nil, vault.zstd.writerDictionary == nil,
              (try? vault.dictionaryIDs().isEmpty) == true else { return nil }
        self.vault = vault
        samples.reserveCapacity(DictionaryPolicy.sampleBytes + DictionaryPolicy.smallChunk)
    }

    deinit { samples.withUnsafeMutableBytes { Sodium.wipe($0) } }

    /// Offers a small chunk zstd compressed without a dictionary. Returns true once enough
    /// samples are in (call ``train()``).
    func offer(_ plain: UnsafeRawBufferPointer) -> Bool {
        guard plain.count < DictionaryPolicy.smallChunk, samples.count < DictionaryPolicy.sampleBytes else { return samples.count >= DictionaryPolicy.sampleBytes }
        samples.append(contentsOf: plain)
        sizes.append(plain.count)
        return samples.count >= DictionaryPolicy.sampleBytes
    }

    /// Whether the samples suffice for a dictionary (at the end of a seal).
    var hasEnough: Bool { samples.count >= DictionaryPolicy.minimumSampleBytes && sizes.count >= DictionaryPolicy.minimumChunks }

    /// Trains, writes and loads the dictionary and makes it the writer's; returns its id, or nil
    /// when zstd found nothing to learn. The samples are wiped either way.
    @discardableResult
    func train() throws -> ObjectID? {
        defer {
            samples.withUnsafeMutableBytes { Sodium.wipe($0) }
            samples = []
            sizes = []
        }
        guard hasEnough,
              let bytes = ZstdDictionary.train(samples: samples, sizes: sizes, capacity: DictionaryPolicy.capacity(forSampleBytes: samples.count))
        else { return nil }
        let id = try vault.writeMeta(DictionaryFile.encode(bytes), kind: .dictionary)
        // Read back as any reader would: the file must load before a blob may name it.
        let loaded = try Vault.readDictionary(backend: vault.backend, id: id, vaultID: vault.vaultID, keys: vault.keys)
        vault.zstd.dictionaries?.insert(loaded)
        vault.zstd.setWriterDictionary(loaded, levels: vault.zstd.dictionaryLevels(trainingSeal: true))
        return id
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
