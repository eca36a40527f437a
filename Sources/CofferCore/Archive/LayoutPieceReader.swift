/// What ``ArchiveLayout/decode(_:)`` reads from: the layout's bytes in one array
/// (``ByteReader``: a format-1 version) or read piece by piece (``LayoutPieceReader``).
protocol LayoutByteReading {
    mutating func u8() throws -> UInt8
    mutating func u32() throws -> UInt32
    mutating func u64() throws -> UInt64
    mutating func i64() throws -> Int64
    mutating func id() throws -> ObjectID
    mutating func blob(max: Int) throws -> [UInt8]
    mutating func string(max: Int) throws -> String
    mutating func count(minimumElementSize: Int) throws -> Int
}

extension ByteReader: LayoutByteReading {}

/// Reads a format-2 archive's layout from its layout pieces one piece at a time: only the piece
/// being decoded is held, never the whole layout's bytes. Each piece is opened (and its keyed id
/// checked) when the decoder reaches it, and must have the plain length the index gives it;
/// `remaining` (for count checks) is the index's lengths of the pieces not yet read plus the
/// rest of the current one, bounded by ``Vault/maximumLayoutBytes``.
struct LayoutPieceReader: LayoutByteReading {
    private let vault: Vault
    private let ids: [ObjectID]
    private let readers: PackReaders
    private let object: String
    private var next = 0
    /// The bytes of the current piece not yet decoded (with the tail of the one before when a
    /// value spans two pieces), decoded by ``ByteReader``.
    private var piece = ByteReader([])
    /// Bytes of the pieces not yet read, by the index.
    private var unread: Int

    /// `readers`: the caller's open packs (their window cache is shared), or new ones.
    init(vault: Vault, ids: [ObjectID], object: String, readers: PackReaders? = nil) throws {
        guard !ids.isEmpty else { throw CofferError.integrity(object: object, reason: "archive without layout pieces") }
        guard ids.count <= Vault.maximumLayoutBytes / 64 else { throw CofferError.integrity(object: object, reason: "too many layout pieces") }
        var total = 0
        for id in ids {
            guard let loc = vault.index.location(of: id) else {
                throw CofferError.integrity(object: object, reason: "layout piece \(id.short) is not in the index")
            }
            total += loc.plainLength
            guard total <= Vault.maximumLayoutBytes else {
                throw CofferError.integrity(object: object, reason: "layout longer than \(Vault.maximumLayoutBytes) bytes")
            }
        }
        self.vault = vault
        self.ids = ids
        self.readers = readers ?? PackReaders(vault: vault)
        self.object = object
        self.unread = total
    }

    /// Bytes left to decode.
    var remaining: Int { piece.remaining + unread }
    var isAtEnd: Bool { remaining == 0 }

    /// Makes `n` bytes available in the current piece, joining pieces when a value spans two.
    private mutating func need(_ n: Int) throws {
        guard n >= 0, n <= remaining else { throw FormatError("truncated: needed \(n) bytes, \(remaining) left") }
        guard piece.remaining < n else { return }
        var rest = piece  // the reader keeps its state if a piece fails to read
        var joined = try rest.raw(rest.remaining)
        while joined.count < n {
            let id = ids[next]
            let expected = vault.index.location(of: id)?.plainLength ?? -1
            let bytes = try vault.readPiece(id, type: .layout, readers: readers, context: object)
            guard bytes.count == expected else { throw FormatError("layout piece \(id.short) has \(bytes.count) bytes, the index says \(expected)") }
            next += 1
            unread -= bytes.count
            joined += bytes
        }
        piece = ByteReader(joined)
    }

    mutating func u8() throws -> UInt8 { try need(1); return try piece.u8() }
    mutating func u32() throws -> UInt32 { try need(4); return try piece.u32() }
    mutating func u64() throws -> UInt64 { try need(8); return try piece.u64() }
    mutating func i64() throws -> Int64 { try need(8); return try piece.i64() }
    mutating func id() throws -> ObjectID { try need(32); return try piece.id() }

    mutating func blob(max: Int) throws -> [UInt8] {
        let n = Int(try u32())
        guard n <= max else { throw FormatError("length \(n) above the limit \(max)") }
        try need(n)
        return try piece.raw(n)
    }

    mutating func string(max: Int) throws -> String {
        let b = try blob(max: max)
        guard let s = String(validating: b, as: UTF8.self) else { throw FormatError("string is not valid UTF-8") }
        return s
    }

    mutating func count(minimumElementSize: Int) throws -> Int {
        let n = Int(try u32())
        guard n <= remaining / Swift.max(minimumElementSize, 1) else { throw FormatError("count \(n) exceeds the data that follows") }
        return n
    }
}
