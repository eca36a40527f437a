// CSVReader.swift: reads the CSV files of platform exports into rows of fields.
//
// RFC 4180 plus what real LinkedIn exports do:
// - quoted fields with delimiters, doubled quotes and embedded CR, LF or CRLF (kept as is);
// - records ending in LF, CRLF or a lone CR, and a last record without a line ending;
// - UTF-8 with or without a BOM, and UTF-16 (LE or BE, with a BOM; LE also without one);
// - tab-separated files (the 2022 UTF-16 files): the delimiter is read off the header line;
// - Connections.csv's `Notes:` preamble (375 bytes before the header since 2022), kept aside;
// - blank rows, kept as rows.
//
// One pass over the bytes, no backtracking: the cost is linear in the file size. A quoted field
// that never closes is an error naming the line it opened on, never a crash or a silent cut.

/// An error from reading a CSV file.
public enum CSVError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A quoted field opened on `line` (1-based, counting every physical line of the file,
    /// preamble included) and the file ended before its closing quote.
    case unterminatedQuote(line: Int)

    public var description: String {
        switch self {
        case .unterminatedQuote(let line): "unterminated quoted field starting on line \(line)"
        }
    }
}

/// The text encoding a CSV file was stored in.
public enum CSVEncoding: String, Sendable, Equatable, Encodable {
    /// UTF-8 (LinkedIn's comma-separated files).
    case utf8 = "UTF-8"
    /// UTF-16 little-endian (LinkedIn's 2022 tab-separated files, with an FF FE byte-order mark).
    case utf16LittleEndian = "UTF-16LE"
    /// UTF-16 big-endian (with an FE FF byte-order mark).
    case utf16BigEndian = "UTF-16BE"
}

/// How the records of a file end.
public enum CSVLineEnding: String, Sendable, Equatable, Encodable {
    /// `\n`.
    case lf = "LF"
    /// `\r\n`.
    case crlf = "CRLF"
    /// A lone `\r`.
    case cr = "CR"
    /// The file has a single line.
    case none
}

/// A CSV file read into memory: the optional preamble, the header, and the rows.
public struct CSVTable: Sendable, Equatable {
    /// The text before the header, verbatim (line endings included), or nil when the header is
    /// the first line. LinkedIn's Connections.csv has a 375-byte `Notes:` preamble.
    public var preamble: String?
    /// The header's fields, in file order. Names can repeat (Ad_Targeting.csv) or be empty
    /// (the trailing comma of Learning.csv's header).
    public var header: [String]
    /// The records after the header. A row can be shorter or longer than the header; an empty
    /// line is a row of one empty field. Blank rows are kept. Bytes that are not UTF-8 read
    /// as U+FFFD here; `byteRows` has them as they were.
    public var rows: [[String]]
    /// The same records, each field as its exact bytes (UTF-8 as the file held it, or the UTF-8
    /// a UTF-16 file decodes to): no normalization, invalid sequences kept. Comparisons use these.
    public var byteRows: [[[UInt8]]]
    /// The 1-based line each row starts on (same indices as `rows`).
    public var rowLines: [Int]
    /// The field delimiter: `,`, or a tab or `;` when the header line has one and no comma.
    public var delimiter: Unicode.Scalar
    /// The encoding the bytes were decoded from.
    public var encoding: CSVEncoding
    /// Whether the bytes started with a byte-order mark (removed from the values).
    public var hadByteOrderMark: Bool
    /// The first line ending found in the file.
    public var lineEnding: CSVLineEnding
    /// Whether the last record is followed by a line ending.
    public var endsWithNewline: Bool

