import CofferCrypto

/// One key slot (`keys/<id>`): the master key wrapped under one passphrase.
///
/// ```
/// slot = "CFRSLOT1" || u8 alg || u32le ops || u64le mem || salt(16) || i64le created || str host
///     || envelope(72) || commitment(32)                   str = u32le len || UTF-8
/// ad   = "coffer.keyslot.v1" || vault_id || (the bytes of slot from alg through host)
/// id   = hex(BLAKE2b-256(slot))
/// ```
struct KeySlot: Sendable {
    static let magic: [UInt8] = Array("CFRSLOT1".utf8)
    /// The largest slot file a reader looks at (a slot is 153 bytes plus a host name of at most 1,024).
    static let maximumFileSize = 4096

    var parameters: KDFParameters
    var created: Int64
    var host: String
    var wrapped: KeyWrap.Wrapped

    /// The authenticated header bytes (alg … host).
    private static func header(_ p: KDFParameters, salt: [UInt8], created: Int64, host: String) -> [UInt8] {
        var w = ByteWriter()
        w.u8(p.algorithm); w.u32(UInt32(p.opsLimit)); w.u64(p.memLimit)
        w.raw(salt)
        w.i64(created)
        w.string(host)
        return w.bytes
    }

    private static func ad(vaultID: ObjectID, header: [UInt8]) -> [UInt8] {
        Array("coffer.keyslot.v1".utf8) + vaultID.bytes + header
    }

    static func create(
        masterKey: SecureBytes, passphrase: SecureBytes, parameters: KDFParameters, vaultID: ObjectID, created: Int64, host: String
    ) throws -> KeySlot {
        let salt = Sodium.randomBytes(count: PasswordHash.saltBytes)
        let hdr = header(parameters, salt: salt, created: created, host: host)
        let wrapped = try KeyWrap.wrap(
            masterKey: masterKey, passphrase: passphrase, parameters: parameters, salt: salt, ad: ad(vaultID: vaultID, header: hdr))
        return KeySlot(parameters: parameters, created: created, host: host, wrapped: wrapped)
    }

    func encode() -> [UInt8] {
        KeySlot.magic + KeySlot.header(parameters, salt: wrapped.salt, created: created, host: host) + wrapped.envelope + wrapped.commitment
    }

    static func decode(_ bytes: [UInt8]) throws -> KeySlot {
        var r = ByteReader(bytes)
        guard try r.raw(8) == magic else { throw FormatError("not a key slot (bad magic)") }
        let alg = try r.u8()
        let ops = UInt64(try r.u32())
        let mem = try r.u64()
        let salt = try r.raw(PasswordHash.saltBytes)
        let created = try r.i64()
        let host = try r.string(max: 1024)
        let env = try r.raw(KeyWrap.envelopeBytes)
        let commit = try r.raw(KeyWrap.commitmentBytes)
        try r.expectEnd()
        return KeySlot(
            parameters: KDFParameters(algorithm: alg, opsLimit: ops, memLimit: mem), created: created, host: host,
            wrapped: KeyWrap.Wrapped(salt: salt, envelope: env, commitment: commit))
    }

    /// Unwraps the master key. Parameters are checked against the caps before Argon2id runs.
    func unlock(passphrase: SecureBytes, vaultID: ObjectID) throws -> SecureBytes {
        let hdr = KeySlot.header(parameters, salt: wrapped.salt, created: created, host: host)
        return try KeyWrap.unwrap(wrapped, passphrase: passphrase, parameters: parameters, ad: KeySlot.ad(vaultID: vaultID, header: hdr))
    }
}
