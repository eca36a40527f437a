// Deflate.swift: the package's only contact with zlib.
//
// Every zlib call in Coffer goes through this file. The rest of the package sees raw
// deflate streams (RFC 1951) as `[UInt8]`, explicit compression parameters, and typed
// `DeflateError`s. The parameters are explicit because Coffer re-deflates zip members
// at seal time to find the (level, memLevel, strategy) that reproduce their exact bytes.

import CZlib

/// The zlib compression strategy (`Z_DEFAULT_STRATEGY`, `Z_FILTERED`, ...).
///
/// The raw values are zlib's own constants, so a strategy can be stored in a vault
/// manifest and handed back to zlib unchanged.
public enum DeflateStrategy: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// `Z_DEFAULT_STRATEGY`: normal LZ77 matching plus dynamic Huffman codes. What Java,
    /// Python and Info-ZIP use unless told otherwise.
    case `default` = 0
    /// `Z_FILTERED`: favours Huffman coding over short matches.
    case filtered = 1
    /// `Z_HUFFMAN_ONLY`: no string matching at all.
    case huffmanOnly = 2
    /// `Z_RLE`: matches of distance one only (run-length encoding).
    case rle = 3
    /// `Z_FIXED`: no dynamic Huffman codes.
    case fixed = 4

    /// The zlib constant's name, e.g. `Z_DEFAULT_STRATEGY`.
    public var description: String {
        switch self {
        case .default: "Z_DEFAULT_STRATEGY"
        case .filtered: "Z_FILTERED"
        case .huffmanOnly: "Z_HUFFMAN_ONLY"
        case .rle: "Z_RLE"
        case .fixed: "Z_FIXED"
        }
    }
}

/// An error from compressing or decompressing a deflate stream.
public enum DeflateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// zlib refused the parameters (`Z_STREAM_ERROR` from `deflateInit2`/`inflateInit2`):
    /// level outside -1...9, memLevel outside 1...9, or unsupported window bits.
    case invalidParameters(level: Int32, memLevel: Int32, windowBits: Int32)
    /// zlib could not allocate its state (`Z_MEM_ERROR`).
    case outOfMemory
    /// The zlib library linked at run time is incompatible with the headers (`Z_VERSION_ERROR`).
    case incompatibleLibrary(version: String)
    /// The compressed input is not a valid deflate stream (`Z_DATA_ERROR` or `Z_NEED_DICT`).
    case corruptData(message: String)
    /// The compressed input ended before the final deflate block.
    case truncatedInput
    /// Bytes follow the end of the deflate stream; `count` is how many.
    case trailingData(count: Int)
    /// The stream inflates to more than the expected size; decompression stopped at `limit + 1` bytes.
    case outputLimitExceeded(limit: Int)
    /// The stream inflated completely to fewer bytes than expected.
    case sizeMismatch(expected: Int, actual: Int)
    /// Data was given to a stream after `finish()`.
    case streamFinished
    /// Any other zlib return code, with zlib's message when it gave one.
    case zlib(code: Int32, message: String)

    public var description: String {
        switch self {
        case .invalidParameters(let level, let memLevel, let windowBits):
            "zlib rejected the deflate parameters (level \(level), memLevel \(memLevel), windowBits \(windowBits))"
        case .outOfMemory:
            "zlib could not allocate memory"
        case .incompatibleLibrary(let version):
            "the zlib library at run time (\(version)) is incompatible with the one Coffer was built against"
        case .corruptData(let message):
            "the deflate stream is corrupt: \(message)"
        case .truncatedInput:
            "the deflate stream is truncated (it ends before its final block)"
        case .trailingData(let count):
            "\(count) unexpected byte(s) follow the end of the deflate stream"
        case .outputLimitExceeded(let limit):
            "the deflate stream inflates to more than the expected \(limit) byte(s)"
        case .sizeMismatch(let expected, let actual):
            "the deflate stream inflates to \(actual) byte(s), expected \(expected)"
        case .streamFinished:
            "the deflate stream was already finished"
        case .zlib(let code, let message):
            "zlib error \(code)\(message.isEmpty ? "" : ": \(message)")"
        }
    }
}

