import CofferCrypto

/// One entry of a pack header: where a blob is and how to open it.
public struct PackEntry: Sendable, Equatable {
    public var type: BlobType
    public var flags: UInt8
    public var id: ObjectID
    public var offset: Int
    public var envelopeLength: Int
    public var plainLength: Int

    /// `u8 type || u8 flags || id(32) || u32le offset || u32le env_len || u32le plain_len`
    static let encodedSize = 46
}

/// The pack format.
///
/// ```
/// pack       = blob_env_1 || … || blob_env_n || pad_env || header_env || u32le(|header_env|)
/// header     = u32le n || entry_1 || … || entry_n || zeros         (entries for every blob, padding included)
/// |header|   = 4 + 46 · bucket(n)      bucket(n) = max(32, next power of two ≥ n)
/// header_env = nonce(24) || XChaCha20-Poly1305(header, "coffer.packhdr.v1" || vault_id, K_meta)
/// pad_env    = a blob of type padding whose zeros make |pack| = Padmé(|pack without padding| + 40)
/// name       = hex(BLAKE2b-256(pack)), stored at packs/<first two hex digits>/<name>
/// ```
/// Blobs are laid out in a random order and no blob size is visible outside the encrypted header.
enum PackFormat {
    static let headerADPrefix: [UInt8] = Array("coffer.packhdr.v1".utf8)
    static let minimumBucket = 32
    /// The largest header a reader accepts (2^20 entries).
    static let maximumEntries = 1 << 20

    /// The largest pack a vault with this target writes: merged leftovers reach 1.5× the target,
    /// plus one maximal chunk, the header and the padding.
    static func maximumSize(target: Int) -> Int {
        Int(Padme.padded(UInt64(target * 2 + ChunkSizes.formatMaximum * 2 + headerEnvelopeLength(entries: maximumEntries))))
    }

    static func bucket(_ n: Int) -> Int {
        var b = minimumBucket
        while b < n { b <<= 1 }
        return b
    }

    static func headerEnvelopeLength(entries n: Int) -> Int { 4 + PackEntry.encodedSize * bucket(n) + AEAD.overhead }

    /// Decrypts and validates the header at the end of a pack of `packSize` bytes.
    /// `readTail(offset, length)` returns bytes of the pack.
    static func readHeader(
        packSize: Int, object: String, vaultID: ObjectID, keys: VaultKeys, readTail: (Int, Int) throws -> [UInt8]
    ) throws -> [PackEntry] {
        guard packSize >= 4 + headerEnvelopeLength(entries: 1) else { throw CofferError.integrity(object: object, reason: "too short to be a pack") }
        let lenBytes = try readTail(packSize - 4, 4)
        let hlen = Int(lenBytes[0]) | Int(lenBytes[1]) << 8 | Int(lenBytes[2]) << 16 | Int(lenBytes[3]) << 24
        guard hlen >= headerEnvelopeLength(entries: 1), hlen <= headerEnvelopeLength(entries: maximumEntries),
              hlen <= packSize - 4, (hlen - 4 - AEAD.overhead) % PackEntry.encodedSize == 0 else {
            throw CofferError.integrity(object: object, reason: "invalid header length \(hlen)")
        }
        let env = try readTail(packSize - 4 - hlen, hlen)
        let header: [UInt8]
        do { header = try AEAD.open(env, ad: headerADPrefix + vaultID.bytes, key: keys.meta) } catch {
            throw CofferError.integrity(object: object, reason: "pack header does not authenticate")
        }
        do {
            var r = ByteReader(header)
            let n = Int(try r.u32())
            guard n >= 1, n <= maximumEntries, header.count == 4 + PackEntry.encodedSize * bucket(n) else {
                throw FormatError("entry count \(n) does not match the header size")
            }
            var entries: [PackEntry] = []
            entries.reserveCapacity(n)
            var expectedOffset = 0
            for _ in 0..<n {
                guard let type = BlobType(rawValue: try r.u8()) else { throw FormatError("unknown blob type") }
                let flags = try r.u8()
                let id = try r.id()
                let e = PackEntry(
                    type: type, flags: flags, id: id, offset: Int(try r.u32()), envelopeLength: Int(try r.u32()), plainLength: Int(try r.u32()))
                guard e.offset == expectedOffset, e.envelopeLength >= AEAD.overhead,
                      e.type == .padding ? e.plainLength == e.envelopeLength - AEAD.overhead : e.plainLength <= ChunkSizes.formatMaximum else {
                    throw FormatError("entry for \(id.short) out of place")
                }
                expectedOffset += e.envelopeLength
                entries.append(e)
            }
            guard expectedOffset == packSize - 4 - hlen else { throw FormatError("blobs do not end where the header starts") }
            guard header[r.offset...].allSatisfy({ $0 == 0 }) else { throw FormatError("non-zero header padding") }
            return entries
        } catch {
            throw CofferError.integrity(object: object, reason: "pack header: \(error)")
        }
    }
}

