import CofferCore
import CofferCrypto
import Foundation

/// Stores zip files member by member in a vault (``ArchiveHandler`` for CofferCore).
///
/// At seal time the zip is parsed (``ZipLayout/parseDirectory(_:limits:)``) and analysed as a stream
/// (``ZipReproduction/analyseStreaming(_:directory:options:)``: each deflated member's parameters
/// are found by re-deflating it piece by piece against its stored bytes, which also proves the
/// rebuild), and the result becomes an ``ArchivePlan`` whose parts and members are made from
/// the compact ``ZipDirectory`` when the core asks for them, the parts' bytes streamed from the
/// file (``ZipContentReader``):
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
/// buffers and are never held whole. A zip whose members inflate to more than its inflate
/// budget (`inflateBudget`, or `inflateBudgetPerZipByte` times its size when that is more) is
/// sealed as an ordinary file.
public struct ZipArchiveHandler: ArchiveHandler {
    /// The most bytes the analysis of one zip may inflate (``ZipAnalysisOptions/inflateBudget``,
    /// 8 GiB by default); a zip that needs more is sealed as an ordinary file, with a note.
    public var inflateBudget: UInt64 = ZipAnalysisOptions.defaultInflateBudget
    /// The budget grows with the zip: a zip may inflate this many times its size when that is
    /// more than `inflateBudget` (32: a 50 GB Takeout part may inflate to 1.6 TB), so a large
    /// zip of ordinary content is analysed, while a bomb (deflate reaches 1032:1) is refused.
    public var inflateBudgetPerZipByte: UInt64 = 32
    /// What the parse may read and hold. The seal keeps a zip as a ``ZipDirectory``: the central
    /// directory as read (about 46 bytes plus the name and extra fields a member) and 16 bytes
    /// a member, plus a 4-byte encoding index a member after the analysis; parts and member
    /// records are made from these as they are stored, container bytes read from the file again
    /// (the layout itself is streamed into layout pieces, and readers decode it piece by piece).
    /// At most 1,048,576 members and 512 MiB of container bytes read by the parse (the
    /// directory, each local header, the end records: counted as read); a zip over either is
    /// sealed as an ordinary file, with a note. A Takeout part of 131,072 members with 50-byte
    /// names holds about 17 MiB here.
    public var parseLimits = ZipParseLimits(maxMembers: 1 << 20, maxContainerBytes: 512 << 20)

    /// The longest layout a zip may have to be stored member by member
    /// (``Vault/maximumArchiveLayoutBytes``); a zip whose layout is sure to be longer
    /// (``ZipDirectory/minimumLayoutBytes``) is sealed as an ordinary file before its analysis.
    public var maximumLayoutBytes = Vault.maximumArchiveLayoutBytes

    public init() {}

    public func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
        guard size >= 22 else { return nil }
        let source = try ZipFileSource(path: path)
        let head = try source.read(0..<min(4, source.count))
        let tail = try source.read(max(0, source.count - 22)..<source.count)
        guard ZipLayout.looksLikeZip(prefix: head) || ZipLayout.containsEndRecord(suffix: tail) else { return nil }
        let directory = try ZipLayout.parseDirectory(source, limits: parseLimits)
        // A layout sure to be over the cap is known from the directory: no member is analysed.
        let least = directory.minimumLayoutBytes
        guard least <= maximumLayoutBytes else { throw ArchiveLayoutTooLarge(atLeast: least, limit: maximumLayoutBytes) }
        var options = ZipAnalysisOptions()
        let (scaled, overflow) = size.multipliedReportingOverflow(by: inflateBudgetPerZipByte)
        options.inflateBudget = max(inflateBudget, overflow ? .max : scaled)
        options.maxInflatedMemberSize = .max  // nothing is held in memory: the budget bounds the work
        let analysis = try ZipReproduction.analyseStreaming(source, directory: directory, options: options)

