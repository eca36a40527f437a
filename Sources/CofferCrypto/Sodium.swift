import CSodium

/// Process-wide libsodium set-up and the few stateless helpers the rest of Coffer needs.
public enum Sodium {
    private static let initResult: Int32 = sodium_init()

    /// Calls `sodium_init()` exactly once. A failure (-1) means no usable RNG; nothing
    /// can be encrypted safely then, so the process stops.
    public static func ensureInitialized() {
        if initResult < 0 { fatalError("sodium_init() failed: libsodium cannot be used on this system") }
    }

    /// The libsodium version string, for diagnostics.
    public static var versionString: String {
        ensureInitialized()
        return String(cString: sodium_version_string())
    }

    /// Fills `buffer` from the system CSPRNG (`randombytes_buf`).
    public static func randomBytes(_ buffer: UnsafeMutableRawBufferPointer) {
        ensureInitialized()
        if buffer.count > 0 { randombytes_buf(buffer.baseAddress!, buffer.count) }
    }

    /// `count` random bytes in an ordinary array, for non-secret values (nonces, ids, salts).
    public static func randomBytes(count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randomBytes($0) }
        return out
    }

    /// A uniform random integer in `0..<upperBound` (`randombytes_uniform`).
    public static func randomUniform(_ upperBound: UInt32) -> UInt32 {
        ensureInitialized()
        return randombytes_uniform(upperBound)
    }

    /// Deterministic bytes from a 32-byte seed (`randombytes_buf_deterministic`, ChaCha20).
    /// Used to expand the chunker secret into the gear table.
    public static func deterministicBytes(count: Int, seed: SecureBytes) -> [UInt8] {
        precondition(seed.count == Int(randombytes_SEEDBYTES))
        ensureInitialized()
        var out = [UInt8](repeating: 0, count: count)
        seed.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { o in
                randombytes_buf_deterministic(o.baseAddress!, count, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }

    /// Constant-time comparison of two equal-length buffers (`sodium_memcmp`).
    public static func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.count == 0 { return true }
        return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }

    /// Wipes `buffer` (`sodium_memzero`).
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count > 0 { sodium_memzero(buffer.baseAddress!, buffer.count) }
    }
}
