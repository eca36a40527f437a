/// Failures of the cryptographic layer. Each case says what failed; none carries secret bytes.
public enum CryptoError: Error, Equatable, CustomStringConvertible {
    /// An AEAD message did not authenticate: tampered, truncated, wrong key or wrong associated data.
    case authenticationFailed
    /// The key-commitment tag of a key slot did not match: the passphrase is wrong.
    case wrongPassphrase
    /// A buffer had the wrong length for the operation.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// Stored Argon2id parameters exceed the caps this build accepts (a hostile or corrupt key slot).
    case kdfParametersTooHigh(opsLimit: UInt64, memLimit: UInt64, maxOpsLimit: UInt64, maxMemLimit: UInt64)
    /// Stored Argon2id parameters are below libsodium's minimum or name an unknown algorithm.
    case kdfParametersInvalid(String)
    /// `crypto_pwhash` failed, which in practice means it could not allocate its memory.
    case kdfOutOfMemory(memLimit: UInt64)

    public var description: String {
        switch self {
        case .authenticationFailed:
            return "authentication failed (data was altered, truncated, or belongs elsewhere)"
        case .wrongPassphrase:
            return "wrong passphrase"
        case .invalidLength(let what, let expected, let actual):
            return "\(what): expected \(expected) bytes, found \(actual)"
        case .kdfParametersTooHigh(let ops, let mem, let maxOps, let maxMem):
            return "key slot asks for Argon2id with \(ops) passes and \(mem >> 20) MiB, above the accepted maximum of \(maxOps) passes and \(maxMem >> 20) MiB"
        case .kdfParametersInvalid(let why):
            return "invalid Argon2id parameters: \(why)"
        case .kdfOutOfMemory(let mem):
            return "not enough memory for Argon2id (\(mem >> 20) MiB)"
        }
    }
}
