import CSodium

/// HMAC-SHA256 (RFC 2104) with a key of any length: libsodium's
/// `crypto_auth_hmacsha256_init/update/final` (a key longer than the 64-byte block is hashed
/// first, as RFC 2104 says). Used to sign S3 requests (AWS Signature Version 4).
public enum HMACSHA256 {
    public static let outputBytes = 32

    /// The MAC of `message` under `key`.
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { mac(key: key, message: $0) }
    }

    public static func mac(key: [UInt8], message: UnsafeRawBufferPointer) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        var out = [UInt8](repeating: 0, count: outputBytes)
        // An empty key still needs a pointer.
        let k = key.isEmpty ? [0] : key
        k.withUnsafeBufferPointer { b in
            _ = crypto_auth_hmacsha256_init(&state, b.baseAddress!, key.count)
        }
        if message.count > 0 {
            _ = crypto_auth_hmacsha256_update(&state, message.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(message.count))
        }
        out.withUnsafeMutableBufferPointer { _ = crypto_auth_hmacsha256_final(&state, $0.baseAddress!) }
        sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size)
        return out
    }
}
