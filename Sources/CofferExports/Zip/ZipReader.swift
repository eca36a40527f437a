// ZipReader.swift: parses a zip archive into a layout that accounts for every byte of it.
//
// Coffer seals a zip member by member and gives the same zip back byte for byte. For that it
// needs to know, for every byte of the archive, whether it belongs to the container (headers,
// descriptors, directory, end records, comments, garbage) or to a member's compressed data.
// `ZipLayout.parse` answers that, or throws a `ZipParseError` when the archive is not one it
// can account for exactly; the caller then seals the file as an ordinary file.
//
// Layout model (the result of `ZipLayout.parse`):
//
//     input       = span* ;                    the spans, concatenated in order, are the input
//                                              byte for byte: no byte is missing or repeated
//     span        = container | member-data
//     container   = gap | local-header(i) | data-descriptor(i) | central-directory
//                   | zip64-end-record | zip64-locator | end-record
//                   ;                          raw bytes, kept as they are (`ZipSpan.bytes`)
//     member-data = the compressed bytes of member i, exactly its central-directory
//                   compressed size (possibly 0), read from the source when needed
//     end-record  = end-of-central-directory record || archive comment
//     gap         = any bytes no record claims: a self-extractor stub before the first local
//                   header, leftovers between members, bytes after the archive comment
//
// Physical grammar accepted (APPNOTE.TXT 6.3.x; all integers little-endian):
//
//     zip         = [gap] { local-header(i) || data(i) || [descriptor(i)] || [gap] }
//                   || central-dir || [zip64-end-record || [gap] || zip64-locator]
//                   || eocd || comment || [gap]
//     local-header= 50 4B 03 04 || need:u16 || flags:u16 || method:u16 || time:u16 || date:u16
//                   || crc:u32 || csize:u32 || usize:u32 || nameLen:u16 || extraLen:u16
//                   || name || extra
//     descriptor  = [50 4B 07 08] || crc:u32 || csize:(u32|u64) || usize:(u32|u64)
//                   ;                          present when local flag bit 3 is set; 64-bit
//                                              sizes are tried first when the local header
//                                              has a zip64 extra field
//     central-dir = { 50 4B 01 02 || 42 bytes of fields || name || extra || comment }
//                   || [50 4B 05 05 || size:u16 || signature-data]
//     zip64-end-record = 50 4B 06 06 || size:u64 || fields (44 bytes) || extensible data
//     zip64-locator    = 50 4B 06 07 || disk:u32 || zip64EndOffset:u64 || disks:u32
//     eocd        = 50 4B 05 06 || disk:u16 || cdDisk:u16 || entriesHere:u16 || entries:u16
//                   || cdSize:u32 || cdOffset:u32 || commentLen:u16
//
// Members are numbered in central-directory order; spans are in file order, which may differ.
// Member sizes, CRC and offsets come from the central directory (and its zip64 extra field)
// and are cross-checked with the local header when the local header carries them.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Errors

/// Why an archive cannot be parsed into an exact `ZipLayout`.
///
/// Every case means "seal this file as an ordinary file instead"; the cases exist for
/// diagnostics and tests. Offsets are positions in the input.
public enum ZipParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No end-of-central-directory record in the last 65,557 bytes: not a zip (or truncated).
    case notAZip
    /// A record runs past the end of the input.
    case truncated(record: String, offset: Int)
    /// A record does not start with its signature.
    case badSignature(record: String, offset: Int)
    /// The archive is split over several disks (multi-part zip); not supported.
    case multiDisk
    /// The end records point outside the input or at something that is not a central directory.
    case centralDirectoryOutOfRange(offset: UInt64, size: UInt64)
    /// The central directory holds a different number of entries than the end record says.
    case entryCountMismatch(expected: UInt64, found: Int)
    /// The central directory entries do not fill the central directory's declared size exactly.
    case centralDirectorySizeMismatch(declared: UInt64, parsed: Int)
    /// A zip64 record or extra field is missing a value or is malformed.
    case invalidZip64(String)
    /// A member's local header disagrees with its central directory entry.
    case localHeaderMismatch(member: Int, field: String)
    /// A member's data or headers point outside the input.
    case outOfRange(member: Int, what: String)
    /// A member has flag bit 3 but no data descriptor matching its central directory entry follows its data.
    case badDataDescriptor(member: Int)
    /// Two records claim the same bytes (overlapping members, a member inside the directory, ...).
    case overlap(first: String, second: String, offset: Int)
    /// Reading the input failed.
    case io(String)
    /// The archive is over a `ZipParseLimits` limit (too many members, too many container bytes).
    case overLimit(String)

    public var description: String {
        switch self {
        case .notAZip: "not a zip archive: no end-of-central-directory record"
        case .truncated(let record, let offset): "zip \(record) at offset \(offset) runs past the end of the file"
        case .badSignature(let record, let offset): "no zip \(record) signature at offset \(offset)"
        case .multiDisk: "multi-part (spanned) zip archives are not supported"
        case .centralDirectoryOutOfRange(let offset, let size):
            "the zip central directory (offset \(offset), \(size) bytes) is not where the end record says"
        case .entryCountMismatch(let expected, let found):
            "the zip end record announces \(expected) entries, the central directory holds \(found)"
        case .centralDirectorySizeMismatch(let declared, let parsed):
            "the zip central directory is declared as \(declared) bytes but its entries take \(parsed)"
        case .invalidZip64(let detail): "invalid zip64 record: \(detail)"
        case .localHeaderMismatch(let member, let field):
            "zip member #\(member): local header and central directory disagree on \(field)"
        case .outOfRange(let member, let what): "zip member #\(member): \(what) lies outside the file"
        case .badDataDescriptor(let member): "zip member #\(member): no valid data descriptor after its data"
        case .overlap(let first, let second, let offset): "zip \(first) and \(second) overlap at offset \(offset)"
        case .io(let message): "cannot read the zip: \(message)"
        case .overLimit(let detail): "the zip is over a limit for member-by-member storage: \(detail)"
        }
    }
}

