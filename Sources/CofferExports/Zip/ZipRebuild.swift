// ZipRebuild.swift: decides how each member is kept, and rebuilds the exact archive.
//
// A rebuild plan is what the vault stores for a zip besides the members' payloads:
//
//     plan    = pieces || recipes || size || zlib version
//     piece   = bytes(container bytes, adjacent container spans merged) | member(i)
//     recipe  = encoding || compressed size || uncompressed size || CRC-32   (one per member)
//     encoding= stored                  payload = the member's content (= its stored bytes)
//             | deflate(parameters)     payload = the member's content, re-deflated on rebuild
//             | raw(reason)             payload = the member's compressed bytes, as they are
//
// Writing the pieces in order, each member piece replaced by its payload (deflated again for
// `deflate`), gives the original archive byte for byte. `ZipRebuilder` does that as a stream;
// `ZipReproduction` analyses an archive, builds the plan, and checks the rebuild against the
// input, falling back to `raw` for any member whose rebuilt bytes differ.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Plan

/// Why a member is kept as its raw compressed bytes.
public enum ZipRawReason: Sendable, Equatable, CustomStringConvertible {
    /// A method other than stored or deflated (bzip2, LZMA, zstd, ...): opaque.
    case opaqueMethod(ZipCompressionMethod)
    /// Flag bit 0: the data is encrypted.
    case encrypted
    /// The data does not decode to what the headers say (inflate error, wrong size or CRC).
    case inconsistent(String)
    /// The uncompressed size is over `ZipAnalysisOptions.maxInflatedMemberSize`.
    case tooLarge(UInt64)
    /// No candidate parameter set re-deflates the content to the stored stream.
    case noMatchingParameters
    /// Parameters were found, but the checked rebuild of the archive differed in this member.
    case rebuildMismatch

    public var description: String {
        switch self {
        case .opaqueMethod(let method): "compression method \(method) is kept as it is"
        case .encrypted: "encrypted"
        case .inconsistent(let detail): "inconsistent data: \(detail)"
        case .tooLarge(let size): "\(size) bytes uncompressed is over the analysis limit"
        case .noMatchingParameters: "no zlib parameters reproduce the stream"
        case .rebuildMismatch: "the rebuilt archive differed in this member"
        }
    }
}

/// How one member is kept in the vault and rebuilt.
public enum ZipMemberEncoding: Sendable, Equatable, CustomStringConvertible {
    /// Method 0, not encrypted, CRC checked: the payload is the content, written back as is.
    case stored
    /// The payload is the content; deflating it with these parameters reproduces the stored stream.
    case deflate(DeflateParameters)
    /// The payload is the content; `LazyDeflateEncoder` with this recipe reproduces the stored
    /// stream (no zlib setting does).
    case rebuilt(DeflateRecipe)
    /// The payload is the stored (compressed) bytes, written back as they are.
    case raw(ZipRawReason)

    /// Whether the payload is the member's uncompressed content (stored or deflate), so the
    /// vault can deduplicate and diff it as a file.
    public var payloadIsContent: Bool {
        if case .raw = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .stored: "stored"
        case .deflate(let parameters): "deflate (\(parameters))"
        case .rebuilt(let recipe): "deflate (\(recipe))"
        case .raw(let reason): "raw (\(reason))"
        }
    }
}

/// What the rebuilder needs to know about one member, besides its payload.
public struct ZipMemberRecipe: Sendable, Equatable {
    /// How the member is kept.
    public var encoding: ZipMemberEncoding
    /// Its size in the archive.
    public var compressedSize: UInt64
    /// Its uncompressed size.
    public var uncompressedSize: UInt64
    /// CRC-32 of its content (checked on rebuild for stored and deflate members).
    public var crc32: UInt32

    /// A recipe from its fields.
    public init(encoding: ZipMemberEncoding, compressedSize: UInt64, uncompressedSize: UInt64, crc32: UInt32) {
        self.encoding = encoding
        self.compressedSize = compressedSize
        self.uncompressedSize = uncompressedSize
        self.crc32 = crc32
    }

    /// Bytes of payload the rebuilder expects: the uncompressed size for `deflate`, the
    /// compressed size otherwise.
    public var payloadSize: UInt64 {
        switch encoding {
        case .deflate, .rebuilt: return uncompressedSize
        case .stored, .raw: return compressedSize
        }
    }
}

