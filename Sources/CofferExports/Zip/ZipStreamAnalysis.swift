// ZipStreamAnalysis.swift: decides how each member is kept, and checks the rebuild, with
// bounded memory whatever the zip holds: the per-member steps of the streaming analysis,
// which ZipDirectoryAnalysis.swift runs over a compact `ZipDirectory` (what the seal uses).
//
// `ZipReproduction.analyseAndVerify` holds the archive and every member's content in memory.
// The streaming analysis reads the zip from a `ZipSource` through fixed-size buffers:
//
// - a stored member: nothing to search; its CRC-32 is checked in the last pass;
// - a deflated member: each candidate parameter set (see `DeflateParameterSearch.order`) is a
//   *trial*: the member's data is inflated 64 KiB at a time, each piece is re-deflated with
//   the candidate and the output compared with the stored stream as it appears. A wrong
//   candidate stops at its first differing byte (usually within the first block); the right
//   one runs to the end, so its trial *is* the check that the content re-deflates to the
//   member's exact bytes (size and CRC-32 checked too);
// - the whole file is then read once more in order, the central directory compared with the
//   one parsed, to record its SHA-256 (and check stored members' CRC-32).
//
// Every byte inflated (by every trial) counts against `ZipAnalysisOptions.inflateBudget`; an
// archive whose members declare more than the budget is refused before anything is inflated.

import CofferCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How one streaming trial of a candidate ended.
enum ZipTrialOutcome: Equatable {
    /// The content re-deflates to the stored stream exactly (size and CRC-32 checked).
    case reproduced
    /// The candidate's output differs from the stored stream, after `matched` equal bytes.
    case differs(matched: Int)
    /// The data does not inflate to what the headers say.
    case invalid(String)
}

/// Thrown inside a trial to stop it at the first differing byte.
private struct TrialDiffers: Error {}

/// Thrown by a trial when the analysis's inflate budget runs out.
struct InflateBudgetExhausted: Error {}

extension ZipReproduction {
    /// Bytes read from the source at a time.
    static let streamPieceSize = 1 << 20
    /// Compressed bytes inflated at a time in a trial.
    static let trialInputSize = 64 * 1024
    /// A candidate that matches this much of a stored stream before differing ends the search
    /// for that member. Wrong settings differ within the first blocks (tens of KiB); a late
    /// difference means an encoder that agrees with zlib block by block but not elsewhere
    /// (Info-ZIP ends its streams differently), which no other candidate fixes, and on
    /// incompressible data every level of a memLevel agrees until then: without this stop, a
    /// 1 GiB random member made by Info-ZIP cost six full trials.
    static let lateDifference = 1 << 20

    /// Reads a member's data (`range` of `source`) piece by piece into `sha`, and returns the
    /// CRC-32 of its bytes when `crc` is set (a stored member's), else 0.
    static func hashMemberData<Source: ZipSource>(_ range: Range<Int>, from source: Source, into sha: SHA256, crc: Bool) throws -> UInt32 {
        var value: UInt32 = 0
        var position = range.lowerBound
        while position < range.upperBound {
            let end = min(position + streamPieceSize, range.upperBound)
            let bytes = try source.read(position..<end)
            sha.update(bytes)
            if crc { value = Deflate.crc32(bytes, initial: value) }
            position = end
        }
        return value
    }

    /// Refuses a bomb before anything is inflated: the sizes the `count` members (`member(i)`)
    /// declare, summed over those the analysis would inflate, against the inflate budget.
    ///
    /// - Throws: `ZipHandlerError.inflateBudgetExceeded`, or what `member` throws.
    static func refuseDeclaredBomb(count: Int, options: ZipAnalysisOptions, member: (Int) throws -> ZipMember) throws {
        var declared: UInt64 = 0
        for index in 0..<count {
            let m = try member(index)
            guard inflates(m, options: options) else { continue }
            let (sum, overflow) = declared.addingReportingOverflow(m.uncompressedSize)
            declared = overflow ? .max : sum
        }
        guard declared <= options.inflateBudget else {
            throw ZipHandlerError.inflateBudgetExceeded(declared: declared, budget: options.inflateBudget)
        }
    }