/// Collects encrypted blobs for one pack and produces the finished pack bytes.
///
/// Envelopes are copied back to back into one growing buffer (no allocation per blob); the final
/// random order is laid out once, when the pack is finished.
final class PackBuilder: @unchecked Sendable {
    private var data: [UInt8] = []
    /// Entries with `offset` into `data`, in arrival order.
    private var pending: [PackEntry] = []
    /// The largest blob envelope added so far.
    private var largest = 0
    /// The vault's pack target (0: every pack gets its Padmé size).
    let target: Int
    /// The most blobs the pack takes (``isFull(before:target:)``): a seal of many tiny chunks
    /// writes packs of at most this many entries instead of holding every entry until its packs
    /// reach their target.
    let entryLimit: Int

    var byteCount: Int { data.count }
    var isEmpty: Bool { pending.isEmpty }
    var entryCount: Int { pending.count }

    init(capacity: Int = 0, target: Int = 0, entryLimit: Int = PackFormat.maximumEntries - 1) {
        self.target = target
        self.entryLimit = entryLimit
        if capacity > 0 { data.reserveCapacity(capacity) }
    }

    func add(type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int, envelope: UnsafeRawBufferPointer) {
        pending.append(PackEntry(type: type, flags: flags, id: id, offset: data.count, envelopeLength: envelope.count, plainLength: plainLength))
        data.append(contentsOf: envelope)
        largest = max(largest, envelope.count)
    }

    func add(type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int, envelope: [UInt8]) {
        envelope.withUnsafeBytes { add(type: type, flags: flags, id: id, plainLength: plainLength, envelope: $0) }
    }

    /// The size of the finished pack with `blobs` data blobs of `bytes` envelope bytes in all, the
    /// largest `largest` bytes, in a vault whose pack target is `target` (Docs/FORMAT.md, "Packs"):
    /// Padmé's size, or, for a pack that reached its target with at least
    /// ``fullPackMinimumBlobs`` blobs none larger than a quarter of their sum, the next multiple
    /// of ``fullPackStep(_:)``: its size is the sum of many blobs and says little about any one.
    static func finishedSize(blobs: Int, bytes: Int, largest: Int = .max, target: Int = 0) -> Int {
        let base = bytes + PackFormat.headerEnvelopeLength(entries: blobs + 1) + 4 + AEAD.overhead
        if target > 0, bytes >= target, blobs >= fullPackMinimumBlobs, largest <= bytes / 4 {
            let step = fullPackStep(base)
            return (base + step - 1) / step * step
        }
        return Int(Padme.padded(UInt64(base)))
    }

    /// The fewest blobs a pack needs for the finer padding of a full pack.
    static let fullPackMinimumBlobs = 4

    /// The padding step of a full pack of `base` bytes before padding: 2^(⌊log2 base⌋ − 12),
    /// at least 4 KiB (4 KiB for packs of 16–32 MiB; at most 1/4096 of the pack).
    static func fullPackStep(_ base: Int) -> Int {
        let e = Int.bitWidth - 1 - base.leadingZeroBitCount
        return 1 << max(12, e - 12)
    }