/// One piece of a rebuild plan: container bytes, or a member's place.
public enum ZipPiece: Sendable, Equatable {
    /// Container bytes written as they are (adjacent container spans merged).
    case bytes([UInt8])
    /// Member `i`'s data, produced from its payload.
    case member(Int)
}

/// Everything needed, besides the members' payloads, to write an archive back byte for byte.
public struct ZipRebuildPlan: Sendable, Equatable {
    /// The archive in order: container bytes and member places, each member exactly once.
    public var pieces: [ZipPiece]
    /// One recipe per member, in central-directory order.
    public var members: [ZipMemberRecipe]
    /// The archive's total size.
    public var size: UInt64
    /// `Deflate.zlibVersion` when the plan was made; deflate parameters reproduce a stream
    /// only with a zlib whose deflate output is the same.
    public var zlibVersion: String

    /// A plan from its stored fields (for deserialisation); `validate()` checks it.
    public init(pieces: [ZipPiece], members: [ZipMemberRecipe], size: UInt64, zlibVersion: String) {
        self.pieces = pieces
        self.members = members
        self.size = size
        self.zlibVersion = zlibVersion
    }

    /// The plan for `layout` with one encoding per member.
    ///
    /// - Precondition: `encodings.count == layout.members.count`.
    public init(layout: ZipLayout, encodings: [ZipMemberEncoding]) {
        precondition(encodings.count == layout.members.count, "one encoding per member")
        var pieces: [ZipPiece] = []
        var pending: [UInt8] = []
        for span in layout.spans {
            if case .memberData(let index) = span.kind {
                if !pending.isEmpty {
                    pieces.append(.bytes(pending))
                    pending = []
                }
                pieces.append(.member(index))
            } else {
                pending += span.bytes
            }
        }
        if !pending.isEmpty { pieces.append(.bytes(pending)) }
        self.pieces = pieces
        self.members = zip(layout.members, encodings).map { member, encoding in
            ZipMemberRecipe(
                encoding: encoding, compressedSize: member.compressedSize,
                uncompressedSize: member.uncompressedSize, crc32: member.crc32)
        }
        self.size = UInt64(layout.size)
        self.zlibVersion = Deflate.zlibVersion
    }

    /// Total container bytes in the plan.
    public var containerByteCount: Int {
        pieces.reduce(0) { total, piece in
            if case .bytes(let bytes) = piece { return total + bytes.count }
            return total
        }
    }

    /// Checks that every member appears exactly once, the sizes add up to `size`, and deflate
    /// levels are 1–9.
    ///
    /// - Throws: `ZipRebuildError.invalidPlan`.
    public func validate() throws(ZipRebuildError) {
        var seen = [Bool](repeating: false, count: members.count)
        var total: UInt64 = 0
        for piece in pieces {
            switch piece {
            case .bytes(let bytes):
                total &+= UInt64(bytes.count)
            case .member(let index):
                guard index >= 0, index < members.count else { throw .invalidPlan("member #\(index) has no recipe") }
                guard !seen[index] else { throw .invalidPlan("member #\(index) appears twice") }
                if case .deflate(let parameters) = members[index].encoding, !(1...9).contains(parameters.level) {
                    // Level 0 output depends on how input is split (see DeflateParameters.searchOrder).
                    throw .invalidPlan("member #\(index) has deflate level \(parameters.level)")
                }
                seen[index] = true
                let (sum, overflow) = total.addingReportingOverflow(members[index].compressedSize)
                guard !overflow else { throw .invalidPlan("sizes overflow") }
                total = sum
            }
        }
        if let missing = seen.firstIndex(of: false) { throw .invalidPlan("member #\(missing) has no place") }
        guard total == size else { throw .invalidPlan("pieces add up to \(total) bytes, the plan says \(size)") }
    }
}

// MARK: - Rebuilder

