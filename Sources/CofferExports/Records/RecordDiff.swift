// RecordDiff.swift: record-level differences between two versions of one record file (CSV or
// TSV, or a JSON array read by JSONRecords).
//
// Values are bytes and compare as bytes: no Unicode normalization, invalid UTF-8 kept.
//
// Records are matched by a key (KnownRecordFiles.swift has the table; README lists it):
// - the columns the caller names (`--key`), which win over everything else;
// - a known file, recognised by its name and its header together: LinkedIn Connections by URL
//   (a row whose URL is empty, a hidden or closed account `,,,,,,date`, by its whole content;
//   before 2023, without URL, by First Name + Last Name + Connected On), messages by
//   CONVERSATION ID + DATE + FROM, Shares by ShareLink, and so on; one-row files by row order;
// - a JSON file's `id`-like member;
// - otherwise the whole record.
//
// Pairing: identical records (equal in every compared column) pair first, in order, so a
// duplicate key reports what really went and a record that only moved is no change; the rest
// pair by key in order of appearance (the n-th remaining before with the n-th remaining after);
// the extras are added or removed. Blank lines are not records. Columns are matched by name, so
// a reordered, grown or shrunk header still diffs (columns whose names differ only in case, like
// `SharedURL` → `SharedUrl`, are one column renamed). In Invitations.csv, a rolling window of
// about 7–10 months, rows that left because they are older than the oldest row still present
// are "aged out", not removed.
//
// Cost: linear in the two files (two hash lookups per record).

import CofferCore

/// How rows of one file are matched between two versions.
public enum RecordKey: Sendable, Equatable, CustomStringConvertible {
    /// LinkedIn Connections: the `URL` column; rows with an empty URL are keyed by their content.
    case linkedInConnections
    /// LinkedIn messages: `CONVERSATION ID` + `DATE` + `FROM` (there is no message id).
    case linkedInMessages
    /// The named columns, as the caller gave them (`--key COLUMN`, repeatable).
    case columns([String])
    /// The whole row: rows are only ever added or removed, never changed.
    case wholeRow
    /// No key: the n-th row of one version is compared with the n-th of the other (one-row
    /// files such as Profile.csv, so an edit is a change).
    case rowOrder

    /// `URL`, `CONVERSATION ID + DATE + FROM`, the column names joined by ` + `, `whole row` or
    /// `row order`.
    public var description: String {
        switch self {
        case .linkedInConnections: "URL"
        case .linkedInMessages: "CONVERSATION ID + DATE + FROM"
        case .columns(let names): names.joined(separator: " + ")
        case .wholeRow: "whole row"
        case .rowOrder: "row order"
        }
    }
}

/// What a CSV file is, for the wording of its summary.
public enum RecordFileKind: String, Sendable, Equatable, Encodable {
    /// LinkedIn `Connections.csv`.
    case connections
    /// LinkedIn `messages.csv` and its siblings (`guide_messages.csv`, …).
    case messages
    /// LinkedIn `Invitations.csv`, a rolling window.
    case invitations
    /// X archive `data/tweets.js` (also `deleted-tweets.js`, `note-tweet.js`).
    case tweets
    /// X archive `data/like.js`.
    case likes
    /// X archive `data/follower.js`.
    case followers
    /// X archive `data/following.js`.
    case following
    /// Any other CSV or JSON record file.
    case generic
}

/// Which of the two versions something came from.
public enum RecordSide: String, Sendable, Equatable {
    /// The older version.
    case before
    /// The newer version.
    case after
}

/// An error from a record diff.
public enum RecordDiffError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A key column the caller named is in neither header or only one; `available` lists the
    /// columns both versions have (the ones that can be keys).
    case unknownKeyColumn(column: String, available: [String])
    /// One version could not be read as CSV.
    case unreadable(path: String, side: RecordSide, error: CSVError)
    /// One version could not be read as JSON records (`reason` says what and where).
    case unreadableJSON(path: String, side: RecordSide, reason: String)

    public var description: String {
        switch self {
        case .unknownKeyColumn(let column, let available):
            "no column \"\(column)\" to key rows by; available columns: "
                + (available.isEmpty ? "(none)" : available.map { "\"\($0)\"" }.joined(separator: ", "))
        case .unreadable(let path, let side, let error):
            "cannot read the \(side.rawValue) version of \(path): \(error)"
        case .unreadableJSON(let path, let side, let reason):
            "cannot read the \(side.rawValue) version of \(path): \(reason)"
        }
    }
}

