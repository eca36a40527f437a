import CofferCrypto
import Foundation

/// Where one chunk is stored.
public struct ChunkLocation: Sendable, Equatable {
    public var pack: ObjectID
    /// The blob's type (data in a body_version 1 index, which does not record it).
    public var type: BlobType = .data
    public var flags: UInt8
    public var offset: Int
    public var envelopeLength: Int
    public var plainLength: Int
}

/// An index file: the blobs of some packs (every blob but padding).
///
/// ```
/// body_version 1 (format-1 vaults):
/// body  = u8 body_version(1) || u32le pack_count || pack*
/// pack  = pack_id(32) || u32le entry_count || entry*
/// entry = chunk_id(32) || u8 flags || u32le offset || u32le env_len || u32le plain_len             (45 bytes; type data)
///
/// body_version 2 (format-2 vaults):
/// body  = u8 body_version(2) || u32le pack_count || pack* || zero bytes
/// pack  = pack_id(32) || u32le entry_count || entry*                  entry_count ≥ 1, pack ids unique
/// entry = u8 type || id(32) || u8 flags || u32le offset || u32le env_len || u32le plain_len         (46 bytes)
/// |body| = 5 + 36 · pack_count + 46 · bucket(Σ entry_count)          bucket as pack headers: next power of two, at least 32
///                                                                     Σ entry_count ≤ 2^20
/// ```
/// A reader checks `plain_len ≤ 8 MiB` and `40 ≤ env_len ≤ ZSTD_compressBound(plain_len) + 40`;
/// in body_version 2 also the type (a blob type other than padding), the body length and that
/// the padding is zeros. Body_version 2 is sealed uncompressed: zstd would squeeze the padding
/// out and the file's size would tell the entry count again.
/// (in the MetaObject envelope, kind 1, stored at index/<name>)
struct IndexFile: Sendable {
    var bodyVersion: UInt8 = 1
    var packs: [(pack: ObjectID, entries: [PackEntry])] = []

    /// The most entries a body_version 2 index file holds (as a pack header); a seal or prune
    /// that indexes more writes several files.
    static let maximumEntries = 1 << 20

    static func encodedLength(bodyVersion: UInt8, packs: Int, entries: Int) -> Int {
        bodyVersion == 1 ? 5 + 36 * packs + 45 * entries : 5 + 36 * packs + PackEntry.encodedSize * PackFormat.bucket(entries)
    }

    func encode() -> [UInt8] {
        let total = packs.reduce(0) { $0 + $1.entries.count }
        let length = Self.encodedLength(bodyVersion: bodyVersion, packs: packs.count, entries: total)
        var w = ByteWriter(capacity: length)
        w.u8(bodyVersion)
        w.u32(UInt32(packs.count))
        for p in packs {
            w.id(p.pack)
            w.u32(UInt32(p.entries.count))
            for e in p.entries {
                if bodyVersion >= 2 { w.u8(e.type.rawValue) }
                w.id(e.id); w.u8(e.flags); w.u32(UInt32(e.offset)); w.u32(UInt32(e.envelopeLength)); w.u32(UInt32(e.plainLength))
            }
        }
        if bodyVersion >= 2 { w.raw(repeatElement(0, count: length - w.bytes.count)) }
        return w.bytes
    }

    /// The index files (body_version 2) for `packs`: one, unless they hold more than
    /// ``maximumEntries`` entries (a pack's entries are never split between files), or unless
    /// whole packs split between files fill their power-of-two buckets better (see
    /// ``splitByBucket(_:)``). A pack without entries is left out (a reader refuses one).
    static func bodyVersion2Files(_ packs: [(pack: ObjectID, entries: [PackEntry])]) -> [IndexFile] {
        var groups: [[(pack: ObjectID, entries: [PackEntry])]] = []
        var current: [(pack: ObjectID, entries: [PackEntry])] = []
        var count = 0
        for p in packs where !p.entries.isEmpty {
            if count + p.entries.count > maximumEntries && !current.isEmpty {
                groups.append(current)
                current = []
                count = 0
            }
            current.append(p)
            count += p.entries.count
        }
        groups.append(current)
        return groups.flatMap { splitByBucket($0) }.map { IndexFile(bodyVersion: 2, packs: $0) }
    }

    /// The bytes one more index file costs besides its entries: its envelope and Padmé room, and
    /// its name in the head (an estimate; it only decides whether a split pays).
    static let fileCost = 256