/// An error while rebuilding an archive from a plan and payloads.
public enum ZipRebuildError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The plan is inconsistent (a member missing or twice, sizes not adding up).
    case invalidPlan(String)
    /// The rebuilder's calls came out of order (payload with no member started, ...).
    case misuse(String)
    /// A member's payload had the wrong length.
    case payloadSizeMismatch(member: Int, expected: UInt64, actual: UInt64)
    /// A member's content does not have the recipe's CRC-32.
    case crcMismatch(member: Int)
    /// Re-deflating a member gave a stream of another length than the original.
    case compressedSizeMismatch(member: Int, expected: UInt64, actual: UInt64)
    /// zlib failed while re-deflating a member.
    case deflate(member: Int, DeflateError)
    /// The rebuilt bytes differ from the input at `offset`, inside member `member`'s data
    /// (nil: in container bytes). Only the checking functions of `ZipReproduction` throw this.
    case outputMismatch(member: Int?, offset: UInt64)

    public var description: String {
        switch self {
        case .invalidPlan(let detail): "invalid zip rebuild plan: \(detail)"
        case .misuse(let detail): "zip rebuilder used out of order: \(detail)"
        case .payloadSizeMismatch(let member, let expected, let actual):
            "zip member #\(member): payload is \(actual) bytes, expected \(expected)"
        case .crcMismatch(let member): "zip member #\(member): content does not match its CRC-32"
        case .compressedSizeMismatch(let member, let expected, let actual):
            "zip member #\(member): re-deflated to \(actual) bytes, the original has \(expected)"
        case .deflate(let member, let error): "zip member #\(member): \(error)"
        case .outputMismatch(let member, let offset):
            "rebuilt zip differs at offset \(offset)" + (member.map { " (data of member #\($0))" } ?? " (container bytes)")
        }
    }
}

/// Writes an archive back from its plan and its members' payloads, as a stream.
///
/// ```swift
/// let rebuilder = try ZipRebuilder(plan: plan) { bytes in try output.write(bytes) }
/// while let member = try rebuilder.nextMember() {   // writes container bytes up to it
///     for chunk in payloadChunks(member) { try rebuilder.write(chunk) }
///     try rebuilder.endMember()                      // checks sizes and CRC
/// }                                                  // nil: the archive is complete
/// ```
///
/// Members come in file order, which `nextMember()` announces. Payloads may be given in
/// chunks of any size; nothing but the current member's deflate state is held in memory.
/// Not thread-safe.
public final class ZipRebuilder {
    /// The plan being written.
    public let plan: ZipRebuildPlan
    private let sink: ([UInt8]) throws -> Void
    private var nextPiece = 0
    private var current: Member?
    /// Bytes given to the sink so far.
    public private(set) var bytesWritten: UInt64 = 0
    /// Whether the whole archive has been written.
    public private(set) var isComplete = false

    /// The member being written.
    private struct Member {
        let index: Int
        let recipe: ZipMemberRecipe
        let stream: (any ZipMemberDeflater)?
        var payloadBytes: UInt64 = 0
        var outputBytes: UInt64 = 0
        var crc: UInt32 = 0
    }

    /// A rebuilder writing to `sink`, which receives the archive's bytes in order.
    ///
    /// - Throws: `ZipRebuildError.invalidPlan` when the plan does not validate.
    public init(plan: ZipRebuildPlan, sink: @escaping ([UInt8]) throws -> Void) throws(ZipRebuildError) {
        try plan.validate()
        self.plan = plan
        self.sink = sink
    }

    /// The member whose payload is expected now, if any.
    public var currentMember: Int? { current?.index }

    /// Writes container bytes up to the next member and starts it.
    ///
    /// - Returns: the member whose payload to write next, or nil when the remaining container
    ///   bytes have been written and the archive is complete.
    /// - Throws: `ZipRebuildError.misuse` while a member is still open; the sink's errors.
    public func nextMember() throws -> Int? {
        guard current == nil else { throw ZipRebuildError.misuse("member #\(current!.index) was not ended") }
        while nextPiece < plan.pieces.count {
            let piece = plan.pieces[nextPiece]
            nextPiece += 1
            switch piece {
            case .bytes(let bytes):
                try emit(bytes)
            case .member(let index):
                let recipe = plan.members[index]
                var stream: (any ZipMemberDeflater)?
                if case .rebuilt(let deflateRecipe) = recipe.encoding {
                    stream = try DeflateRecipeEncoder(deflateRecipe)
                }
                if case .deflate(let parameters) = recipe.encoding {
                    do {
                        stream = try DeflateStream(
                            level: parameters.level, memLevel: parameters.memLevel, strategy: parameters.strategy,
                            windowBits: parameters.windowBits)
                    } catch {
                        throw ZipRebuildError.deflate(member: index, error)
                    }
                }
                current = Member(index: index, recipe: recipe, stream: stream)
                return index
            }
        }
        isComplete = true
        return nil
    }

