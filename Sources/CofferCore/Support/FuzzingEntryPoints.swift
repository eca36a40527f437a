import CofferCrypto
import Foundation

/// Entry points for the libFuzzer targets in `Fuzz/` (see Fuzz/README.md). Not part of the
/// library's API: `@_spi(Fuzzing)` hides them from every client that does not write
/// `@_spi(Fuzzing) import CofferCore`, and only the fuzz package does.
///
/// Each entry point runs one of the vault's decoders on bytes a fuzzer chose, the way the
/// vault's readers call it, under a fixed test key, and lets decoding failures out as the
/// readers report them (`CofferError`). The `…RoundTrip` functions return the re-encoding of
/// what was decoded, for the targets to compare with their input.
@_spi(Fuzzing)
public enum FuzzingEntryPoints {
    /// The fixed vault id of the fuzz targets: 32 bytes of 0x11.
    public static let vaultID = ObjectID(bytes: [UInt8](repeating: 0x11, count: 32))
    /// The fixed passphrase of the key-slot target.
    public static let passphrase: [UInt8] = Array("coffer fuzz passphrase".utf8)
    /// Keys derived from the fixed test master key (32 bytes of 0x5A). Never a real vault's key.
    static let keys: VaultKeys = {
        let master = [UInt8](repeating: 0x5A, count: 32)
        return VaultKeys(master: master.withUnsafeBytes { SecureBytes(copying: $0) })
    }()
    static let zstd = Zstd(level: 3)

    /// A `FormatError` becomes the `CofferError` the readers report; anything else passes as is.
    private static func reading<T>(_ object: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as FormatError { throw CofferError.decoding(e, object: object) }
    }

    // MARK: Key slot

    /// `KeySlot.decode`, then `encode`.
    public static func keySlotRoundTrip(_ bytes: [UInt8]) throws -> [UInt8] {
        try reading("keys/fuzz") { try KeySlot.decode(bytes) }.encode()
    }

    /// Decodes a slot and tries to unlock it with the fixed passphrase and vault id, mapping
    /// failures as `Vault.open` does. Argon2id runs only for parameters of at most 2 passes and
    /// 64 KiB (anything dearer is only validated, and nil returned), so one run stays cheap.
    /// Returns whether the unwrapped key is the test master key.
    public static func keySlotUnlock(_ bytes: [UInt8]) throws -> Bool? {
        let slot = try reading("keys/fuzz") { try KeySlot.decode(bytes) }
        do {
            try slot.parameters.validate()
            guard slot.parameters.opsLimit <= 2, slot.parameters.memLimit <= 64 << 10 else { return nil }
            let master = try passphrase.withUnsafeBytes { try slot.unlock(passphrase: SecureBytes(copying: $0), vaultID: vaultID) }
            return master.constantTimeEquals(keys.master)
        } catch CryptoError.wrongPassphrase {
            throw CofferError.wrongPassphrase(vault: "fuzz")
        } catch let e as CryptoError {
            switch e {
            case .kdfParametersTooHigh, .kdfParametersInvalid, .kdfOutOfMemory: throw CofferError.keySlotRefused(slot: "fuzz", reason: e.description)
            default: throw CofferError.integrity(object: "keys/fuzz", reason: e.description)
            }
        }
    }

    /// A key slot for the fixed test master key under the fixed passphrase and vault id, with the
    /// test-only Argon2id parameters (for the seed corpus).
    public static func keySlotSeed(host: String) throws -> [UInt8] {
        try passphrase.withUnsafeBytes { p in
            try KeySlot.create(
                masterKey: keys.master, passphrase: SecureBytes(copying: p), parameters: .insecureTestOnly, vaultID: vaultID,
                created: 1_700_000_000, host: host)
        }.encode()
    }

    // MARK: Config

    /// `VaultConfig.peek` (the fields read before unlocking).
    public static func configPeek(_ bytes: [UInt8]) throws {
        _ = try reading("config") { try VaultConfig.peek(bytes) }
    }

