import CofferCrypto

/// The plaintext `config` file: what must be known before and right after unlocking.
///
/// ```
/// config = "COFFERVT" || u16le format || vault_id(32) || i64le created_unix
///       || u8 chunker_alg || u8 tier_count || tier*          tier = u64le max_file_size || u32le min || u32le avg || u32le max
///       || u8 compression || u8 level || u32le pack_target || u8 open_packs
///       || mac(32)                                          mac = BLAKE2b-256(key: K_conf, all bytes before it)
/// ```
public struct VaultConfig: Sendable, Equatable {
    public static let magic: [UInt8] = Array("COFFERVT".utf8)
    /// The format version this build writes and the highest it reads.
    public static let currentFormat = 2
    public static let gearFastCDC: UInt8 = 1
    public static let zstdCompression: UInt8 = 1

    public var format: Int
    public var vaultID: ObjectID
    public var created: Int64
    public var chunkerAlgorithm: UInt8
    public var tiers: [ChunkTier]
    public var compression: UInt8
    public var compressionLevel: Int
    public var packTargetSize: Int
    public var openPacks: Int

    /// Fields readable before unlocking: the format version and the vault id.
    static func peek(_ bytes: [UInt8]) throws -> (format: Int, vaultID: ObjectID) {
        var r = ByteReader(bytes)
        guard try r.raw(8) == magic else { throw FormatError("not a Coffer config (bad magic)") }
        let format = Int(try r.u16())
        return (format, try r.id())
    }

    func encode(macKey: SecureBytes) -> [UInt8] {
        var w = ByteWriter()
        w.raw(Self.magic)
        w.u16(UInt16(format))
        w.id(vaultID)
        w.i64(created)
        w.u8(chunkerAlgorithm)
        w.u8(UInt8(tiers.count))
        for t in tiers {
            w.u64(t.maxFileSize)
            w.u32(UInt32(t.sizes.min)); w.u32(UInt32(t.sizes.average)); w.u32(UInt32(t.sizes.max))
        }
        w.u8(compression)
        w.u8(UInt8(compressionLevel))
        w.u32(UInt32(packTargetSize))
        w.u8(UInt8(openPacks))
        var out = w.bytes
        out += Blake2b.hash(out, key: macKey)
        return out
    }

    /// True when the config's trailing MAC matches its bytes under `macKey`.
    static func macIsValid(_ bytes: [UInt8], macKey: SecureBytes) -> Bool {
        guard bytes.count > 32 else { return false }
        let expected = Blake2b.hash(Array(bytes[..<(bytes.count - 32)]), key: macKey)
        let mac = Array(bytes[(bytes.count - 32)...])
        return expected.withUnsafeBytes { e in mac.withUnsafeBytes { Sodium.constantTimeEquals(e, $0) } }
    }

    /// Decodes and authenticates the config with the vault's config MAC key.
    static func decode(_ bytes: [UInt8], macKey: SecureBytes) throws -> VaultConfig {
        guard macIsValid(bytes, macKey: macKey) else {
            throw FormatError("config MAC does not match (altered config or a config from another vault)")
        }
        let body = Array(bytes[..<(bytes.count - 32)])
        var r = ByteReader(body)
        guard try r.raw(8) == magic else { throw FormatError("bad magic") }
        let format = Int(try r.u16())
        let id = try r.id()
        let created = try r.i64()
        let alg = try r.u8()
        guard alg == gearFastCDC else { throw FormatError("unknown chunker algorithm \(alg)") }
        let n = Int(try r.u8())
        guard n >= 1 else { throw FormatError("no chunking tier") }
        var tiers: [ChunkTier] = []
        for _ in 0..<n {
            let maxFile = try r.u64()
            let s = ChunkSizes(min: Int(try r.u32()), average: Int(try r.u32()), max: Int(try r.u32()))
            try s.validate()
            tiers.append(ChunkTier(maxFileSize: maxFile, sizes: s))
        }
        guard tiers.last?.maxFileSize == UInt64.max else { throw FormatError("the last chunking tier must cover every size") }
        let compression = try r.u8()
        guard compression == zstdCompression else { throw FormatError("unknown compression \(compression)") }
        let level = Int(try r.u8())
        let packTarget = Int(try r.u32())
        let openPacks = Int(try r.u8())
        guard packTarget >= 1 << 16, packTarget <= 1 << 30, (1...8).contains(openPacks), (1...22).contains(level) else {
            throw FormatError("pack or compression settings out of range")
        }
        try r.expectEnd()
        return VaultConfig(
            format: format, vaultID: id, created: created, chunkerAlgorithm: alg, tiers: tiers, compression: compression,
            compressionLevel: level, packTargetSize: packTarget, openPacks: openPacks)
    }

    func tier(forFileSize size: UInt64) -> ChunkSizes {
        tiers.first { size <= $0.maxFileSize }!.sizes
    }
}
