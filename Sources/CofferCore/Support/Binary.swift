/// Little-endian encoder for the vault's binary formats (see Docs/FORMAT.md).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { appendLE(v) }
    mutating func u32(_ v: UInt32) { appendLE(v) }
    mutating func u64(_ v: UInt64) { appendLE(v) }
    mutating func i64(_ v: Int64) { appendLE(UInt64(bitPattern: v)) }
    mutating func raw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
    mutating func id(_ v: ObjectID) { v.append(to: &bytes) }
    /// `u32le(len) || bytes`
    mutating func blob(_ b: [UInt8]) { u32(UInt32(b.count)); bytes.append(contentsOf: b) }
    /// `u32le(len) || UTF-8 bytes`
    mutating func string(_ s: String) { blob(Array(s.utf8)) }

    private mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// A decoding failure: the bytes do not follow the grammar. Callers wrap it into
/// ``CofferError/integrity(object:reason:)`` naming the file.
struct FormatError: Error, CustomStringConvertible {
    var description: String
    /// The bytes carry a version number newer than this build understands.
    var newerVersion: Int?
    init(_ d: String) { description = d }

    static func newer(_ what: String, _ version: UInt8) -> FormatError {
        var e = FormatError("\(what) version \(version) was written by a newer coffer; upgrade coffer to read it")
        e.newerVersion = Int(version)
        return e
    }
}

extension CofferError {
    /// A decoding failure of `object`: a newer format is reported as such, anything else as damage.
    static func decoding(_ error: Error, object: String) -> CofferError {
        if let f = error as? FormatError, let v = f.newerVersion {
            return .unsupportedFormat(path: object, found: v, supported: 1)
        }
        if let c = error as? CofferError { return c }
        return .integrity(object: object, reason: "\(error)")
    }
}

/// Bounds-checked little-endian decoder. Every length read is checked against the bytes that
/// remain before anything is allocated, so a hostile length cannot make the reader allocate.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func u8() throws -> UInt8 { try need(1); defer { offset += 1 }; return bytes[offset] }
    mutating func u16() throws -> UInt16 { try le(UInt16.self) }
    mutating func u32() throws -> UInt32 { try le(UInt32.self) }
    mutating func u64() throws -> UInt64 { try le(UInt64.self) }
    mutating func i64() throws -> Int64 { Int64(bitPattern: try le(UInt64.self)) }

    mutating func raw(_ n: Int) throws -> [UInt8] {
        try need(n)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func id() throws -> ObjectID {
        try need(32)
        defer { offset += 32 }
        return bytes.withUnsafeBytes { ObjectID(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + 32])) }
    }

    mutating func blob(max: Int = Int(UInt32.max)) throws -> [UInt8] {
        let n = Int(try u32())
        guard n <= max else { throw FormatError("length \(n) above the limit \(max)") }
        return try raw(n)
    }

    mutating func string(max: Int = 1 << 20) throws -> String {
        let b = try blob(max: max)
        guard let s = String(validating: b, as: UTF8.self) else { throw FormatError("string is not valid UTF-8") }
        return s
    }

    /// Reads a count and checks that at least `count * minimumElementSize` bytes remain.
    mutating func count(minimumElementSize: Int) throws -> Int {
        let n = Int(try u32())
        guard n.multipliedReportingOverflow(by: max(minimumElementSize, 1)).partialValue <= remaining,
              n <= remaining / max(minimumElementSize, 1) else {
            throw FormatError("count \(n) exceeds the data that follows")
        }
        return n
    }

    func expectEnd() throws {
        guard isAtEnd else { throw FormatError("\(remaining) unexpected trailing bytes") }
    }

    private func need(_ n: Int) throws {
        guard n >= 0, n <= remaining else { throw FormatError("truncated: needed \(n) bytes, \(remaining) left") }
    }

    private mutating func le<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        try need(size)
        var v: T = 0
        for i in 0..<size { v |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return v
    }
}