    /// `body` with its MAC under the test config key appended: a config file that authenticates.
    public static func configAuthenticated(_ body: [UInt8]) -> [UInt8] {
        body + Blake2b.hash(body, key: keys.config)
    }

    /// `VaultConfig.decode` under the test config key, then `encode`.
    public static func configRoundTrip(_ file: [UInt8]) throws -> [UInt8] {
        try reading("config") { try VaultConfig.decode(file, macKey: keys.config) }.encode(macKey: keys.config)
    }

    // MARK: Pack header

    /// The header envelope of `header` (a pack header's plaintext) under the test key.
    public static func sealPackHeader(_ header: [UInt8]) -> [UInt8] {
        AEAD.seal(header, ad: PackFormat.headerADPrefix + vaultID.bytes, key: keys.meta)
    }

    /// `PackFormat.readHeader` on a pack of `packSize` bytes whose last `tail.count` bytes are
    /// `tail` (the bytes before it read as zeros; they are never allocated as a whole).
    public static func packHeader(packSize: Int, tail: [UInt8]) throws -> [PackEntry] {
        precondition(packSize >= tail.count)
        let tailStart = packSize - tail.count
        return try PackFormat.readHeader(packSize: packSize, object: "packs/fuzz", vaultID: vaultID, keys: keys) { offset, length in
            precondition(offset >= 0 && length >= 0 && offset + length <= packSize, "read outside the pack")
            var out = [UInt8](repeating: 0, count: length)
            let from = max(offset, tailStart), to = offset + length
            if from < to { out.replaceSubrange((from - offset)..<(to - offset), with: tail[(from - tailStart)..<(to - tailStart)]) }
            return out
        }
    }

    // MARK: Metadata envelope and bodies

    /// `MetaObject.seal` of `body` under the test key (kind 1 index, 2 version, 3 head, 4 lock).
    public static func sealMeta(_ body: [UInt8], kind: UInt8) -> [UInt8] {
        MetaObject.seal(body, kind: MetaKind(rawValue: kind)!, vaultID: vaultID, key: keys.meta, zstd: zstd)
    }

    /// A metadata file whose AEAD plaintext (`flags || body_len || stored_len || stored || padding`)
    /// is `plain`, as it is, under the test key.
    public static func sealMetaPlaintext(_ plain: [UInt8], kind: UInt8) -> [UInt8] {
        [kind, MetaObject.envelopeVersion] + AEAD.seal(plain, ad: Array("coffer.meta.v1".utf8) + [kind] + vaultID.bytes, key: keys.meta)
    }

    /// `MetaObject.open` under the test key, expecting `kind`; returns the body.
    public static func openMeta(_ file: [UInt8], kind: UInt8) throws -> [UInt8] {
        try reading("meta/fuzz") { try MetaObject.open(file, kind: MetaKind(rawValue: kind)!, vaultID: vaultID, key: keys.meta, zstd: zstd) }
    }

    /// `IndexFile.decode`, then `encode`.
    public static func indexRoundTrip(_ body: [UInt8]) throws -> [UInt8] {
        let file = try reading("index/fuzz") { try IndexFile.decode(body) }
        var index = ChunkIndex()
        for p in file.packs { index.add(pack: p.pack, entries: p.entries) }
        return file.encode()
    }

    /// `Head.decode`, then `encode`.
    public static func headRoundTrip(_ body: [UInt8]) throws -> [UInt8] {
        try reading("heads/fuzz") { try Head.decode(body) }.encode()
    }

    /// `Head.parseFileName`, then `fileName`, or nil when the name is not a head's.
    public static func headNameRoundTrip(_ name: String) -> String? {
        Head.parseFileName(name).map { Head.fileName(generation: $0.generation, id: $0.id) }
    }