    /// Packs grouped so that the files' buckets waste less than one file's: entries are padded to
    /// a power of two, so 2,119 entries in one file take 4,096 entries' room, and in a file of
    /// 2,048 or fewer and another of 71 or more, 2,176 (Docs/FORMAT.md, "Index"). The first file
    /// takes the packs, largest first, that fit in the largest power of two not above the entry
    /// count; the rest is split again. A split is kept only when it is smaller. Each file's size
    /// shows its bucket, as each pack header's length already shows the pack's.
    static func splitByBucket(_ packs: [(pack: ObjectID, entries: [PackEntry])]) -> [[(pack: ObjectID, entries: [PackEntry])]] {
        let total = packs.reduce(0) { $0 + $1.entries.count }
        let room = 1 << (Int.bitWidth - 1 - max(total, 1).leadingZeroBitCount)
        guard packs.count > 1, total > PackFormat.minimumBucket, room < total else { return [packs] }
        var taken = [Bool](repeating: false, count: packs.count)
        var filled = 0
        for i in packs.indices.sorted(by: { packs[$0].entries.count > packs[$1].entries.count }) where filled + packs[i].entries.count <= room {
            taken[i] = true
            filled += packs[i].entries.count
        }
        let first = packs.indices.filter { taken[$0] }.map { packs[$0] }
        let rest = packs.indices.filter { !taken[$0] }.map { packs[$0] }
        guard !first.isEmpty, !rest.isEmpty else { return [packs] }
        let restFiles = splitByBucket(rest)
        func cost(_ files: [[(pack: ObjectID, entries: [PackEntry])]]) -> Int {
            files.reduce(0) { $0 + fileCost + 36 * $1.count + PackEntry.encodedSize * PackFormat.bucket($1.reduce(0) { $0 + $1.entries.count }) }
        }
        let split = [first] + restFiles
        return cost(split) < cost([packs]) ? split : [packs]
    }

    static func decode(_ body: [UInt8]) throws -> IndexFile {
        var r = ByteReader(body)
        let bv = try r.u8()
        guard bv == 1 || bv == 2 else { throw bv > 2 ? FormatError.newer("index body", bv) : FormatError("unknown index body version") }
        var out = IndexFile(bodyVersion: bv)
        let entrySize = bv == 1 ? 45 : PackEntry.encodedSize
        let np = try r.count(minimumElementSize: 36)
        var total = 0
        var seen = Set<ObjectID>()
        for _ in 0..<np {
            let pack = try r.id()
            let ne = try r.count(minimumElementSize: entrySize)
            if bv >= 2 {
                guard ne >= 1 else { throw FormatError("pack \(pack.short) is listed without entries") }
                guard seen.insert(pack).inserted else { throw FormatError("pack \(pack.short) is listed twice") }
                total += ne
                guard total <= maximumEntries else { throw FormatError("more than \(maximumEntries) entries") }
            }
            var entries: [PackEntry] = []
            entries.reserveCapacity(ne)
            for _ in 0..<ne {
                var type = BlobType.data
                if bv >= 2 {
                    let t = try r.u8()
                    guard let known = BlobType(rawValue: t), known != .padding else { throw FormatError("entry of blob type \(t)") }
                    type = known
                }
                let id = try r.id()
                let flags = try r.u8()
                let e = PackEntry(type: type, flags: flags, id: id, offset: Int(try r.u32()), envelopeLength: Int(try r.u32()), plainLength: Int(try r.u32()))
                guard e.plainLength <= ChunkSizes.formatMaximum else { throw FormatError("chunk length out of range") }
                // Restore allocates env_len bytes for the blob before opening it: bound it here.
                guard e.envelopeLength >= AEAD.overhead, e.envelopeLength <= Zstd.bound(e.plainLength) + AEAD.overhead else {
                    throw FormatError("envelope length \(e.envelopeLength) out of range for a \(e.plainLength)-byte chunk")
                }
                entries.append(e)
            }
            out.packs.append((pack, entries))
        }
        if bv >= 2 {
            // The padding: the body is as long as the bucket of its entry count, and zeros.
            let length = encodedLength(bodyVersion: bv, packs: np, entries: total)
            guard body.count == length else {
                throw FormatError("\(body.count) bytes, but \(np) packs and \(total) entries make \(length)")
            }
            guard body[r.offset...].allSatisfy({ $0 == 0 }) else { throw FormatError("the padding is not zeros") }
            return out
        }
        try r.expectEnd()
        return out
    }
}