/// Raw deflate compression and decompression, and CRC-32, over zlib.
///
/// ```swift
/// let packed = try Deflate.compress(bytes)                  // zlib level 6, memLevel 8, raw
/// let back = try Deflate.decompress(packed, expectedSize: bytes.count)
/// let crc = Deflate.crc32(bytes)                            // as in a zip header
/// ```
public enum Deflate {
    /// The version string of the zlib library linked at run time (`zlibVersion()`), e.g. `1.2.13`.
    ///
    /// Deflate output is only guaranteed to be identical for identical zlib versions, so
    /// record it next to any parameters found by re-deflating.
    public static var zlibVersion: String {
        String(cString: CZlib.zlibVersion())
    }

    /// Compresses `data` in one pass.
    ///
    /// With the defaults this produces exactly what Java's `Deflater` (and therefore
    /// `ZipOutputStream`), Python's `zlib.compressobj(6, zlib.DEFLATED, -15, 8)` and
    /// Info-ZIP's default produce with the same zlib version.
    ///
    /// - Parameters:
    ///   - data: the bytes to compress.
    ///   - level: zlib level, 0 (store) to 9 (best); -1 means zlib's default (6).
    ///   - memLevel: zlib memLevel, 1 to 9; 8 is zlib's default.
    ///   - strategy: the zlib strategy.
    ///   - windowBits: -8...-15 for a raw deflate stream (as in zip), 8...15 for a zlib
    ///     wrapper, 24...31 for a gzip wrapper.
    /// - Returns: the compressed stream.
    /// - Throws: `DeflateError.invalidParameters` for parameters zlib rejects.
    ///
    /// Wraps `deflateInit2`, `deflate` (`Z_NO_FLUSH`, then `Z_FINISH` in a loop over
    /// output buffers) and `deflateEnd`.
    public static func compress<Bytes: Collection<UInt8>>(
        _ data: Bytes,
        level: Int32 = 6,
        memLevel: Int32 = 8,
        strategy: DeflateStrategy = .default,
        windowBits: Int32 = -15
    ) throws(DeflateError) -> [UInt8] {
        let stream = try DeflateStream(level: level, memLevel: memLevel, strategy: strategy, windowBits: windowBits)
        var output = try stream.compress(data)
        output += try stream.finish()
        return output
    }

    /// Decompresses one complete deflate stream.
    ///
    /// - Parameters:
    ///   - data: exactly one compressed stream; nothing may follow it.
    ///   - expectedSize: when given, the exact decompressed size. Decompression stops
    ///     as soon as the output would exceed it, so a hostile stream cannot make this
    ///     allocate more than `expectedSize + 1` bytes of output. When `nil`, the output
    ///     is unbounded.
    ///   - windowBits: -8...-15 for raw deflate (as in zip), 8...15 zlib, 24...31 gzip,
    ///     40...47 zlib-or-gzip auto-detection.
    /// - Returns: the decompressed bytes.
    /// - Throws: `DeflateError.corruptData`, `.truncatedInput`, `.trailingData`,
    ///   `.outputLimitExceeded`, `.sizeMismatch`, and setup errors.
    ///
    /// Wraps `inflateInit2`, `inflate` and `inflateEnd`.
    public static func decompress<Bytes: Collection<UInt8>>(
        _ data: Bytes,
        expectedSize: Int?,
        windowBits: Int32 = -15
    ) throws(DeflateError) -> [UInt8] {
        if let expectedSize, expectedSize < 0 {
            throw .sizeMismatch(expected: expectedSize, actual: 0)
        }
        let stream = try ZStream(inflateWindowBits: windowBits)
        let result: Result<[UInt8], DeflateError> = withContiguousBytes(data) { input in
            Result { () throws(DeflateError) -> [UInt8] in
                try stream.inflateAll(input, limit: expectedSize)
            }
        }
        let output = try result.get()
        if let expectedSize, output.count != expectedSize {
            throw .sizeMismatch(expected: expectedSize, actual: output.count)
        }
        return output
    }