/// Column values of one row, in header order; encodes as a JSON object `{column: value}` (the order
/// of keys in the JSON text is the encoder's). A value that is not UTF-8 encodes with U+FFFD in
/// place of the bad bytes; `nonUTF8Base64` has it exactly.
public struct RecordFields: Sendable, Equatable, Encodable {
    /// Column names (unique: a repeated header name gets ` (2)`, ` (3)`…).
    public let columns: [String]
    /// The values, one per column, readable (invalid UTF-8 as U+FFFD).
    public let values: [String]
    /// The values' exact bytes, one per column.
    public let bytes: [[UInt8]]

    /// Fields from parallel lists of names and values.
    public init(columns: [String], values: [String]) {
        self.columns = columns
        self.values = values
        self.bytes = values.map { Array($0.utf8) }
    }

    /// Fields from parallel lists of names and exact value bytes.
    public init(columns: [String], bytes: [[UInt8]]) {
        self.columns = columns
        self.bytes = bytes
        self.values = bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The exact bytes in `column`, if the row has that column.
    public func bytes(_ column: String) -> [UInt8]? {
        columns.firstIndex(of: column).map { bytes[$0] }
    }

    /// `{column: base64}` for the values that are not valid UTF-8, or nil when all are.
    public var nonUTF8Base64: [String: String]? {
        var out: [String: String] = [:]
        for (column, value) in zip(columns, bytes) where !RecordText.isUTF8(value) {
            out[column] = RecordText.base64(value)
        }
        return out.isEmpty ? nil : out
    }

    /// The value in `column`, if the row has that column.
    public subscript(column: String) -> String? {
        columns.firstIndex(of: column).map { values[$0] }
    }

    /// The fields as a dictionary (loses the column order).
    public var dictionary: [String: String] {
        Dictionary(zip(columns, values), uniquingKeysWith: { first, _ in first })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicCodingKey.self)
        for (column, value) in zip(columns, values) {
            try container.encode(value, forKey: DynamicCodingKey(column))
        }
    }
}

struct DynamicCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A row only one version has. JSON: `{"key", "key_bytes"?, "line", "row", "row_bytes"?}`; the
/// `_bytes` members (base64) are there only when the key or a value is not UTF-8.
public struct RecordRow: Sendable, Equatable, Encodable {
    /// The row's key, readable: the URL, `id | date | sender`, or the row as a CSV line.
    public let key: String
    /// The key's exact bytes.
    public let keyBytes: [UInt8]
    /// The row's values under its version's header.
    public let row: RecordFields
    /// The 1-based line the row starts on in its version (the array element, 1-based, for a
    /// JSON file).
    public let line: Int

    init(key: [UInt8], row: RecordFields, line: Int) {
        self.key = String(decoding: key, as: UTF8.self)
        self.keyBytes = key
        self.row = row
        self.line = line
    }

    enum CodingKeys: String, CodingKey {
        case key, line, row
        case keyBytes = "key_bytes"
        case rowBytes = "row_bytes"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        if !RecordText.isUTF8(keyBytes) { try container.encode(RecordText.base64(keyBytes), forKey: .keyBytes) }
        try container.encode(line, forKey: .line)
        try container.encode(row, forKey: .row)
        try container.encodeIfPresent(row.nonUTF8Base64, forKey: .rowBytes)
    }
}

/// A row both versions have, with different values. JSON: `{"key", "key_bytes"?, "line",
/// "before", "before_bytes"?, "after", "after_bytes"?, "row", "row_bytes"?}`, where `before` and
/// `after` hold the changed columns only and `row` the whole newer row.
public struct RecordChange: Sendable, Equatable, Encodable {
    /// The row's key.
    public let key: String
    /// The key's exact bytes.
    public let keyBytes: [UInt8]
    /// The changed columns' older values.
    public let before: RecordFields
    /// The changed columns' newer values.
    public let after: RecordFields
    /// The whole newer row (to say who changed, not only what).
    public let row: RecordFields
    /// The 1-based line of the row in the newer version.
    public let line: Int

    /// The names of the columns that changed, in header order.
    public var changedColumns: [String] { after.columns }

    init(key: [UInt8], before: RecordFields, after: RecordFields, row: RecordFields, line: Int) {
        self.key = String(decoding: key, as: UTF8.self)
        self.keyBytes = key
        self.before = before
        self.after = after
        self.row = row
        self.line = line
    }

    enum CodingKeys: String, CodingKey {
        case key, line, before, after, row
        case keyBytes = "key_bytes"
        case beforeBytes = "before_bytes"
        case afterBytes = "after_bytes"
        case rowBytes = "row_bytes"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        if !RecordText.isUTF8(keyBytes) { try container.encode(RecordText.base64(keyBytes), forKey: .keyBytes) }
        try container.encode(line, forKey: .line)
        try container.encode(before, forKey: .before)
        try container.encodeIfPresent(before.nonUTF8Base64, forKey: .beforeBytes)
        try container.encode(after, forKey: .after)
        try container.encodeIfPresent(after.nonUTF8Base64, forKey: .afterBytes)
        try container.encode(row, forKey: .row)
        try container.encodeIfPresent(row.nonUTF8Base64, forKey: .rowBytes)
    }
}

