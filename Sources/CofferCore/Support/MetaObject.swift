import CofferCrypto

/// Kinds of encrypted metadata files. The kind is in the file's first byte and in the AEAD's
/// associated data, so one kind can never be passed off as another.
enum MetaKind: UInt8, Sendable {
    case index = 1
    case version = 2
    case head = 3
    case lock = 4
    /// A zstd dictionary (format 2), in `dicts/`.
    case dictionary = 5
}

/// The envelope shared by index, version, head, lock and dictionary files.
///
/// ```
/// file      = u8 kind || u8 envelope_version(1) || nonce(24) || AEAD(plain, ad, K_meta)
/// ad        = "coffer.meta.v1" || u8 kind || vault_id
/// plain     = u8 flags || u32le body_len || u32le stored_len || stored || zero padding
///             flags bit0: stored = zstd(body) (one frame that declares body_len), else stored = body
/// |plain|   = Padmé(9 + stored_len)   (metadata sizes show only their Padmé bucket)
/// name      = hex(BLAKE2b-256(file))
/// ```
enum MetaObject {
    static let envelopeVersion: UInt8 = 1
    /// No metadata body may exceed this (bounds allocation on read): 1 GiB.
    static let maximumBody = 1 << 30
    /// No metadata file may exceed this.
    static var maximumFile: Int { 2 + AEAD.overhead + Int(Padme.padded(UInt64(9 + Zstd.bound(maximumBody)))) }

    /// `compress: false` stores the body as it is (flags 0): for a body padded to hide its size
    /// (a format-2 index), which zstd would squeeze back to what it hides.
    static func seal(_ body: consuming [UInt8], kind: MetaKind, vaultID: ObjectID, key: SecureBytes, zstd: Zstd, compress: Bool = true) -> [UInt8] {
        // Two buffers besides the body: the padded plaintext, which the body is compressed
        // straight into (its unused capacity is never touched), and the file. A large version
        // (a zip of many members) costs no more copies than that.
        let room = compress && body.count > 64 ? max(Zstd.bound(body.count), body.count) : body.count
        var plain = [UInt8](unsafeUninitializedCapacity: Int(Padme.padded(UInt64(9 + room)))) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            let payload = UnsafeMutableRawBufferPointer(rebasing: raw[9...])
            var flags: UInt8 = 0
            var stored = body.count
            if compress, body.count > 64, let n = body.withUnsafeBytes({ zstd.compress($0, into: payload) }) {
                flags = 1
                stored = n
            } else if !body.isEmpty {
                body.withUnsafeBytes { payload.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: body.count) }
            }
            raw[0] = flags
            withUnsafeBytes(of: UInt32(body.count).littleEndian) { raw.baseAddress!.advanced(by: 1).copyMemory(from: $0.baseAddress!, byteCount: 4) }
            withUnsafeBytes(of: UInt32(stored).littleEndian) { raw.baseAddress!.advanced(by: 5).copyMemory(from: $0.baseAddress!, byteCount: 4) }
            count = 9 + stored
        }
        _ = consume body  // compressed: not needed while encrypting
        let padded = Int(Padme.padded(UInt64(plain.count)))
        plain.append(contentsOf: repeatElement(0, count: padded - plain.count))
        let associated = ad(kind, vaultID)
        return [UInt8](unsafeUninitializedCapacity: 2 + plain.count + AEAD.overhead) { buffer, count in
            buffer[0] = kind.rawValue
            buffer[1] = envelopeVersion
            plain.withUnsafeBytes { p in
                associated.withUnsafeBytes { a in
                    AEAD.seal(p, ad: a, key: key, into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[2...]))
                }
            }
            count = 2 + plain.count + AEAD.overhead
        }
    }

    static func open(_ file: [UInt8], kind: MetaKind, vaultID: ObjectID, key: SecureBytes, zstd: Zstd) throws -> [UInt8] {
        guard file.count >= 2 + AEAD.overhead + 5 else { throw FormatError("too short (\(file.count) bytes)") }
        guard file[0] == kind.rawValue else { throw FormatError("holds object kind \(file[0]), expected \(kind.rawValue)") }
        guard file[1] == envelopeVersion else {
            // The byte is not authenticated, so a higher value is damage, not a newer format: a
            // format that changes the envelope raises `config`'s format (Docs/FORMAT.md).
            throw FormatError("unknown envelope version \(file[1])")
        }
        // Decrypted straight from the file, and decompressed straight from the plaintext: a large
        // version (a zip of many members) costs the file, its plaintext and its body, no copies.
        let plain: [UInt8]
        let associated = ad(kind, vaultID)
        do {
            plain = try file.withUnsafeBytes { f in
                let envelope = UnsafeRawBufferPointer(rebasing: f[2...])
                return try [UInt8](unsafeUninitializedCapacity: envelope.count - AEAD.overhead) { buffer, count in
                    try associated.withUnsafeBytes { a in try AEAD.open(envelope, ad: a, key: key, into: UnsafeMutableRawBufferPointer(buffer)) }
                    count = envelope.count - AEAD.overhead
                }
            }
        } catch {
            throw FormatError("does not authenticate (altered, truncated, or from another vault)")
        }
        var r = ByteReader(plain)
        let flags = try r.u8()
        let bodyLen = Int(try r.u32())
        guard bodyLen <= maximumBody else { throw FormatError("body length \(bodyLen) above the limit") }
        let storedLen = Int(try r.u32())
        guard storedLen <= r.remaining else { throw FormatError("truncated: needed \(storedLen) bytes, \(r.remaining) left") }
        let stored = plain[r.offset..<(r.offset + storedLen)]
        guard Int(Padme.padded(UInt64(plain.count))) == plain.count, plain[(r.offset + storedLen)...].allSatisfy({ $0 == 0 }) else {
            throw FormatError("bad padding")
        }
        switch flags {
        case 0:
            guard stored.count == bodyLen else { throw FormatError("body length mismatch") }
            return Array(stored)
        case 1:
            // A zstd block takes at least 4 bytes and yields at most 128 KiB, so `stored` cannot
            // decompress to more than 32 KiB per byte: a larger claim is refused before the body
            // is allocated (otherwise a 10-byte plaintext could make a reader allocate 1 GiB).
            guard bodyLen <= stored.count * Zstd.maximumRatio else {
                throw FormatError("body length \(bodyLen) impossible for \(stored.count) compressed bytes")
            }
            // The frame must also declare body_len, and the buffer is not zero-filled first.
            guard stored.withUnsafeBytes({ Zstd.frameContentSize($0) }) == UInt64(bodyLen) else {
                throw FormatError("compressed body does not declare its length \(bodyLen)")
            }
            var failure: Error?
            let body = [UInt8](unsafeUninitializedCapacity: bodyLen) { dst, count in
                do {
                    try stored.withUnsafeBytes { try zstd.decompress($0, into: UnsafeMutableRawBufferPointer(dst)) }
                    count = bodyLen
                } catch {
                    failure = error
                    count = 0
                }
            }
            if let failure { throw failure }
            return body
        default:
            throw FormatError("unknown flags \(flags)")
        }
    }

    private static func ad(_ kind: MetaKind, _ vaultID: ObjectID) -> [UInt8] {
        Array("coffer.meta.v1".utf8) + [kind.rawValue] + vaultID.bytes
    }
}