    /// The CRC-32 (ISO-HDLC, as used by zip, gzip and PNG) of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: the bytes to checksum.
    ///   - initial: the CRC of the bytes before these, to continue a running CRC; 0 to start.
    /// - Returns: the CRC-32; `crc32("123456789")` is `0xCBF43926`.
    ///
    /// Wraps zlib's `crc32`.
    public static func crc32<Bytes: Collection<UInt8>>(_ bytes: Bytes, initial: UInt32 = 0) -> UInt32 {
        withContiguousBytes(bytes) { buffer in
            var crc = UInt(initial)
            var remaining = buffer[...]
            while !remaining.isEmpty {
                let count = min(remaining.count, 1 << 30)
                let slice = UnsafeBufferPointer(rebasing: remaining.prefix(count))
                crc = CZlib.crc32(crc, slice.baseAddress, uInt(count))
                remaining = remaining.dropFirst(count)
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    /// The CRC-32 of the bytes in `buffer` (see `crc32(_:initial:)`).
    public static func crc32(_ buffer: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        crc32(UnsafeBufferPointer(start: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), count: buffer.count), initial: initial)
    }

    /// Runs `body` on contiguous storage holding `bytes`, copying only when the
    /// collection has no contiguous storage of its own.
    static func withContiguousBytes<Bytes: Collection<UInt8>, Result>(
        _ bytes: Bytes,
        _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        if let result = bytes.withContiguousStorageIfAvailable(body) {
            return result
        }
        return Array(bytes).withUnsafeBufferPointer(body)
    }
}

/// An incremental raw-deflate compressor: feed chunks, then finish.
///
/// The output is byte-identical to `Deflate.compress` over the concatenated chunks
/// (zlib's `Z_NO_FLUSH` output does not depend on how the input is split).
///
/// ```swift
/// let stream = try DeflateStream()
/// var out = try stream.compress(part1)
/// out += try stream.compress(part2)
/// out += try stream.finish()
/// ```
///
/// Not thread-safe; use one stream from one task at a time.
public final class DeflateStream {
    private let stream: ZStream
    private var finished = false

    /// Creates a compressor; the parameters are those of `Deflate.compress`.
    ///
    /// - Throws: `DeflateError.invalidParameters` for parameters zlib rejects.
    public init(
        level: Int32 = 6,
        memLevel: Int32 = 8,
        strategy: DeflateStrategy = .default,
        windowBits: Int32 = -15
    ) throws(DeflateError) {
        stream = try ZStream(deflateLevel: level, memLevel: memLevel, strategy: strategy, windowBits: windowBits)
    }

    /// Total input bytes consumed so far.
    public var totalIn: UInt64 { UInt64(stream.pointer.pointee.total_in) }

    /// Total compressed bytes produced so far.
    public var totalOut: UInt64 { UInt64(stream.pointer.pointee.total_out) }

    /// Compresses one more chunk and returns whatever compressed output zlib has ready
    /// (possibly nothing: zlib buffers until it has a block).
    ///
    /// - Throws: `DeflateError.streamFinished` after `finish()`.
    public func compress<Bytes: Collection<UInt8>>(_ chunk: Bytes) throws(DeflateError) -> [UInt8] {
        guard !finished else { throw .streamFinished }
        let result: Result<[UInt8], DeflateError> = Deflate.withContiguousBytes(chunk) { input in
            Result { () throws(DeflateError) -> [UInt8] in
                try stream.deflate(input, flush: Z_NO_FLUSH)
            }
        }
        return try result.get()
    }

    /// Compresses the bytes in `chunk` (see `compress(_:)`).
    public func compress(_ chunk: UnsafeRawBufferPointer) throws(DeflateError) -> [UInt8] {
        try compress(UnsafeBufferPointer(start: chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), count: chunk.count))
    }

    /// Ends the stream (`Z_FINISH`) and returns the remaining compressed output.
    ///
    /// - Throws: `DeflateError.streamFinished` when called twice.
    public func finish() throws(DeflateError) -> [UInt8] {
        guard !finished else { throw .streamFinished }
        finished = true
        return try stream.deflate(UnsafeBufferPointer(start: nil, count: 0), flush: Z_FINISH)
    }
}

/// An incremental raw-inflate decompressor with fixed-size buffers.
///
/// Push compressed bytes with `inflate(_:emit:)` and receive the content in pieces of at most
/// 64 KiB (one reused buffer), or pull it into a buffer of the caller's with `step`. With an
/// expected size, no more than that size plus one byte is ever produced, so a hostile stream
/// costs no more memory than the buffers, whatever it claims or inflates to.
///
/// ```swift
/// let inflater = try InflateStream(expectedSize: size)
/// for chunk in compressedChunks { try inflater.inflate(chunk) { piece in consume(piece) } }
/// try inflater.finish()   // the stream ended, with exactly `size` bytes
/// ```
///
/// Not thread-safe; use one stream from one task at a time.
public final class InflateStream {
    private let stream: ZStream
    private let expectedSize: UInt64?
    private let scratch: UnsafeMutableRawBufferPointer
    /// Content bytes produced so far.
    public private(set) var totalOut: UInt64 = 0
    /// Whether the deflate stream's final block has been inflated.
    public private(set) var isAtEnd = false