// MARK: - Sources

/// Positional read access to an archive, so a large zip need not be in memory.
///
/// `ZipLayout.parse` reads the tail, the central directory and each local header; the
/// analysis reads each member's data once. Reads are always within `0..<count`.
public protocol ZipSource {
    /// The archive's size in bytes.
    var count: Int { get }
    /// The bytes in `range`, which lies within `0..<count`.
    ///
    /// - Throws: `ZipParseError.io` when the bytes cannot be read.
    func read(_ range: Range<Int>) throws(ZipParseError) -> [UInt8]
}

/// An archive held in memory.
public struct ZipMemorySource: ZipSource, Sendable {
    /// The whole archive.
    public let bytes: [UInt8]

    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var count: Int { bytes.count }

    public func read(_ range: Range<Int>) throws(ZipParseError) -> [UInt8] {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw .io("read \(range) outside 0..<\(bytes.count)")
        }
        return Array(bytes[range])
    }
}

/// An archive in a file, read with `pread` (safe to share between threads).
///
/// The file is opened by `init` and closed when the object is released; its size is taken
/// once, at opening, so the file must not change while it is read.
public final class ZipFileSource: ZipSource, Sendable {
    private let descriptor: Int32
    /// The file's size when it was opened.
    public let count: Int
    /// The path given to `init`.
    public let path: String

    /// Opens `path` for reading.
    ///
    /// - Throws: `ZipParseError.io` when the file cannot be opened or is not a regular file.
    public init(path: String) throws(ZipParseError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io("cannot open \(path): errno \(errno)") }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io("\(path) is not a regular file")
        }
        descriptor = fd
        count = Int(info.st_size)
        self.path = path
    }

    deinit { close(descriptor) }

    /// Fills `buffer` with the bytes at `offset`, which lie within `0..<count`.
    ///
    /// - Throws: `ZipParseError.io` when the bytes cannot be read.
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(ZipParseError) {
        guard offset >= 0, offset <= count, buffer.count <= count - offset else {
            throw .io("read \(buffer.count) bytes at \(offset) outside 0..<\(count) of \(path)")
        }
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw .io("read error in \(path): errno \(errno)")
            }
            if got == 0 { throw .io("\(path) shrank while being read") }
            done += got
        }
    }

    public func read(_ range: Range<Int>) throws(ZipParseError) -> [UInt8] {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw .io("read \(range) outside 0..<\(count) of \(path)")
        }
        var result = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < range.count {
            let got = result.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw .io("read error in \(path): errno \(errno)")
            }
            if got == 0 { throw .io("\(path) shrank while being read") }
            done += got
        }
        return result
    }
}

// MARK: - Members

/// A member's compression method (the zip header's 16-bit method field).
///
/// Coffer re-deflates method 8 only; every other method is kept as opaque bytes.
public struct ZipCompressionMethod: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The header value.
    public let rawValue: UInt16
    /// Wraps a header value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 0: stored as is.
    public static let stored = Self(rawValue: 0)
    /// 8: deflate.
    public static let deflated = Self(rawValue: 8)
    /// 9: deflate64.
    public static let deflate64 = Self(rawValue: 9)
    /// 12: bzip2.
    public static let bzip2 = Self(rawValue: 12)
    /// 14: LZMA.
    public static let lzma = Self(rawValue: 14)
    /// 93: Zstandard.
    public static let zstd = Self(rawValue: 93)
    /// 95: xz.
    public static let xz = Self(rawValue: 95)
    /// 99: WinZip AES encryption (the real method is in the 0x9901 extra field).
    public static let aes = Self(rawValue: 99)

    /// A short name, e.g. `deflated` or `method 42`.
    public var description: String {
        switch rawValue {
        case 0: "stored"
        case 8: "deflated"
        case 9: "deflate64"
        case 12: "bzip2"
        case 14: "lzma"
        case 93: "zstd"
        case 95: "xz"
        case 99: "aes"
        default: "method \(rawValue)"
        }
    }
}

/// Where a member's data descriptor is and what form it takes.
public struct ZipDataDescriptor: Sendable, Equatable {
    /// Whether it starts with the optional signature `50 4B 07 08`.
    public let hasSignature: Bool
    /// Whether its sizes are 8 bytes each (zip64) rather than 4.
    public let hasZip64Sizes: Bool
    /// Its position in the input.
    public let offset: Int
    /// Its length in bytes: 12, 16, 20 or 24.
    public var length: Int { (hasSignature ? 4 : 0) + 4 + (hasZip64Sizes ? 16 : 8) }
}