/// How the header changed between two versions. Rows still diff by column name.
public struct HeaderChange: Sendable, Equatable, Encodable {
    /// A column whose name changed only in letter case (`SharedURL` → `SharedUrl`).
    public struct Rename: Sendable, Equatable, Encodable {
        /// The older name.
        public let from: String
        /// The newer name.
        public let to: String
    }

    /// Columns only the newer version has.
    public let added: [String]
    /// Columns only the older version has.
    public let removed: [String]
    /// Columns renamed (case only), compared as one column.
    public let renamed: [Rename]
    /// The older header.
    public let before: [String]
    /// The newer header.
    public let after: [String]

    /// `columns added: A, B; removed: C; renamed: D → d`, or `columns reordered`.
    public var description: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("columns added: " + added.joined(separator: ", ")) }
        if !removed.isEmpty { parts.append("columns removed: " + removed.joined(separator: ", ")) }
        if !renamed.isEmpty { parts.append("columns renamed: " + renamed.map { "\($0.from) → \($0.to)" }.joined(separator: ", ")) }
        return parts.isEmpty ? "columns reordered" : parts.joined(separator: "; ")
    }
}

/// Counts behind a file's summary line.
public struct RecordDiffSummary: Sendable, Equatable, Encodable {
    /// How the file was recognised.
    public let kind: RecordFileKind
    /// Rows only the newer version has.
    public let added: Int
    /// Rows only the older version has, and not aged out.
    public let removed: Int
    /// Rows both have, with different values.
    public let changed: Int
    /// Rows that fell out of a rolling window (Invitations.csv).
    public let agedOut: Int
    /// Connections: added rows that are new connections (not a hidden account shown again).
    public let newConnections: Int
    /// Connections: removed rows that are gone (not an account that turned into a blank row).
    public let removedConnections: Int
    /// Connections: changed rows whose `Company` or `Position` changed.
    public let jobChanges: Int
    /// Connections: other changed rows (an e-mail shown or hidden, a name edited).
    public let otherChanges: Int
    /// Connections: accounts that turned into a blank `,,,,,,date` row (a removed row and an
    /// added blank row with the same `Connected On`).
    public let nowHidden: Int
    /// Connections: blank rows that became a visible connection again.
    public let visibleAgain: Int
    /// Messages: distinct conversations among the added messages.
    public let conversations: Int
    /// The one-line summary, e.g. `Connections.csv: 34 new connections, 2 removed, 11 changed jobs`.
    public let text: String

    enum CodingKeys: String, CodingKey {
        case kind, added, removed, changed
        case agedOut = "aged_out"
        case newConnections = "new_connections"
        case removedConnections = "removed_connections"
        case jobChanges = "job_changes"
        case otherChanges = "other_changes"
        case nowHidden = "now_hidden"
        case visibleAgain = "visible_again"
        case conversations, text
    }
}

/// The row-level difference between two versions of one CSV file.
///
/// JSON (snake_case): `{"path", "kind", "key", "added": [{"key", "row"}], "removed": […],
/// "changed": [{"key", "before", "after", "row"}], "aged_out": […], "header_change"?, "summary"}`.
public struct FileRecordDiff: Sendable, Equatable, Encodable {
    /// The file's path as the caller gave it.
    public let path: String
    /// How the file was recognised.
    public let kind: RecordFileKind
    /// How rows were matched.
    public let key: RecordKey
    /// Rows only the newer version has, in its order.
    public let added: [RecordRow]
    /// Rows only the older version has (and not aged out), in its order.
    public let removed: [RecordRow]
    /// Rows whose values changed, in the newer version's order.
    public let changed: [RecordChange]
    /// Rows that left a rolling window (Invitations.csv), in the older version's order.
    public let agedOut: [RecordRow]
    /// The header change, if the header line differs (nil when one version is empty).
    public let headerChange: HeaderChange?
    /// Counts and the summary line.
    public let summary: RecordDiffSummary
    /// `Windows-1252` when the file is not UTF-8 but reads as Windows-1252 (see
    /// `RecordText.looksLikeWindows1252`): a display may decode values so, saying it does.
    /// Values and comparisons stay bytes. Nil otherwise.
    public internal(set) var shownAs: String? = nil

    /// Whether nothing changed.
    public var isEmpty: Bool {
        added.isEmpty && removed.isEmpty && changed.isEmpty && agedOut.isEmpty && headerChange == nil
    }