    /// Builds a table from parts (the reader fills every field; this is for tests and callers
    /// that build tables themselves).
    public init(
        preamble: String? = nil, header: [String], rows: [[String]], rowLines: [Int]? = nil,
        delimiter: Unicode.Scalar = ",", encoding: CSVEncoding = .utf8, hadByteOrderMark: Bool = false,
        lineEnding: CSVLineEnding = .lf, endsWithNewline: Bool = true, byteRows: [[[UInt8]]]? = nil
    ) {
        self.preamble = preamble
        self.header = header
        self.rows = rows
        self.byteRows = byteRows ?? rows.map { $0.map { Array($0.utf8) } }
        self.rowLines = rowLines ?? rows.indices.map { $0 + 2 }
        self.delimiter = delimiter
        self.encoding = encoding
        self.hadByteOrderMark = hadByteOrderMark
        self.lineEnding = lineEnding
        self.endsWithNewline = endsWithNewline
    }

    /// The index of the first header field named `name`, if any.
    public func columnIndex(named name: String) -> Int? {
        header.firstIndex(of: name)
    }

    /// Whether every field of row `index` is empty.
    public func isBlankRow(_ index: Int) -> Bool {
        rows[index].allSatisfy(\.isEmpty)
    }
}

/// Reads CSV bytes into a `CSVTable`.
///
/// ```swift
/// let table = try CSVReader.read(bytes)          // Connections.csv, messages.csv, a UTF-16 TSV…
/// table.preamble                                 // "Notes:\n\"When exporting…\"\n\n" or nil
/// table.header                                   // ["First Name", "Last Name", "URL", …]
/// ```
public struct CSVReader: Sendable {
    /// Reading choices; the defaults detect everything.
    public struct Options: Sendable, Equatable {
        /// The field delimiter; nil reads it off the header line (a tab or `;` when the
        /// header line has one and no comma, otherwise a comma).
        public var delimiter: Unicode.Scalar?
        /// Whether to recognise LinkedIn's `Notes:` preamble before the header.
        public var detectPreamble: Bool

        /// Options with the given choices (defaults: detect delimiter and preamble).
        public init(delimiter: Unicode.Scalar? = nil, detectPreamble: Bool = true) {
            self.delimiter = delimiter
            self.detectPreamble = detectPreamble
        }
    }

    /// The choices this reader applies.
    public var options: Options

    /// A reader with `options`.
    public init(options: Options = Options()) {
        self.options = options
    }

    /// Reads `bytes` with the default options.
    public static func read(_ bytes: [UInt8]) throws(CSVError) -> CSVTable {
        try CSVReader().read(bytes)
    }

