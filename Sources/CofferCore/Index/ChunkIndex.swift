import CofferCrypto

/// Where one chunk is stored.
public struct ChunkLocation: Sendable, Equatable {
    public var pack: ObjectID
    public var flags: UInt8
    public var offset: Int
    public var envelopeLength: Int
    public var plainLength: Int
}

/// An index file: the data blobs of some packs.
///
/// ```
/// body  = u8 body_version(1) || u32le pack_count || pack*
/// pack  = pack_id(32) || u32le entry_count || entry*
/// entry = chunk_id(32) || u8 flags || u32le offset || u32le env_len || u32le plain_len
/// ```
/// A reader checks `plain_len ≤ 8 MiB` and `40 ≤ env_len ≤ ZSTD_compressBound(plain_len) + 40`.
/// (in the MetaObject envelope, kind 1, stored at index/<name>)
struct IndexFile: Sendable {
    var packs: [(pack: ObjectID, entries: [PackEntry])] = []

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + packs.reduce(0) { $0 + 36 + $1.entries.count * 45 })
        w.u8(1)
        w.u32(UInt32(packs.count))
        for p in packs {
            w.id(p.pack)
            w.u32(UInt32(p.entries.count))
            for e in p.entries {
                w.id(e.id); w.u8(e.flags); w.u32(UInt32(e.offset)); w.u32(UInt32(e.envelopeLength)); w.u32(UInt32(e.plainLength))
            }
        }
        return w.bytes
    }

    static func decode(_ body: [UInt8]) throws -> IndexFile {
        var r = ByteReader(body)
        let bv = try r.u8()
        guard bv == 1 else { throw bv > 1 ? FormatError.newer("index body", bv) : FormatError("unknown index body version") }
        var out = IndexFile()
        let np = try r.count(minimumElementSize: 36)
        for _ in 0..<np {
            let pack = try r.id()
            let ne = try r.count(minimumElementSize: 45)
            var entries: [PackEntry] = []
            entries.reserveCapacity(ne)
            for _ in 0..<ne {
                let id = try r.id()
                let flags = try r.u8()
                let e = PackEntry(type: .data, flags: flags, id: id, offset: Int(try r.u32()), envelopeLength: Int(try r.u32()), plainLength: Int(try r.u32()))
                guard e.plainLength <= ChunkSizes.formatMaximum else { throw FormatError("chunk length out of range") }
                // Restore allocates env_len bytes for the blob before opening it: bound it here.
                guard e.envelopeLength >= AEAD.overhead, e.envelopeLength <= Zstd.bound(e.plainLength) + AEAD.overhead else {
                    throw FormatError("envelope length \(e.envelopeLength) out of range for a \(e.plainLength)-byte chunk")
                }
                entries.append(e)
            }
            out.packs.append((pack, entries))
        }
        try r.expectEnd()
        return out
    }
}

/// The in-memory index of every chunk in the vault: chunk id → location.
struct ChunkIndex: Sendable {
    private(set) var locations: [ObjectID: ChunkLocation] = [:]
    /// Every pack the index refers to.
    private(set) var packs: Set<ObjectID> = []

    var count: Int { locations.count }

    func location(of id: ObjectID) -> ChunkLocation? { locations[id] }
    func contains(_ id: ObjectID) -> Bool { locations[id] != nil }

    mutating func add(pack: ObjectID, entries: [PackEntry]) {
        packs.insert(pack)
        for e in entries where e.type == .data {
            // The first location wins; a chunk stored twice (two interrupted seals) is harmless.
            if locations[e.id] == nil {
                locations[e.id] = ChunkLocation(pack: pack, flags: e.flags, offset: e.offset, envelopeLength: e.envelopeLength, plainLength: e.plainLength)
            }
        }
    }
}