    /// A dictionary body as a reader takes it: `DictionaryFile.decode`, then loading the bytes
    /// into zstd (`ZstdDictionary`, which parses its header and tables). Returns the re-encoded
    /// body, and, when the dictionary loads, a fixed sample compressed with it and decompressed
    /// again through the dictionary blob path (for the target to compare with ``dictionarySample``).
    public static func dictionaryRoundTrip(_ body: [UInt8]) throws -> (reencoded: [UInt8], sample: [UInt8]) {
        let bytes = try reading("dicts/fuzz") { try DictionaryFile.decode(body) }
        let reencoded = DictionaryFile.encode(bytes)
        let d = try reading("dicts/fuzz") { try ZstdDictionary(id: ObjectID.hashing(body), bytes: bytes) }
        let z = Zstd(level: 1)
        z.dictionaries = ZstdDictionaryCache { _ in d }
        let input = dictionarySample
        var packed = [UInt8](repeating: 0, count: input.count)
        let n = input.withUnsafeBytes { i in packed.withUnsafeMutableBytes { z.compress(i, into: $0, dictionary: d, level: 1) } }
        guard let n else { return (reencoded, input) }  // not smaller with this dictionary: nothing to decode
        var out = [UInt8](repeating: 0, count: input.count)
        try reading("dicts/fuzz") {
            try packed[0..<n].withUnsafeBytes { p in try out.withUnsafeMutableBytes { try z.decompressWithDictionary(p, into: $0) } }
        }
        return (reencoded, out)
    }

    /// The text ``dictionaryRoundTrip(_:)`` compresses with a fuzzed dictionary.
    public static let dictionarySample: [UInt8] = Array(String(repeating: "Ada,Lorimore,https://www.linkedin.com/in/ada,Engineer,1 Mar 2024\n", count: 40).utf8)

    /// A dictionary body trained on CSV rows (for the seed corpus).
    public static func dictionarySeed() -> [UInt8]? {
        var samples: [UInt8] = []
        var sizes: [Int] = []
        for i in 0..<200 {
            let row = Array("Name \(i % 17),Company \(i % 5),https://www.linkedin.com/in/p-\(i * 7919 % 1000),Engineer \(i % 11),\(1 + i % 28) Mar 2024\n".utf8)
            let chunk = Array([[UInt8]](repeating: row, count: 20 + i % 13).joined())
            samples += chunk
            sizes.append(chunk.count)
        }
        return ZstdDictionary.train(samples: samples, sizes: sizes, capacity: 4096).map(DictionaryFile.encode)
    }

    /// `LockInfo.decode`, then `encode`.
    public static func lockRoundTrip(_ body: [UInt8]) throws -> [UInt8] {
        try reading("locks/fuzz") { try LockInfo.decode(body, name: "fuzz") }.encode()
    }

    /// `Version.decode`, then what `ls` and `check` derive from it (the walk with archives
    /// expanded, `storedChunks`), then `encode`. The time goes through `Date` (a `Double`), so its 12 bytes
    /// may come back rounded; `reencoded` is nil when the seconds are beyond ±2^53, where `encode`
    /// cannot write the `Date` back.
    public static func versionRoundTrip(_ body: [UInt8]) throws -> (version: Version, reencoded: [UInt8]?) {
        let v = try reading("versions/fuzz") { try Version.decode(body) }
        try walker(of: v, expandArchives: true).forEach { e in _ = e.storedChunks; _ = e.sha256Hex }
        guard abs(v.time.timeIntervalSince1970) < 0x1p53 else { return (v, nil) }
        return (v, v.encode())
    }

    // MARK: Tree pieces

    /// `TreeCodec.decode` of a tree piece's plaintext, then the re-encoding of its nodes.
    public static func treeRoundTrip(_ bytes: [UInt8]) throws -> [UInt8] {
        let nodes = try reading("tree/fuzz") { try TreeCodec.decode(bytes) }
        var w = ByteWriter(capacity: bytes.count)
        for n in nodes {
            // What the walker derives from a node (storedChunks, the display path) must not trap.
            _ = n.entry.storedChunks; _ = n.entry.displayPath
            TreeCodec.encodeNode(n.entry, name: n.name, into: &w)
        }
        return TreeCodec.piece(count: nodes.count, nodes: w.bytes)
    }

