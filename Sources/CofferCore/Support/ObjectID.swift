import CofferCrypto

/// A 32-byte identifier: a chunk id (keyed BLAKE2b-256 of the plaintext) or a vault file's
/// name (BLAKE2b-256 of its bytes). Stored as four words so hashing and comparison are cheap.
public struct ObjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static let zero = ObjectID(w0: 0, w1: 0, w2: 0, w3: 0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// From 32 raw bytes.
    public init(_ raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 32)
        w0 = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        self = bytes.withUnsafeBytes { ObjectID($0) }
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: some StringProtocol) {
        guard let b = Hex.decode(hex), b.count == 32 else { return nil }
        self.init(bytes: b)
    }

    /// Unkeyed BLAKE2b-256 of `data`: the name of a vault file with this content.
    public static func hashing(_ data: UnsafeRawBufferPointer) -> ObjectID {
        var out = ObjectID.zero
        withUnsafeMutableBytes(of: &out) { Blake2b.hash(data, into: $0) }
        return out
    }

    public static func hashing(_ data: [UInt8]) -> ObjectID { data.withUnsafeBytes { hashing($0) } }

    public var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }

    func append(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: self) { buffer.append(contentsOf: $0) }
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// The first 8 hex digits, as shown in listings.
    public var short: String { String(hex.prefix(8)) }

    /// Byte-wise order (the order of the hex names).
    public static func < (a: ObjectID, b: ObjectID) -> Bool {
        (a.w0.bigEndian, a.w1.bigEndian, a.w2.bigEndian, a.w3.bigEndian)
            < (b.w0.bigEndian, b.w1.bigEndian, b.w2.bigEndian, b.w3.bigEndian)
    }
}

enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ s: some StringProtocol) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// `0`–`9` or `a`–`f`: a digit of the names `encode` writes.
    static func isLowercaseDigit(_ c: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