    /// Size of the buffer `inflate(_:emit:)` hands out.
    public static let pieceSize = 64 * 1024

    /// A decompressor for one stream.
    ///
    /// - Parameters:
    ///   - expectedSize: the exact content size, when known: producing more throws
    ///     `.outputLimitExceeded`, and `finish()` throws `.sizeMismatch` for fewer.
    ///   - windowBits: as for `Deflate.decompress` (-15: raw deflate, as in zip).
    public init(expectedSize: UInt64? = nil, windowBits: Int32 = -15) throws(DeflateError) {
        stream = try ZStream(inflateWindowBits: windowBits)
        self.expectedSize = expectedSize
        scratch = .allocate(byteCount: Self.pieceSize, alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// Inflates from `input` into `output`.
    ///
    /// - Returns: the compressed bytes consumed and the content bytes written. Both are 0 only
    ///   when no progress is possible: the stream has ended, or it needs more input.
    /// - Throws: `.corruptData`, `.outputLimitExceeded`, `.trailingData` (input after the end).
    public func step(input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) throws(DeflateError) -> (consumed: Int, produced: Int) {
        if isAtEnd {
            if !input.isEmpty { throw .trailingData(count: input.count) }
            return (0, 0)
        }
        var room = min(output.count, 1 << 30)
        if let expectedSize, expectedSize - min(expectedSize, totalOut) < UInt64(room) {
            room = Int(expectedSize - min(expectedSize, totalOut)) + 1
        }
        let inCount = min(input.count, 1 << 30)
        let z = stream.pointer
        z.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        z.pointee.avail_in = uInt(inCount)
        z.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        z.pointee.avail_out = uInt(room)
        let code = CZlib.inflate(z, Z_NO_FLUSH)
        let consumed = inCount - Int(z.pointee.avail_in)
        let produced = room - Int(z.pointee.avail_out)
        z.pointee.next_in = nil
        z.pointee.avail_in = 0
        z.pointee.next_out = nil
        z.pointee.avail_out = 0
        totalOut += UInt64(produced)
        if let expectedSize, totalOut > expectedSize {
            throw .outputLimitExceeded(limit: Int(clamping: expectedSize))
        }
        switch code {
        case Z_STREAM_END:
            isAtEnd = true
            if consumed < input.count { throw .trailingData(count: input.count - consumed) }
        case Z_OK, Z_BUF_ERROR:
            break  // Z_BUF_ERROR: no progress possible with these buffers
        case Z_DATA_ERROR:
            throw .corruptData(message: stream.lastMessage)
        case Z_NEED_DICT:
            throw .corruptData(message: "the stream needs a preset dictionary")
        case Z_MEM_ERROR:
            throw .outOfMemory
        default:
            throw .zlib(code: code, message: stream.lastMessage)
        }
        return (consumed, produced)
    }

    /// Inflates all of `input`, handing the content to `emit` in pieces of at most
    /// `pieceSize` bytes (valid only during the call).
    ///
    /// - Throws: the errors of `step`, and whatever `emit` throws.
    public func inflate(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
            let (consumed, produced) = try step(input: rest, output: scratch)
            offset += consumed
            if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: scratch[..<produced])) }
            // Done when everything is consumed and zlib had room to spare (nothing held back).
            if isAtEnd || (offset == input.count && produced < scratch.count) || (consumed == 0 && produced == 0) { break }
        }
    }

    /// Checks that the stream has ended with the expected size.
    ///
    /// - Throws: `.truncatedInput` before the final block, `.sizeMismatch` for a short content.
    public func finish() throws(DeflateError) {
        guard isAtEnd else { throw .truncatedInput }
        if let expectedSize, totalOut != expectedSize {
            throw .sizeMismatch(expected: Int(clamping: expectedSize), actual: Int(clamping: totalOut))
        }
    }
}