    /// A tree piece (for the seed corpus): one node of every kind.
    public static func treeSeed() -> [UInt8] {
        var nodes: [(name: [UInt8], entry: VersionEntry)] = []
        var f = VersionEntry(type: .file, path: "a", mode: 0o4755, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 7, size: 8192)
        f.chunks = [ObjectID(bytes: [UInt8](repeating: 1, count: 32))]
        f.holes = [Hole(offset: 0, length: 4096)]
        f.xattrs = [ExtendedAttribute(name: Array("user.x".utf8), value: [1])]
        f.user = Array("root".utf8); f.group = Array("root".utf8)
        nodes.append(([0x61], f))
        var d = VersionEntry(type: .directory, path: "b", mode: 0o1777, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        d.subtree = [ObjectID(bytes: [UInt8](repeating: 2, count: 32))]
        nodes.append(([0x62], d))
        var l = VersionEntry(type: .symlink, path: "c", mode: 0o777, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 2)
        l.linkTargetBytes = [0xFF, 0x2F]
        nodes.append(([0x63], l))
        var a = VersionEntry(type: .archive, path: "d", mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 22)
        a.layoutIDs = [ObjectID(bytes: [UInt8](repeating: 3, count: 32))]
        nodes.append(([0x64], a))
        nodes.append(([0x65], VersionEntry(type: .fifo, path: "e", mode: 0o600, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)))
        var c = VersionEntry(type: .charDevice, path: "f", mode: 0o666, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        c.rdev = 0x103
        nodes.append(([0x66], c))
        var b = VersionEntry(type: .blockDevice, path: "g", mode: 0o660, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        b.rdev = 0x801
        nodes.append(([0x67], b))
        var h = VersionEntry(type: .hardlink, path: "h", mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 8192)
        h.hardlinkTargetBytes = Array("top/a".utf8)
        nodes.append(([0x68, 0xE9], h))
        var w = ByteWriter()
        for n in nodes { TreeCodec.encodeNode(n.entry, name: n.name, into: &w) }
        return TreeCodec.piece(count: nodes.count, nodes: w.bytes)
    }

    // MARK: Archive layouts

    /// `ArchiveLayout.decode` of a format-2 archive's layout (its layout pieces' plaintexts,
    /// concatenated; layout format 1 or 2), with the checks the cursor makes (no trailing bytes),
    /// then the re-encoding. Also checks what readers rely on: inline parts within the limit and
    /// named by no member, stored parts' sizes equal, contents within what their chunks hold.
    public static func layoutRoundTrip(_ bytes: [UInt8]) throws -> [UInt8] {
        let layout = try reading("layout/fuzz") {
            var r = ByteReader(bytes)
            let l = try ArchiveLayout.decode(&r, allowsInline: true)
            guard r.isAtEnd else { throw FormatError("\(r.remaining) unexpected trailing bytes") }
            return l
        }
        for p in layout.parts {
            if let b = p.inlineBytes {
                precondition(layout.format == ArchiveLayout.zipInline && !b.isEmpty && b.count <= ArchiveLayout.inlineLimit && p.outputSize == UInt64(b.count))
            } else {
                precondition(p.contentSize <= UInt64(p.chunkCount) * UInt64(ChunkSizes.formatMaximum))
                precondition(p.kind == .transformed || p.outputSize == p.contentSize)
            }
        }
        for m in layout.members { if let k = m.part { precondition(layout.parts[k].kind != .inline) } }
        var w = ByteWriter(capacity: layout.encodedSize)
        layout.encode(into: &w)
        return w.bytes
    }

    /// A walker over a decoded format-1 version's entries (archive layouts inline).
    public static func walker(of v: Version, expandArchives: Bool = false) -> VersionWalker {
        VersionWalker(source: ListedEntries(v.v1Entries), expandArchives: expandArchives) { $0.archive }
    }

    // MARK: Paths

    /// The components of `path` as a stored version path (``RelativePath``), or nil if the rules
    /// refuse it; and whether `Version.decode` accepts a manifest holding one folder at `path`
    /// (it must agree).
    public static func versionPath(_ path: String) -> (components: [[UInt8]]?, decodes: Bool) {
        let v = Version(
            name: "fuzz", time: Date(timeIntervalSince1970: 0), host: "", tags: [], paths: [], parent: nil, stats: VersionStats(),
            notes: [], v1Entries: [VersionEntry(type: .directory, path: path, mode: 0o755, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)])
        let decodes = (try? Version.decode(v.encode())) != nil
        return (RelativePath(path)?.components, decodes)
    }

    /// The components of arbitrary bytes (not necessarily UTF-8) under the same rules.
    public static func pathComponents(bytes: [UInt8]) -> [[UInt8]]? { RelativePath(bytes: bytes)?.components }

    /// Where `restore --expand` writes a zip member of this name (components), or nil if it skips it.
    public static func zipMemberComponents(_ name: String) -> [[UInt8]]? { RelativePath.zipMember(name)?.components }

    /// The folder `restore --expand` writes an archive at `path` into.
    public static func expandedFolder(_ path: String) -> [[UInt8]]? { RelativePath(path).map { Restorer.expandedName($0).components } }
}

extension Vault {
    /// The decrypted body of metadata file `path` (`index/…`, `versions/…`, `heads/…`), for the
    /// fuzz corpus generator.
    @_spi(Fuzzing)
    public func fuzzingBody(path: String, kind: UInt8) throws -> [UInt8] {
        try MetaObject.open(backend.read(path), kind: MetaKind(rawValue: kind)!, vaultID: vaultID, key: keys.meta, zstd: zstd)
    }

    /// The AEAD plaintext of metadata file `path` (envelope framing and padding included).
    @_spi(Fuzzing)
    public func fuzzingMetaPlaintext(path: String, kind: UInt8) throws -> [UInt8] {
        let file = try backend.read(path)
        return try AEAD.open(Array(file[2...]), ad: Array("coffer.meta.v1".utf8) + [kind] + vaultID.bytes, key: keys.meta)
    }

    /// The decrypted header of pack `path` (its plaintext entries and zero padding).
    @_spi(Fuzzing)
    public func fuzzingPackHeaderPlaintext(path: String) throws -> [UInt8] {
        let pack = try backend.read(path)
        let n = pack.count
        let hlen = Int(pack[n - 4]) | Int(pack[n - 3]) << 8 | Int(pack[n - 2]) << 16 | Int(pack[n - 1]) << 24
        return try AEAD.open(Array(pack[(n - 4 - hlen)..<(n - 4)]), ad: PackFormat.headerADPrefix + vaultID.bytes, key: keys.meta)
    }

    /// Every archive's layout in the vault's versions (format 2: its layout pieces' plaintexts,
    /// concatenated), by its first piece's id, once each (seeds of the layout target).
    @_spi(Fuzzing)
    public func fuzzingLayouts() throws -> [(id: ObjectID, plaintext: [UInt8])] {
        let readers = PackReaders(vault: self)
        var out: [(id: ObjectID, plaintext: [UInt8])] = []
        for (id, _) in try versions() {
            let w = try walker(for: id, expandArchives: false)
            while let e = try w.next() {
                guard e.type == .archive, !e.layoutIDs.isEmpty, !out.contains(where: { $0.id == e.layoutIDs[0] }) else { continue }
                var bytes: [UInt8] = []
                for l in e.layoutIDs { bytes += try readPiece(l, type: .layout, readers: readers, context: "layout piece \(l.short)") }
                out.append((e.layoutIDs[0], bytes))
            }
        }
        return out
    }

    /// Every tree piece the index lists (format 2), decrypted: id and plaintext, by id.
    @_spi(Fuzzing)
    public func fuzzingTreePieces() throws -> [(id: ObjectID, plaintext: [UInt8])] {
        let readers = PackReaders(vault: self)
        return try index.locations.filter { $0.value.type == .tree }.map(\.key).sorted().map {
            ($0, try readPiece($0, type: .tree, readers: readers, context: "tree piece \($0.short)"))
        }
    }
}
