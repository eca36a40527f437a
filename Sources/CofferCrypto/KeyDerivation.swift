import CSodium

/// Subkeys from a master key (`crypto_kdf_derive_from_key`, BLAKE2b-based).
public enum SubkeyDerivation {
    /// Derives `length` bytes (16–64) for `subkeyID` under an 8-character ASCII `context`.
    public static func derive(from master: SecureBytes, id subkeyID: UInt64, context: StaticString, length: Int = 32) -> SecureBytes {
        precondition(master.count == Int(crypto_kdf_KEYBYTES), "master key must be 32 bytes")
        precondition(context.utf8CodeUnitCount == Int(crypto_kdf_CONTEXTBYTES), "KDF context must be exactly 8 bytes")
        precondition(length >= Int(crypto_kdf_BYTES_MIN) && length <= Int(crypto_kdf_BYTES_MAX))
        Sodium.ensureInitialized()
        let out = SecureBytes(count: length)
        master.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { o in
                context.withUTF8Buffer { ctx in
                    ctx.withMemoryRebound(to: CChar.self) { c in
                        _ = crypto_kdf_derive_from_key(
                            o.baseAddress!.assumingMemoryBound(to: UInt8.self), length, subkeyID, c.baseAddress!,
                            m.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        return out
    }
}

/// Argon2id parameters as stored in a key slot.
public struct KDFParameters: Sendable, Equatable {
    /// Algorithm id; only `argon2id13` (libsodium's `crypto_pwhash_ALG_ARGON2ID13` = 2) is accepted.
    public var algorithm: UInt8
    /// Passes over memory (`opslimit`).
    public var opsLimit: UInt64
    /// Memory in bytes (`memlimit`).
    public var memLimit: UInt64

    public static let argon2id13 = UInt8(crypto_pwhash_ALG_ARGON2ID13)

    public init(algorithm: UInt8 = KDFParameters.argon2id13, opsLimit: UInt64, memLimit: UInt64) {
        self.algorithm = algorithm
        self.opsLimit = opsLimit
        self.memLimit = memLimit
    }

    /// libsodium's MODERATE profile: 3 passes, 256 MiB (about 0.5 s on a 2-core EPYC). The default.
    public static let moderate = KDFParameters(
        opsLimit: UInt64(crypto_pwhash_OPSLIMIT_MODERATE), memLimit: UInt64(crypto_pwhash_MEMLIMIT_MODERATE))
    /// libsodium's SENSITIVE profile: 4 passes, 1 GiB (about 4 s).
    public static let sensitive = KDFParameters(
        opsLimit: UInt64(crypto_pwhash_OPSLIMIT_SENSITIVE), memLimit: UInt64(crypto_pwhash_MEMLIMIT_SENSITIVE))

    /// The cheapest parameters libsodium allows (1 pass, 8 KiB). They give no protection to a
    /// passphrase and exist for tests only: the library never chooses them, and the `coffer`
    /// command accepts them only in debug builds through `COFFER_TESTONLY_WEAK_KDF=1`.
    public static let insecureTestOnly = KDFParameters(
        opsLimit: UInt64(crypto_pwhash_argon2id_OPSLIMIT_MIN), memLimit: UInt64(crypto_pwhash_argon2id_MEMLIMIT_MIN))

    /// Upper bounds accepted when reading a key slot, so a hostile vault cannot demand
    /// unbounded time or memory: 10 passes and 4 GiB.
    public static let maximumOpsLimit: UInt64 = 10
    public static let maximumMemLimit: UInt64 = 4 << 30

    /// Checks the parameters against libsodium's minimums and the caps, before any allocation.
    public func validate(maxOpsLimit: UInt64 = maximumOpsLimit, maxMemLimit: UInt64 = maximumMemLimit) throws(CryptoError) {
        guard algorithm == Self.argon2id13 else { throw .kdfParametersInvalid("unknown algorithm \(algorithm)") }
        guard opsLimit >= UInt64(crypto_pwhash_argon2id_OPSLIMIT_MIN), memLimit >= UInt64(crypto_pwhash_argon2id_MEMLIMIT_MIN) else {
            throw .kdfParametersInvalid("below the Argon2id minimum (ops \(opsLimit), mem \(memLimit))")
        }
        guard opsLimit <= maxOpsLimit, memLimit <= maxMemLimit else {
            throw .kdfParametersTooHigh(opsLimit: opsLimit, memLimit: memLimit, maxOpsLimit: maxOpsLimit, maxMemLimit: maxMemLimit)
        }
    }
}

/// Passphrase hashing with Argon2id (`crypto_pwhash`, `crypto_pwhash_ALG_ARGON2ID13`).
public enum PasswordHash {
    public static let saltBytes = Int(crypto_pwhash_SALTBYTES)

    /// Derives a 32-byte key-encryption key. Validates `parameters` first (caps included).
    public static func deriveKey(passphrase: SecureBytes, salt: [UInt8], parameters: KDFParameters) throws(CryptoError) -> SecureBytes {
        try parameters.validate()
        guard salt.count == saltBytes else { throw .invalidLength(what: "Argon2id salt", expected: saltBytes, actual: salt.count) }
        Sodium.ensureInitialized()
        let out = SecureBytes(count: 32)
        let rc: Int32 = passphrase.withUnsafeBytes { pw in
            out.withUnsafeMutableBytes { o in
                salt.withUnsafeBufferPointer { s in
                    crypto_pwhash(
                        o.baseAddress!.assumingMemoryBound(to: UInt8.self), 32,
                        pw.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(pw.count),
                        s.baseAddress!, parameters.opsLimit, Int(parameters.memLimit), Int32(parameters.algorithm))
                }
            }
        }
        sodium_stackzero(4096)
        guard rc == 0 else { throw .kdfOutOfMemory(memLimit: parameters.memLimit) }
        return out
    }
}
