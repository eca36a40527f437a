import CSodium

/// A fixed-size secret held in memory from `sodium_malloc`: guard pages, a canary,
/// `mlock`ed where the system allows, excluded from core dumps, and wiped by
/// `sodium_free` when released.
///
/// Secrets never live in a Swift `Array` or `Data`, which copy on write and cannot be
/// wiped. The type prints nothing about its contents and has no `Equatable`.
public final class SecureBytes: @unchecked Sendable {
    /// Number of bytes held.
    public let count: Int
    private let pointer: UnsafeMutableRawPointer

    /// Allocates `count` zeroed bytes.
    public init(count: Int) {
        Sodium.ensureInitialized()
        precondition(count > 0, "SecureBytes needs at least one byte")
        guard let p = sodium_malloc(count) else {
            fatalError("sodium_malloc(\(count)) failed: out of memory for secret storage")
        }
        sodium_memzero(p, count)
        self.pointer = p
        self.count = count
    }

    /// Allocates `count` bytes filled from the system CSPRNG (`randombytes_buf`).
    public static func random(count: Int) -> SecureBytes {
        let s = SecureBytes(count: count)
        randombytes_buf(s.pointer, count)
        return s
    }

    /// Copies `bytes` into secure memory. Use only for secrets that already exist in
    /// ordinary memory (test vectors, a passphrase read from a pipe); wipe the source yourself.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: max(bytes.count, 1))
        if bytes.count > 0, let base = bytes.baseAddress {
            pointer.copyMemory(from: base, byteCount: bytes.count)
        }
    }

    deinit {
        sodium_free(pointer)
    }

    /// Calls `body` with a read-only view of the secret.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Calls `body` with a writable view of the secret.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// Constant-time comparison (`sodium_memcmp`).
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard other.count == count else { return false }
        return sodium_memcmp(pointer, other.pointer, count) == 0
    }
}

extension SecureBytes: CustomStringConvertible {
    /// Never shows the bytes.
    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
}
