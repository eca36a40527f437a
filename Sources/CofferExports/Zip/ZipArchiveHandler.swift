import CofferCore
import CofferCrypto
import Foundation

/// Stores zip files member by member in a vault (``ArchiveHandler`` for CofferCore).
///
/// At seal time the zip is parsed (``ZipLayout``), each deflated member's parameters are searched
/// (``DeflateParameterSearch``), a rebuild is compared with the input (``ZipReproduction``), and
/// the result becomes an ``ArchivePlan``:
///
/// | piece | part kind | stored bytes | member data |
/// |---|---|---|---|
/// | container bytes | stored | the bytes | — |
/// | stored member (method 0) | stored | the content | content |
/// | deflated member, parameters found | transformed, transform = parameters | the content | content |
/// | other member (no parameters reproduce, other method, encrypted) | stored | the compressed bytes | encoded (deflate) or opaque |
///
/// Transform bytes (5): `u8 version(1) || u8 level || u8 memLevel || u8 strategy || i8 windowBits`.
/// Encoding bytes of an encoded member (5): `u8 method(8 = deflate) || u32le crc32`.
public struct ZipArchiveHandler: ArchiveHandler {
    /// Zips larger than this are sealed as ordinary files (the analysis holds one in memory).
    public var maximumSize: UInt64 = 2 << 30

    public init() {}

    public func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
        guard size >= 22 else { return nil }
        let source = try ZipFileSource(path: path)
        let head = try source.read(0..<min(4, source.count))
        let tail = try source.read(max(0, source.count - 22)..<source.count)
        guard ZipLayout.looksLikeZip(prefix: head) || ZipLayout.containsEndRecord(suffix: tail) else { return nil }
        guard size <= maximumSize else {
            throw ZipHandlerError.tooLarge(size: size, limit: maximumSize)
        }
        let bytes = try source.read(0..<source.count)
        let analysis = try ZipReproduction.analyseAndVerify(bytes)
        guard analysis.verified else { throw ZipHandlerError.notReproduced }

        var parts: [ArchivePlan.Part] = []
        var memberPart: [Int: Int] = [:]
        for piece in analysis.plan.pieces {
            switch piece {
            case .bytes(let b):
                parts.append(.init(kind: .stored, transform: [], outputSize: UInt64(b.count), content: b))
            case .member(let i):
                let recipe = analysis.plan.members[i]
                memberPart[i] = parts.count
                let payload = analysis.payloads[i]
                switch recipe.encoding {
                case .deflate(let p):
                    parts.append(.init(kind: .transformed, transform: Self.transform(p), outputSize: recipe.compressedSize, content: payload))
                case .stored, .raw:
                    parts.append(.init(kind: .stored, transform: [], outputSize: recipe.compressedSize, content: payload))
                }
            }
        }
        var members: [ArchiveMember] = []
        var rawCount = 0
        for (i, m) in analysis.layout.members.enumerated() {
            let recipe = analysis.plan.members[i]
            var data = ArchiveMemberData.content
            var encoding: [UInt8] = []
            if case .raw = recipe.encoding {
                rawCount += 1
                if m.method == .deflated && !m.isEncrypted {
                    data = .encoded
                    encoding = [8] + withUnsafeBytes(of: m.crc32.littleEndian) { Array($0) }
                } else {
                    data = .opaque
                }
            }
            members.append(ArchiveMember(
                name: m.name, isDirectory: m.isDirectory, size: m.uncompressedSize, mtimeSeconds: Self.unixTime(m.modified),
                part: memberPart[i], data: data, encoding: encoding))
        }
        var notes: [String] = []
        if rawCount > 0 {
            notes.append("\(rawCount) of \(members.count) members kept as compressed bytes (no deflate settings reproduce them); the zip still comes back byte for byte")
        }
        let sha = SHA256.hash(bytes)
        return ArchivePlan(format: ArchiveLayout.zip, parts: parts, members: members, sha256: sha, size: UInt64(bytes.count), notes: notes)
    }

    public func encode(transform: [UInt8], content: [UInt8]) throws -> [UInt8] {
        guard let p = Self.parameters(transform) else { throw ZipHandlerError.badTransform }
        return try Deflate.compress(content, level: p.level, memLevel: p.memLevel, strategy: p.strategy, windowBits: p.windowBits)
    }

    public func decode(member: ArchiveMember, stored: [UInt8]) throws -> [UInt8] {
        guard member.encoding.count == 5, member.encoding[0] == 8 else { throw ZipHandlerError.badTransform }
        let crc = UInt32(member.encoding[1]) | UInt32(member.encoding[2]) << 8 | UInt32(member.encoding[3]) << 16 | UInt32(member.encoding[4]) << 24
        guard let size = Int(exactly: member.size) else { throw ZipHandlerError.badTransform }
        let content = try Deflate.decompress(stored, expectedSize: size)
        guard Deflate.crc32(content) == crc else { throw ZipHandlerError.crcMismatch(member: member.name) }
        return content
    }

    static func transform(_ p: DeflateParameters) -> [UInt8] {
        [1, UInt8(p.level), UInt8(p.memLevel), UInt8(p.strategy.rawValue), UInt8(bitPattern: Int8(p.windowBits))]
    }

    static func parameters(_ t: [UInt8]) -> DeflateParameters? {
        guard t.count == 5, t[0] == 1, let strategy = DeflateStrategy(rawValue: Int32(t[3])) else { return nil }
        let p = DeflateParameters(level: Int32(t[1]), memLevel: Int32(t[2]), strategy: strategy, windowBits: Int32(Int8(bitPattern: t[4])))
        guard (1...9).contains(p.level), (1...9).contains(p.memLevel), (-15 ... -8).contains(p.windowBits) else { return nil }
        return p
    }

    /// A DOS date and time (no time zone) read as UTC; an impossible date counts as 1980-01-01.
    static func unixTime(_ t: ZipWriter.DOSTimestamp) -> Int64 {
        let days = RecordDate.dayNumber(year: t.year, month: t.month, day: t.day) ?? RecordDate.dayNumber(year: 1980, month: 1, day: 1)!
        return Int64(days) * 86_400 + Int64(t.hour) * 3_600 + Int64(t.minute) * 60 + Int64(t.second)
    }
}

/// Why a zip was sealed as an ordinary file.
public enum ZipHandlerError: Error, CustomStringConvertible, Sendable {
    case tooLarge(size: UInt64, limit: UInt64)
    case notReproduced
    case badTransform
    case crcMismatch(member: String)

    public var description: String {
        switch self {
        case .tooLarge(let s, let l): return "the zip is \(s) bytes, above the \(l)-byte limit for member-by-member storage"
        case .notReproduced: return "its rebuild did not match the original"
        case .badTransform: return "unknown zip member parameters"
        case .crcMismatch(let m): return "member \(m) does not match its CRC-32"
        }
    }
}