    /// Whether the analysis inflates `member` (deflated, not encrypted, sizes plausible).
    static func inflates(_ member: ZipMember, options: ZipAnalysisOptions) -> Bool {
        // Deflate cannot expand more than 1032:1; a larger claim is a lie (and a bomb).
        member.method == .deflated && !member.isEncrypted && member.uncompressedSize <= options.maxInflatedMemberSize
            && member.compressedSize < UInt64(Int.max / 1032) && member.uncompressedSize <= member.compressedSize * 1032 + 64
    }

    /// One member's encoding, reading its data from `source` through fixed-size buffers.
    static func decideStreaming<Source: ZipSource>(
        _ member: ZipMember, source: Source, search: inout DeflateParameterSearch, remaining: inout UInt64, options: ZipAnalysisOptions
    ) throws -> ZipMemberEncoding {
        if member.isEncrypted { return .raw(.encrypted) }
        switch member.method {
        case .stored:
            guard member.uncompressedSize == member.compressedSize else {
                return .raw(.inconsistent("stored member with different sizes"))
            }
            return .stored  // its CRC-32 is checked by `hashChecking`, which reads it anyway
        case .deflated:
            guard member.uncompressedSize <= options.maxInflatedMemberSize else { return .raw(.tooLarge(member.uncompressedSize)) }
            guard inflates(member, options: options) else {
                return .raw(.inconsistent("uncompressed size impossible for the compressed size"))
            }
            for candidate in search.order(flags: member.flags) {
                let before = remaining
                let outcome = try trial(candidate, member: member, source: source, remaining: &remaining)
                search.record(candidate, matched: outcome == .reproduced, fed: before - remaining)
                switch outcome {
                case .reproduced: return .deflate(candidate)
                case .differs(let matched): if matched >= lateDifference { return try recipeOrRaw(member, source: source, remaining: &remaining) }
                case .invalid(let detail): return .raw(.inconsistent(detail))
                }
            }
            return try recipeOrRaw(member, source: source, remaining: &remaining)
        default:
            return .raw(.opaqueMethod(member.method))
        }
    }

    /// Runs `parameters` over `member`: inflates its data piece by piece, re-deflates each
    /// piece and compares the output with the stored stream as it is produced.
    ///
    /// - Throws: `ZipHandlerError.inflateBudgetExceeded` when `remaining` runs out; source errors.
    static func trial<Source: ZipSource>(
        _ parameters: DeflateParameters, member: ZipMember, source: Source, remaining: inout UInt64
    ) throws -> ZipTrialOutcome {
        let inflater: InflateStream
        do { inflater = try InflateStream(expectedSize: member.uncompressedSize) } catch { return .invalid(error.description) }
        guard
            let deflater = try? DeflateStream(
                level: parameters.level, memLevel: parameters.memLevel, strategy: parameters.strategy, windowBits: parameters.windowBits)
        else { return .differs(matched: 0) }
        let data = member.dataRange
        var compared = 0  // bytes of the stored stream the candidate's output matched so far
        var crc: UInt32 = 0
        var budget = remaining
        defer { remaining = budget }
        /// Whether `output` continues the stored stream.
        func agrees(_ output: [UInt8]) throws -> Bool {
            guard !output.isEmpty else { return true }
            guard output.count <= data.count - compared else { return false }
            let original = try source.read((data.lowerBound + compared)..<(data.lowerBound + compared + output.count))
            let equal = original.withUnsafeBytes { a in output.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, output.count) == 0 } }
            if equal { compared += output.count }
            return equal
        }
        var position = data.lowerBound
        do {
            while position < data.upperBound {
                let end = min(position + trialInputSize, data.upperBound)
                let input = try source.read(position..<end)
                position = end
                try input.withUnsafeBytes { raw in
                    try inflater.inflate(raw) { piece in
                        guard UInt64(piece.count) <= budget else { throw InflateBudgetExhausted() }
                        budget -= UInt64(piece.count)
                        crc = Deflate.crc32(piece, initial: crc)
                        guard try agrees(try deflater.compress(piece)) else { throw TrialDiffers() }
                    }
                }
                if inflater.isAtEnd && position < data.upperBound {
                    return .invalid(DeflateError.trailingData(count: data.upperBound - position).description)
                }
            }
            try inflater.finish()
        } catch is TrialDiffers {
            return .differs(matched: compared)
        } catch let error as DeflateError {
            return .invalid(error.description)
        }
        guard crc == member.crc32 else { return .invalid("CRC-32 mismatch") }
        guard let tail = try? deflater.finish(), try agrees(tail), compared == data.count else { return .differs(matched: compared) }
        return .reproduced
    }
}
