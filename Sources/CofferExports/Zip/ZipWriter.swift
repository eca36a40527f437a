// ZipWriter.swift: writes zip archives byte by byte, with every layout choice explicit.
//
// The defaults reproduce the container LinkedIn serves its data exports in (observed on a
// real 2023 Basic export): deflate (method 8), general-purpose
// flags 0x0808 (bit 3: data descriptor; bit 11: UTF-8 names), a data descriptor with its
// signature after each member, version made-by = version needed = 2.0 on host 0 (MS-DOS),
// no extra fields, no comments, external attributes 0, no directory entries. That is also
// what Java's `java.util.zip.ZipOutputStream` writes.
//
// Byte grammar written (all integers little-endian, APPNOTE.TXT 6.3.x):
//
//     archive     = { local-header || data || [descriptor] } || central-dir
//                   || [zip64-eocd || zip64-locator] || eocd
//     local-header= 50 4B 03 04 || need:u16 || flags:u16 || method:u16 || time:u16 || date:u16
//                   || crc:u32 || csize:u32 || usize:u32 || nameLen:u16 || extraLen:u16
//                   || name || extra
//     descriptor  = [50 4B 07 08] || crc:u32 || csize:(u32|u64) || usize:(u32|u64)
//     central     = 50 4B 01 02 || madeBy:u16 || need:u16 || flags:u16 || method:u16
//                   || time:u16 || date:u16 || crc:u32 || csize:u32 || usize:u32
//                   || nameLen:u16 || extraLen:u16 || commentLen:u16 || disk:u16
//                   || internalAttr:u16 || externalAttr:u32 || localOffset:u32
//                   || name || extra || comment
//     eocd        = 50 4B 05 06 || disk:u16 || cdDisk:u16 || entriesHere:u16 || entries:u16
//                   || cdSize:u32 || cdOffset:u32 || commentLen:u16 || comment

/// An error from building a zip archive.
public enum ZipError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A member path was empty.
    case emptyName
    /// A member path, extra field or comment is longer than the 65,535 bytes a zip field holds.
    case fieldTooLong(field: String, length: Int)
    /// A member path was added twice and `Options.allowDuplicateNames` is off.
    case duplicateName(String)
    /// A date or time outside what an MS-DOS timestamp can hold (1980-01-01 to 2107-12-31).
    case invalidTimestamp(String)
    /// A member or a finish was requested after `finish()`.
    case alreadyFinished
    /// Compressing a member failed.
    case compression(DeflateError)

    public var description: String {
        switch self {
        case .emptyName: "a zip member needs a non-empty path"
        case .fieldTooLong(let field, let length): "zip \(field) is \(length) bytes long; the limit is 65535"
        case .duplicateName(let name): "the zip already has a member named \(name)"
        case .invalidTimestamp(let detail): "invalid MS-DOS timestamp: \(detail)"
        case .alreadyFinished: "the zip archive was already finished"
        case .compression(let error): "compressing a zip member failed: \(error)"
        }
    }
}

/// Builds a zip archive in memory, member by member.
///
/// ```swift
/// var zip = ZipWriter()                              // LinkedIn's layout
/// let when = try ZipWriter.DOSTimestamp(year: 2023, month: 7, day: 11, hour: 8, minute: 7, second: 10)
/// try zip.addFile("Connections.csv", contents: bytes, modified: when)
/// let archive = try zip.finish()
/// ```
///
/// Everything is in memory: the writer is meant for exports of megabytes and for tests.
/// Zip64 records are written when a size, an offset or the entry count needs them, or
/// always with `Options.forceZip64`.
public struct ZipWriter: Sendable {
    // MARK: - Types

    /// How a member's data is stored.
    public enum CompressionMethod: UInt16, Sendable, CaseIterable {
        /// Method 0: the bytes as they are.
        case stored = 0
        /// Method 8: raw deflate.
        case deflated = 8
    }

    /// An MS-DOS date and time, as stored in zip headers (local time, 2-second resolution,
    /// years 1980–2107).
    public struct DOSTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The packed date: bits 15–9 year − 1980, 8–5 month, 4–0 day.
        public let date: UInt16
        /// The packed time: bits 15–11 hour, 10–5 minute, 4–0 second / 2.
        public let time: UInt16