/// One member of a parsed archive: everything its central directory entry and local header say.
///
/// Values come from the central directory (zip64 extra field included) unless named `local…`.
public struct ZipMember: Sendable, Equatable {
    /// Position in the central directory, from 0.
    public let index: Int
    /// The name exactly as stored.
    public let rawName: [UInt8]
    /// The name decoded: UTF-8 when flag bit 11 is set or an Info-ZIP Unicode path field
    /// (0x7075) matches, otherwise UTF-8 if valid, otherwise code page 437 (as `unzip`
    /// and Python do). Best effort: use `rawName` to identify a member.
    public let name: String
    /// Central directory "version made by" (high byte host system, low byte version × 10).
    public let versionMadeBy: UInt16
    /// Central directory "version needed to extract".
    public let versionNeeded: UInt16
    /// Central directory general-purpose flags.
    public let flags: UInt16
    /// Local header general-purpose flags (bit 3 here decides whether a descriptor follows).
    public let localFlags: UInt16
    /// The compression method.
    public let method: ZipCompressionMethod
    /// The MS-DOS modification time (local time, 2-second resolution), packed; its `year`,
    /// `month`, `day`, `hour`, `minute`, `second` decode it. Fields may be out of range in
    /// archives written by careless tools; they are kept as they are.
    public let modified: ZipWriter.DOSTimestamp
    /// CRC-32 of the uncompressed data.
    public let crc32: UInt32
    /// Size of the data as stored (for encrypted members, including the encryption header).
    public let compressedSize: UInt64
    /// Size of the data uncompressed.
    public let uncompressedSize: UInt64
    /// Position of the local header in the input (the directory's offset plus any shift of
    /// the whole archive, e.g. behind a self-extractor stub).
    public let localHeaderOffset: Int
    /// Position of the member's data in the input.
    public let dataOffset: Int
    /// The data descriptor after the data, when local flag bit 3 is set.
    public let dataDescriptor: ZipDataDescriptor?
    /// Whether a zip64 extra field is present in the central or local header.
    public let isZip64: Bool
    /// Internal attributes (bit 0: text).
    public let internalAttributes: UInt16
    /// External attributes (MS-DOS attributes in the low byte; Unix mode in the high 16 bits
    /// when made on Unix).
    public let externalAttributes: UInt32
    /// The member's comment, as stored.
    public let comment: [UInt8]
    /// The central directory extra field, as stored.
    public let centralExtra: [UInt8]
    /// The local header extra field, as stored.
    public let localExtra: [UInt8]

    /// Whether a data descriptor follows the data (local flag bit 3).
    public var hasDataDescriptor: Bool { dataDescriptor != nil }
    /// Whether the name ends with `/` (a folder entry).
    public var isDirectory: Bool { rawName.last == UInt8(ascii: "/") }
    /// Whether flag bit 0 (traditional or strong encryption) is set.
    public var isEncrypted: Bool { flags & 1 != 0 || localFlags & 1 != 0 }
    /// Whether flag bit 11 (UTF-8 names) is set.
    public var hasUTF8Flag: Bool { flags & 0x0800 != 0 }
    /// The range of the member's stored (compressed) data in the input.
    public var dataRange: Range<Int> { dataOffset..<(dataOffset + Int(compressedSize)) }
}

// MARK: - Layout

/// One contiguous piece of the input, as `ZipLayout.spans` lists them.
public struct ZipSpan: Sendable, Equatable {
    /// What the bytes of a span are.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// Bytes no record claims (a stub before the first member, leftovers, bytes after the comment).
        case gap
        /// Member `member`'s local header, name and extra field.
        case localHeader(member: Int)
        /// Member `member`'s compressed data: the only kind whose bytes are not kept in the span.
        case memberData(member: Int)
        /// Member `member`'s data descriptor.
        case dataDescriptor(member: Int)
        /// The central directory (all entries, and a digital signature record if any).
        case centralDirectory
        /// The zip64 end of central directory record, extensible data included.
        case zip64EndRecord
        /// The zip64 end of central directory locator.
        case zip64Locator
        /// The end of central directory record followed by the archive comment.
        case endRecord

        public var description: String {
            switch self {
            case .gap: "unclaimed bytes"
            case .localHeader(let member): "local header #\(member)"
            case .memberData(let member): "data of member #\(member)"
            case .dataDescriptor(let member): "data descriptor #\(member)"
            case .centralDirectory: "central directory"
            case .zip64EndRecord: "zip64 end record"
            case .zip64Locator: "zip64 locator"
            case .endRecord: "end of central directory record"
            }
        }
    }

    /// What the span is.
    public let kind: Kind
    /// Where it is in the input.
    public let range: Range<Int>
    /// The span's bytes for every container kind; empty for `.memberData` (those bytes are
    /// the member's, read from the source or rebuilt from its content).
    public let bytes: [UInt8]

    /// Whether the span is container bytes (everything but `.memberData`).
    public var isContainer: Bool {
        if case .memberData = kind { return false }
        return true
    }
}

/// A zip archive accounted for byte by byte: ordered spans covering the input exactly once,
/// and the members' metadata. See the grammar at the top of ZipReader.swift.
///
/// ```swift
/// let layout = try ZipLayout.parse(bytes)
/// for member in layout.members { print(member.name, member.method, member.compressedSize) }
/// // Concatenating the container spans' bytes and the members' data gives `bytes` back.
/// ```
public struct ZipLayout: Sendable, Equatable {
    /// The input's size in bytes.
    public let size: Int
    /// Every byte of the input, in file order, each in exactly one span.
    public let spans: [ZipSpan]
    /// The members in central-directory order (`member.index` is the position here).
    public let members: [ZipMember]
    /// The archive comment (also inside the `.endRecord` span).
    public let comment: [UInt8]
    /// Whether the archive has a zip64 end record.
    public let isZip64: Bool
    /// Position of the central directory in the input.
    public let centralDirectoryOffset: Int
    /// Bytes added in front of the archive its offsets do not count (a self-extractor stub
    /// prepended after zipping); 0 for an ordinary zip.
    public let prefixShift: Int

    /// Total bytes of container spans (everything but member data).
    public var containerByteCount: Int {
        spans.reduce(0) { $0 + ($1.isContainer ? $1.range.count : 0) }
    }

    /// The largest archive comment plus end record: the end record is searched for in this
    /// many final bytes.
    public static let endRecordSearchWindow = 22 + 0xFFFF

