// ZipDeflateSearch.swift: finds the zlib parameters that reproduce a member's deflate stream.
//
// A deflated zip member can be stored as its uncompressed content (deduplicated like any
// file) only if re-deflating that content gives back the member's exact compressed bytes.
// zlib is deterministic for a given version and (level, memLevel, strategy, windowBits),
// so the search tries likely parameter sets and compares the output with the stored stream.
//
// Speed: each candidate runs through `DeflateStream` chunk by chunk, and the bytes zlib has
// emitted so far are compared with the stored stream as they appear. Emitted deflate bytes
// never change later (zlib only holds back the last partial byte), so the first differing
// byte rejects a candidate, usually within the first block (tens of KiB of input). Only the
// right candidate runs to the end. The last parameters that matched are tried first.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The zlib settings that produced a raw deflate stream.
///
/// Stored next to a member's content so `ZipRebuilder` can deflate it again. Reproduction
/// is only guaranteed with the same zlib version (see `Deflate.zlibVersion`).
public struct DeflateParameters: Sendable, Hashable, CustomStringConvertible {
    /// zlib level, 0–9.
    public var level: Int32
    /// zlib memLevel, 1–9.
    public var memLevel: Int32
    /// zlib strategy.
    public var strategy: DeflateStrategy
    /// zlib window bits: -8…-15 for raw deflate, as zip uses.
    public var windowBits: Int32

    /// Parameters with zlib's defaults for whatever is not given.
    public init(level: Int32 = 6, memLevel: Int32 = 8, strategy: DeflateStrategy = .default, windowBits: Int32 = -15) {
        self.level = level
        self.memLevel = memLevel
        self.strategy = strategy
        self.windowBits = windowBits
    }

    /// Level 6, memLevel 8, default strategy, raw 32 KiB window: what Java's
    /// `ZipOutputStream` (and so LinkedIn), Python's `zipfile` and most zlib users write.
    public static let zlibDefault = DeflateParameters()

    /// The order the search tries, most likely first:
    ///
    /// 1. memLevel 8 (zlib's default; Java, Python, .NET, Go's compress/flate is not zlib)
    ///    at level 6, 9, 1…5, 7, 8;
    /// 2. memLevel 9 at the same levels (Info-ZIP's own deflate matches zlib with
    ///    memLevel 9 on its normal and maximum settings: `zip` and `zip -9`);
    /// 3. the other strategies (filtered, RLE, Huffman only, fixed) at level 6, memLevel 8.
    ///
    /// Level 0 is never a candidate: zlib (1.2.12 and later) sizes its stored blocks by the
    /// input and output buffers it is handed, so a level-0 stream cannot be reproduced by a
    /// streaming rebuild. Levels 1–9 give the same bytes however the input is split.
    public static let searchOrder: [DeflateParameters] = {
        let levels: [Int32] = [6, 9, 1, 2, 3, 4, 5, 7, 8]
        var order: [DeflateParameters] = []
        for memLevel: Int32 in [8, 9] {
            for level in levels { order.append(DeflateParameters(level: level, memLevel: memLevel)) }
        }
        for strategy in [DeflateStrategy.filtered, .rle, .huffmanOnly, .fixed] {
            order.append(DeflateParameters(level: 6, memLevel: 8, strategy: strategy))
        }
        return order
    }()

    /// e.g. `level 6, memLevel 8, Z_DEFAULT_STRATEGY, windowBits -15`.
    public var description: String {
        "level \(level), memLevel \(memLevel), \(strategy), windowBits \(windowBits)"
    }
}

/// Whether a deflate stream can be rebuilt from its content.
public enum DeflateReproduction: Sendable, Equatable {
    /// Deflating the content with these parameters gives the stored stream byte for byte.
    case reproducible(DeflateParameters)
    /// No candidate reproduced the stream: keep its compressed bytes.
    case notReproducible
}

/// Searches zlib parameter sets for one that reproduces a given deflate stream.
///
/// ```swift
/// var search = DeflateParameterSearch()
/// switch search.find(compressed: stream, uncompressed: content) {
/// case .reproducible(let parameters): ...   // store content + parameters
/// case .notReproducible: ...                // store the stream as it is
/// }
/// ```
///
/// Keep one search per archive: it remembers the last parameters that matched and tries
/// them first on the next member, so a uniform archive costs one deflate per member.
public struct DeflateParameterSearch: Sendable {
    /// The candidates, in the order tried (after the last match).
    public let candidates: [DeflateParameters]
    /// Input fed to zlib between two comparisons.
    public let chunkSize: Int
    /// The parameters of the last successful `find`, tried first next time.
    public private(set) var lastMatch: DeflateParameters?
    /// How many candidates have been run (fully or until their first differing byte).
    public private(set) var attempts = 0
    /// Uncompressed bytes fed to zlib over all attempts (a measure of the search's cost).
    public private(set) var bytesDeflated: UInt64 = 0