    /// Writes the next chunk of the current member's payload.
    ///
    /// - Throws: `ZipRebuildError.misuse` with no member started, `.payloadSizeMismatch` when
    ///   the payload grows past its size, `.deflate`; the sink's errors.
    public func write<Bytes: Collection<UInt8>>(_ payload: Bytes) throws {
        guard var member = current else { throw ZipRebuildError.misuse("payload given with no member started") }
        let count = UInt64(payload.count)
        guard count <= member.recipe.payloadSize - member.payloadBytes else {
            throw ZipRebuildError.payloadSizeMismatch(
                member: member.index, expected: member.recipe.payloadSize, actual: member.payloadBytes + count)
        }
        member.payloadBytes += count
        switch member.recipe.encoding {
        case .stored, .deflate, .rebuilt:
            member.crc = Deflate.crc32(payload, initial: member.crc)
        case .raw:
            break
        }
        if let stream = member.stream {
            let output: [UInt8]
            do { output = try stream.compress(payload) } catch { throw ZipRebuildError.deflating(member: member.index, error) }
            try checkRoom(member, adding: output.count)
            member.outputBytes += UInt64(output.count)
            current = member
            try emit(output)
        } else {
            member.outputBytes += count
            current = member
            try emit(Array(payload))
        }
    }

    /// Ends the current member: finishes its deflate stream and checks its sizes and CRC.
    ///
    /// - Throws: `ZipRebuildError.payloadSizeMismatch`, `.crcMismatch`,
    ///   `.compressedSizeMismatch`, `.misuse`; the sink's errors.
    public func endMember() throws {
        guard var member = current else { throw ZipRebuildError.misuse("no member to end") }
        guard member.payloadBytes == member.recipe.payloadSize else {
            throw ZipRebuildError.payloadSizeMismatch(
                member: member.index, expected: member.recipe.payloadSize, actual: member.payloadBytes)
        }
        switch member.recipe.encoding {
        case .stored, .deflate, .rebuilt:
            guard member.crc == member.recipe.crc32 else { throw ZipRebuildError.crcMismatch(member: member.index) }
        case .raw:
            break
        }
        if let stream = member.stream {
            let output: [UInt8]
            do { output = try stream.finish() } catch { throw ZipRebuildError.deflating(member: member.index, error) }
            try checkRoom(member, adding: output.count)
            member.outputBytes += UInt64(output.count)
            guard member.outputBytes == member.recipe.compressedSize else {
                throw ZipRebuildError.compressedSizeMismatch(
                    member: member.index, expected: member.recipe.compressedSize, actual: member.outputBytes)
            }
            try emit(output)
        }
        current = nil
    }

    private func checkRoom(_ member: Member, adding count: Int) throws(ZipRebuildError) {
        if UInt64(count) > member.recipe.compressedSize - member.outputBytes {
            throw .compressedSizeMismatch(
                member: member.index, expected: member.recipe.compressedSize, actual: member.outputBytes + UInt64(count))
        }
    }

    private func emit(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try sink(bytes)
        bytesWritten += UInt64(bytes.count)
    }

    /// Rebuilds a whole archive, asking `payload` for each member's payload (in file order).
    ///
    /// - Throws: `ZipRebuildError`, and whatever `payload` or `sink` throw.
    public static func rebuild(
        plan: ZipRebuildPlan, payload: (Int) throws -> [UInt8], sink: @escaping ([UInt8]) throws -> Void
    ) throws {
        let rebuilder = try ZipRebuilder(plan: plan, sink: sink)
        while let member = try rebuilder.nextMember() {
            try rebuilder.write(try payload(member))
            try rebuilder.endMember()
        }
    }

    /// Rebuilds a whole archive in memory.
    ///
    /// - Throws: `ZipRebuildError`, and whatever `payload` throws.
    public static func rebuild(plan: ZipRebuildPlan, payload: (Int) throws -> [UInt8]) throws -> [UInt8] {
        final class Buffer: @unchecked Sendable { var bytes: [UInt8] = [] }
        let buffer = Buffer()
        buffer.bytes.reserveCapacity(Int(min(plan.size, 1 << 28)))
        try rebuild(plan: plan, payload: payload) { buffer.bytes += $0 }
        return buffer.bytes
    }
}