    /// The size of this pack finished now, or with one more blob of `envelopeLength` bytes.
    func finishedSize(adding envelopeLength: Int? = nil) -> Int {
        let extra = envelopeLength ?? 0
        return PackBuilder.finishedSize(
            blobs: pending.count + (envelopeLength == nil ? 0 : 1), bytes: byteCount + extra, largest: max(largest, extra), target: target)
    }

    /// Whether a blob of `envelopeLength` bytes should go to a new pack instead of this one.
    ///
    /// Below `target` a pack takes every blob. From `target` on it takes a blob only while the
    /// blob fits in the padding its size already demands, so that room holds data rather than
    /// encrypted zeros (on 16 MiB packs Padmé rounds up by as much as 512 KiB; the finer step of
    /// a full pack by 4 KiB); the pack's size stays a padded value either way. A pack that holds ``entryLimit`` blobs takes no more.
    func isFull(before envelopeLength: Int, target: Int) -> Bool {
        if pending.count >= entryLimit { return true }
        guard byteCount >= target else { return false }
        return finishedSize(adding: envelopeLength) != finishedSize()
    }

    /// Replaces blobs in place: `body` gets each entry with its envelope and returns the
    /// replacement's flags and envelope, or nil to keep the blob. Offsets are laid out again.
    func replaceBlobs(_ body: (PackEntry, UnsafeRawBufferPointer) throws -> (flags: UInt8, envelope: [UInt8])?) rethrows {
        var newData: [UInt8] = []
        newData.reserveCapacity(data.count)
        var entries: [PackEntry] = []
        entries.reserveCapacity(pending.count)
        try data.withUnsafeBytes { d in
            for var e in pending {
                let envelope = UnsafeRawBufferPointer(rebasing: d[e.offset..<e.offset + e.envelopeLength])
                e.offset = newData.count
                if let r = try body(e, envelope) {
                    e.flags = r.flags
                    e.envelopeLength = r.envelope.count
                    newData += r.envelope
                } else {
                    newData.append(contentsOf: envelope)
                }
                entries.append(e)
            }
        }
        data = newData
        pending = entries
    }

    /// Moves every blob of `other` into this pack.
    func absorb(_ other: PackBuilder) {
        let shift = data.count
        // Grown once to the exact size (not doubled): a seal of many tiny chunks absorbs packs of
        // over 100,000 entries.
        pending.reserveCapacity(pending.count + other.pending.count)
        for var e in other.pending {
            e.offset += shift
            pending.append(e)
        }
        largest = max(largest, other.largest)
        other.largest = 0
        data.reserveCapacity(data.count + other.data.count)
        data += other.data
        other.pending = []
        other.data = []
    }

    /// A finished pack that has not been joined into one buffer: its blobs stay where they are in
    /// the builder, in `order`, followed by `tail` (the padding blob, the header, its length).
    struct Layout {
        var id: ObjectID
        var order: [Range<Int>]
        var tail: [UInt8]
        var size: Int
        /// Entries of the data blobs, with their offsets in the finished pack.
        var entries: [PackEntry]
    }