    /// Reads `bytes` (a whole file) into a table.
    ///
    /// - Throws: `CSVError.unterminatedQuote` when a quoted field never closes.
    public func read(_ bytes: [UInt8]) throws(CSVError) -> CSVTable {
        let decoded = Self.decode(bytes)
        let text = decoded.utf8
        return try text.withUnsafeBufferPointer { (buffer) throws(CSVError) -> CSVTable in
            var headerStart = 0
            var headerLine = 1
            var preamble: String?
            if options.detectPreamble, let found = try Self.findPreambleEnd(buffer) {
                headerStart = found.offset
                headerLine = found.line
                preamble = String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<headerStart]), as: UTF8.self)
            }
            let delimiter: UInt8
            if let chosen = options.delimiter, chosen.isASCII {
                delimiter = UInt8(chosen.value)
            } else {
                delimiter = Self.detectDelimiter(buffer, headerStart: headerStart)
            }
            var parser = RecordParser(buffer: buffer, delimiter: delimiter, position: headerStart, line: headerLine)
            var header: [String] = []
            var rows: [[String]] = []
            var byteRows: [[[UInt8]]] = []
            var rowLines: [Int] = []
            if let first = try parser.next() {
                header = first.fields.map { String(decoding: $0, as: UTF8.self) }
            }
            while let record = try parser.next() {
                rows.append(record.fields.map { String(decoding: $0, as: UTF8.self) })
                byteRows.append(record.fields)
                rowLines.append(record.line)
            }
            return CSVTable(
                preamble: preamble, header: header, rows: rows, rowLines: rowLines,
                delimiter: Unicode.Scalar(delimiter), encoding: decoded.encoding,
                hadByteOrderMark: decoded.byteOrderMark, lineEnding: Self.firstLineEnding(buffer),
                endsWithNewline: buffer.last == 0x0A || buffer.last == 0x0D, byteRows: byteRows)
        }
    }

    // MARK: - Encoding

    /// Converts a file's bytes to UTF-8 without a byte-order mark, and says what they were.
    ///
    /// A UTF-8 BOM (EF BB BF) is removed; UTF-16 with a BOM (FF FE or FE FF) is decoded, and so
    /// is BOM-less UTF-16LE whose first two characters are ASCII (`x 00 y 00`). Invalid
    /// sequences become U+FFFD rather than failing.
    public static func decode(_ bytes: [UInt8]) -> (utf8: [UInt8], encoding: CSVEncoding, byteOrderMark: Bool) {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            return (Array(bytes[3...]), .utf8, true)
        }
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xFE {
            return (utf16ToUTF8(bytes, from: 2, littleEndian: true), .utf16LittleEndian, true)
        }
        if bytes.count >= 2, bytes[0] == 0xFE, bytes[1] == 0xFF {
            return (utf16ToUTF8(bytes, from: 2, littleEndian: false), .utf16BigEndian, true)
        }
        if bytes.count >= 4, bytes[0] != 0, bytes[0] < 0x80, bytes[1] == 0, bytes[2] != 0, bytes[2] < 0x80, bytes[3] == 0 {
            return (utf16ToUTF8(bytes, from: 0, littleEndian: true), .utf16LittleEndian, false)
        }
        return (bytes, .utf8, false)
    }

    private static func utf16ToUTF8(_ bytes: [UInt8], from start: Int, littleEndian: Bool) -> [UInt8] {
        var units: [UInt16] = []
        units.reserveCapacity((bytes.count - start) / 2 + 1)
        var index = start
        while index + 1 < bytes.count {
            let a = UInt16(bytes[index]), b = UInt16(bytes[index + 1])
            units.append(littleEndian ? a | b << 8 : a << 8 | b)
            index += 2
        }
        if index < bytes.count { units.append(0xFFFD) }  // an odd last byte
        return Array(String(decoding: units, as: UTF16.self).utf8)
    }

    // MARK: - Preamble and delimiter

    /// LinkedIn's Connections.csv preamble: a first line `Notes:`, a quoted notice, an empty
    /// line, then the header. Returns where the header starts, or nil when the first line
    /// is not `Notes:`. Without the empty line, the header is the first record after `Notes:`
    /// with more than one field. Looks at no more than 32 records.
    static func findPreambleEnd(_ buffer: UnsafeBufferPointer<UInt8>) throws(CSVError) -> (offset: Int, line: Int)? {
        var end = 0
        while end < buffer.count, buffer[end] != 0x0A, buffer[end] != 0x0D { end += 1 }
        var first = Substring(String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<end]), as: UTF8.self))
        while let last = first.last, last == " " || last == "\t" { first = first.dropLast() }
        guard first == "Notes:" else { return nil }
        var parser = RecordParser(buffer: buffer, delimiter: 0x2C, position: 0, line: 1)
        _ = try parser.next()  // "Notes:"
        var seenNotice = false
        for _ in 0..<32 {
            let start = parser.position
            let line = parser.line
            guard let record = try parser.next() else { return nil }
            if record.fields == [[]] {
                // The empty line ends the preamble; skip any further empty lines.
                while parser.position < buffer.count, buffer[parser.position] == 0x0A || buffer[parser.position] == 0x0D {
                    _ = try parser.next()
                }
                return (parser.position, parser.line)
            }
            if seenNotice, record.fields.count > 1 { return (start, line) }
            seenNotice = true
        }
        return nil
    }

    /// A tab or `;` when the header line holds one and no comma; otherwise a comma.
    static func detectDelimiter(_ buffer: UnsafeBufferPointer<UInt8>, headerStart: Int) -> UInt8 {
        var commas = 0, tabs = 0, semicolons = 0
        var inQuotes = false
        var index = headerStart
        while index < buffer.count {
            let byte = buffer[index]
            if byte == 0x22 {
                inQuotes.toggle()
            } else if !inQuotes {
                if byte == 0x0A || byte == 0x0D { break }
                if byte == 0x2C { commas += 1 } else if byte == 0x09 { tabs += 1 } else if byte == 0x3B { semicolons += 1 }
            }
            index += 1
        }
        if commas == 0, tabs > 0 { return 0x09 }
        if commas == 0, semicolons > 0 { return 0x3B }
        return 0x2C
    }

    private static func firstLineEnding(_ buffer: UnsafeBufferPointer<UInt8>) -> CSVLineEnding {
        for index in buffer.indices {
            if buffer[index] == 0x0A { return .lf }
            if buffer[index] == 0x0D {
                return index + 1 < buffer.count && buffer[index + 1] == 0x0A ? .crlf : .cr
            }
        }
        return .none
    }
}

