// JSONRecords.swift: JSON arrays of records (an X archive's `data/*.js`, any `.json` array) read
// into the same table the CSV diff compares.
//
// - An X archive file is `window.YTD.<name>.part0 = [ … ]`: everything up to the first `=` is
//   skipped when the text does not start with `[`; a trailing `;` is allowed.
// - Each array element is one record. An object is flattened: nested members become columns
//   named by their path (`tweet.id_str`, `tweet.entities.hashtags.0.text`); a scalar element is
//   the column `value`. Columns are in order of first appearance.
// - Values are exact bytes: a string's unescaped UTF-8 (a lone `\ud800` escape stays a distinct,
//   invalid sequence), a number, `true`, `false` or `null` as written, an empty object or array
//   as `{}` / `[]`. A member a record lacks is an empty value.
// - The key is the first `id`-like column every record has: `tweet.id_str`, `tweet.id`,
//   `like.tweetId`, `follower.accountId`, `following.accountId`, then `id_str`, `id`, and any
//   other column of at most two levels named `id`, `id_str`, `…Id` or `…_id`. No such column: the
//   whole record.
//
// One pass, no recursion deeper than 512 levels (deeper input is an error, not a crash).

import CofferCore

/// JSON record files read into a `CSVTable` (header = flattened member paths).
public enum JSONRecords {
    /// A JSON file that cannot be read as records.
    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        /// What was wrong.
        public let message: String
        /// The 1-based line it was found on.
        public let line: Int