    enum CodingKeys: String, CodingKey {
        case path, kind, key, added, removed, changed
        case agedOut = "aged_out"
        case headerChange = "header_change"
        case summary
        case shownAs = "shown_as"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(kind, forKey: .kind)
        try container.encode(key.description, forKey: .key)
        try container.encode(added, forKey: .added)
        try container.encode(removed, forKey: .removed)
        try container.encode(changed, forKey: .changed)
        try container.encode(agedOut, forKey: .agedOut)
        try container.encodeIfPresent(headerChange, forKey: .headerChange)
        try container.encode(summary.text, forKey: .summary)
        try container.encodeIfPresent(shownAs, forKey: .shownAs)
    }
}

/// A file that could not be compared (it does not parse). JSON: `{"path", "path_bytes"?, "error"}`.
public struct RecordFileFailure: Sendable, Equatable, Encodable {
    /// The file's path, readable.
    public let path: String
    /// The path's exact bytes.
    public let pathBytes: [UInt8]
    /// What went wrong, one line.
    public let error: String

    /// A failure for the file at `pathBytes`.
    public init(pathBytes: [UInt8], error: String) {
        self.path = String(decoding: pathBytes, as: UTF8.self)
        self.pathBytes = pathBytes
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case path, error
        case pathBytes = "path_bytes"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        if !RecordText.isUTF8(pathBytes) { try container.encode(RecordText.base64(pathBytes), forKey: .pathBytes) }
        try container.encode(error, forKey: .error)
    }
}

/// Record diffs of several files, as `coffer diff --records --json` prints them:
/// `{"files": [ … ], "errors": [ … ]}`.
public struct RecordDiffReport: Sendable, Equatable, Encodable {
    /// One entry per record file compared.
    public var files: [FileRecordDiff]
    /// The files that could not be compared.
    public var errors: [RecordFileFailure]

    /// A report of `files` and `errors`.
    public init(files: [FileRecordDiff], errors: [RecordFileFailure] = []) {
        self.files = files
        self.errors = errors
    }

    /// The summary lines, one per file.
    public var summaryLines: [String] { files.map(\.summary.text) }
}

/// Computes row-level diffs of CSV files.
///
/// ```swift
/// let diff = try RecordDiff.compare(before: old, after: new, path: "Connections.csv")
/// print(diff.summary.text)   // Connections.csv: 34 new connections, 2 removed, 11 changed jobs
/// let json = try JSONEncoder().encode(RecordDiffReport(files: [diff]))
/// ```
public enum RecordDiff {
    /// Diffs two versions of the record file at `path`: CSV (or TSV), or JSON records when the
    /// name ends in `.js` or `.json` (an X archive's `window.YTD.x.part0 = [ … ]` or a plain
    /// array). The name and header pick the summary wording and the default key; a missing
    /// version can be passed as `[]`.
    ///
    /// - Parameter keyColumns: columns to key rows by (`--key`), overriding the inferred key.
    /// - Throws: `RecordDiffError.unknownKeyColumn` for a key column not in both headers,
    ///   `RecordDiffError.unreadable` for malformed CSV, `.unreadableJSON` for malformed JSON.
    public static func compare(
        before: [UInt8], after: [UInt8], path: String, keyColumns: [String] = []
    ) throws(RecordDiffError) -> FileRecordDiff {
        if JSONRecords.handles(path: path) {
            let old: JSONRecords.Table
            let new: JSONRecords.Table
            do { old = try JSONRecords.read(before) } catch { throw .unreadableJSON(path: path, side: .before, reason: error.description) }
            do { new = try JSONRecords.read(after) } catch { throw .unreadableJSON(path: path, side: .after, reason: error.description) }
            let key = JSONRecords.commonKey(old, new)
            return try compare(
                before: old.table, after: new.table, path: path, keyColumns: keyColumns, defaultKey: key,
                kind: JSONRecords.kind(path: path, key: key))
        }
        let old: CSVTable
        let new: CSVTable
        do { old = try CSVReader.read(before) } catch { throw .unreadable(path: path, side: .before, error: error) }
        do { new = try CSVReader.read(after) } catch { throw .unreadable(path: path, side: .after, error: error) }
        var diff = try compare(before: old, after: new, path: path, keyColumns: keyColumns)
        let present = [(old, before), (new, after)].filter { !$0.1.isEmpty }
        if !present.isEmpty,
            present.allSatisfy({ $0.0.encoding == .utf8 && RecordText.looksLikeWindows1252($0.1) })
        {
            diff.shownAs = "Windows-1252"
        }
        return diff
    }