/// Splits UTF-8 bytes into records, one at a time.
struct RecordParser {
    private static let quote: UInt8 = 0x22, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D

    let buffer: UnsafeBufferPointer<UInt8>
    let delimiter: UInt8
    /// The byte where the next record starts.
    var position: Int
    /// The 1-based line `position` is on.
    var line: Int
    private var scratch: [UInt8] = []

    init(buffer: UnsafeBufferPointer<UInt8>, delimiter: UInt8, position: Int, line: Int) {
        self.buffer = buffer
        self.delimiter = delimiter
        self.position = position
        self.line = line
    }

    /// The next record and the line it starts on, or nil at the end of the bytes.
    mutating func next() throws(CSVError) -> (fields: [[UInt8]], line: Int)? {
        let n = buffer.count
        var i = position
        guard i < n else { return nil }
        let startLine = line
        var fields: [[UInt8]] = []
        while true {
            // At the start of a field.
            if i < n, buffer[i] == Self.quote {
                let openLine = line
                i += 1
                scratch.removeAll(keepingCapacity: true)
                var segment = i
                while true {
                    guard i < n else {
                        position = n
                        throw .unterminatedQuote(line: openLine)
                    }
                    let byte = buffer[i]
                    if byte == Self.quote {
                        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[segment..<i]))
                        if i + 1 < n, buffer[i + 1] == Self.quote {
                            scratch.append(Self.quote)
                            i += 2
                            segment = i
                            continue
                        }
                        i += 1
                        break
                    }
                    if byte == Self.lf || (byte == Self.cr && !(i + 1 < n && buffer[i + 1] == Self.lf)) { line += 1 }
                    i += 1
                }
                // Lenient: text between the closing quote and the delimiter is kept as is.
                let tail = i
                while i < n, buffer[i] != delimiter, buffer[i] != Self.lf, buffer[i] != Self.cr { i += 1 }
                if i > tail { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[tail..<i])) }
                fields.append(scratch)
            } else {
                let start = i
                while i < n, buffer[i] != delimiter, buffer[i] != Self.lf, buffer[i] != Self.cr { i += 1 }
                fields.append(Array(UnsafeBufferPointer(rebasing: buffer[start..<i])))
            }
            // At a delimiter, a line ending or the end.
            if i >= n {
                position = n
                return (fields, startLine)
            }
            if buffer[i] == delimiter {
                i += 1
                if i >= n {
                    fields.append([])
                    position = n
                    return (fields, startLine)
                }
                continue
            }
            if buffer[i] == Self.cr, i + 1 < n, buffer[i + 1] == Self.lf { i += 2 } else { i += 1 }
            line += 1
            position = i
            return (fields, startLine)
        }
    }
}