    /// Whether `prefix`, the first bytes of a file, look like a zip archive: a local file
    /// header (`PK 03 04`), an empty archive's end record (`PK 05 06`), or the spanning
    /// marker `PK 07 08` followed by a local header. Checks content only, never a file name.
    ///
    /// A `true` is a hint: `parse` decides. Self-extracting archives (a program first) are
    /// not recognised from their prefix; `containsEndRecord(suffix:)` finds those.
    public static func looksLikeZip<Bytes: Collection<UInt8>>(prefix: Bytes) -> Bool {
        let head = Array(prefix.prefix(8))
        guard head.count >= 4, head[0] == 0x50, head[1] == 0x4B else { return false }
        switch (head[2], head[3]) {
        case (3, 4): return true
        case (5, 6): return true
        case (7, 8): return head.count >= 8 && head[4] == 0x50 && head[5] == 0x4B && head[6] == 3 && head[7] == 4
        default: return false
        }
    }

    /// Whether `suffix`, the last bytes of a file (up to `endRecordSearchWindow` of them),
    /// hold an end-of-central-directory record whose comment reaches the end exactly.
    public static func containsEndRecord<Bytes: Collection<UInt8>>(suffix: Bytes) -> Bool {
        let tail = Array(suffix.suffix(endRecordSearchWindow))
        return findEndRecord(tail, exactOnly: true) != nil
    }

    /// Parses an archive held in memory.
    ///
    /// - Throws: `ZipParseError` when the bytes are not a zip this parser accounts for exactly.
    public static func parse(_ bytes: [UInt8]) throws(ZipParseError) -> ZipLayout {
        try parse(ZipMemorySource(bytes))
    }

    /// Parses an archive through positional reads. Reads the last 65,557 bytes, the
    /// central directory and every local header; never member data. Every allocation is
    /// bounded by the source's size.
    ///
    /// - Throws: `ZipParseError` when the source is not a zip this parser accounts for exactly.
    public static func parse<Source: ZipSource>(_ source: Source, limits: ZipParseLimits = .unlimited) throws(ZipParseError) -> ZipLayout {
        var parser = ZipParser(source: source, limits: limits)
        let directory = try parser.parse()
        return try parser.layout(of: directory)
    }

    /// Parses an archive through positional reads into the compact ``ZipDirectory`` (what the
    /// seal holds): the same checks as `parse`, but the central directory is kept as read,
    /// with 16 bytes per member, and no container bytes besides it.
    ///
    /// - Throws: `ZipParseError` when the source is not a zip this parser accounts for exactly.
    public static func parseDirectory<Source: ZipSource>(_ source: Source, limits: ZipParseLimits = .unlimited) throws(ZipParseError) -> ZipDirectory {
        var parser = ZipParser(source: source, limits: limits)
        return try parser.parse()
    }

    /// The positions in `tail` (a file's last bytes) of the end records to try, best first:
    /// a record whose comment runs past the end of the file (cut short) comes before any record
    /// inside that comment, which is comment text, not an end record (a truncated comment must
    /// not lead to a record it hides); then `findEndRecord`'s choice; then every other record
    /// whose comment fits, last first.
    static func endRecordCandidates(_ tail: [UInt8]) -> [Int] {
        guard tail.count >= 22 else { return [] }
        var all: [Int] = []
        var index = tail.count - 22
        while index >= 0 {
            if tail[index] == 0x50, tail[index + 1] == 0x4B, tail[index + 2] == 5, tail[index + 3] == 6 { all.append(index) }
            index -= 1
        }
        func end(_ i: Int) -> Int { i + 22 + (Int(tail[i + 20]) | Int(tail[i + 21]) << 8) }
        var result: [Int] = []
        // Earliest first: the outermost cut-short comment hides the most.
        for i in all.reversed() where end(i) > tail.count && all.contains(where: { $0 > i }) {
            result.append(i)
        }
        if let chosen = findEndRecord(tail, exactOnly: false), !result.contains(chosen) { result.append(chosen) }
        for i in all where end(i) <= tail.count && !result.contains(i) { result.append(i) }
        for i in all where !result.contains(i) { result.append(i) }
        return result
    }

    /// Finds the end record in `tail`: the last one whose comment ends exactly at the end,
    /// else (unless `exactOnly`) the last one whose comment fits, leaving trailing bytes.
    static func findEndRecord(_ tail: [UInt8], exactOnly: Bool) -> Int? {
        guard tail.count >= 22 else { return nil }
        var loose: Int?
        var index = tail.count - 22
        while index >= 0 {
            if tail[index] == 0x50, tail[index + 1] == 0x4B, tail[index + 2] == 5, tail[index + 3] == 6 {
                let commentLength = Int(tail[index + 20]) | Int(tail[index + 21]) << 8
                let end = index + 22 + commentLength
                if end == tail.count { return index }
                if end < tail.count, loose == nil { loose = index }
            }
            index -= 1
        }
        return exactOnly ? nil : loose
    }
}

// MARK: - Parser

/// Little-endian field reads from a byte array, at offsets relative to `base`; callers check
/// bounds first (an out-of-range read traps).
struct LittleEndianBytes {
    /// The bytes read from.
    let bytes: [UInt8]
    /// Where offset 0 is in `bytes`.
    let base: Int

    /// Reads `bytes` from `base` on.
    init(_ bytes: [UInt8], base: Int = 0) {
        self.bytes = bytes
        self.base = base
    }

    func u16(_ offset: Int) -> UInt16 {
        UInt16(bytes[base + offset]) | UInt16(bytes[base + offset + 1]) << 8
    }

    func u32(_ offset: Int) -> UInt32 {
        UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16
    }

    func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32
    }
}

/// The zip signatures, as little-endian 32-bit values.
enum ZipSignature {
    static let localHeader: UInt32 = 0x0403_4B50
    static let dataDescriptor: UInt32 = 0x0807_4B50
    static let centralHeader: UInt32 = 0x0201_4B50
    static let digitalSignature: UInt32 = 0x0505_4B50
    static let endRecord: UInt32 = 0x0605_4B50
    static let zip64EndRecord: UInt32 = 0x0606_4B50
    static let zip64Locator: UInt32 = 0x0706_4B50
}