    /// A search over `candidates` (by default `DeflateParameters.searchOrder`).
    public init(candidates: [DeflateParameters] = DeflateParameters.searchOrder, chunkSize: Int = 32 * 1024) {
        self.candidates = candidates
        self.chunkSize = max(1024, chunkSize)
    }

    /// Finds parameters that deflate `uncompressed` to exactly `compressed`.
    ///
    /// - Parameters:
    ///   - compressed: the member's stored raw deflate stream.
    ///   - uncompressed: its content (inflated and CRC-checked by the caller).
    ///   - flags: the member's general-purpose flags, if known. Bits 1–2 record the
    ///     compressor's setting (maximum, fast, super fast) and move matching levels forward.
    /// - Returns: `.reproducible` with the first matching parameters, or `.notReproducible`.
    public mutating func find(compressed: [UInt8], uncompressed: [UInt8], flags: UInt16? = nil) -> DeflateReproduction {
        for candidate in order(flags: flags) {
            attempts += 1
            let (matched, fed) = Self.reproduces(candidate, compressed: compressed, uncompressed: uncompressed, chunkSize: chunkSize)
            bytesDeflated += UInt64(fed)
            if matched {
                lastMatch = candidate
                return .reproducible(candidate)
            }
        }
        return .notReproducible
    }

    /// Records a candidate run outside `find` (a streaming search): `fed` input bytes, and
    /// whether it matched (it is then tried first next time).
    public mutating func record(_ candidate: DeflateParameters, matched: Bool, fed: UInt64) {
        attempts += 1
        bytesDeflated += fed
        if matched { lastMatch = candidate }
    }

    /// The candidates in the order to try them for a member with general-purpose `flags`:
    /// the last match, then the levels the flags suggest, then `candidates`; no repeats.
    public func order(flags: UInt16? = nil) -> [DeflateParameters] {
        var order: [DeflateParameters] = []
        order.reserveCapacity(candidates.count + 1)
        if let lastMatch { order.append(lastMatch) }
        if let flags {
            // APPNOTE 4.4.4: for method 8, bits 2–1 = 01 maximum, 10 fast, 11 super fast.
            let preferred: [Int32]
            switch flags >> 1 & 0b11 {
            case 0b01: preferred = [9, 8, 7]
            case 0b10: preferred = [2, 3, 1]
            case 0b11: preferred = [1, 2]
            default: preferred = []
            }
            for level in preferred {
                for candidate in candidates where candidate.level == level && candidate.strategy == .default {
                    order.append(candidate)
                }
            }
        }
        order += candidates
        var tried = Set<DeflateParameters>()
        return order.filter { tried.insert($0).inserted }
    }

    /// Whether deflating `uncompressed` with `parameters` gives exactly `compressed`.
    public static func reproduces(_ parameters: DeflateParameters, compressed: [UInt8], uncompressed: [UInt8]) -> Bool {
        reproduces(parameters, compressed: compressed, uncompressed: uncompressed, chunkSize: 32 * 1024).matched
    }

    /// Runs one candidate, comparing output as it is emitted; also returns the input bytes fed.
    static func reproduces(
        _ parameters: DeflateParameters, compressed: [UInt8], uncompressed: [UInt8], chunkSize: Int
    ) -> (matched: Bool, fed: Int) {
        guard
            let stream = try? DeflateStream(
                level: parameters.level, memLevel: parameters.memLevel, strategy: parameters.strategy,
                windowBits: parameters.windowBits)
        else { return (false, 0) }
        var compared = 0
        func agrees(_ output: [UInt8]) -> Bool {
            guard output.count <= compressed.count - compared else { return false }
            let equal = output.withUnsafeBytes { produced in
                compressed.withUnsafeBytes { stored in
                    output.isEmpty || memcmp(produced.baseAddress!, stored.baseAddress! + compared, output.count) == 0
                }
            }
            compared += output.count
            return equal
        }
        var fed = 0
        while fed < uncompressed.count {
            let end = min(fed + chunkSize, uncompressed.count)
            guard let output = try? stream.compress(uncompressed[fed..<end]) else { return (false, fed) }
            fed = end
            guard agrees(output) else { return (false, fed) }
        }
        guard let output = try? stream.finish(), agrees(output) else { return (false, fed) }
        return (compared == compressed.count, fed)
    }
}
