import CofferCore
import CofferCrypto
import Foundation

/// Stores zip files member by member in a vault (``ArchiveHandler`` for CofferCore).
///
/// At seal time the zip is parsed (``ZipLayout``) and analysed as a stream
/// (``ZipReproduction/analyseStreaming(_:layout:options:)``: each deflated member's parameters
/// are found by re-deflating it piece by piece against its stored bytes, which also proves the
/// rebuild), and the result becomes an ``ArchivePlan`` whose parts are streamed from the file
/// when they are stored (``ZipContentReader``):
///
/// | piece | part kind | stored bytes | member data |
/// |---|---|---|---|
/// | container bytes | stored | the bytes | — |
/// | stored member (method 0) | stored | the content | content |
/// | deflated member, parameters found | transformed, transform = parameters | the content | content |
/// | deflated member, recipe found | transformed, transform = recipe | the content | content |
/// | other member (no parameters reproduce, other method, encrypted) | stored | the compressed bytes | encoded (deflate) or opaque |
///
/// Transform bytes (5): `u8 version(1) || u8 level || u8 memLevel || u8 strategy || i8 windowBits`;
/// or, for a member no zlib setting reproduces, a ``DeflateRecipe`` (version 2).
/// Encoding bytes of an encoded member (5): `u8 method(8 = deflate) || u32le crc32`.
///
/// Memory is bounded whatever the zip holds: members go through fixed-size inflate and deflate
/// buffers and are never held whole. A zip whose members inflate to more than `inflateBudget`
/// is sealed as an ordinary file.
public struct ZipArchiveHandler: ArchiveHandler {
    /// The most bytes the analysis of one zip may inflate (``ZipAnalysisOptions/inflateBudget``,
    /// 8 GiB by default); a zip that needs more is sealed as an ordinary file, with a note.
    public var inflateBudget: UInt64 = ZipAnalysisOptions.defaultInflateBudget
    /// What the parse may hold: every member's headers and the directory are kept in memory
    /// while the zip is analysed, and each member costs the seal about 1.5 KiB until the version
    /// is written (its parts and its record in the layout, its chunks' entries in the open packs
    /// and in the seal's set of new chunks; release build) and a restore, `--expand` or `cat`
    /// about 0.65 KiB (the version's layout, decoded and as read, and two chunks in the index).
    /// At most 32,768 members, which keeps the seal within 64 MiB of a small zip's with room for
    /// longer names (40,000 members with 46-byte names came to 59 MiB more), and 16 MiB of
    /// container bytes (headers, directory, unclaimed bytes such as a self-extractor stub: about
    /// 500 bytes a member); a zip over either is sealed as an ordinary file, with a note.
    public var parseLimits = ZipParseLimits(maxMembers: 32_768, maxContainerBytes: 16 << 20)

    public init() {}

    public func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
        guard size >= 22 else { return nil }
        let source = try ZipFileSource(path: path)
        let head = try source.read(0..<min(4, source.count))
        let tail = try source.read(max(0, source.count - 22)..<source.count)
        guard ZipLayout.looksLikeZip(prefix: head) || ZipLayout.containsEndRecord(suffix: tail) else { return nil }
        let layout = try ZipLayout.parse(source, limits: parseLimits)
        var options = ZipAnalysisOptions()
        options.inflateBudget = inflateBudget
        options.maxInflatedMemberSize = .max  // nothing is held in memory: the budget bounds the work
        let analysis = try ZipReproduction.analyseStreaming(source, layout: layout, options: options)

