// RecordText.swift: record values made readable on one line, without making two different
// values look the same.
//
// - Values are bytes. Valid UTF-8 prints as itself (no normalization: NFC and NFD differ on
//   screen as they differ in the file only by what the terminal draws, so they are compared,
//   never printed, as equal); a byte that is not UTF-8 prints as `\xNN`.
// - A newline, CR and tab inside a value print as `\n`, `\r` and `\t`; other control
//   characters and bidirectional overrides as TerminalText escapes them. A record is one line.
// - A value with a comma, a double quote, a line break or a leading or trailing space or tab
//   is quoted as in CSV (`"a, b"`, `"say ""hi"""`), so `a, b,c` and `a,b, c` stay distinct.
// - The two sides of a changed value are made to read differently: shown whole when shortening
//   would hide their difference, with `\u{…}` for characters beyond ASCII when only normalization differs.
// - A value longer than the limit is shortened in the middle (`https://www.linkedin.com/in/ada…-9f3a`)
//   so both distinguishing ends stay visible; a limit of nil prints it whole (`--wide`).

import CofferCore

/// Readable, one-line forms of record values.
public enum RecordText {
    /// Characters a value shows at most before it is shortened in the middle.
    public static let defaultLimit = 40

    /// `value` as one line: escaped, CSV-quoted when needed, shortened to `limit` characters
    /// (nil: whole).
    public static func field(_ value: [UInt8], limit: Int? = defaultLimit) -> String {
        field(value, limit: limit, escapingNonASCII: false)
    }

    /// A changed value's two sides, each as `field` shows it, made to read differently when the
    /// bytes differ: a pair that shortening would make look the same is shown whole, and a pair
    /// that still looks the same (the same text in another Unicode normalization form) shows its
    /// characters beyond ASCII as `\u{…}` (`Jos\u{e9}` → `Jose\u{301}`).
    public static func changedPair(_ before: [UInt8], _ after: [UInt8], limit: Int? = defaultLimit) -> (before: String, after: String) {
        let shown = (before: field(before, limit: limit), after: field(after, limit: limit))
        guard shown.before == shown.after, before != after else { return shown }
        let whole = (before: field(before, limit: nil), after: field(after, limit: nil))
        guard whole.before == whole.after else { return whole }
        return (field(before, limit: nil, escapingNonASCII: true), field(after, limit: nil, escapingNonASCII: true))
    }

    static func field(_ value: [UInt8], limit: Int?, escapingNonASCII: Bool) -> String {
        var units = displayUnits(value, escapingNonASCII: escapingNonASCII)
        if needsQuotes(value) {
            units = ["\""] + units.map { $0 == "\"" ? "\"\"" : $0 } + ["\""]
        }
        if let limit, limit >= 3, units.count > limit {
            let head = (limit - 1) / 2
            let tail = limit - 1 - head
            units = Array(units.prefix(head)) + ["…"] + Array(units.suffix(tail))
        }
        return units.joined()
    }

    /// A row as a CSV-like line of `field`s.
    public static func row(_ values: [[UInt8]], limit: Int? = defaultLimit) -> String {
        values.map { field($0, limit: limit) }.joined(separator: ",")
    }

    /// Whether `value` needs CSV quotes to read back as itself.
    static func needsQuotes(_ value: [UInt8]) -> Bool {
        guard let first = value.first, let last = value.last else { return false }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return true }
        return value.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
    }

    /// `value` CSV-quoted (doubled inner quotes) when `always` or when it needs it.
    static func csvQuoted(_ value: [UInt8], always: Bool) -> [UInt8] {
        guard always || needsQuotes(value) else { return value }
        var out: [UInt8] = [0x22]
        for byte in value {
            out.append(byte)
            if byte == 0x22 { out.append(0x22) }
        }
        out.append(0x22)
        return out
    }

    /// One printable piece per scalar (or per invalid byte), escaped.
    static func displayUnits(_ value: [UInt8], escapingNonASCII: Bool = false) -> [String] {
        var units: [String] = []
        units.reserveCapacity(value.count)
        var iterator = value.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let length = encoded.count
                switch Unicode.UTF8.decode(encoded).value {
                case 0x0A: units.append("\\n")
                case 0x0D: units.append("\\r")
                case 0x09: units.append("\\t")
                case let scalar where escapingNonASCII && scalar > 0x7F: units.append("\\u{\(String(scalar, radix: 16))}")
                default: units.append(TerminalText.escape(bytes: value[offset..<offset + length]))
                }
                offset += length
            case .error(let length):
                for byte in value[offset..<offset + length] { units.append(TerminalText.escape(bytes: [byte])) }
                offset += length
            case .emptyInput:
                break loop
            }
        }
        return units
    }

    /// Whether a whole file reads better as Windows-1252 than as UTF-8: it is not UTF-8, holds no
    /// valid multi-byte UTF-8 sequence at all (so nothing UTF-8 would be garbled) and none of the
    /// five bytes Windows-1252 leaves undefined (81, 8D, 8F, 90, 9D).
    public static func looksLikeWindows1252(_ file: [UInt8]) -> Bool {
        guard file.contains(where: { $0 >= 0x80 }) else { return false }
        if file.contains(where: { [0x81, 0x8D, 0x8F, 0x90, 0x9D].contains($0) }) { return false }
        var iterator = file.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var invalid = false
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): if encoded.count > 1 { return false }
            case .error: invalid = true
            case .emptyInput: break loop
            }
        }
        return invalid
    }

    /// `bytes` decoded as Windows-1252, as UTF-8 (for display only; comparisons use the bytes).
    public static func fromWindows1252(_ bytes: [UInt8]) -> [UInt8] {
        let high: [UInt32] = [
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
            0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
        ]
        var text = ""
        text.unicodeScalars.reserveCapacity(bytes.count)
        for byte in bytes {
            let value = (0x80...0x9F).contains(byte) ? high[Int(byte - 0x80)] : UInt32(byte)
            text.unicodeScalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        return Array(text.utf8)
    }

    /// Whether `bytes` are valid UTF-8.
    public static func isUTF8(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }

    /// Standard base64 with padding (RFC 4648).
    public static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let a = UInt32(bytes[index])
            let b = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let c = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let n = a << 16 | b << 8 | c
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(index + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : 0x3D)
            out.append(index + 2 < bytes.count ? alphabet[Int(n & 63)] : 0x3D)
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