/// Owns one heap-allocated `z_stream`.
///
/// zlib keeps a back pointer from its internal state to the `z_stream` and checks it
/// on every call, so the struct must never move: it lives at a fixed heap address
/// for the whole life of this object, and `deinit` ends it.
final class ZStream {
    /// Which end of zlib this stream was initialised for.
    private enum Kind { case deflate, inflate }

    /// Size of each output buffer handed to zlib.
    private static let chunkSize = 64 * 1024

    let pointer: UnsafeMutablePointer<z_stream>
    private let kind: Kind

    /// Initialises a compressor (`deflateInit2`).
    init(deflateLevel level: Int32, memLevel: Int32, strategy: DeflateStrategy, windowBits: Int32) throws(DeflateError) {
        // Initialise zlib before any stored property is set, so a failure never reaches deinit.
        let candidate = Self.allocate()
        let code = deflateInit2_(
            candidate, level, Z_DEFLATED, windowBits, memLevel, strategy.rawValue,
            CZlib.zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else {
            candidate.deallocate()
            throw Self.initError(code, level: level, memLevel: memLevel, windowBits: windowBits)
        }
        pointer = candidate
        kind = .deflate
    }

    /// Initialises a decompressor (`inflateInit2`).
    init(inflateWindowBits windowBits: Int32) throws(DeflateError) {
        let candidate = Self.allocate()
        let code = inflateInit2_(candidate, windowBits, CZlib.zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else {
            candidate.deallocate()
            throw Self.initError(code, level: 0, memLevel: 0, windowBits: windowBits)
        }
        pointer = candidate
        kind = .inflate
    }

    deinit {
        switch kind {
        case .deflate: _ = deflateEnd(pointer)
        case .inflate: _ = inflateEnd(pointer)
        }
        pointer.deallocate()
    }

    private static func allocate() -> UnsafeMutablePointer<z_stream> {
        let pointer = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        pointer.initialize(to: z_stream())  // zalloc/zfree/opaque = nil: zlib's allocator
        return pointer
    }

    private static func initError(_ code: Int32, level: Int32, memLevel: Int32, windowBits: Int32) -> DeflateError {
        switch code {
        case Z_MEM_ERROR: .outOfMemory
        case Z_VERSION_ERROR: .incompatibleLibrary(version: Deflate.zlibVersion)
        case Z_STREAM_ERROR: .invalidParameters(level: level, memLevel: memLevel, windowBits: windowBits)
        default: .zlib(code: code, message: "")
        }
    }

    /// zlib's message for the last error, or "".
    var lastMessage: String { message }

    private var message: String {
        guard let msg = pointer.pointee.msg else { return "" }
        return String(cString: msg)
    }

    /// Feeds all of `input` with `flush` and collects the output, looping over output
    /// buffers until zlib has consumed everything (and, for `Z_FINISH`, ended the stream).
    func deflate(_ input: UnsafeBufferPointer<UInt8>, flush: Int32) throws(DeflateError) -> [UInt8] {
        var output: [UInt8] = []
        if flush == Z_FINISH {
            output.reserveCapacity(Int(deflateBound(pointer, uLong(input.count))))
        }
        var scratch = [UInt8](repeating: 0, count: Self.chunkSize)
        var remaining = input[...]
        defer {
            pointer.pointee.next_in = nil
            pointer.pointee.avail_in = 0
        }
        while true {
            // Hand zlib at most 1 GiB of input at a time (avail_in is 32-bit).
            if pointer.pointee.avail_in == 0, !remaining.isEmpty {
                let count = min(remaining.count, 1 << 30)
                let slice = UnsafeBufferPointer(rebasing: remaining.prefix(count))
                pointer.pointee.next_in = UnsafeMutablePointer(mutating: slice.baseAddress)
                pointer.pointee.avail_in = uInt(count)
                remaining = remaining.dropFirst(count)
            }
            let lastInput = remaining.isEmpty
            let mode = lastInput ? flush : Z_NO_FLUSH
            let (code, produced) = scratch.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                pointer.pointee.next_out = buffer.baseAddress
                pointer.pointee.avail_out = uInt(buffer.count)
                let code = CZlib.deflate(pointer, mode)
                let produced = buffer.count - Int(pointer.pointee.avail_out)
                pointer.pointee.next_out = nil
                pointer.pointee.avail_out = 0
                return (code, produced)
            }
            output.append(contentsOf: scratch[..<produced])
            switch code {
            case Z_STREAM_END:
                return output
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR only means "no progress was possible with these buffers".
                let outputFull = produced == scratch.count
                if mode == Z_FINISH {
                    if code == Z_BUF_ERROR, produced == 0 { throw .zlib(code: code, message: message) }
                    continue
                }
                if lastInput, pointer.pointee.avail_in == 0, !outputFull {
                    return output
                }
            default:
                throw .zlib(code: code, message: message)
            }
        }
    }

    /// Inflates one whole stream from `input`, producing at most `limit + 1` bytes
    /// when `limit` is given.
    func inflateAll(_ input: UnsafeBufferPointer<UInt8>, limit: Int?) throws(DeflateError) -> [UInt8] {
        var output: [UInt8] = []
        if let limit { output.reserveCapacity(min(limit, 1 << 26)) }
        var scratch = [UInt8](repeating: 0, count: Self.chunkSize)
        var remaining = input[...]
        defer {
            pointer.pointee.next_in = nil
            pointer.pointee.avail_in = 0
        }
        while true {
            if pointer.pointee.avail_in == 0, !remaining.isEmpty {
                let count = min(remaining.count, 1 << 30)
                let slice = UnsafeBufferPointer(rebasing: remaining.prefix(count))
                pointer.pointee.next_in = UnsafeMutablePointer(mutating: slice.baseAddress)
                pointer.pointee.avail_in = uInt(count)
                remaining = remaining.dropFirst(count)
            }
            // With a limit, ask for at most one byte more than it allows (overflow-safe).
            var room = scratch.count
            if let limit, limit - output.count < room { room = limit - output.count + 1 }
            let (code, produced) = scratch.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                pointer.pointee.next_out = buffer.baseAddress
                pointer.pointee.avail_out = uInt(room)
                let code = inflate(pointer, Z_NO_FLUSH)
                let produced = room - Int(pointer.pointee.avail_out)
                pointer.pointee.next_out = nil
                pointer.pointee.avail_out = 0
                return (code, produced)
            }
            output.append(contentsOf: scratch[..<produced])
            if let limit, output.count > limit {
                throw .outputLimitExceeded(limit: limit)
            }
            switch code {
            case Z_STREAM_END:
                let trailing = Int(pointer.pointee.avail_in) + remaining.count
                if trailing > 0 { throw .trailingData(count: trailing) }
                return output
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either out of input or (impossible here) out of room.
                if pointer.pointee.avail_in == 0, remaining.isEmpty { throw .truncatedInput }
            case Z_DATA_ERROR:
                throw .corruptData(message: message)
            case Z_NEED_DICT:
                throw .corruptData(message: "the stream needs a preset dictionary")
            case Z_MEM_ERROR:
                throw .outOfMemory
            default:
                throw .zlib(code: code, message: message)
            }
        }
    }
}