    /// Diffs two tables already read (see `compare(before:after:path:keyColumns:)`).
    ///
    /// - Parameters:
    ///   - defaultKey: columns to key by when neither `keyColumns` nor a known file's rule gives
    ///     a key (a JSON file's `id`-like field); ignored unless both versions have them.
    ///   - kind: the file kind when the caller knows it (JSON records); otherwise from name and
    ///     header.
    public static func compare(
        before: CSVTable, after: CSVTable, path: String, keyColumns: [String] = [], defaultKey: [String]? = nil,
        kind givenKind: RecordFileKind? = nil
    ) throws(RecordDiffError) -> FileRecordDiff {
        let before = withoutBlankLines(before)
        let after = withoutBlankLines(after)
        let layout = ColumnLayout(before: before, after: after)
        let known = KnownRecordFile.match(path: path, columns: Set(layout.commonNames))
        let kind = givenKind ?? known?.kind ?? .generic
        let resolved = try resolveKey(layout: layout, keyColumns: keyColumns, known: known, defaultKey: defaultKey)

        // Pairing: first identical rows (same values in every compared column, so same key), in
        // order; then the rest by key, the n-th remaining before with the n-th remaining after.
        // So duplicates report what really went (`1,a` `1,b` → `1,b` removes `1,a`), and rows
        // that only moved are no change.
        var match = [Int?](repeating: nil, count: after.byteRows.count)
        var used = [Bool](repeating: false, count: before.byteRows.count)
        do {
            var identical: [[UInt8]: [Int]] = [:]
            identical.reserveCapacity(before.byteRows.count)
            for (index, row) in before.byteRows.enumerated() {
                identical[resolved.content(row, side: .before), default: []].append(index)
            }
            var cursor: [[UInt8]: Int] = [:]
            for (index, row) in after.byteRows.enumerated() {
                let content = resolved.content(row, side: .after)
                guard let list = identical[content] else { continue }
                let n = cursor[content, default: 0]
                guard n < list.count else { continue }
                cursor[content] = n + 1
                match[index] = list[n]
                used[list[n]] = true
            }
        }
        do {
            var slots: [[UInt8]: [Int]] = [:]
            for (index, row) in before.byteRows.enumerated() where !used[index] {
                slots[resolved.internalKey(row, side: .before), default: []].append(index)
            }
            var cursor: [[UInt8]: Int] = [:]
            for (index, row) in after.byteRows.enumerated() where match[index] == nil {
                let key = resolved.internalKey(row, side: .after)
                guard let list = slots[key] else { continue }
                let n = cursor[key, default: 0]
                guard n < list.count else { continue }
                cursor[key] = n + 1
                match[index] = list[n]
                used[list[n]] = true
            }
        }

        var added: [RecordRow] = []
        var changed: [RecordChange] = []
        for (index, row) in after.byteRows.enumerated() {
            guard let partner = match[index] else {
                added.append(RecordRow(
                    key: resolved.displayKey(row, side: .after), row: layout.fields(row, side: .after),
                    line: after.rowLines[index]))
                continue
            }
            let old = before.byteRows[partner]
            var columns: [String] = [], was: [[UInt8]] = [], now: [[UInt8]] = []
            for column in layout.common {
                let a = value(old, column.before), b = value(row, column.after)
                if a != b {
                    columns.append(column.name)
                    was.append(a)
                    now.append(b)
                }
            }
            if !columns.isEmpty {
                changed.append(RecordChange(
                    key: resolved.displayKey(row, side: .after), before: RecordFields(columns: columns, bytes: was),
                    after: RecordFields(columns: columns, bytes: now), row: layout.fields(row, side: .after),
                    line: after.rowLines[index]))
            }
        }

        // Rows only the older version has: removed, or aged out of Invitations' window.
        var removed: [RecordRow] = []
        var agedOut: [RecordRow] = []
        let window = kind == .invitations ? rollingWindow(layout: layout, after: after) : nil
        for index in before.byteRows.indices where !used[index] {
            let row = before.byteRows[index]
            let record = RecordRow(
                key: resolved.displayKey(row, side: .before), row: layout.fields(row, side: .before),
                line: before.rowLines[index])
            if let window, let seconds = RecordDate.seconds(text(value(row, window.beforeColumn))),
                window.oldest.map({ seconds < $0 }) ?? true
            {
                agedOut.append(record)
            } else {
                removed.append(record)
            }
        }

        let summary = summarize(
            path: path, kind: kind, layout: layout, added: added, removed: removed, changed: changed, agedOut: agedOut)
        return FileRecordDiff(
            path: path, kind: kind, key: resolved.key, added: added, removed: removed, changed: changed,
            agedOut: agedOut, headerChange: layout.headerChange, summary: summary)
    }