        public var description: String { "\(message) on line \(line)" }
    }

    /// The records of one version, and the key columns that suit them.
    public struct Table: Sendable {
        /// Records as rows under the flattened header.
        public let table: CSVTable
        /// `id`-like columns every record has, best first.
        public let keyCandidates: [String]
    }

    /// Whether `path` names a JSON record file (`.js`, `.json`).
    public static func handles(path: String) -> Bool {
        let lower = Paths.lastComponent(path).lowercased()
        return lower.hasSuffix(".js") || lower.hasSuffix(".json")
    }

    /// The kind of an X archive file by name (when keyed by its id), else generic.
    static func kind(path: String, key: [String]?) -> RecordFileKind {
        guard key != nil else { return .generic }
        switch Paths.lastComponent(path).lowercased() {
        case "tweets.js", "tweet.js", "deleted-tweets.js", "note-tweet.js": return .tweets
        case "like.js": return .likes
        case "follower.js": return .followers
        case "following.js": return .following
        default: return .generic
        }
    }

    /// The key both versions can use: the newer version's best candidate the older one has too
    /// (an empty version has every column).
    static func commonKey(_ before: Table, _ after: Table) -> [String]? {
        let beforeEmpty = before.table.byteRows.isEmpty
        let afterEmpty = after.table.byteRows.isEmpty
        if afterEmpty { return before.keyCandidates.first.map { [$0] } }
        for candidate in after.keyCandidates where beforeEmpty || before.keyCandidates.contains(candidate) {
            return [candidate]
        }
        return nil
    }

    static let preferredKeys = ["tweet.id_str", "tweet.id", "like.tweetId", "follower.accountId", "following.accountId", "id_str", "id"]

    /// Reads a whole file. Empty input (a version without the file) is an empty table.
    public static func read(_ bytes: [UInt8]) throws(ParseError) -> Table {
        var parser = Parser(bytes: bytes)
        parser.skipByteOrderMark()
        parser.skipSpace()
        if parser.atEnd { return Table(table: CSVTable(header: [], rows: []), keyCandidates: []) }
        if parser.peek != 0x5B {  // `window.YTD.tweets.part0 = [`
            while !parser.atEnd, parser.peek != 0x3D { parser.advance() }
            guard !parser.atEnd else { throw parser.error("no `[` array and no `name = [` assignment") }
            parser.advance()
            parser.skipSpace()
        }
        guard parser.peek == 0x5B else { throw parser.error("expected a `[` array of records") }
        var header: [String] = []
        var columnIndex: [String: Int] = [:]
        var rows: [[[UInt8]]] = []
        try parser.array { (parser) throws(ParseError) in
            var fields: [(String, [UInt8])] = []
            try parser.flatten(path: nil, depth: 0, into: &fields)
            var row: [[UInt8]] = Array(repeating: [], count: header.count)
            for (name, value) in fields {
                if let index = columnIndex[name] {
                    row[index] = value
                } else {
                    columnIndex[name] = header.count
                    header.append(name)
                    row.append(value)
                }
            }
            rows.append(row)
        }
        parser.skipSpace()
        if !parser.atEnd, parser.peek == 0x3B { parser.advance() }
        parser.skipSpace()
        guard parser.atEnd else { throw parser.error("unexpected text after the array") }
        let width = header.count
        rows = rows.map { $0.count < width ? $0 + Array(repeating: [], count: width - $0.count) : $0 }
        let table = CSVTable(
            header: header, rows: rows.map { $0.map { String(decoding: $0, as: UTF8.self) } },
            rowLines: rows.indices.map { $0 + 1 }, byteRows: rows)
        return Table(table: table, keyCandidates: keyCandidates(header: header, rows: rows))
    }

    /// `id`-like columns that every record fills, best first.
    static func keyCandidates(header: [String], rows: [[[UInt8]]]) -> [String] {
        func idLike(_ name: String) -> Bool {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, let last = parts.last, !parts.contains(where: { $0.allSatisfy(\.isNumber) }) else {
                return false
            }
            return last == "id" || last == "id_str" || last.hasSuffix("Id") || last.hasSuffix("_id")
        }
        var candidates = preferredKeys.filter(header.contains)
        candidates += header.filter { idLike($0) && !candidates.contains($0) }
        return candidates.filter { name in
            guard let index = header.firstIndex(of: name) else { return false }
            return rows.allSatisfy { index < $0.count && !$0[index].isEmpty }
        }
    }

    /// A byte-level JSON reader that flattens values.
    struct Parser {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8 { bytes[position] }
        mutating func advance() { position += 1 }

        func error(_ message: String) -> ParseError {
            let end = min(position, bytes.count)
            let line = 1 + bytes[0..<end].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            return ParseError(message: message, line: line)
        }

        mutating func skipByteOrderMark() {
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        }

        mutating func skipSpace() {
            while !atEnd, peek == 0x20 || peek == 0x0A || peek == 0x0D || peek == 0x09 { advance() }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ParseError) {
            skipSpace()
            guard !atEnd, peek == byte else { throw error("expected \(what)") }
            advance()
        }

        /// `[ element, … ]`, calling `element` with the parser at each element.
        mutating func array(_ element: (inout Parser) throws(ParseError) -> Void) throws(ParseError) {
            try expect(0x5B, "`[`")
            skipSpace()
            if !atEnd, peek == 0x5D {
                advance()
                return
            }
            while true {
                try element(&self)
                skipSpace()
                guard !atEnd else { throw error("the array never closes") }
                if peek == 0x2C {
                    advance()
                    continue
                }
                if peek == 0x5D {
                    advance()
                    return
                }
                throw error("expected `,` or `]`")
            }
        }

        /// The value here, flattened into `(path, bytes)` pairs (`value` for a top-level scalar).
        mutating func flatten(path: String?, depth: Int, into fields: inout [(String, [UInt8])]) throws(ParseError) {
            guard depth < 512 else { throw error("nested more than 512 levels") }
            skipSpace()
            guard !atEnd else { throw error("a value is missing") }
            func join(_ name: String) -> String { path.map { $0 + "." + name } ?? name }
            switch peek {
            case 0x7B:  // {
                advance()
                skipSpace()
                if !atEnd, peek == 0x7D {
                    advance()
                    fields.append((path ?? "value", Array("{}".utf8)))
                    return
                }
                while true {
                    skipSpace()
                    guard !atEnd, peek == 0x22 else { throw error("expected a member name") }
                    let name = String(decoding: try string(), as: UTF8.self)
                    try expect(0x3A, "`:`")
                    try flatten(path: join(name), depth: depth + 1, into: &fields)
                    skipSpace()
                    guard !atEnd else { throw error("an object never closes") }
                    if peek == 0x2C {
                        advance()
                        continue
                    }
                    if peek == 0x7D {
                        advance()
                        return
                    }
                    throw error("expected `,` or `}`")
                }
            case 0x5B:  // [
                var index = 0
                let start = fields.count
                try array { (parser) throws(ParseError) in
                    try parser.flatten(path: join(String(index)), depth: depth + 1, into: &fields)
                    index += 1
                }
                if fields.count == start { fields.append((path ?? "value", Array("[]".utf8))) }
            case 0x22:
                fields.append((path ?? "value", try string()))
            default:
                let start = position
                while !atEnd, !(peek == 0x2C || peek == 0x5D || peek == 0x7D || peek == 0x20 || peek == 0x0A || peek == 0x0D || peek == 0x09) {
                    advance()
                }
                let literal = Array(bytes[start..<position])
                guard isLiteral(literal) else { throw error("not a JSON value") }
                fields.append((path ?? "value", literal))
            }
        }

        private func isLiteral(_ text: [UInt8]) -> Bool {
            if text == Array("true".utf8) || text == Array("false".utf8) || text == Array("null".utf8) { return true }
            guard let first = text.first, first == 0x2D || (first >= 0x30 && first <= 0x39) else { return false }
            return text.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2B || $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }
        }

        /// A string at `"`, unescaped to bytes.
        mutating func string() throws(ParseError) -> [UInt8] {
            advance()  // "
            var out: [UInt8] = []
            while true {
                guard !atEnd else { throw error("a string never closes") }
                let byte = peek
                advance()
                if byte == 0x22 { return out }
                if byte != 0x5C {
                    out.append(byte)
                    continue
                }
                guard !atEnd else { throw error("a string never closes") }
                let escape = peek
                advance()
                switch escape {
                case 0x22, 0x5C, 0x2F: out.append(escape)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), position + 1 < bytes.count, bytes[position] == 0x5C,
                        bytes[position + 1] == 0x75
                    {
                        let save = position
                        position += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            position = save
                        }
                    }
                    out += encode(scalar)
                default:
                    throw error("unknown escape `\\\(Character(Unicode.Scalar(escape)))`")
                }
            }
        }

        private mutating func hex4() throws(ParseError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("a \\u escape is cut short") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = peek
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: throw error("a \\u escape is not hexadecimal")
                }
                value = value << 4 | digit
                advance()
            }
            return value
        }

        /// UTF-8 of a code point; a lone surrogate gets the same three-byte form (not valid
        /// UTF-8, so it stays distinct from any real character).
        private func encode(_ v: UInt32) -> [UInt8] {
            switch v {
            case 0..<0x80: return [UInt8(v)]
            case 0x80..<0x800: return [UInt8(0xC0 | v >> 6), UInt8(0x80 | v & 0x3F)]
            case 0x800..<0x10000: return [UInt8(0xE0 | v >> 12), UInt8(0x80 | v >> 6 & 0x3F), UInt8(0x80 | v & 0x3F)]
            default:
                return [UInt8(0xF0 | v >> 18), UInt8(0x80 | v >> 12 & 0x3F), UInt8(0x80 | v >> 6 & 0x3F), UInt8(0x80 | v & 0x3F)]
            }
        }
    }
}