    /// Shuffles the blobs, adds the padding blob and the encrypted header, decrypts the header
    /// again and compares it with the entries, and names the pack by its hash.
    func layout(vaultID: ObjectID, keys: VaultKeys) throws -> Layout {
        precondition(!pending.isEmpty)
        // Fisher–Yates with the system CSPRNG: blob order carries no information about file order.
        // (Positions are shuffled, not entries: 4 bytes per blob instead of a copy of each entry.)
        var order = [UInt32](unsafeUninitializedCapacity: pending.count) { buffer, count in
            for i in 0..<pending.count { buffer[i] = UInt32(i) }
            count = pending.count
        }
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                let j = Int(Sodium.randomUniform(UInt32(i + 1)))
                order.swapAt(i, j)
            }
        }
        let n = order.count + 1
        let headerEnvLen = PackFormat.headerEnvelopeLength(entries: n)
        let base = byteCount + headerEnvLen + 4 + AEAD.overhead
        let total = finishedSize()
        let padPlain = total - base
        var entries: [PackEntry] = []
        entries.reserveCapacity(n)
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(order.count)
        var offset = 0
        for k in order {
            var e = pending[Int(k)]
            ranges.append(e.offset..<e.offset + e.envelopeLength)
            e.offset = offset
            offset += e.envelopeLength
            entries.append(e)
        }
        let zeros = [UInt8](repeating: 0, count: padPlain)
        var tail = AEAD.seal(zeros, ad: BlobCrypto.ad(type: .padding, flags: 0, id: .zero, plainLength: padPlain), key: keys.data)
        entries.append(PackEntry(type: .padding, flags: 0, id: .zero, offset: offset, envelopeLength: tail.count, plainLength: padPlain))
        let headerLength = 4 + PackEntry.encodedSize * PackFormat.bucket(n)
        var w = ByteWriter(capacity: headerLength)
        w.u32(UInt32(n))
        for e in entries {
            w.u8(e.type.rawValue); w.u8(e.flags); w.id(e.id)
            w.u32(UInt32(e.offset)); w.u32(UInt32(e.envelopeLength)); w.u32(UInt32(e.plainLength))
        }
        w.raw(repeatElement(0, count: headerLength - w.bytes.count))
        let headerEnv = AEAD.seal(w.bytes, ad: PackFormat.headerADPrefix + vaultID.bytes, key: keys.meta)
        w = ByteWriter(capacity: 0)
        precondition(headerEnv.count == headerEnvLen)
        tail.reserveCapacity(tail.count + headerEnv.count + 4)
        tail += headerEnv
        tail += withUnsafeBytes(of: UInt32(headerEnv.count).littleEndian) { Array($0) }
        precondition(byteCount + tail.count == total)
        // Verify the header before the pack leaves memory (it lies wholly in the tail).
        let tailStart = total - tail.count
        let check = try PackFormat.readHeader(packSize: total, object: "new pack", vaultID: vaultID, keys: keys) { off, len in
            precondition(off >= tailStart, "a pack header reaches into the blobs")
            return Array(tail[(off - tailStart)..<(off - tailStart + len)])
        }
        guard check == entries else { throw CofferError.integrity(object: "new pack", reason: "header verification before write failed") }
        var id = ObjectID.zero
        withParts(ranges, tail) { parts in withUnsafeMutableBytes(of: &id) { Blake2b.hash(parts: parts, into: $0) } }
        entries.removeLast()  // the padding blob
        entries.removeAll { $0.type == .padding }
        return Layout(id: id, order: ranges, tail: tail, size: total, entries: entries)
    }

    /// Runs `body` with the finished pack as a list of buffers, in file order.
    private func withParts<R>(_ order: [Range<Int>], _ tail: [UInt8], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { d in
            try tail.withUnsafeBytes { t in
                try body(order.map { UnsafeRawBufferPointer(rebasing: d[$0]) } + [t])
            }
        }
    }

    /// Writes the finished pack to `backend` straight from the builder's buffer (no joined copy)
    /// and empties the builder. Returns the pack's id, size and data entries.
    func write(to backend: Backend, vaultID: ObjectID, keys: VaultKeys) throws -> (id: ObjectID, size: Int, entries: [PackEntry]) {
        let l = try layout(vaultID: vaultID, keys: keys)
        try withParts(l.order, l.tail) { try backend.write(.pack(l.id), parts: $0) }
        pending = []
        data = []
        largest = 0
        return (l.id, l.size, l.entries)
    }

    /// The finished pack as one array, with its id and the entries of its data blobs.
    func finish(vaultID: ObjectID, keys: VaultKeys) throws -> (id: ObjectID, bytes: [UInt8], entries: [PackEntry]) {
        let l = try layout(vaultID: vaultID, keys: keys)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(l.size)
        withParts(l.order, l.tail) { for p in $0 { bytes.append(contentsOf: p) } }
        pending = []
        data = []
        largest = 0
        return (l.id, bytes, l.entries)
    }
}
