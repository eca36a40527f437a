// ZipDirectoryAnalysis.swift: the streaming analysis (ZipStreamAnalysis.swift) over a compact
// `ZipDirectory`, for the seal: each member is decoded from the directory when its turn comes,
// and its outcome kept as a 4-byte index into a table of distinct encodings (a Takeout part
// uses one or two deflate settings for all its members).

import CofferCrypto

/// How each member is kept: one index per member into a table of the distinct encodings.
struct ZipEncodingTable: Sendable {
    private var table: [ZipMemberEncoding] = []
    private var indices: [UInt32] = []
    private var deflate: [DeflateParameters: UInt32] = [:]
    private var storedIndex: UInt32?

    init(capacity: Int) { indices.reserveCapacity(capacity) }

    var count: Int { indices.count }

    subscript(index: Int) -> ZipMemberEncoding { table[Int(indices[index])] }

    mutating func append(_ encoding: ZipMemberEncoding) { indices.append(intern(encoding)) }

    mutating func set(_ index: Int, _ encoding: ZipMemberEncoding) { indices[index] = intern(encoding) }

    private mutating func intern(_ encoding: ZipMemberEncoding) -> UInt32 {
        switch encoding {
        case .stored:
            if let storedIndex { return storedIndex }
            storedIndex = UInt32(table.count)
        case .deflate(let parameters):
            if let known = deflate[parameters] { return known }
            deflate[parameters] = UInt32(table.count)
        case .rebuilt, .raw:
            break  // rare, and each its own
        }
        table.append(encoding)
        return UInt32(table.count - 1)
    }
}

/// The outcome of a streaming analysis over a ``ZipDirectory``: how each member is kept,
/// checked against the input.
public struct ZipDirectoryAnalysis: Sendable {
    /// The parsed archive.
    public let directory: ZipDirectory
    /// Each member's encoding.
    let encodings: ZipEncodingTable
    /// SHA-256 of the input.
    public let sha256: [UInt8]
    /// Bytes inflated over all trials.
    public let inflatedBytes: UInt64
    /// Candidate trials run.
    public let deflateAttempts: Int

    /// Member `index`'s encoding.
    public func encoding(_ index: Int) -> ZipMemberEncoding { encodings[index] }
}

extension ZipReproduction {
    /// Analyses the archive in `source`, parsed into `directory`, with bounded memory (see
    /// ZipStreamAnalysis.swift): declared sizes against the inflate budget first, one trial per
    /// candidate, then the whole file read in order for its SHA-256 and the stored members'
    /// CRC-32, with nothing per member held but a 4-byte encoding index. Container bytes are hashed as read;
    /// the part of them that is the central directory is compared with the directory parsed.
    ///
    /// - Throws: `ZipHandlerError.inflateBudgetExceeded`; `ZipRebuildError.outputMismatch` when
    ///   the central directory changed since it was parsed or the file's size did;
    ///   `ZipParseError.io`.
    public static func analyseStreaming<Source: ZipSource>(
        _ source: Source, directory: ZipDirectory, options: ZipAnalysisOptions = ZipAnalysisOptions()
    ) throws -> ZipDirectoryAnalysis {
        try refuseDeclaredBomb(count: directory.memberCount, options: options) { try directory.member($0, from: source) }
        var search = DeflateParameterSearch(candidates: options.candidates)
        var remaining = options.inflateBudget
        var encodings = ZipEncodingTable(capacity: directory.memberCount)
        do {
            for index in 0..<directory.memberCount {
                let member = try directory.member(index, from: source)
                encodings.append(try decideStreaming(member, source: source, search: &search, remaining: &remaining, options: options))
            }
        } catch is InflateBudgetExhausted {
            throw ZipHandlerError.inflateBudgetExceeded(declared: nil, budget: options.inflateBudget)
        }
        for (level, index) in (0..<directory.memberCount).lazy.compactMap({ i -> (Int32, Int)? in
            if case .deflate(let p) = encodings[i] { return (p.level, i) }
            return nil
        }) where !(1...9).contains(level) {
            // Level 0 output depends on how input is split (see DeflateParameters.searchOrder).
            throw ZipRebuildError.invalidPlan("member #\(index) has deflate level \(level)")
        }

        // The whole file in order: its SHA-256, the stored members' CRC-32.
        let sha = SHA256()
        var position = 0
        let central = directory.centralDirectoryOffset..<(directory.centralDirectoryOffset + directory.central.count)
        for k in 0..<directory.pieceCount {
            switch directory.piece(k) {
            case .container(let range):
                guard range.lowerBound == position else { throw ZipRebuildError.outputMismatch(member: nil, offset: UInt64(position)) }
                while position < range.upperBound {
                    let end = min(position + streamPieceSize, range.upperBound)
                    let bytes = try source.read(position..<end)
                    let from = max(position, central.lowerBound), to = min(end, central.upperBound)
                    if from < to {
                        let base = central.lowerBound
                        guard bytes[(from - position)..<(to - position)].elementsEqual(directory.central[(from - base)..<(to - base)])
                        else { throw ZipRebuildError.outputMismatch(member: nil, offset: UInt64(from)) }
                    }
                    sha.update(bytes)
                    position = end
                }
            case .member(let index):
                let range = directory.dataRange(index)
                guard range.lowerBound == position else { throw ZipRebuildError.outputMismatch(member: index, offset: UInt64(position)) }
                let stored = encodings[index] == .stored
                let crc = try hashMemberData(range, from: source, into: sha, crc: stored)
                position = range.upperBound
                if stored, crc != directory.entry(index).crc32 { encodings.set(index, .raw(.inconsistent("CRC-32 mismatch"))) }
            }
        }
        guard position == source.count else { throw ZipRebuildError.outputMismatch(member: nil, offset: UInt64(position)) }
        return ZipDirectoryAnalysis(
            directory: directory, encodings: encodings, sha256: sha.finalize(), inflatedBytes: options.inflateBudget - remaining,
            deflateAttempts: search.attempts)
    }
}