    /// The table without its empty lines: a blank line is not a record. (A row of empty fields,
    /// `,,,`, is one.)
    static func withoutBlankLines(_ table: CSVTable) -> CSVTable {
        guard table.byteRows.contains(where: isBlankLine) else { return table }
        var copy = table
        let keep = table.byteRows.indices.filter { !isBlankLine(table.byteRows[$0]) }
        copy.rows = keep.map { table.rows[$0] }
        copy.byteRows = keep.map { table.byteRows[$0] }
        copy.rowLines = keep.map { table.rowLines[$0] }
        return copy
    }

    static func isBlankLine(_ row: [[UInt8]]) -> Bool {
        row.count == 1 && row[0].allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    // MARK: - Columns

    /// Column names of both versions, and which columns are compared.
    struct ColumnLayout {
        struct Common {
            let name: String
            let before: Int
            let after: Int
        }

        let beforeNames: [String]
        let afterNames: [String]
        /// Columns both versions have (after's order, after's names), with each side's index.
        let common: [Common]
        let headerChange: HeaderChange?

        var commonNames: [String] { common.map(\.name) }

        init(before: CSVTable, after: CSVTable) {
            let beforeNames = Self.uniqueNames(before)
            let afterNames = Self.uniqueNames(after)
            self.beforeNames = beforeNames
            self.afterNames = afterNames
            let beforeEmpty = before.header.isEmpty && before.rows.isEmpty
            let afterEmpty = after.header.isEmpty && after.rows.isEmpty
            if beforeEmpty || afterEmpty {
                // A file that one version lacks: compare the other's columns with nothing.
                let names = beforeEmpty ? afterNames : beforeNames
                common = names.indices.map { Common(name: names[$0], before: $0, after: $0) }
                headerChange = nil
                return
            }
            var beforeIndex: [String: Int] = [:]
            for (index, name) in beforeNames.enumerated() { beforeIndex[name] = index }
            let afterSet = Set(afterNames)
            var pairs: [Int: Int] = [:]  // after index → before index
            for (index, name) in afterNames.enumerated() {
                if let match = beforeIndex[name] { pairs[index] = match }
            }
            // Case-only renames, when unambiguous.
            let onlyBefore = beforeNames.indices.filter { !afterSet.contains(beforeNames[$0]) }
            let onlyAfter = afterNames.indices.filter { pairs[$0] == nil }
            var renamed: [HeaderChange.Rename] = []
            var renamedBefore = Set<Int>()
            for a in onlyAfter {
                let lower = afterNames[a].lowercased()
                let candidates = onlyBefore.filter { beforeNames[$0].lowercased() == lower }
                let rivals = onlyAfter.filter { afterNames[$0].lowercased() == lower }
                if candidates.count == 1, rivals.count == 1, let b = candidates.first {
                    pairs[a] = b
                    renamedBefore.insert(b)
                    renamed.append(HeaderChange.Rename(from: beforeNames[b], to: afterNames[a]))
                }
            }
            common = afterNames.indices.compactMap { a in pairs[a].map { Common(name: afterNames[a], before: $0, after: a) } }
            if before.header == after.header {
                headerChange = nil
            } else {
                headerChange = HeaderChange(
                    added: onlyAfter.filter { pairs[$0] == nil }.map { afterNames[$0] },
                    removed: onlyBefore.filter { !renamedBefore.contains($0) }.map { beforeNames[$0] },
                    renamed: renamed, before: before.header, after: after.header)
            }
        }

        /// Header names made unique (` (2)` for a repeat), extended with `(column N)` for
        /// fields beyond the header in longer rows.
        static func uniqueNames(_ table: CSVTable) -> [String] {
            var names: [String] = []
            var taken = Set<String>()
            var counts: [String: Int] = [:]
            for name in table.header {
                var count = counts[name, default: 0] + 1
                var unique = count == 1 ? name : "\(name) (\(count))"
                while taken.contains(unique) {
                    count += 1
                    unique = "\(name) (\(count))"
                }
                counts[name] = count
                taken.insert(unique)
                names.append(unique)
            }
            let width = table.rows.reduce(table.header.count) { max($0, $1.count) }
            if width > names.count {
                for index in names.count..<width { names.append("(column \(index + 1))") }
            }
            return names
        }

        func index(of name: String, side: RecordSide) -> Int? {
            common.first { $0.name == name }.map { side == .before ? $0.before : $0.after }
        }

        /// The row under its version's header (every header column; extra fields named).
        func fields(_ row: [[UInt8]], side: RecordSide) -> RecordFields {
            let names = side == .before ? beforeNames : afterNames
            return RecordFields(columns: names, bytes: names.indices.map { value(row, $0) })
        }
    }

    static func value(_ row: [[UInt8]], _ index: Int) -> [UInt8] {
        index < row.count ? row[index] : []
    }

    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Keys

    /// The key strategy, bound to column indices on each side.
    struct ResolvedKey {
        let key: RecordKey
        /// Key columns (before index, after index); empty for the whole row and row order.
        let columns: [(before: Int, after: Int)]
        /// Every compared column.
        let all: [(before: Int, after: Int)]

        /// The key as exact bytes: each field's length, then its bytes (no separator can collide).
        func internalKey(_ row: [[UInt8]], side: RecordSide) -> [UInt8] {
            switch key {
            case .linkedInConnections:
                let url = RecordDiff.value(row, pick(columns[0], side))
                return url.isEmpty ? [0x52] + content(row, side: side) : [0x55] + url
            case .linkedInMessages, .columns:
                return Self.join(columns.map { RecordDiff.value(row, pick($0, side)) })
            case .wholeRow:
                return content(row, side: side)
            case .rowOrder:
                return []
            }
        }

        /// Every compared value, exactly: rows with equal content are identical.
        func content(_ row: [[UInt8]], side: RecordSide) -> [UInt8] {
            Self.join(all.map { RecordDiff.value(row, pick($0, side)) })
        }

        /// The key as shown: the URL, `a | b | c`, or the row as a CSV line.
        func displayKey(_ row: [[UInt8]], side: RecordSide) -> [UInt8] {
            switch key {
            case .linkedInConnections:
                let url = RecordDiff.value(row, pick(columns[0], side))
                return url.isEmpty ? csvLine(all.map { RecordDiff.value(row, pick($0, side)) }) : url
            case .linkedInMessages, .columns:
                return Array(columns.map { RecordDiff.value(row, pick($0, side)) }.joined(separator: Array(" | ".utf8)))
            case .wholeRow, .rowOrder:
                return csvLine(all.map { RecordDiff.value(row, pick($0, side)) })
            }
        }

        private static func join(_ fields: [[UInt8]]) -> [UInt8] {
            var out: [UInt8] = []
            for field in fields {
                let n = UInt32(truncatingIfNeeded: field.count)
                out += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
                out += field
            }
            return out
        }

        private func pick(_ pair: (before: Int, after: Int), _ side: RecordSide) -> Int {
            side == .before ? pair.before : pair.after
        }

        private func csvLine(_ values: [[UInt8]]) -> [UInt8] {
            Array(values.map { RecordText.csvQuoted($0, always: false) }.joined(separator: [0x2C]))
        }
    }

    static let messageKeyColumns = ["CONVERSATION ID", "DATE", "FROM"]

    static func resolveKey(
        layout: ColumnLayout, keyColumns: [String], known: KnownRecordFile? = nil, defaultKey: [String]? = nil
    ) throws(RecordDiffError) -> ResolvedKey {
        let all = layout.common.map { (before: $0.before, after: $0.after) }
        func bind(_ names: [String]) -> [(before: Int, after: Int)] {
            names.compactMap { name in layout.common.first { $0.name == name }.map { ($0.before, $0.after) } }
        }
        if !keyColumns.isEmpty {
            var names: [String] = []
            for requested in keyColumns {
                if layout.common.contains(where: { $0.name == requested }) {
                    names.append(requested)
                    continue
                }
                let lower = requested.lowercased()
                let matches = layout.common.filter { $0.name.lowercased() == lower }
                guard matches.count == 1 else {
                    throw .unknownKeyColumn(column: requested, available: layout.commonNames)
                }
                names.append(matches[0].name)
            }
            return ResolvedKey(key: .columns(names), columns: bind(names), all: all)
        }
        let names = Set(layout.commonNames)
        if let known {
            for candidate in known.keys where candidate.allSatisfy(names.contains) {
                if candidate.isEmpty { return ResolvedKey(key: .rowOrder, columns: [], all: all) }
                switch (known.kind, candidate) {
                case (.connections, ["URL"]):
                    return ResolvedKey(key: .linkedInConnections, columns: bind(["URL"]), all: all)
                case (.messages, messageKeyColumns):
                    return ResolvedKey(key: .linkedInMessages, columns: bind(messageKeyColumns), all: all)
                default:
                    return ResolvedKey(key: .columns(candidate), columns: bind(candidate), all: all)
                }
            }
        }
        if let defaultKey, !defaultKey.isEmpty, defaultKey.allSatisfy(names.contains) {
            return ResolvedKey(key: .columns(defaultKey), columns: bind(defaultKey), all: all)
        }
        return ResolvedKey(key: .wholeRow, columns: [], all: all)
    }

    // MARK: - Rolling window

    /// Invitations.csv: the `Sent At` column and the oldest date the newer version still holds
    /// (nil when it holds no rows: everything dated has aged out).
    static func rollingWindow(layout: ColumnLayout, after: CSVTable) -> (beforeColumn: Int, oldest: Int64?)? {
        guard let beforeColumn = layout.index(of: "Sent At", side: .before),
            let afterColumn = layout.index(of: "Sent At", side: .after)
        else { return nil }
        var oldest: Int64?
        var rows = 0
        for row in after.byteRows where !row.allSatisfy(\.isEmpty) {
            rows += 1
            if let seconds = RecordDate.seconds(text(value(row, afterColumn))) { oldest = min(oldest ?? seconds, seconds) }
        }
        if rows > 0, oldest == nil { return nil }  // dates in a shape we cannot read: no ageing
        return (beforeColumn, oldest)
    }

    // MARK: - Summary

    static func summarize(
        path: String, kind: RecordFileKind, layout: ColumnLayout, added: [RecordRow], removed: [RecordRow],
        changed: [RecordChange], agedOut: [RecordRow]
    ) -> RecordDiffSummary {
        var newConnections = added.count, removedConnections = removed.count
        var jobChanges = 0, otherChanges = changed.count, nowHidden = 0, visibleAgain = 0, conversations = 0
        var parts: [String] = []
        switch kind {
        case .connections:
            jobChanges = changed.filter { $0.changedColumns.contains("Company") || $0.changedColumns.contains("Position") }.count
            otherChanges = changed.count - jobChanges
            // A member who hides their account: their row leaves and a blank row with the same
            // `Connected On` arrives; and back.
            func dates(_ rows: [RecordRow], blank: Bool) -> [String: Int] {
                var counts: [String: Int] = [:]
                for row in rows where (row.row["URL"] ?? "").isEmpty == blank {
                    counts[row.row["Connected On"] ?? "", default: 0] += 1
                }
                return counts
            }
            func pairs(_ a: [String: Int], _ b: [String: Int]) -> Int {
                a.reduce(0) { $0 + min($1.value, b[$1.key] ?? 0) }
            }
            if layout.commonNames.contains("URL"), layout.commonNames.contains("Connected On") {
                nowHidden = pairs(dates(added, blank: true), dates(removed, blank: false))
                visibleAgain = pairs(dates(removed, blank: true), dates(added, blank: false))
            }
            newConnections = added.count - nowHidden - visibleAgain
            removedConnections = removed.count - nowHidden - visibleAgain
            parts.append(plural(newConnections, "new connection"))
            parts.append("\(removedConnections) removed")
            parts.append(plural(jobChanges, "changed job"))
            if otherChanges > 0 { parts.append("\(otherChanges) changed") }
            if nowHidden > 0 { parts.append("\(nowHidden) now hidden") }
            if visibleAgain > 0 { parts.append("\(visibleAgain) visible again") }
        case .messages:
            if let column = layout.commonNames.first(where: { $0 == "CONVERSATION ID" }) {
                conversations = Set(added.map { $0.row[column] ?? "" }).count
            }
            parts.append(plural(added.count, "new message") + " in " + plural(conversations, "conversation"))
            if !removed.isEmpty { parts.append("\(removed.count) removed") }
            if !changed.isEmpty { parts.append("\(changed.count) changed") }
        case .invitations:
            parts.append("\(added.count) new")
            parts.append("\(agedOut.count) aged out")
            if !removed.isEmpty { parts.append("\(removed.count) removed") }
            if !changed.isEmpty { parts.append("\(changed.count) changed") }
        case .tweets, .likes, .followers, .following:
            let noun = kind == .tweets ? "tweet" : kind == .likes ? "like" : kind == .followers ? "follower" : "followed account"
            parts.append(plural(added.count, "new " + noun))
            parts.append("\(removed.count) removed")
            parts.append("\(changed.count) changed")
        case .generic:
            parts.append("\(added.count) added")
            parts.append("\(removed.count) removed")
            parts.append("\(changed.count) changed")
            if !agedOut.isEmpty { parts.append("\(agedOut.count) aged out") }
        }
        var text = path + ": " + parts.joined(separator: ", ")
        if let change = layout.headerChange { text += "; " + change.description }
        return RecordDiffSummary(
            kind: kind, added: added.count, removed: removed.count, changed: changed.count, agedOut: agedOut.count,
            newConnections: kind == .connections ? newConnections : 0,
            removedConnections: kind == .connections ? removedConnections : 0, jobChanges: jobChanges,
            otherChanges: kind == .connections ? otherChanges : 0, nowHidden: nowHidden, visibleAgain: visibleAgain,
            conversations: conversations, text: text)
    }

    static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