        // Parts and members are made from the directory and the encodings when the core asks
        // for them: nothing per part or member is held besides the analysis itself.
        let state = ZipSealState(analysis: analysis)
        var rawCount = 0
        for i in 0..<directory.memberCount {
            if case .raw = analysis.encoding(i) { rawCount += 1 }
        }
        var notes: [String] = []
        if rawCount > 0 {
            notes.append("\(rawCount) of \(directory.memberCount) members kept as compressed bytes (no deflate settings reproduce them); the zip still comes back byte for byte")
        }
        return ArchivePlan(
            format: ArchiveLayout.zip, parts: ArchivePlan.Parts(count: directory.pieceCount) { state.part($0) },
            members: ArchivePlan.Members(count: directory.memberCount) { state.member($0) }, sha256: analysis.sha256,
            size: UInt64(directory.size), notes: notes, context: state)
    }

    public func openContent(of plan: ArchivePlan, path: String) throws -> ArchiveContentReader {
        guard let state = plan.context as? ZipSealState, state.analysis.directory.pieceCount == plan.parts.count else {
            throw ZipHandlerError.badTransform
        }
        return ZipContentReader(source: try ZipFileSource(path: path), state: state)
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
        guard member.encoding.count >= 5, member.encoding[0] == 8 || member.encoding[0] == 0 else { throw ZipHandlerError.badTransform }
        let crc = Self.u32(member.encoding, 1)
        // The size comes from a version file: one that no Int can hold is no size a zip member has.
        guard Int(exactly: member.size) != nil else { throw ZipHandlerError.badSize(member: member.name, size: member.size) }
        var running: UInt32 = 0
        var faults: [String] = []
        if member.encoding[0] == 0 {
            // A stored member with a wrong CRC-32 or sizes: its bytes as they are.
            guard member.encoding.count == 13 else { throw ZipHandlerError.badTransform }
            let declared = UInt64(Self.u32(member.encoding, 5)) | UInt64(Self.u32(member.encoding, 9)) << 32
            try withoutActuallyEscaping(emit) { emit in
                try stored { chunk in
                    running = Deflate.crc32(chunk, initial: running)
                    try emit(chunk)
                }
            }
            if declared != member.size {
                faults.append("it is stored (not compressed) but its uncompressed size is \(declared) bytes and its data \(member.size)")
            }
        } else {
            guard member.encoding.count == 5 else { throw ZipHandlerError.badTransform }
            // Like unzip: inflate to the end of the deflate stream; what follows it is ignored
            // (and reported), data that ends early or inflates to another size is reported.
            let inflater = try InflateStream(expectedSize: member.size)
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: InflateStream.pieceSize, alignment: 16)
            defer { output.deallocate() }
            var trailing = 0
            var broken: Error?
            try withoutActuallyEscaping(emit) { emit in
                try stored { chunk in
                    // The stored bytes are read to their end (the vault checks them as they
                    // come); a fault of the stream is noted here, not thrown through the vault.
                    guard broken == nil else { return }
                    var offset = 0
                    while offset < chunk.count {
                        if inflater.isAtEnd {
                            trailing += chunk.count - offset
                            return
                        }
                        var consumed: Int, produced: Int
                        let before = inflater.totalOut
                        do {
                            (consumed, produced) = try inflater.step(input: UnsafeRawBufferPointer(rebasing: chunk[offset...]), output: output)
                        } catch DeflateError.trailingData(let count) where inflater.isAtEnd {
                            // The stream ended inside this input: its last output is in `output`.
                            produced = Int(inflater.totalOut - before)
                            consumed = chunk.count - offset - count
                        } catch {
                            broken = error
                            return
                        }
                        offset += consumed
                        if produced > 0 {
                            let piece = UnsafeRawBufferPointer(rebasing: output[..<produced])
                            running = Deflate.crc32(piece, initial: running)
                            try emit(piece)
                        }
                        if consumed == 0 && produced == 0 && !inflater.isAtEnd { break }
                    }
                }
            }
            if let broken {
                faults.append("its deflate data is damaged after \(inflater.totalOut) bytes (\(broken))")
            } else if !inflater.isAtEnd {
                faults.append("its deflate data ends before the end of its stream (\(inflater.totalOut) of \(member.size) bytes)")
            } else if inflater.totalOut != member.size {
                faults.append("it inflates to \(inflater.totalOut) bytes, its header says \(member.size)")
            }
            if trailing > 0 {
                faults.append("\(trailing) byte\(trailing == 1 ? "" : "s") follow the end of its deflate stream (ignored, as unzip does)")
            }
        }
        if running != crc {
            faults.append("its CRC-32 is \(Self.hex(crc)) in the zip but \(Self.hex(running)) for its content")
        }
        if !faults.isEmpty { throw ArchiveMemberFault("member \(member.name): " + faults.joined(separator: "; ")) }
    }

    public func whyOpaque(_ member: ArchiveMember) -> String {
        guard member.encoding.count == 3 else { return ArchiveMember.opaqueReason }
        if member.encoding[2] != 0 { return "encrypted" }
        let method = ZipCompressionMethod(rawValue: UInt16(member.encoding[0]) | UInt16(member.encoding[1]) << 8)
        return "compressed with \(method.rawValue == 99 ? "WinZip AES" : method.description) (method \(method.rawValue)), which Coffer does not decode"
    }

    static func le(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func le(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func le(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
    static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
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