        var parts: [ArchivePlan.Part] = []
        parts.reserveCapacity(analysis.plan.pieces.count)
        var memberPart = [Int?](repeating: nil, count: layout.members.count)
        // One transform array per distinct parameter set, shared by every part that uses it.
        var transforms: [DeflateParameters: [UInt8]] = [:]
        for piece in analysis.plan.pieces {
            switch piece {
            case .bytes(let b):
                parts.append(.init(kind: .stored, transform: [], outputSize: UInt64(b.count), contentSize: UInt64(b.count)))
            case .member(let i):
                let recipe = analysis.plan.members[i]
                memberPart[i] = parts.count
                switch recipe.encoding {
                case .deflate(let p):
                    let transform = transforms[p] ?? Self.transform(p)
                    transforms[p] = transform
                    parts.append(.init(kind: .transformed, transform: transform, outputSize: recipe.compressedSize, contentSize: recipe.uncompressedSize))
                case .rebuilt(let deflateRecipe):
                    parts.append(.init(
                        kind: .transformed, transform: deflateRecipe.bytes, outputSize: recipe.compressedSize, contentSize: recipe.uncompressedSize))
                case .stored, .raw:
                    parts.append(.init(kind: .stored, transform: [], outputSize: recipe.compressedSize, contentSize: recipe.compressedSize))
                }
            }
        }
        var members: [ArchiveMember] = []
        members.reserveCapacity(layout.members.count)
        var rawCount = 0
        for (i, m) in layout.members.enumerated() {
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
        let context = ZipSealContext(plan: analysis.plan, layout: layout, sha256: analysis.sha256)
        return ArchivePlan(
            format: ArchiveLayout.zip, parts: parts, members: members, sha256: analysis.sha256, size: UInt64(layout.size), notes: notes,
            context: context)
    }

    public func openContent(of plan: ArchivePlan, path: String) throws -> ArchiveContentReader {
        guard let context = plan.context as? ZipSealContext, context.pieces.count == plan.parts.count else {
            throw ZipHandlerError.badTransform
        }
        return ZipContentReader(source: try ZipFileSource(path: path), context: context)
    }

    public func encode(transform: [UInt8], content: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let stream: any ZipMemberDeflater
        if transform.first == DeflateRecipe.version {
            guard let recipe = DeflateRecipe(bytes: transform) else { throw ZipHandlerError.badTransform }
            stream = try DeflateRecipeEncoder(recipe)
        } else {
            guard let p = Self.parameters(transform) else { throw ZipHandlerError.badTransform }
            stream = try DeflateStream(level: p.level, memLevel: p.memLevel, strategy: p.strategy, windowBits: p.windowBits)
        }
        try withoutActuallyEscaping(emit) { emit in
            try content { chunk in
                let output = try stream.compress(chunk)
                if !output.isEmpty { try output.withUnsafeBytes { try emit($0) } }
            }
        }
        let output = try stream.finish()
        if !output.isEmpty { try output.withUnsafeBytes { try emit($0) } }
    }

    public func decode(member: ArchiveMember, stored: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard member.encoding.count == 5, member.encoding[0] == 8 else { throw ZipHandlerError.badTransform }
        let crc = UInt32(member.encoding[1]) | UInt32(member.encoding[2]) << 8 | UInt32(member.encoding[3]) << 16 | UInt32(member.encoding[4]) << 24
        // The size comes from a version file: one that no Int can hold is no size a zip member has.
        guard Int(exactly: member.size) != nil else { throw ZipHandlerError.badSize(member: member.name, size: member.size) }
        let inflater = try InflateStream(expectedSize: member.size)
        var running: UInt32 = 0
        try withoutActuallyEscaping(emit) { emit in
            try stored { chunk in
                try inflater.inflate(chunk) { piece in
                    running = Deflate.crc32(piece, initial: running)
                    try emit(piece)
                }
            }
        }
        try inflater.finish()
        guard running == crc else { throw ZipHandlerError.crcMismatch(member: member.name) }
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
    /// The members need more inflating than the budget: `declared` is what they claim, nil when
    /// the search itself ran past the budget.
    case inflateBudgetExceeded(declared: UInt64?, budget: UInt64)
    /// The file changed between its analysis and its storing.
    case changedWhileRead
    case notReproduced
    case badTransform
    case crcMismatch(member: String)
    case badSize(member: String, size: UInt64)

    public var description: String {
        switch self {
        case .inflateBudgetExceeded(let declared, let budget):
            if let declared {
                return "its members inflate to \(declared) bytes, over the \(budget)-byte budget for analysing one zip"
            }
            return "analysing its members would inflate more than the \(budget)-byte budget for one zip"
        case .changedWhileRead: return "it changed while it was being read"
        case .notReproduced: return "its rebuild did not match the original"
        case .badTransform: return "unknown zip member parameters"
        case .crcMismatch(let m): return "member \(m) does not match its CRC-32"
        case .badSize(let m, let size): return "member \(m) claims \(size) bytes, more than any zip member holds"
        }
    }
}