// MARK: - Analysis and checked rebuild

/// Where a streaming comparison has got to (shared with the rebuilder's sink closure).
private final class ZipComparisonState {
    var position = 0
    var member: Int?
}

/// Limits and choices for `ZipReproduction`.
public struct ZipAnalysisOptions: Sendable {
    /// Deflated members larger than this uncompressed are kept raw. Default 1 GiB: the
    /// in-memory analysis (`analyseAndVerify`) holds a member's content; the streaming one
    /// (`analyseStreaming`) holds none and is bounded by `inflateBudget` instead.
    public var maxInflatedMemberSize: UInt64 = 1 << 30
    /// The most bytes the streaming analysis inflates for one archive, over all members and
    /// every candidate it tries (default 8 GiB). An archive whose members declare more, or
    /// whose search runs past it, is refused with `ZipHandlerError.inflateBudgetExceeded`:
    /// a zip bomb costs bounded time, and is sealed as an ordinary file.
    public var inflateBudget: UInt64 = ZipAnalysisOptions.defaultInflateBudget
    /// 8 GiB.
    public static let defaultInflateBudget: UInt64 = 8 << 30
    /// The deflate parameter candidates, in order.
    public var candidates: [DeflateParameters] = DeflateParameters.searchOrder
    /// Keep every member's payload in `ZipAnalysis.payloads` (the in-memory path does).
    public var keepPayloads = false

    /// The defaults.
    public init() {}
}

/// The outcome of analysing an archive: its layout, and how each member is kept.
public struct ZipAnalysis: Sendable {
    /// The parsed archive.
    public let layout: ZipLayout
    /// The rebuild plan (container bytes and per-member recipes).
    public var plan: ZipRebuildPlan
    /// Each member's payload, when `ZipAnalysisOptions.keepPayloads` was set; else empty.
    public var payloads: [[UInt8]]
    /// Whether a rebuild was compared with the input and found identical.
    public var verified: Bool
    /// Deflate candidates run during the search (a measure of its cost).
    public var deflateAttempts: Int

    /// Each member's encoding, in central-directory order.
    public var encodings: [ZipMemberEncoding] { plan.members.map(\.encoding) }

    /// How many members rebuild from their content (stored or re-deflated).
    public var contentMemberCount: Int { encodings.filter(\.payloadIsContent).count }
}

/// Analysis of whole archives: per-member decisions, payloads, and checked rebuilds.
///
/// ```swift
/// let analysis = try ZipReproduction.analyseAndVerify(zipBytes)
/// // analysis.verified == true: plan + payloads rebuild `zipBytes` exactly.
/// for (member, encoding) in zip(analysis.layout.members, analysis.encodings) { ... }
/// ```
public enum ZipReproduction {
    /// Decides member `member`'s encoding from its stored bytes and returns the payload.
    ///
    /// - Parameters:
    ///   - member: the member.
    ///   - data: its stored bytes (`member.compressedSize` of them).
    ///   - search: the archive's parameter search (remembers the last match).
    ///   - options: limits.
    /// - Returns: the encoding and the payload it implies.
    public static func decide(
        _ member: ZipMember, data: [UInt8], search: inout DeflateParameterSearch, options: ZipAnalysisOptions = ZipAnalysisOptions()
    ) -> (encoding: ZipMemberEncoding, payload: [UInt8]) {
        if member.isEncrypted { return (.raw(.encrypted), data) }
        switch member.method {
        case .stored:
            guard member.uncompressedSize == member.compressedSize else {
                return (.raw(.inconsistent("stored member with different sizes")), data)
            }
            guard Deflate.crc32(data) == member.crc32 else { return (.raw(.inconsistent("CRC-32 mismatch")), data) }
            return (.stored, data)
        case .deflated:
            guard member.uncompressedSize <= options.maxInflatedMemberSize else {
                return (.raw(.tooLarge(member.uncompressedSize)), data)
            }
            // Deflate cannot expand more than 1032:1; a larger claim is a lie (and a bomb).
            guard member.uncompressedSize <= UInt64(data.count) * 1032 + 64 else {
                return (.raw(.inconsistent("uncompressed size impossible for the compressed size")), data)
            }
            let content: [UInt8]
            do {
                content = try Deflate.decompress(data, expectedSize: Int(member.uncompressedSize), windowBits: -15)
            } catch {
                return (.raw(.inconsistent(error.description)), data)
            }
            guard Deflate.crc32(content) == member.crc32 else { return (.raw(.inconsistent("CRC-32 mismatch")), data) }
            switch search.find(compressed: data, uncompressed: content, flags: member.flags) {
            case .reproducible(let parameters): return (.deflate(parameters), content)
            case .notReproducible:
                // The last resort, as in the streaming analysis: a recipe, proven by a rebuild.
                let levels = DeflateRecipeSearch.levels(flags: member.flags)
                var budget = member.uncompressedSize &* DeflateRecipeSearch.passes(levels: levels.count)
                let recipe = try? DeflateRecipeSearch.find(
                    compressedSize: data.count, uncompressedSize: member.uncompressedSize, crc32: member.crc32,
                    levels: levels, budget: &budget
                ) { Array(data[$0]) }
                if let recipe { return (.rebuilt(recipe), content) }
                return (.raw(.noMatchingParameters), data)
            }
        default:
            return (.raw(.opaqueMethod(member.method)), data)
        }
    }

