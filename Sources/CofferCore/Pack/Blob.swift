import CofferCrypto
import Foundation

/// What a blob in a pack holds.
public enum BlobType: UInt8, Sendable {
    /// A chunk of file content.
    case data = 1
    /// Encrypted zeros that pad a pack to its Padmé size.
    case padding = 2
    /// A tree piece: a directory listing or a slice of one (format 2).
    case tree = 3
    /// A layout piece: a slice of an archive's encoded layout (format 2).
    case layout = 4
}

/// Blob flags (stored in the pack header and in the blob's associated data).
enum BlobFlags {
    /// The payload is a zstd frame of the plaintext.
    static let zstd: UInt8 = 1
    /// Format 2, always with ``zstd``: the payload is a dictionary reference (the id of a
    /// `dicts/` file, 32 bytes) followed by a zstd frame made with that dictionary.
    static let dictionary: UInt8 = 2
}

/// One chunk's encryption.
///
/// ```
/// blob_env = nonce(24) || XChaCha20-Poly1305(payload, ad, nonce, K_data)
/// payload  = zstd(plaintext) when smaller, else plaintext                    flags 1 / 0
///          = dictionary_id(32) || zstd(plaintext, dictionary) (format 2)     flags 3
/// ad       = "coffer.blob.v1" || u8 type || u8 flags || chunk_id(32) || u32le plain_len
/// ```
enum BlobCrypto {
    static let adPrefix: [UInt8] = Array("coffer.blob.v1".utf8)

    static func ad(type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int) -> [UInt8] {
        var w = ByteWriter(capacity: 56)
        w.raw(adPrefix); w.u8(type.rawValue); w.u8(flags); w.id(id); w.u32(UInt32(plainLength))
        return w.bytes
    }