/// The in-memory index of every chunk in the vault: chunk id → location.
///
/// Kept compact, since every command loads it whole: one 56-byte record per chunk in a buffer
/// sorted by chunk id (found by binary search), packs numbered, instead of a dictionary (about
/// 250 bytes per chunk with its load factor). Packs are added in batches (``add(_:)``), each
/// merged in once: the buffer grows in place (`realloc`) and the batch's records, sorted, are
/// merged in from its end, so a merge holds the index and the batch, not a second index. The
/// buffer is shared by copies of the index and copied before one of them changes.
struct ChunkIndex: Sendable {
    fileprivate struct Record: Sendable, ChunkIDKeyed {
        var id: ObjectID
        var pack: UInt32
        var offset: UInt32
        var envelopeLength: UInt32
        var plainLength: UInt32
        var flags: UInt8
        var type: UInt8
        var chunkID: ObjectID { id }
    }

    /// The records, sorted by id, one per id; shared by copies of the index until one changes.
    private var records = SortedIDRun<Record>()
    /// Pack ids by number.
    private var packIDs: [ObjectID] = []
    private var packNumbers: [ObjectID: UInt32] = [:]
    /// Every pack the index refers to.
    private(set) var packs: Set<ObjectID> = []

    var count: Int { records.count }

    func location(of id: ObjectID) -> ChunkLocation? { records.position(of: id).map { location(records[$0]) } }
    func contains(_ id: ObjectID) -> Bool { records.position(of: id) != nil }

    /// Every chunk and its location (built on demand: for check and prune, which go through all).
    var locations: [ObjectID: ChunkLocation] {
        var out: [ObjectID: ChunkLocation] = [:]
        out.reserveCapacity(records.count)
        for i in 0..<records.count {
            let r = records[i]
            out[r.id] = location(r)
        }
        return out
    }

    private func location(_ r: Record) -> ChunkLocation {
        ChunkLocation(
            pack: packIDs[Int(r.pack)], type: BlobType(rawValue: r.type) ?? .data, flags: r.flags, offset: Int(r.offset), envelopeLength: Int(r.envelopeLength), plainLength: Int(r.plainLength))
    }

    mutating func add(pack: ObjectID, entries: [PackEntry]) {
        var batch = Batch()
        batch.append(pack: pack, entries: entries)
        add(consume batch)
    }

    /// Packs to add to an index in one merge.
    struct Batch {
        fileprivate var packs: [ObjectID] = []
        /// Each record's `pack` is its pack's place in `packs` until the batch is added.
        fileprivate var records: [Record] = []

        mutating func append(pack: ObjectID, entries list: [PackEntry]) {
            packs.append(pack)
            let slot = UInt32(packs.count - 1)
            // Lengths and offsets are u32 in index files (IndexFile), and packs are far smaller.
            for e in list where e.type != .padding {
                records.append(Record(
                    id: e.id, pack: slot, offset: UInt32(e.offset), envelopeLength: UInt32(e.envelopeLength), plainLength: UInt32(e.plainLength),
                    flags: e.flags, type: e.type.rawValue))
            }
        }
    }

    /// Adds a batch of packs. The first location of a chunk wins (a chunk stored twice, by two
    /// interrupted seals, is harmless): one already in the index, then the first in the batch.
    /// A caller that passes its batch with `consume` lends its records to the merge (no copy).
    mutating func add(_ batch: consuming Batch) {
        var numbers: [UInt32] = []
        numbers.reserveCapacity(batch.packs.count)
        for pack in batch.packs {
            packs.insert(pack)
            if let n = packNumbers[pack] {
                numbers.append(n)
            } else {
                let n = UInt32(packIDs.count)
                packIDs.append(pack)
                packNumbers[pack] = n
                numbers.append(n)
            }
        }
        guard !batch.records.isEmpty else { return }
        var fresh = batch.records
        batch.records = []
        for j in fresh.indices { fresh[j].pack = numbers[Int(fresh[j].pack)] }
        fresh.sort { SortedIDRun<Record>.precedes($0.id, $1.id) }  // stable: the first of equal ids stays first
        // Only the first of equal ids, and only ids the index lacks, compacted in place.
        var kept = 0
        var previous: ObjectID?
        for j in fresh.indices {
            let id = fresh[j].id
            defer { previous = id }
            if id == previous || records.position(of: id) != nil { continue }
            fresh[kept] = fresh[j]
            kept += 1
        }
        guard kept > 0 else { return }
        if !isKnownUniquelyReferenced(&records) { records = SortedIDRun(copying: records) }
        records.merge(fresh[0..<kept])
    }
}