/// Bounds on what parsing an archive may read: the end records, the central directory (kept
/// as read by ``ZipDirectory``) and every local header; ``ZipLayout`` also reads and keeps the
/// gaps. A caller that must stay small sets these.
public struct ZipParseLimits: Sendable {
    /// The most members (central directory entries) accepted.
    public var maxMembers: UInt64
    /// The most bytes the parser reads (container bytes, counted as read: a header claimed by
    /// several entries counts each time).
    public var maxContainerBytes: Int

    public init(maxMembers: UInt64, maxContainerBytes: Int) {
        self.maxMembers = maxMembers
        self.maxContainerBytes = maxContainerBytes
    }

    /// No limits beyond the source's size.
    public static let unlimited = ZipParseLimits(maxMembers: .max, maxContainerBytes: .max)
}

/// Bytes a parse has read so far.
private final class ZipReadTally {
    var bytes = 0
}

/// One parse of one source.
private struct ZipParser<Source: ZipSource> {
    let source: Source
    let size: Int
    let limits: ZipParseLimits
    private let tally = ZipReadTally()

    init(source: Source, limits: ZipParseLimits) {
        self.source = source
        self.size = source.count
        self.limits = limits
    }

    /// Reads `count` bytes at `offset`, or throws `truncated` naming `record`.
    func read(_ offset: Int, _ count: Int, _ record: String) throws(ZipParseError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw .truncated(record: record, offset: offset)
        }
        if count == 0 { return [] }
        guard count <= limits.maxContainerBytes - tally.bytes else {
            throw .overLimit("more than \(limits.maxContainerBytes) bytes of headers, directory and unclaimed bytes")
        }
        tally.bytes += count
        return try source.read(offset..<(offset + count))
    }

    mutating func parse() throws(ZipParseError) -> ZipDirectory {
        guard size >= 22 else { throw .notAZip }

        // End of central directory record: the candidates in order of preference, the first
        // whose directory parses wins.
        let tailStart = max(0, size - ZipLayout.endRecordSearchWindow)
        let tail = try read(tailStart, size - tailStart, "end record")
        let candidates = ZipLayout.endRecordCandidates(tail)
        guard !candidates.isEmpty else { throw .notAZip }
        var firstError: ZipParseError?
        for tailIndex in candidates.prefix(16) {
            do {
                return try parse(tail: tail, tailStart: tailStart, tailIndex: tailIndex)
            } catch {
                if case .overLimit = error { throw error }
                if case .io = error { throw error }
                firstError = firstError ?? error
            }
        }
        throw firstError!
    }

    /// Parses the archive whose end record is at `tailIndex` in `tail` (the file's last bytes from `tailStart`).
    private func parse(tail: [UInt8], tailStart: Int, tailIndex: Int) throws(ZipParseError) -> ZipDirectory {
        let eocdOffset = tailStart + tailIndex
        let eocd = LittleEndianBytes(tail, base: tailIndex)
        let diskNumber = eocd.u16(4)
        let centralDisk = eocd.u16(6)
        let entriesHere16 = eocd.u16(8)
        let entries16 = eocd.u16(10)
        let centralSize32 = eocd.u32(12)
        let centralOffset32 = eocd.u32(16)
        // A comment cut short by the end of the file is the bytes there are (as unzip and
        // Python read it).
        let commentLength = min(Int(eocd.u16(20)), tail.count - tailIndex - 22)
        let eocdEnd = eocdOffset + 22 + commentLength
        let comment = Array(tail[(tailIndex + 22)..<(tailIndex + 22 + commentLength)])

        var spans: [(kind: ZipSpan.Kind, range: Range<Int>)] = []
        spans.append((.endRecord, eocdOffset..<eocdEnd))

        // Zip64 locator and record.
        var entryCount = UInt64(entries16)
        var centralSize = UInt64(centralSize32)
        var centralOffset = UInt64(centralOffset32)
        var centralEndExpected = eocdOffset
        var isZip64 = false
        if eocdOffset >= 20 {
            let locator = try read(eocdOffset - 20, 20, "zip64 locator")
            let fields = LittleEndianBytes(locator)
            if fields.u32(0) == ZipSignature.zip64Locator {
                isZip64 = true
                let locatorOffset = eocdOffset - 20
                let recordDisk = fields.u32(4)
                let recordOffset64 = fields.u64(8)
                let disks = fields.u32(16)
                guard recordDisk == 0, disks <= 1 else { throw .multiDisk }
                guard recordOffset64 <= UInt64(locatorOffset), Int(recordOffset64) + 56 <= locatorOffset else {
                    throw .invalidZip64("the locator points at \(recordOffset64), outside the archive")
                }
                let recordOffset = Int(recordOffset64)
                let head = try read(recordOffset, 56, "zip64 end record")
                let record = LittleEndianBytes(head)
                guard record.u32(0) == ZipSignature.zip64EndRecord else {
                    throw .badSignature(record: "zip64 end record", offset: recordOffset)
                }
                let remaining = record.u64(4)
                guard remaining >= 44, remaining <= UInt64(locatorOffset - recordOffset - 12) else {
                    throw .invalidZip64("end record size \(remaining) is impossible")
                }
                guard record.u32(16) == 0, record.u32(20) == 0 else { throw .multiDisk }
                guard record.u64(24) == record.u64(32) else { throw .multiDisk }
                entryCount = record.u64(32)
                centralSize = record.u64(40)
                centralOffset = record.u64(48)
                centralEndExpected = recordOffset
                spans.append((.zip64EndRecord, recordOffset..<(recordOffset + 12 + Int(remaining))))
                spans.append((.zip64Locator, locatorOffset..<eocdOffset))
            }
        }
        if !isZip64 {
            guard diskNumber == 0, centralDisk == 0, entriesHere16 == entries16 else { throw .multiDisk }
        }

        // Locate the central directory: where the end record says, or shifted by a prefix
        // added after zipping (its offsets then count from the start of the original zip).
        guard centralSize <= UInt64(size), centralOffset <= UInt64(size) else {
            throw .centralDirectoryOutOfRange(offset: centralOffset, size: centralSize)
        }
        // Each entry takes at least 46 bytes: bounds the count before anything is allocated.
        guard entryCount <= centralSize / 46 else {
            throw .entryCountMismatch(expected: entryCount, found: Int(centralSize / 46))
        }
        guard entryCount <= limits.maxMembers else {
            throw .overLimit("\(entryCount) members, more than \(limits.maxMembers)")
        }
        let declaredOffset = Int(centralOffset)
        let declaredSize = Int(centralSize)
        var shift = 0
        func hasCentralSignature(at offset: Int) throws(ZipParseError) -> Bool {
            guard offset >= 0, offset + 4 <= size else { return false }
            return LittleEndianBytes(try read(offset, 4, "central directory")).u32(0) == ZipSignature.centralHeader
        }
        let fitsAsDeclared = declaredOffset + declaredSize <= centralEndExpected
        if fitsAsDeclared, entryCount == 0 {
            shift = 0
        } else if fitsAsDeclared, try hasCentralSignature(at: declaredOffset) {
            shift = 0
        } else {
            let candidate = centralEndExpected - declaredSize - declaredOffset
            guard candidate > 0, entryCount > 0 else {
                throw .centralDirectoryOutOfRange(offset: centralOffset, size: centralSize)
            }
            guard try hasCentralSignature(at: declaredOffset + candidate) else {
                throw .centralDirectoryOutOfRange(offset: centralOffset, size: centralSize)
            }
            shift = candidate
        }
        let centralStart = declaredOffset + shift
        let central = try read(centralStart, declaredSize, "central directory")

        // Central directory entries: checked here, kept as the raw directory and one offset each.
        guard central.count <= Int(UInt32.max) else {
            throw .overLimit("a central directory of \(central.count) bytes")
        }
        var entryOffsets: [UInt32] = []
        entryOffsets.reserveCapacity(Int(entryCount))
        var position = 0
        while position < central.count {
            let fields = LittleEndianBytes(central, base: position)
            guard central.count - position >= 4 else {
                throw .centralDirectorySizeMismatch(declared: centralSize, parsed: position)
            }
            let signature = fields.u32(0)
            if signature == ZipSignature.digitalSignature, central.count - position >= 6 {
                // A digital signature record may end the directory; it stays in the span.
                let length = Int(fields.u16(4))
                guard position + 6 + length == central.count else {
                    throw .centralDirectorySizeMismatch(declared: centralSize, parsed: position)
                }
                position = central.count
                break
            }
            guard signature == ZipSignature.centralHeader else {
                throw .badSignature(record: "central directory entry", offset: centralStart + position)
            }
            guard central.count - position >= 46 else {
                throw .truncated(record: "central directory entry", offset: centralStart + position)
            }
            guard UInt64(entryOffsets.count) < entryCount else {
                throw .entryCountMismatch(expected: entryCount, found: entryOffsets.count + 1)
            }
            let entry = try ZipCentralEntry.decode(central, at: position, index: entryOffsets.count, centralStart: centralStart)
            entryOffsets.append(UInt32(position))
            position += entry.length
        }
        guard UInt64(entryOffsets.count) == entryCount else {
            throw .entryCountMismatch(expected: entryCount, found: entryOffsets.count)
        }
        if declaredSize > 0 {
            spans.append((.centralDirectory, centralStart..<(centralStart + declaredSize)))
        }

        // Local headers, data and descriptors: one place per member.
        var places: [ZipMemberPlace] = []
        places.reserveCapacity(entryOffsets.count)
        var localTimes: [UInt32: Int32] = [:]
        var headerStarts: [Int] = []  // the members' local header offsets, for ordering them
        headerStarts.reserveCapacity(entryOffsets.count)
        for (index, offset) in entryOffsets.enumerated() {
            let entry = try ZipCentralEntry.decode(central, at: Int(offset), index: index, centralStart: centralStart)
            let (place, localTime) = try readMember(index: index, entry: entry, entryOffset: offset, central: central, shift: shift)
            places.append(place)
            if let localTime { localTimes[UInt32(index)] = localTime }
            headerStarts.append(Int(entry.localOffset) + shift)
        }

        // File order, and no byte claimed twice: each member's local header, data and
        // descriptor are contiguous, so members ordered by local header and the few records
        // (end records, directory) are checked in one walk.
        var order = Array(0..<places.count)
        order.sort { (headerStarts[$0], $0) < (headerStarts[$1], $1) }
        let inOrder = order.enumerated().allSatisfy { $0.offset == $0.element }
        let records = spans.sorted { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        var cursor = 0
        var previous: ZipSpan.Kind?
        func claim(_ kind: ZipSpan.Kind, _ range: Range<Int>) throws(ZipParseError) {
            guard range.upperBound <= size else { throw .truncated(record: kind.description, offset: range.lowerBound) }
            if range.lowerBound < cursor {
                throw .overlap(first: previous?.description ?? "start", second: kind.description, offset: range.lowerBound)
            }
            cursor = range.upperBound
            previous = kind
        }
        var nextRecord = 0
        for index in order {
            let start = headerStarts[index]
            while nextRecord < records.count, records[nextRecord].range.lowerBound < start {
                try claim(records[nextRecord].kind, records[nextRecord].range)
                nextRecord += 1
            }
            let place = places[index]
            let dataEnd = place.dataOffset + Int(try ZipCentralEntry.decode(central, at: Int(place.entry), index: index, centralStart: centralStart).compressedSize)
            try claim(.localHeader(member: index), start..<place.dataOffset)
            try claim(.memberData(member: index), place.dataOffset..<dataEnd)
            if place.descriptor != 0 {
                let length = ZipDataDescriptor(hasSignature: (place.descriptor - 1) & 1 != 0, hasZip64Sizes: (place.descriptor - 1) & 2 != 0, offset: dataEnd).length
                try claim(.dataDescriptor(member: index), dataEnd..<(dataEnd + length))
            }
        }
        while nextRecord < records.count {
            try claim(records[nextRecord].kind, records[nextRecord].range)
            nextRecord += 1
        }
        headerStarts = []
        var filePosition: [UInt32]?
        if !inOrder {
            var positions = [UInt32](repeating: 0, count: order.count)
            for (k, index) in order.enumerated() { positions[index] = UInt32(k) }
            filePosition = positions
        }

        return ZipDirectory(
            size: size, central: central, centralDirectoryOffset: centralStart, prefixShift: shift, comment: comment,
            isZip64: isZip64, places: places, fileOrder: inOrder ? nil : order.map { UInt32($0) }, positions: filePosition,
            localTimes: localTimes, records: records.map { (kind: $0.kind, range: $0.range) }, endRecord: Array(tail[tailIndex..<(tailIndex + eocdEnd - eocdOffset)]))
    }

    /// The whole layout of a parsed `directory`: every member decoded, every container span's
    /// bytes read (counted against the limits like the rest of the parse).
    func layout(of directory: ZipDirectory) throws(ZipParseError) -> ZipLayout {
        var members: [ZipMember] = []
        members.reserveCapacity(directory.memberCount)
        for index in 0..<directory.memberCount { members.append(try directory.member(index, from: source)) }
        var result: [ZipSpan] = []
        var cursor = 0
        func add(_ kind: ZipSpan.Kind, _ range: Range<Int>) throws(ZipParseError) {
            if range.lowerBound > cursor {
                result.append(ZipSpan(kind: .gap, range: cursor..<range.lowerBound, bytes: try read(cursor, range.lowerBound - cursor, "gap")))
            }
            let bytes: [UInt8]
            switch kind {
            case .memberData: bytes = []
            case .centralDirectory: bytes = directory.central
            case .endRecord: bytes = directory.endRecord
            default: bytes = try read(range.lowerBound, range.count, kind.description)
            }
            result.append(ZipSpan(kind: kind, range: range, bytes: bytes))
            cursor = range.upperBound
        }
        var nextRecord = 0
        let records = directory.records
        for position in 0..<directory.memberCount {
            let member = members[directory.memberAt(filePosition: position)]
            while nextRecord < records.count, records[nextRecord].range.lowerBound < member.localHeaderOffset {
                try add(records[nextRecord].kind, records[nextRecord].range)
                nextRecord += 1
            }
            try add(.localHeader(member: member.index), member.localHeaderOffset..<member.dataOffset)
            try add(.memberData(member: member.index), member.dataRange)
            if let descriptor = member.dataDescriptor {
                try add(.dataDescriptor(member: member.index), descriptor.offset..<(descriptor.offset + descriptor.length))
            }
        }
        while nextRecord < records.count {
            try add(records[nextRecord].kind, records[nextRecord].range)
            nextRecord += 1
        }
        if cursor < size {
            result.append(ZipSpan(kind: .gap, range: cursor..<size, bytes: try read(cursor, size - cursor, "gap")))
        }
        return ZipLayout(
            size: size, spans: result, members: members, comment: directory.comment, isZip64: directory.isZip64,
            centralDirectoryOffset: directory.centralDirectoryOffset, prefixShift: directory.prefixShift)
    }

    /// Reads member `index`'s local header and descriptor and cross-checks them with its
    /// entry; returns its place, and the modification time of a local extended-timestamp
    /// field when the central entry has none.
    private func readMember(
        index: Int, entry: ZipCentralEntry, entryOffset: UInt32, central: [UInt8], shift: Int
    ) throws(ZipParseError) -> (ZipMemberPlace, Int32?) {
        guard entry.localOffset <= UInt64(size) else { throw .outOfRange(member: index, what: "local header") }
        let offset = Int(entry.localOffset) + shift
        guard offset <= size - 30 else { throw .outOfRange(member: index, what: "local header") }
        let fixed = try read(offset, 30, "local header")
        let header = LittleEndianBytes(fixed)
        guard header.u32(0) == ZipSignature.localHeader else {
            throw .badSignature(record: "local header", offset: offset)
        }
        let localFlags = header.u16(6)
        let method = header.u16(8)
        let localCRC = header.u32(14)
        let localCompressed32 = header.u32(18)
        let localUncompressed32 = header.u32(22)
        let nameLength = Int(header.u16(26))
        let extraLength = Int(header.u16(28))
        let variable = try read(offset + 30, nameLength + extraLength, "local header")
        guard variable[0..<nameLength].elementsEqual(central[entry.nameRange]) else { throw .localHeaderMismatch(member: index, field: "name") }
        guard method == entry.method else { throw .localHeaderMismatch(member: index, field: "method") }
        let localExtra = Array(variable[nameLength...])
        let localZip64 = ZipExtraField.find(id: 0x0001, in: localExtra)
        let dataOffset = offset + 30 + nameLength + extraLength

        guard entry.compressedSize <= UInt64(size - dataOffset) else {
            throw .outOfRange(member: index, what: "compressed data")
        }
        let dataEnd = dataOffset + Int(entry.compressedSize)

        // Without a descriptor, the local header must agree with the directory.
        if localFlags & 0x0008 == 0 {
            var compressed = UInt64(localCompressed32)
            var uncompressed = UInt64(localUncompressed32)
            if let localZip64, compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF {
                // The local zip64 field holds the uncompressed then the compressed size.
                let field = LittleEndianBytes(localZip64)
                var cursor = 0
                if uncompressed == 0xFFFF_FFFF, localZip64.count >= cursor + 8 {
                    uncompressed = field.u64(cursor)
                    cursor += 8
                }
                if compressed == 0xFFFF_FFFF, localZip64.count >= cursor + 8 { compressed = field.u64(cursor) }
            }
            guard localCRC == entry.crc32 else { throw .localHeaderMismatch(member: index, field: "CRC-32") }
            guard compressed == entry.compressedSize else {
                throw .localHeaderMismatch(member: index, field: "compressed size")
            }
            guard uncompressed == entry.uncompressedSize else {
                throw .localHeaderMismatch(member: index, field: "uncompressed size")
            }
        }

        var descriptorCode: UInt8 = 0
        if localFlags & 0x0008 != 0 {
            let available = min(24, size - dataEnd)
            let window = try read(dataEnd, available, "data descriptor")
            let forms: [(signature: Bool, zip64: Bool)] =
                localZip64 != nil || entry.hasZip64
                ? [(true, true), (false, true), (true, false), (false, false)]
                : [(true, false), (false, false), (true, true), (false, true)]
            for form in forms {
                let candidate = ZipDataDescriptor(hasSignature: form.signature, hasZip64Sizes: form.zip64, offset: dataEnd)
                guard candidate.length <= window.count else { continue }
                let fields = LittleEndianBytes(window)
                var at = 0
                if form.signature {
                    guard fields.u32(0) == ZipSignature.dataDescriptor else { continue }
                    at = 4
                }
                let crc = fields.u32(at)
                let compressed = form.zip64 ? fields.u64(at + 4) : UInt64(fields.u32(at + 4))
                let uncompressed = form.zip64 ? fields.u64(at + 12) : UInt64(fields.u32(at + 8))
                if crc == entry.crc32, compressed == entry.compressedSize, uncompressed == entry.uncompressedSize {
                    descriptorCode = 1 + (form.signature ? 1 : 0) + (form.zip64 ? 2 : 0)
                    break
                }
            }
            guard descriptorCode != 0 else { throw .badDataDescriptor(member: index) }
        }
        var localTime: Int32?
        if ZipMember.extendedTime(in: Array(central[entry.extraRange])) == nil, let t = ZipMember.extendedTime(in: localExtra) {
            localTime = Int32(truncatingIfNeeded: t)
        }
        return (ZipMemberPlace(dataOffset: dataOffset, entry: entryOffset, localFlags: localFlags, descriptor: descriptorCode), localTime)
    }
}