        /// A timestamp from its packed header fields, as read from a zip.
        public init(date: UInt16, time: UInt16) {
            self.date = date
            self.time = time
        }

        /// A timestamp from calendar fields; an odd `second` is rounded down, as zip does.
        ///
        /// - Throws: `ZipError.invalidTimestamp` for a field out of range.
        public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) throws(ZipError) {
            guard (1980...2107).contains(year), (1...12).contains(month), (1...31).contains(day),
                (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
            else {
                throw .invalidTimestamp("\(year)-\(month)-\(day) \(hour):\(minute):\(second)")
            }
            date = UInt16((year - 1980) << 9 | month << 5 | day)
            time = UInt16(hour << 11 | minute << 5 | second / 2)
        }

        /// 1980 to 2107.
        public var year: Int { Int(date >> 9) + 1980 }
        /// 1 to 12.
        public var month: Int { Int(date >> 5 & 0x0F) }
        /// 1 to 31.
        public var day: Int { Int(date & 0x1F) }
        /// 0 to 23.
        public var hour: Int { Int(time >> 11) }
        /// 0 to 59.
        public var minute: Int { Int(time >> 5 & 0x3F) }
        /// 0 to 58, even.
        public var second: Int { Int(time & 0x1F) * 2 }

        /// `YYYY-MM-DD HH:MM:SS`.
        public var description: String {
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            return "\(year)-\(two(month))-\(two(day)) \(two(hour)):\(two(minute)):\(two(second))"
        }

        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.date, lhs.time) < (rhs.date, rhs.time)
        }
    }

    /// Archive-wide layout choices. The defaults are LinkedIn's (and Java's `ZipOutputStream`'s).
    public struct Options: Sendable, Equatable {
        /// Set flag bit 3 and write CRC and sizes in a data descriptor after each member's
        /// data (the local header then holds zeros for them). Default `true`.
        public var useDataDescriptor = true
        /// Start each data descriptor with its optional signature `50 4B 07 08`. Default `true`.
        public var dataDescriptorSignature = true
        /// Set flag bit 11 (names are UTF-8). Names are written as UTF-8 either way. Default `true`.
        public var utf8Flag = true
        /// Write zip64 extra fields for every member and a zip64 end record even when nothing
        /// needs them. Default `false`.
        public var forceZip64 = false
        /// The archive comment, after the end record. Default empty.
        public var comment: [UInt8] = []
        /// zlib level for deflated members, 0–9 (or -1, zlib's default). Default 6.
        public var compressionLevel: Int32 = 6
        /// zlib memLevel for deflated members, 1–9. Default 8.
        public var memLevel: Int32 = 8
        /// zlib strategy for deflated members. Default `.default`.
        public var strategy: DeflateStrategy = .default
        /// The central directory's "version made by" (high byte host, low byte version × 10).
        /// `nil` (the default) writes the member's "version needed" with host 0 (MS-DOS),
        /// as Java does: 0x0014 for deflated, 0x000A for stored, 0x002D for zip64 members.
        /// Info-ZIP on Unix would be 0x031E.
        public var versionMadeBy: UInt16? = nil
        /// Overrides "version needed to extract" for every member; `nil` (the default)
        /// computes it: 10 stored, 20 deflated or directory, 45 zip64.
        public var versionNeeded: UInt16? = nil
        /// External file attributes for files; directories get `0x10` (MS-DOS directory)
        /// unless an entry says otherwise. Default 0.
        public var externalAttributes: UInt32 = 0
        /// Accept two members with the same path (readers then disagree on which wins). Default `false`.
        public var allowDuplicateNames = false

        /// The defaults: LinkedIn's layout.
        public init() {}

        /// LinkedIn's export layout (the defaults), named for readability at call sites.
        public static let linkedIn = Options()

        /// Close to what Python's `zipfile` or Info-ZIP `zip -X` write for ASCII names: sizes
        /// in the local header (no data descriptors), no UTF-8 flag, made-by Unix 3.0.
        public static let plain: Options = {
            var options = Options()
            options.useDataDescriptor = false
            options.utf8Flag = false
            options.versionMadeBy = 0x031E
            return options
        }()
    }

    /// Per-member choices beyond the path and contents.
    public struct EntryAttributes: Sendable, Equatable {
        /// The member's MS-DOS modification time.
        public var modified: DOSTimestamp
        /// Stored or deflated. Default deflated.
        public var method: CompressionMethod = .deflated
        /// Raw extra-field bytes for the local header (a zip64 field is prepended when needed).
        public var localExtra: [UInt8] = []
        /// Raw extra-field bytes for the central directory header (likewise).
        public var centralExtra: [UInt8] = []
        /// The member's file comment (central directory only).
        public var comment: [UInt8] = []
        /// External attributes; `nil` uses `Options.externalAttributes` (0x10 for directories).
        public var externalAttributes: UInt32? = nil
        /// Internal attributes (bit 0: text file). Default 0.
        public var internalAttributes: UInt16 = 0
        /// zlib level for this member only; `nil` uses `Options.compressionLevel`.
        public var compressionLevel: Int32? = nil

        /// Attributes with the given time and method, and defaults for the rest.
        public init(modified: DOSTimestamp, method: CompressionMethod = .deflated) {
            self.modified = modified
            self.method = method
        }
    }

    /// Where and how a member was written; `entries` lists them in archive order.
    public struct WrittenEntry: Sendable, Equatable {
        /// The member path as written (UTF-8).
        public let path: String
        /// Stored or deflated.
        public let method: CompressionMethod
        /// The general-purpose flags.
        public let flags: UInt16
        /// CRC-32 of the uncompressed data.
        public let crc32: UInt32
        /// Size of the data as stored.
        public let compressedSize: UInt64
        /// Size of the data uncompressed.
        public let uncompressedSize: UInt64
        /// Offset of the local header from the start of the archive.
        public let localHeaderOffset: UInt64
        /// Offset of the (compressed) data.
        public let dataOffset: UInt64
        /// Whether zip64 fields were written for this member.
        public let isZip64: Bool
        /// The modification time.
        public let modified: DOSTimestamp
    }

    /// A member remembered for the central directory.
    private struct CentralRecord: Sendable {
        var written: WrittenEntry
        var name: [UInt8]
        var versionNeeded: UInt16
        var centralExtra: [UInt8]
        var comment: [UInt8]
        var internalAttributes: UInt16
        var externalAttributes: UInt32
    }

    // MARK: - Signatures and constants

    /// `PK\u{3}\u{4}`, a local file header.
    public static let localHeaderSignature: UInt32 = 0x0403_4B50
    /// `PK\u{7}\u{8}`, the optional data-descriptor signature.
    public static let dataDescriptorSignature: UInt32 = 0x0807_4B50
    /// `PK\u{1}\u{2}`, a central directory header.
    public static let centralHeaderSignature: UInt32 = 0x0201_4B50
    /// `PK\u{5}\u{6}`, the end of central directory record.
    public static let endOfCentralDirectorySignature: UInt32 = 0x0605_4B50
    /// `PK\u{6}\u{6}`, the zip64 end of central directory record.
    public static let zip64EndOfCentralDirectorySignature: UInt32 = 0x0606_4B50
    /// `PK\u{6}\u{7}`, the zip64 end of central directory locator.
    public static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    /// Header ID of the zip64 extended information extra field.
    public static let zip64ExtraID: UInt16 = 0x0001

    // MARK: - State

    /// The layout choices this writer was made with.
    public let options: Options
    /// The members written so far, in archive order.
    public private(set) var entries: [WrittenEntry] = []

    /// Sizes, offsets and counts at or above this value switch to zip64. Only tests lower it.
    var zip64Threshold: UInt64 = 0xFFFF_FFFF
    /// Entry counts at or above this value need a zip64 end record. Only tests lower it.
    var zip64EntryThreshold: UInt64 = 0xFFFF

    private var output: [UInt8] = []
    private var central: [CentralRecord] = []
    private var names: Set<String> = []
    private var finished = false

    /// A writer with the given layout (LinkedIn's by default).
    public init(options: Options = .linkedIn) {
        self.options = options
    }

    /// Bytes of the archive written so far.
    public var count: Int { output.count }

    // MARK: - Adding members

    /// Adds a file member, compressing it as `method` says.
    ///
    /// - Parameters:
    ///   - path: the member path, `/`-separated, UTF-8; intermediate folders are not added.
    ///   - contents: the uncompressed bytes.
    ///   - modified: the member's MS-DOS time.
    ///   - method: deflated (default) or stored.
    /// - Throws: `ZipError` for an invalid path or field, a duplicate, or after `finish()`.
    public mutating func addFile<Bytes: Collection<UInt8>>(
        _ path: String,
        contents: Bytes,
        modified: DOSTimestamp,
        method: CompressionMethod = .deflated
    ) throws(ZipError) {
        try addFile(path, contents: contents, attributes: EntryAttributes(modified: modified, method: method))
    }

    /// Adds a file member with explicit per-member attributes.
    ///
    /// - Throws: `ZipError` for an invalid path or field, a duplicate, or after `finish()`.
    public mutating func addFile<Bytes: Collection<UInt8>>(
        _ path: String,
        contents: Bytes,
        attributes: EntryAttributes
    ) throws(ZipError) {
        guard !finished else { throw .alreadyFinished }
        let data = Array(contents)
        let crc = Deflate.crc32(data)
        let stored: [UInt8]
        switch attributes.method {
        case .stored:
            stored = data
        case .deflated:
            do {
                stored = try Deflate.compress(
                    data, level: attributes.compressionLevel ?? options.compressionLevel,
                    memLevel: options.memLevel, strategy: options.strategy, windowBits: -15)
            } catch {
                throw .compression(error)
            }
        }
        try appendEntry(
            path: path, storedData: stored, crc32: crc, uncompressedSize: UInt64(data.count),
            attributes: attributes, isDirectory: false)
    }

    /// Adds a member whose data is already compressed (or stored), byte for byte.
    ///
    /// Use this to rebuild an archive from members' original compressed streams.
    ///
    /// - Parameters:
    ///   - path: the member path.
    ///   - compressedData: the data exactly as it should appear after the local header.
    ///   - crc32: CRC-32 of the uncompressed data.
    ///   - uncompressedSize: size of the uncompressed data.
    ///   - attributes: time, method and extras; `compressionLevel` is ignored.
    /// - Throws: `ZipError` for an invalid path or field, a duplicate, or after `finish()`.
    public mutating func addPrecompressed<Bytes: Collection<UInt8>>(
        _ path: String,
        compressedData: Bytes,
        crc32: UInt32,
        uncompressedSize: UInt64,
        attributes: EntryAttributes
    ) throws(ZipError) {
        guard !finished else { throw .alreadyFinished }
        try appendEntry(
            path: path, storedData: Array(compressedData), crc32: crc32, uncompressedSize: uncompressedSize,
            attributes: attributes, isDirectory: false)
    }

    /// Adds an explicit directory entry (stored, empty, external attributes 0x10).
    ///
    /// LinkedIn's exports have none; this exists to build other shapes.
    ///
    /// - Parameters:
    ///   - path: the folder path; a trailing `/` is added when missing.
    ///   - modified: the entry's MS-DOS time.
    /// - Throws: `ZipError` for an invalid path, a duplicate, or after `finish()`.
    public mutating func addDirectory(_ path: String, modified: DOSTimestamp) throws(ZipError) {
        guard !finished else { throw .alreadyFinished }
        let name = path.hasSuffix("/") ? path : path + "/"
        let attributes = EntryAttributes(modified: modified, method: .stored)
        try appendEntry(path: name, storedData: [], crc32: 0, uncompressedSize: 0, attributes: attributes, isDirectory: true)
    }

    // MARK: - Finishing

    /// Writes the central directory and end records and returns the whole archive.
    ///
    /// - Throws: `ZipError.alreadyFinished` when called twice, or a field error for an
    ///   over-long archive comment.
    public mutating func finish() throws(ZipError) -> [UInt8] {
        guard !finished else { throw .alreadyFinished }
        guard options.comment.count <= 0xFFFF else {
            throw .fieldTooLong(field: "archive comment", length: options.comment.count)
        }
        finished = true
        let centralOffset = UInt64(output.count)
        for record in central {
            writeCentral(record)
        }
        let centralSize = UInt64(output.count) - centralOffset
        let entryCount = UInt64(central.count)

        let needsZip64End =
            options.forceZip64 || entryCount >= zip64EntryThreshold
            || centralSize >= zip64Threshold || centralOffset >= zip64Threshold
        if needsZip64End {
            let zip64EndOffset = UInt64(output.count)
            output.appendLE(Self.zip64EndOfCentralDirectorySignature)
            output.appendLE(UInt64(44))  // size of the remaining record
            output.appendLE(options.versionMadeBy ?? 45)
            output.appendLE(UInt16(45))
            output.appendLE(UInt32(0))  // this disk
            output.appendLE(UInt32(0))  // disk with the central directory
            output.appendLE(entryCount)
            output.appendLE(entryCount)
            output.appendLE(centralSize)
            output.appendLE(centralOffset)
            output.appendLE(Self.zip64LocatorSignature)
            output.appendLE(UInt32(0))  // disk with the zip64 end record
            output.appendLE(zip64EndOffset)
            output.appendLE(UInt32(1))  // total disks
        }
        // In the classic record, a value that does not fit (or every value, when zip64 is
        // forced) is written as all ones and read from the zip64 record instead.
        let force = options.forceZip64
        let count16: UInt16 = force || entryCount >= zip64EntryThreshold ? 0xFFFF : UInt16(entryCount)
        output.appendLE(Self.endOfCentralDirectorySignature)
        output.appendLE(UInt16(0))  // this disk
        output.appendLE(UInt16(0))  // disk with the central directory
        output.appendLE(count16)
        output.appendLE(count16)
        output.appendLE(force || centralSize >= zip64Threshold ? UInt32.max : UInt32(centralSize))
        output.appendLE(force || centralOffset >= zip64Threshold ? UInt32.max : UInt32(centralOffset))
        output.appendLE(UInt16(options.comment.count))
        output.append(contentsOf: options.comment)
        let result = output
        output = []
        return result
    }

    // MARK: - Writing

    private mutating func appendEntry(
        path: String,
        storedData: [UInt8],
        crc32: UInt32,
        uncompressedSize: UInt64,
        attributes: EntryAttributes,
        isDirectory: Bool
    ) throws(ZipError) {
        let name = Array(path.utf8)
        guard !name.isEmpty else { throw .emptyName }
        guard name.count <= 0xFFFF else { throw .fieldTooLong(field: "member path", length: name.count) }
        guard attributes.comment.count <= 0xFFFF else {
            throw .fieldTooLong(field: "member comment", length: attributes.comment.count)
        }
        if !options.allowDuplicateNames {
            guard !names.contains(path) else { throw .duplicateName(path) }
        }

        let localOffset = UInt64(output.count)
        let compressedSize = UInt64(storedData.count)
        let zip64 =
            options.forceZip64 || compressedSize >= zip64Threshold
            || uncompressedSize >= zip64Threshold || localOffset >= zip64Threshold
        let descriptor = options.useDataDescriptor
        var flags: UInt16 = 0
        if descriptor { flags |= 1 << 3 }
        if options.utf8Flag { flags |= 1 << 11 }
        let method = attributes.method
        let versionNeeded: UInt16 =
            options.versionNeeded ?? (zip64 ? 45 : (method == .deflated || isDirectory ? 20 : 10))

        // Local extra: zip64 sizes first (zeros when a descriptor follows), then the caller's.
        var localExtra: [UInt8] = []
        if zip64 {
            localExtra.appendLE(Self.zip64ExtraID)
            localExtra.appendLE(UInt16(16))
            localExtra.appendLE(descriptor ? 0 : uncompressedSize)
            localExtra.appendLE(descriptor ? 0 : compressedSize)
        }
        localExtra += attributes.localExtra
        guard localExtra.count <= 0xFFFF else { throw .fieldTooLong(field: "local extra field", length: localExtra.count) }

        // Central extra: zip64 values for each field written as all ones, in APPNOTE order.
        let usizeOverflows = zip64 && (options.forceZip64 || uncompressedSize >= zip64Threshold)
        let csizeOverflows = zip64 && (options.forceZip64 || compressedSize >= zip64Threshold)
        let offsetOverflows = zip64 && (options.forceZip64 || localOffset >= zip64Threshold)
        var zip64Central: [UInt8] = []
        if usizeOverflows { zip64Central.appendLE(uncompressedSize) }
        if csizeOverflows { zip64Central.appendLE(compressedSize) }
        if offsetOverflows { zip64Central.appendLE(localOffset) }
        var centralExtra: [UInt8] = []
        if zip64 {
            centralExtra.appendLE(Self.zip64ExtraID)
            centralExtra.appendLE(UInt16(zip64Central.count))
            centralExtra += zip64Central
        }
        centralExtra += attributes.centralExtra
        guard centralExtra.count <= 0xFFFF else {
            throw .fieldTooLong(field: "central extra field", length: centralExtra.count)
        }

        // Local header.
        output.reserveCapacity(output.count + 30 + name.count + localExtra.count + storedData.count + 24)
        output.appendLE(Self.localHeaderSignature)
        output.appendLE(versionNeeded)
        output.appendLE(flags)
        output.appendLE(method.rawValue)
        output.appendLE(attributes.modified.time)
        output.appendLE(attributes.modified.date)
        if descriptor {
            output.appendLE(UInt32(0))
            output.appendLE(zip64 ? UInt32.max : 0)
            output.appendLE(zip64 ? UInt32.max : 0)
        } else {
            output.appendLE(crc32)
            output.appendLE(zip64 ? UInt32.max : UInt32(compressedSize))
            output.appendLE(zip64 ? UInt32.max : UInt32(uncompressedSize))
        }
        output.appendLE(UInt16(name.count))
        output.appendLE(UInt16(localExtra.count))
        output += name
        output += localExtra
        let dataOffset = UInt64(output.count)
        output += storedData

        // Data descriptor.
        if descriptor {
            if options.dataDescriptorSignature { output.appendLE(Self.dataDescriptorSignature) }
            output.appendLE(crc32)
            if zip64 {
                output.appendLE(compressedSize)
                output.appendLE(uncompressedSize)
            } else {
                output.appendLE(UInt32(compressedSize))
                output.appendLE(UInt32(uncompressedSize))
            }
        }

        let written = WrittenEntry(
            path: path, method: method, flags: flags, crc32: crc32, compressedSize: compressedSize,
            uncompressedSize: uncompressedSize, localHeaderOffset: localOffset, dataOffset: dataOffset,
            isZip64: zip64, modified: attributes.modified)
        entries.append(written)
        names.insert(path)
        central.append(
            CentralRecord(
                written: written, name: name, versionNeeded: versionNeeded, centralExtra: centralExtra,
                comment: attributes.comment, internalAttributes: attributes.internalAttributes,
                externalAttributes: attributes.externalAttributes ?? (isDirectory ? 0x10 : options.externalAttributes)))
    }

    private mutating func writeCentral(_ record: CentralRecord) {
        let entry = record.written
        let force = options.forceZip64
        let zip64 = entry.isZip64
        output.appendLE(Self.centralHeaderSignature)
        output.appendLE(options.versionMadeBy ?? record.versionNeeded)
        output.appendLE(record.versionNeeded)
        output.appendLE(entry.flags)
        output.appendLE(entry.method.rawValue)
        output.appendLE(entry.modified.time)
        output.appendLE(entry.modified.date)
        output.appendLE(entry.crc32)
        output.appendLE(
            zip64 && (force || entry.compressedSize >= zip64Threshold) ? UInt32.max : UInt32(truncatingIfNeeded: entry.compressedSize))
        output.appendLE(
            zip64 && (force || entry.uncompressedSize >= zip64Threshold)
                ? UInt32.max : UInt32(truncatingIfNeeded: entry.uncompressedSize))
        output.appendLE(UInt16(record.name.count))
        output.appendLE(UInt16(record.centralExtra.count))
        output.appendLE(UInt16(record.comment.count))
        output.appendLE(UInt16(0))  // disk number start
        output.appendLE(record.internalAttributes)
        output.appendLE(record.externalAttributes)
        output.appendLE(
            zip64 && (force || entry.localHeaderOffset >= zip64Threshold)
                ? UInt32.max : UInt32(truncatingIfNeeded: entry.localHeaderOffset))
        output += record.name
        output += record.centralExtra
        output += record.comment
    }
}

extension Array where Element == UInt8 {
    /// Appends a fixed-width integer in little-endian byte order.
    fileprivate mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        Swift.withUnsafeBytes(of: &little) { append(contentsOf: $0) }
    }
}