    /// Decides every member's encoding, reading each member's data once from `source`.
    ///
    /// Does not rebuild; `verify` or `analyseAndVerify` do. `onPayload` receives each
    /// member's index, encoding and payload as soon as it is decided (in central-directory
    /// order), so a caller can store payloads without keeping them all in memory.
    ///
    /// - Throws: `ZipParseError.io` from the source, and whatever `onPayload` throws.
    public static func analyse<Source: ZipSource>(
        _ source: Source,
        layout: ZipLayout,
        options: ZipAnalysisOptions = ZipAnalysisOptions(),
        onPayload: ((Int, ZipMemberEncoding, [UInt8]) throws -> Void)? = nil
    ) throws -> ZipAnalysis {
        var search = DeflateParameterSearch(candidates: options.candidates)
        var encodings: [ZipMemberEncoding] = []
        var payloads: [[UInt8]] = []
        encodings.reserveCapacity(layout.members.count)
        for member in layout.members {
            let data = try source.read(member.dataRange)
            let (encoding, payload) = decide(member, data: data, search: &search, options: options)
            encodings.append(encoding)
            try onPayload?(member.index, encoding, payload)
            if options.keepPayloads { payloads.append(payload) }
        }
        return ZipAnalysis(
            layout: layout, plan: ZipRebuildPlan(layout: layout, encodings: encodings), payloads: payloads,
            verified: false, deflateAttempts: search.attempts)
    }

    /// The payload of `member` under `encoding`, from the archive: its stored bytes, or its
    /// content inflated (for `deflate`).
    ///
    /// - Throws: `ZipParseError.io` from the source; `DeflateError` when the data does not inflate.
    public static func payload<Source: ZipSource>(of member: ZipMember, encoding: ZipMemberEncoding, in source: Source) throws -> [UInt8] {
        let data = try source.read(member.dataRange)
        switch encoding {
        case .deflate, .rebuilt: break
        case .stored, .raw: return data
        }
        return try Deflate.decompress(data, expectedSize: Int(member.uncompressedSize), windowBits: -15)
    }

    /// Rebuilds the archive as a stream and compares it byte by byte with `source`, reading
    /// payloads from `source` again (one member in memory at a time).
    ///
    /// - Throws: `ZipRebuildError.outputMismatch` at the first differing byte (naming the
    ///   member whose data it is in), other `ZipRebuildError`s, source and inflate errors.
    public static func verify<Source: ZipSource>(_ analysis: ZipAnalysis, against source: Source) throws {
        let members = analysis.layout.members
        let plan = analysis.plan
        try verify(plan: plan, against: source) { index in
            if analysis.payloads.count == members.count { return analysis.payloads[index] }
            return try payload(of: members[index], encoding: plan.members[index].encoding, in: source)
        }
    }

