import CSodium

/// XChaCha20-Poly1305-IETF with a fresh random 24-byte nonce per message.
///
/// An envelope is `nonce(24) || ciphertext || tag(16)`: 40 bytes longer than the plaintext.
/// Callers never choose nonces. Wraps `crypto_aead_xchacha20poly1305_ietf_encrypt` / `_decrypt`.
public enum AEAD {
    public static let keyBytes = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    public static let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    public static let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
    /// Envelope bytes added to a plaintext.
    public static let overhead = nonceBytes + tagBytes

    /// Encrypts `plaintext` into `output`, which must be exactly `plaintext.count + overhead` bytes.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, ad: UnsafeRawBufferPointer, key: SecureBytes,
        into output: UnsafeMutableRawBufferPointer
    ) {
        precondition(key.count == keyBytes, "AEAD key must be 32 bytes")
        precondition(output.count == plaintext.count + overhead, "AEAD output buffer has the wrong size")
        Sodium.ensureInitialized()
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        randombytes_buf(out, nonceBytes)
        key.withUnsafeBytes { k in
            var clen: UInt64 = 0
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                out + nonceBytes, &clen,
                plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                nil, out, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Decrypts and authenticates `envelope` into `output` (`envelope.count - overhead` bytes).
    /// - Throws: ``CryptoError/authenticationFailed`` on any mismatch; `output` is wiped then.
    public static func open(
        _ envelope: UnsafeRawBufferPointer, ad: UnsafeRawBufferPointer, key: SecureBytes,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        precondition(key.count == keyBytes, "AEAD key must be 32 bytes")
        guard envelope.count >= overhead else {
            throw .invalidLength(what: "encrypted message", expected: overhead, actual: envelope.count)
        }
        guard output.count == envelope.count - overhead else {
            throw .invalidLength(what: "decryption buffer", expected: envelope.count - overhead, actual: output.count)
        }
        Sodium.ensureInitialized()
        let env = envelope.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // A zero-length output still needs a valid pointer for libsodium.
        var scratch: UInt8 = 0
        let rc = key.withUnsafeBytes { k in
            withUnsafeMutablePointer(to: &scratch) { sp in
                var mlen: UInt64 = 0
                let out = output.count > 0 ? output.baseAddress!.assumingMemoryBound(to: UInt8.self) : sp
                return crypto_aead_xchacha20poly1305_ietf_decrypt(
                    out, &mlen, nil,
                    env + nonceBytes, UInt64(envelope.count - nonceBytes),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                    env, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else {
            Sodium.wipe(output)
            throw .authenticationFailed
        }
    }

    /// Array convenience for metadata objects.
    public static func seal(_ plaintext: [UInt8], ad: [UInt8], key: SecureBytes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + overhead)
        plaintext.withUnsafeBytes { p in
            ad.withUnsafeBytes { a in
                out.withUnsafeMutableBytes { o in seal(p, ad: a, key: key, into: o) }
            }
        }
        return out
    }

    /// Array convenience for metadata objects.
    public static func open(_ envelope: [UInt8], ad: [UInt8], key: SecureBytes) throws(CryptoError) -> [UInt8] {
        guard envelope.count >= overhead else {
            throw .invalidLength(what: "encrypted message", expected: overhead, actual: envelope.count)
        }
        var out = [UInt8](repeating: 0, count: envelope.count - overhead)
        let result: Result<Void, CryptoError> = envelope.withUnsafeBytes { e in
            ad.withUnsafeBytes { a in
                out.withUnsafeMutableBytes { o in
                    do throws(CryptoError) { try open(e, ad: a, key: key, into: o); return .success(()) } catch {
                        return .failure(error)
                    }
                }
            }
        }
        try result.get()
        return out
    }
}