// MARK: - Extra fields and names

/// Walks a zip extra field (a list of `id:u16 || size:u16 || data` records).
enum ZipExtraField {
    /// The data of the first record with header `id`, or nil. A malformed tail is ignored.
    static func find(id: UInt16, in extra: [UInt8]) -> [UInt8]? { find(id: id, in: extra[...]) }

    /// The data of the first record with header `id` in `extra` (a slice: its own indices), or nil.
    static func find(id: UInt16, in extra: ArraySlice<UInt8>) -> [UInt8]? {
        var position = extra.startIndex
        while extra.endIndex - position >= 4 {
            let header = UInt16(extra[position]) | UInt16(extra[position + 1]) << 8
            let length = Int(extra[position + 2]) | Int(extra[position + 3]) << 8
            guard extra.endIndex - position - 4 >= length else { return nil }
            if header == id { return Array(extra[(position + 4)..<(position + 4 + length)]) }
            position += 4 + length
        }
        return nil
    }
}

/// Best-effort decoding of member names, as `unzip` and commons-compress read them.
enum ZipName {
    /// The name as the central directory gives it: UTF-8 with flag bit 11; else the Info-ZIP
    /// Unicode path field (0x7075) of the central directory entry when its CRC-32 matches the
    /// raw name (a field only in the local header does not count: the central directory
    /// wins); else UTF-8 when valid; else CP437. Backslashes are folder separators in a name
    /// from a 0x7075 field (WinZip writes them there) and in a name made on MS-DOS or Windows
    /// (host 0, 11 or 14) that holds no `/`.
    static func decode(_ raw: [UInt8], flags: UInt16, versionMadeBy: UInt16, centralExtra: [UInt8]) -> String {
        var fromUnicodeField = false
        let name: String
        if flags & 0x0800 != 0 {
            name = String(decoding: raw, as: UTF8.self)
        } else if let field = find7075(centralExtra), field.count >= 5, field[0] == 1, LittleEndianBytes(field).u32(1) == Deflate.crc32(raw) {
            // 0x7075: version 1 || CRC-32 of the raw name || UTF-8 name.
            name = String(decoding: field[5...], as: UTF8.self)
            fromUnicodeField = true
        } else {
            name = decodeRaw(raw)
        }
        let host = versionMadeBy >> 8
        let windows = host == 0 || host == 11 || host == 14
        guard name.unicodeScalars.contains("\\"), fromUnicodeField || (windows && !name.unicodeScalars.contains("/")) else { return name }
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars { scalars.append(scalar == "\\" ? "/" : scalar) }
        return String(scalars)
    }

    /// ASCII or UTF-8 when valid, else CP437.
    static func decodeRaw(_ raw: [UInt8]) -> String {
        if raw.allSatisfy({ $0 < 0x80 }) { return String(decoding: raw, as: UTF8.self) }
        if let text = String(validating: raw, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        for byte in raw {
            scalars.append(byte < 0x80 ? Unicode.Scalar(byte) : Unicode.Scalar(cp437High[Int(byte) - 0x80])!)
        }
        return String(scalars)
    }

    private static func find7075(_ extra: [UInt8]) -> [UInt8]? {
        ZipExtraField.find(id: 0x7075, in: extra)
    }

    /// Code page 437, bytes 0x80–0xFF.
    static let cp437High: [UInt32] = [
        0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
        0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9, 0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
        0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
        0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
        0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
        0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
        0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
        0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248, 0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
    ]
}
