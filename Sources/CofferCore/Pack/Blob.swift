import CofferCrypto
import Foundation

/// What a blob in a pack holds.
public enum BlobType: UInt8, Sendable {
    /// A chunk of file content.
    case data = 1
    /// Encrypted zeros that pad a pack to its Padmé size.
    case padding = 2
}

/// Blob flags (stored in the pack header and in the blob's associated data).
enum BlobFlags {
    /// The payload is a zstd frame of the plaintext.
    static let zstd: UInt8 = 1
}

/// One chunk's encryption.
///
/// ```
/// blob_env = nonce(24) || XChaCha20-Poly1305(payload, ad, nonce, K_data)
/// payload  = zstd(plaintext) when smaller, else plaintext
/// ad       = "coffer.blob.v1" || u8 type || u8 flags || chunk_id(32) || u32le plain_len
/// ```
enum BlobCrypto {
    static let adPrefix: [UInt8] = Array("coffer.blob.v1".utf8)

    static func ad(type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int) -> [UInt8] {
        var w = ByteWriter(capacity: 56)
        w.raw(adPrefix); w.u8(type.rawValue); w.u8(flags); w.id(id); w.u32(UInt32(plainLength))
        return w.bytes
    }

    /// Compresses (when it helps) and encrypts `plain`, then decrypts and decompresses the result
    /// and compares it with `plain` before returning it, so a fault between compression and
    /// encryption is caught before the blob reaches a pack (restic's "extra verification of data
    /// integrity before upload").
    static func seal(
        _ plain: UnsafeRawBufferPointer, id: ObjectID, type: BlobType, keys: VaultKeys, zstd: Zstd?
    ) throws -> (flags: UInt8, envelope: [UInt8]) {
        var compressed: [UInt8] = []
        var flags: UInt8 = 0
        if let zstd, plain.count >= 64 {
            compressed = [UInt8](unsafeUninitializedCapacity: Zstd.bound(plain.count)) { buf, count in
                count = zstd.compress(UnsafeRawBufferPointer(plain), into: UnsafeMutableRawBufferPointer(buf)) ?? 0
            }
            if !compressed.isEmpty { flags = BlobFlags.zstd }
        }
        let adBytes = ad(type: type, flags: flags, id: id, plainLength: plain.count)
        let payloadCount = flags == BlobFlags.zstd ? compressed.count : plain.count
        let env = [UInt8](unsafeUninitializedCapacity: payloadCount + AEAD.overhead) { buf, count in
            adBytes.withUnsafeBytes { a in
                let e = UnsafeMutableRawBufferPointer(buf)
                if flags == BlobFlags.zstd {
                    compressed.withUnsafeBytes { AEAD.seal($0, ad: a, key: keys.data, into: e) }
                } else {
                    AEAD.seal(plain, ad: a, key: keys.data, into: e)
                }
            }
            count = payloadCount + AEAD.overhead
        }
        // Verify before write: the envelope must open and give back exactly `plain`.
        if type == .data {
            let back = try open(
                env, type: type, flags: flags, id: id, plainLength: plain.count, keys: keys, zstd: zstd,
                object: "new chunk \(id.short)", verifyID: false)
            let same = back.withUnsafeBytes { b in b.count == plain.count && (b.count == 0 || memcmp(b.baseAddress!, plain.baseAddress!, b.count) == 0) }
            guard same else {
                throw CofferError.integrity(object: "new chunk \(id.short)", reason: "verification before write failed (memory or library fault)")
            }
        }
        return (flags, env)
    }

    /// Decrypts and decompresses one blob, and with `verifyID` re-checks the keyed id of data.
    ///
    /// Without `verifyID` the content is still authenticated: the AEAD's associated data binds the
    /// chunk id, type and length, and only holders of the data key can produce such an envelope.
    static func open(
        _ envelope: [UInt8], type: BlobType, flags: UInt8, id: ObjectID, plainLength: Int, keys: VaultKeys, zstd: Zstd?, object: String,
        verifyID: Bool = true
    ) throws -> [UInt8] {
        guard type == .padding || plainLength <= ChunkSizes.formatMaximum, envelope.count >= AEAD.overhead,
              envelope.count <= Zstd.bound(plainLength) + AEAD.overhead else {
            throw CofferError.integrity(object: object, reason: "blob sizes out of range")
        }
        let adBytes = ad(type: type, flags: flags, id: id, plainLength: plainLength)
        var failed = false
        let payload = [UInt8](unsafeUninitializedCapacity: envelope.count - AEAD.overhead) { buf, count in
            count = buf.count
            do {
                try envelope.withUnsafeBytes { e in
                    try adBytes.withUnsafeBytes { a in try AEAD.open(e, ad: a, key: keys.data, into: UnsafeMutableRawBufferPointer(buf)) }
                }
            } catch {
                failed = true
            }
        }
        if failed { throw CofferError.integrity(object: object, reason: "chunk \(id.short) does not authenticate") }
        var plain: [UInt8]
        switch flags {
        case 0:
            guard payload.count == plainLength else { throw CofferError.integrity(object: object, reason: "chunk \(id.short) has the wrong length") }
            plain = payload
        case BlobFlags.zstd:
            guard let zstd else { throw CofferError.integrity(object: object, reason: "compressed padding") }
            var failure: Error?
            plain = [UInt8](unsafeUninitializedCapacity: plainLength) { buf, count in
                count = plainLength
                do {
                    try payload.withUnsafeBytes { try zstd.decompress($0, into: UnsafeMutableRawBufferPointer(buf)) }
                } catch {
                    failure = error
                    count = 0
                }
            }
            if let failure { throw CofferError.integrity(object: object, reason: "chunk \(id.short): \(failure)") }
        default:
            throw CofferError.integrity(object: object, reason: "chunk \(id.short) has unknown flags \(flags)")
        }
        if type == .data && verifyID {
            let actual = plain.withUnsafeBytes { keys.chunkID(of: $0) }
            guard actual == id else { throw CofferError.integrity(object: object, reason: "chunk \(id.short) content does not match its id") }
        }
        return plain
    }
}
