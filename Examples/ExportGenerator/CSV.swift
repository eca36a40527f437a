// CSV.swift: LinkedIn's CSV serialisation.
//
// Minimal RFC 4180: a field is quoted only when it holds a comma,
// a quote, CR or LF, and inner quotes are doubled. Header lines are written verbatim
// (Learning.csv's ends with a comma). Line endings and the final newline are per file:
// Connections.csv, Company Follows.csv and Email Addresses.csv end without one.

/// Quotes one field the way LinkedIn does.
func csvField(_ value: String) -> String {
    var needsQuotes = false
    for byte in value.utf8 where byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D {
        needsQuotes = true
        break
    }
    guard needsQuotes else { return value }
    return "\"" + value.replacingAll("\"", with: "\"\"") + "\""
}

/// One CSV file being rendered.
struct CSVFile {
    /// Bytes before the header (Connections.csv's `Notes:` preamble), verbatim.
    var preamble = ""
    /// The header line, verbatim, without its line ending.
    var header: String
    /// Line ending between records.
    var lineEnding = "\n"
    /// Whether the last record is followed by a line ending.
    var trailingNewline = true
    private var body: String = ""
    private(set) var rowCount = 0

    init(header: String, preamble: String = "", trailingNewline: Bool = true) {
        self.header = header
        self.preamble = preamble
        self.trailingNewline = trailingNewline
        body.reserveCapacity(4096)
    }

    /// Appends a record of already-unquoted fields.
    mutating func append(_ fields: [String]) {
        body += lineEnding
        var first = true
        for field in fields {
            if !first { body += "," }
            first = false
            body += csvField(field)
        }
        rowCount += 1
    }

    /// Appends a record whose fields are already serialised (used for LinkedIn's odd quoting).
    mutating func appendRaw(_ line: String) {
        body += lineEnding
        body += line
        rowCount += 1
    }

    /// The file's bytes.
    var bytes: [UInt8] {
        var text = preamble
        text.reserveCapacity(preamble.utf8.count + header.utf8.count + body.utf8.count + 2)
        text += header
        text += body
        if trailingNewline { text += lineEnding }
        return Array(text.utf8)
    }
}

extension String {
    /// Replaces every occurrence of `target`.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, self.contains(target) else { return self }
        return self.replacing(target, with: replacement)
    }
}
