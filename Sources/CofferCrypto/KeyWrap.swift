/// Wrapping a master key under a passphrase, with a key commitment checked before decryption.
///
/// ```
/// KEK    = Argon2id(passphrase, salt, ops, mem)
/// Wk     = KDF(KEK, 1, "CfrSlotW")      Ck = KDF(KEK, 2, "CfrSlotC")
/// env    = nonce(24) || XChaCha20-Poly1305(master, ad, nonce, Wk)
/// commit = BLAKE2b-256(key: Ck, env)
/// ```
/// The commitment closes the Poly1305 partitioning-oracle gap: a wrong passphrase is reported
/// as such without ever decrypting, and no other key can open the same envelope.
public enum KeyWrap {
    public static let masterKeyBytes = 32
    public static let envelopeBytes = masterKeyBytes + AEAD.overhead
    public static let commitmentBytes = 32

    public struct Wrapped: Sendable {
        public var salt: [UInt8]
        public var envelope: [UInt8]
        public var commitment: [UInt8]

        public init(salt: [UInt8], envelope: [UInt8], commitment: [UInt8]) {
            self.salt = salt
            self.envelope = envelope
            self.commitment = commitment
        }
    }

    /// Wraps `masterKey` under `passphrase`; `ad` binds the slot's header fields.
    public static func wrap(
        masterKey: SecureBytes, passphrase: SecureBytes, parameters: KDFParameters, salt: [UInt8], ad: [UInt8]
    ) throws(CryptoError) -> Wrapped {
        let kek = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
        let (wk, ck) = slotKeys(kek)
        var env = [UInt8](repeating: 0, count: envelopeBytes)
        masterKey.withUnsafeBytes { m in
            ad.withUnsafeBytes { a in env.withUnsafeMutableBytes { AEAD.seal(m, ad: a, key: wk, into: $0) } }
        }
        return Wrapped(salt: salt, envelope: env, commitment: Blake2b.hash(env, key: ck))
    }

    /// Unwraps a master key.
    /// - Throws: ``CryptoError/wrongPassphrase`` when the commitment does not match,
    ///   ``CryptoError/authenticationFailed`` when it matches but the envelope does not open
    ///   (the slot was altered by someone who knew the passphrase-derived commitment key).
    public static func unwrap(
        _ wrapped: Wrapped, passphrase: SecureBytes, parameters: KDFParameters, ad: [UInt8]
    ) throws(CryptoError) -> SecureBytes {
        guard wrapped.envelope.count == envelopeBytes else {
            throw .invalidLength(what: "wrapped key", expected: envelopeBytes, actual: wrapped.envelope.count)
        }
        guard wrapped.commitment.count == commitmentBytes else {
            throw .invalidLength(what: "key commitment", expected: commitmentBytes, actual: wrapped.commitment.count)
        }
        let kek = try PasswordHash.deriveKey(passphrase: passphrase, salt: wrapped.salt, parameters: parameters)
        let (wk, ck) = slotKeys(kek)
        let expected = Blake2b.hash(wrapped.envelope, key: ck)
        let same = expected.withUnsafeBytes { e in wrapped.commitment.withUnsafeBytes { Sodium.constantTimeEquals(e, $0) } }
        guard same else { throw .wrongPassphrase }
        let master = SecureBytes(count: masterKeyBytes)
        let result: Result<Void, CryptoError> = wrapped.envelope.withUnsafeBytes { e in
            ad.withUnsafeBytes { a in
                master.withUnsafeMutableBytes { m in
                    do throws(CryptoError) { try AEAD.open(e, ad: a, key: wk, into: m); return .success(()) } catch {
                        return .failure(error)
                    }
                }
            }
        }
        try result.get()
        return master
    }

    private static func slotKeys(_ kek: SecureBytes) -> (SecureBytes, SecureBytes) {
        (SubkeyDerivation.derive(from: kek, id: 1, context: "CfrSlotW"),
         SubkeyDerivation.derive(from: kek, id: 2, context: "CfrSlotC"))
    }
}