    /// Rebuilds `plan` with `payload` and compares the output with `source` as it is produced.
    ///
    /// - Throws: `ZipRebuildError.outputMismatch` at the first differing byte, other errors as they come.
    public static func verify<Source: ZipSource>(
        plan: ZipRebuildPlan, against source: Source, payload: (Int) throws -> [UInt8]
    ) throws {
        guard plan.size == UInt64(source.count) else {
            throw ZipRebuildError.outputMismatch(member: nil, offset: min(plan.size, UInt64(source.count)))
        }
        let state = ZipComparisonState()
        let rebuilder = try ZipRebuilder(plan: plan) { bytes in
            let start = state.position
            guard bytes.count <= source.count - start else {
                throw ZipRebuildError.outputMismatch(member: state.member, offset: UInt64(source.count))
            }
            let original = try source.read(start..<(start + bytes.count))
            if let first = firstDifference(original, bytes) {
                throw ZipRebuildError.outputMismatch(member: state.member, offset: UInt64(start + first))
            }
            state.position += bytes.count
        }
        while true {
            state.member = nil
            guard let member = try rebuilder.nextMember() else { break }
            state.member = member
            do {
                try rebuilder.write(try payload(member))
                try rebuilder.endMember()
            } catch let error as ZipRebuildError {
                // A member that re-deflates to another length is a mismatch in that member.
                switch error {
                case .compressedSizeMismatch, .crcMismatch, .deflate, .payloadSizeMismatch:
                    throw ZipRebuildError.outputMismatch(member: member, offset: UInt64(state.position))
                default:
                    throw error
                }
            }
        }
        guard state.position == source.count else {
            throw ZipRebuildError.outputMismatch(member: nil, offset: UInt64(state.position))
        }
    }

    /// Parses, analyses, rebuilds in memory and compares with the input; any member whose
    /// rebuilt bytes differ falls back to `raw(.rebuildMismatch)` and the check is repeated.
    ///
    /// The result has `verified == true` and `payloads` filled: `plan` plus `payloads`
    /// rebuild `bytes` exactly.
    ///
    /// - Throws: `ZipParseError` when `bytes` is not a zip this library accounts for;
    ///   `ZipRebuildError.outputMismatch(member: nil, ...)` if container bytes could not be
    ///   reproduced (a bug: the caller should then store the file as an ordinary file).
    public static func analyseAndVerify(_ bytes: [UInt8], options: ZipAnalysisOptions = ZipAnalysisOptions()) throws -> ZipAnalysis {
        let source = ZipMemorySource(bytes)
        let layout = try ZipLayout.parse(source)
        var options = options
        options.keepPayloads = true
        var analysis = try analyse(source, layout: layout, options: options)
        for _ in 0...layout.members.count {
            let payloads = analysis.payloads
            let culprit: Int
            do {
                let rebuilt = try ZipRebuilder.rebuild(plan: analysis.plan) { payloads[$0] }
                guard let mismatch = firstDifference(rebuilt, bytes) else {
                    analysis.verified = true
                    return analysis
                }
                // The member whose data holds the first difference falls back to raw.
                guard let span = layout.spans.first(where: { $0.range.contains(mismatch) }),
                    case .memberData(let index) = span.kind
                else {
                    throw ZipRebuildError.outputMismatch(member: nil, offset: UInt64(mismatch))
                }
                culprit = index
            } catch let error as ZipRebuildError {
                switch error {
                case .compressedSizeMismatch(let member, _, _), .deflate(let member, _):
                    culprit = member
                default:
                    throw error
                }
            }
            switch analysis.encodings[culprit] {
            case .deflate, .rebuilt: break
            case .stored, .raw:
                throw ZipRebuildError.outputMismatch(member: culprit, offset: UInt64(layout.members[culprit].dataOffset))
            }
            analysis.plan.members[culprit].encoding = .raw(.rebuildMismatch)
            analysis.payloads[culprit] = Array(bytes[layout.members[culprit].dataRange])
        }
        throw ZipRebuildError.outputMismatch(member: nil, offset: 0)
    }

    /// The first index where `a` and `b` differ (a length difference counts), or nil.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        let common = min(a.count, b.count)
        let equalPrefix = a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in common == 0 || memcmp(pa.baseAddress!, pb.baseAddress!, common) == 0 }
        }
        if equalPrefix { return a.count == b.count ? nil : common }
        for index in 0..<common where a[index] != b[index] { return index }
        return common
    }
}