    /// The associated data written into a caller's 64-byte buffer (no allocation).
    static func withAD<R>(
        type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int, _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { buf in
            let p = buf.baseAddress!
            let n = adPrefix.count
            adPrefix.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: n) }
            p.storeBytes(of: type.rawValue, toByteOffset: n, as: UInt8.self)
            p.storeBytes(of: flags, toByteOffset: n + 1, as: UInt8.self)
            withUnsafeBytes(of: id) { (p + n + 2).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            withUnsafeBytes(of: UInt32(plainLength).littleEndian) { (p + n + 34).copyMemory(from: $0.baseAddress!, byteCount: 4) }
            return try body(UnsafeRawBufferPointer(rebasing: buf[0..<n + 38]))
        }
    }

    /// The largest envelope a chunk of `plainLength` bytes can have (compression is kept only
    /// when it makes the payload smaller).
    static func maximumEnvelope(plainLength: Int) -> Int { plainLength + AEAD.overhead }

    /// Compresses (when it helps) and encrypts `plain` into `output`, then decrypts and
    /// decompresses the result and compares it with `plain`, so a fault between compression and
    /// encryption is caught before the blob reaches a pack (restic's "extra verification of data
    /// integrity before upload"). Works in per-thread scratch memory: nothing is allocated per chunk.
    ///
    /// - Returns: the flags and the envelope's length at the start of `output`, which must hold
    ///   ``maximumEnvelope(plainLength:)`` bytes.
    static func seal(
        _ plain: UnsafeRawBufferPointer, id: ObjectID, type: BlobType, keys: VaultKeys, zstd: Zstd?,
        into output: UnsafeMutableRawBufferPointer
    ) throws -> (flags: UInt8, length: Int) {
        precondition(output.count >= maximumEnvelope(plainLength: plain.count), "envelope buffer too small")
        return try BlobScratch.with { scratch in
            var flags: UInt8 = 0
            var payload = plain
            if let zstd, plain.count >= 64 {
                let work = scratch.first(max(plain.count, 4096))
                if let r = zstd.compressBlob(plain, into: work) {
                    flags = r.dictionary ? BlobFlags.zstd | BlobFlags.dictionary : BlobFlags.zstd
                    payload = UnsafeRawBufferPointer(rebasing: work[0..<r.count])
                }
            }
            let length = payload.count + AEAD.overhead
            let env = UnsafeMutableRawBufferPointer(rebasing: output[0..<length])
            withAD(type: type, flags: flags, id: id, plainLength: plain.count) { ad in
                AEAD.seal(payload, ad: ad, key: keys.data, into: env)
            }
            // Verify before write: the envelope must open and give back exactly `plain`.
            if type != .padding {
                let same: Bool
                do {
                    let back = try open(
                        UnsafeRawBufferPointer(env), type: type, flags: flags, id: id, plainLength: plain.count, keys: keys, zstd: zstd,
                        object: "new chunk \(id.short)", verifyID: false, scratch: scratch)
                    same = back.count == plain.count && (back.count == 0 || memcmp(back.baseAddress!, plain.baseAddress!, back.count) == 0)
                } catch {
                    same = false
                }
                guard same else {
                    throw CofferError.integrity(object: "new chunk \(id.short)", reason: "verification before write failed (memory or library fault)")
                }
            }
            return (flags, length)
        }
    }

    /// Array convenience (tests, small callers).
    static func seal(
        _ plain: UnsafeRawBufferPointer, id: ObjectID, type: BlobType, keys: VaultKeys, zstd: Zstd?
    ) throws -> (flags: UInt8, envelope: [UInt8]) {
        var flags: UInt8 = 0
        var failure: Error?
        let env = [UInt8](unsafeUninitializedCapacity: maximumEnvelope(plainLength: plain.count)) { buf, count in
            do {
                let r = try seal(plain, id: id, type: type, keys: keys, zstd: zstd, into: UnsafeMutableRawBufferPointer(buf))
                flags = r.flags
                count = r.length
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return (flags, env)
    }

    /// Decrypts and decompresses one blob into scratch memory and returns a view of the plaintext,
    /// valid until `scratch` is used again. With `verifyID` it re-checks the keyed id of data.
    static func open(
        _ envelope: UnsafeRawBufferPointer, type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int, keys: VaultKeys, zstd: Zstd?,
        object: String, verifyID: Bool, scratch: BlobScratch
    ) throws -> UnsafeRawBufferPointer {
        guard type == .padding || plainLength <= ChunkSizes.formatMaximum, envelope.count >= AEAD.overhead,
              envelope.count <= Zstd.bound(plainLength) + AEAD.overhead else {
            throw CofferError.integrity(object: object, reason: "blob sizes out of range")
        }
        let payload = scratch.first(envelope.count - AEAD.overhead)
        do {
            try withAD(type: type, flags: flags, id: id, plainLength: plainLength) { ad in
                try AEAD.open(envelope, ad: ad, key: keys.data, into: payload)
            }
        } catch {
            throw CofferError.integrity(object: object, reason: "chunk \(id.short) does not authenticate")
        }
        let plain: UnsafeRawBufferPointer
        switch flags {
        case 0:
            guard payload.count == plainLength else { throw CofferError.integrity(object: object, reason: "chunk \(id.short) has the wrong length") }
            plain = UnsafeRawBufferPointer(payload)
        case BlobFlags.zstd:
            guard let zstd else { throw CofferError.integrity(object: object, reason: "compressed padding") }
            let out = scratch.second(plainLength)
            do { try zstd.decompress(UnsafeRawBufferPointer(payload), into: out) } catch {
                throw CofferError.integrity(object: object, reason: "chunk \(id.short): \(error)")
            }
            plain = UnsafeRawBufferPointer(out)
        case BlobFlags.zstd | BlobFlags.dictionary where zstd?.dictionaries != nil:
            let out = scratch.second(plainLength)
            do { try zstd!.decompressWithDictionary(UnsafeRawBufferPointer(payload), into: out) } catch {
                throw CofferError.integrity(object: object, reason: "chunk \(id.short): \(error)")
            }
            plain = UnsafeRawBufferPointer(out)
        default:
            throw CofferError.integrity(object: object, reason: "chunk \(id.short) has unknown flags \(flags)")
        }
        if type != .padding && verifyID {
            guard keys.blobID(of: plain, type: type) == id else { throw CofferError.integrity(object: object, reason: "chunk \(id.short) content does not match its id") }
        }
        return plain
    }

    /// Decrypts and decompresses one blob into a new array, and with `verifyID` re-checks the
    /// keyed id of data.
    ///
    /// Without `verifyID` the content is still authenticated: the AEAD's associated data binds the
    /// chunk id, type and length, and only holders of the data key can produce such an envelope.
    static func open(
        _ envelope: [UInt8], type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int, keys: VaultKeys, zstd: Zstd?, object: String,
        verifyID: Bool = true
    ) throws -> [UInt8] {
        try BlobScratch.with { scratch in
            try envelope.withUnsafeBytes { e in
                Array(try open(e, type: type, flags: flags, id: id, plainLength: plainLength, keys: keys, zstd: zstd,
                               object: object, verifyID: verifyID, scratch: scratch))
            }
        }
    }
}

/// Working memory for sealing and opening blobs on one thread: four growable buffers, reused from
/// chunk to chunk so the hot paths allocate nothing per chunk. Borrowed with ``with(pool:_:)``.
///
/// Buffers 0 and 1 hold plaintext (compressed or not). They are wiped (`sodium_memzero`) up to
/// the most handed out since the last wipe whenever the object goes back to its pool, before a
/// buffer is replaced by a larger one, and when the object is freed; new buffers start zeroed. A
/// pooled object's plaintext buffers are therefore all zeros. Buffers 2 and 3 hold ciphertext
/// (envelopes, packs) and are not wiped.
final class BlobScratch: @unchecked Sendable {
    /// 0: compressed output / decrypted payload, 1: decompressed plaintext, 2: an envelope read
    /// from a pack, 3: a whole pack under check.
    private var buffers = [UnsafeMutableRawBufferPointer](repeating: UnsafeMutableRawBufferPointer(start: nil, count: 0), count: 4)
    /// The most bytes of each buffer handed out since it was last wiped.
    private var dirty = [Int](repeating: 0, count: 4)
    /// The buffers that hold plaintext.
    private static let plaintext = 0...1

    deinit {
        wipePlaintext()
        for b in buffers { b.deallocate() }
    }

    /// Buffer `i`, grown to at least `count` bytes, as exactly `count` bytes.
    private func buffer(_ i: Int, _ count: Int) -> UnsafeMutableRawBufferPointer {
        if buffers[i].count < count {
            if Self.plaintext.contains(i) { wipe(i) }
            buffers[i].deallocate()
            buffers[i] = .allocate(byteCount: Self.rounded(count), alignment: 64)
            if Self.plaintext.contains(i) { buffers[i].initializeMemory(as: UInt8.self, repeating: 0) }
        }
        dirty[i] = max(dirty[i], count)
        return UnsafeMutableRawBufferPointer(rebasing: buffers[i][0..<count])
    }

    /// Compressed output, or a decrypted payload.
    func first(_ count: Int) -> UnsafeMutableRawBufferPointer { buffer(0, count) }
    /// Decompressed plaintext.
    func second(_ count: Int) -> UnsafeMutableRawBufferPointer { buffer(1, count) }
    /// An envelope read from a pack.
    func third(_ count: Int) -> UnsafeMutableRawBufferPointer { buffer(2, count) }
    /// A whole pack under check.
    func fourth(_ count: Int) -> UnsafeMutableRawBufferPointer { buffer(3, count) }

    private static func rounded(_ n: Int) -> Int { max(64 << 10, (n + 0xFFFF) & ~0xFFFF) }

    /// Wipes what was written to buffer `i` since its last wipe.
    private func wipe(_ i: Int) {
        if dirty[i] > 0 { Sodium.wipe(UnsafeMutableRawBufferPointer(rebasing: buffers[i][0..<dirty[i]])) }
        dirty[i] = 0
    }

    /// Wipes the plaintext buffers.
    func wipePlaintext() {
        for i in Self.plaintext { wipe(i) }
    }

    /// Test inspection: whether every byte of the plaintext buffers is zero, and how many bytes
    /// they hold.
    var plaintextState: (allZero: Bool, capacity: Int) {
        var zero = true
        var capacity = 0
        for i in Self.plaintext {
            capacity += buffers[i].count
            if buffers[i].contains(where: { $0 != 0 }) { zero = false }
        }
        return (zero, capacity)
    }

    /// Idle scratch objects, reused by the next borrower.
    final class Pool: @unchecked Sendable {
        fileprivate let lock = NSLock()
        fileprivate var idle: [BlobScratch] = []

        /// Test inspection: runs `body` on the idle objects, which no borrower can take meanwhile.
        func inspectIdle<R>(_ body: ([BlobScratch]) -> R) -> R { lock.withLock { body(idle) } }
    }

    /// The pool every caller shares.
    static let shared = Pool()

    /// Runs `body` with a scratch object no other thread uses meanwhile; its plaintext is wiped
    /// before it goes back to `pool`.
    static func with<R>(pool: Pool = shared, _ body: (BlobScratch) throws -> R) rethrows -> R {
        let s = pool.lock.withLock { pool.idle.popLast() } ?? BlobScratch()
        defer {
            s.wipePlaintext()
            pool.lock.withLock { pool.idle.append(s) }
        }
        return try body(s)
    }
}
