// ExportRecordKind.swift: what the series page counts and charts in each kind of export.
//
// A kind is a list of measures; a measure names the file it reads (recognised by its path in a
// version, zip members included), how to count its records, and how to count the records gained
// and lost between two versions. A new kind of export is one more `ExportRecordKind` value in
// `ExportRecordKinds.all`.

import CofferExports

/// One number charted per version of a series: rows of one file of an export.
public struct RecordMeasure: Sendable {
    /// Used in element ids: `chart-<id>`, `changes-<id>`.
    public let id: String
    /// `Connections`.
    public let title: String
    /// `new connections`, `removed connections`.
    public let gainLabel: String
    public let lossLabel: String
    /// Whether a path of a version (raw bytes, `Export.zip/Connections.csv`) is this measure's file.
    public let matches: @Sendable ([UInt8]) -> Bool
    /// The number of records in the file.
    public let count: @Sendable ([UInt8]) throws -> Int
    /// Records gained and lost from one version of the file to the next.
    public let compare: @Sendable (_ before: [UInt8], _ after: [UInt8]) throws -> (gained: Int, lost: Int)

    public init(
        id: String, title: String, gainLabel: String, lossLabel: String, matches: @escaping @Sendable ([UInt8]) -> Bool,
        count: @escaping @Sendable ([UInt8]) throws -> Int,
        compare: @escaping @Sendable ([UInt8], [UInt8]) throws -> (gained: Int, lost: Int)
    ) {
        self.id = id
        self.title = title
        self.gainLabel = gainLabel
        self.lossLabel = lossLabel
        self.matches = matches
        self.count = count
        self.compare = compare
    }
}

/// A kind of export and the measures charted for it.
public struct ExportRecordKind: Sendable {
    /// `linkedin`.
    public let id: String
    /// `LinkedIn`.
    public let title: String
    public let measures: [RecordMeasure]
}

/// The kinds the series page knows.
public enum ExportRecordKinds {
    public static let all: [ExportRecordKind] = [linkedIn, xArchive]

    /// LinkedIn's data export: Connections.csv (new and removed connections, as `coffer diff
    /// --records` counts them) and messages.csv.
    public static let linkedIn = ExportRecordKind(
        id: "linkedin", title: "LinkedIn",
        measures: [
            RecordMeasure(
                id: "connections", title: "Connections", gainLabel: "new connections", lossLabel: "removed connections",
                matches: { lastComponent($0, is: "connections.csv") }, count: { try csvRows($0) },
                compare: { before, after in
                    let d = try RecordDiff.compare(before: before, after: after, path: "Connections.csv")
                    return (d.summary.newConnections, d.summary.removedConnections)
                }),
            RecordMeasure(
                id: "messages", title: "Messages", gainLabel: "new messages", lossLabel: "removed messages",
                matches: { lastComponent($0, is: "messages.csv") }, count: { try csvRows($0) },
                compare: { before, after in
                    let d = try RecordDiff.compare(before: before, after: after, path: "messages.csv")
                    return (d.summary.added, d.summary.removed)
                }),
        ])

    /// An X (Twitter) archive: `data/tweets.js` and `data/follower.js`, records keyed by their ids
    /// as `coffer diff --records` reads them.
    public static let xArchive = ExportRecordKind(
        id: "x", title: "X archive",
        measures: [
            RecordMeasure(
                id: "tweets", title: "Tweets", gainLabel: "new tweets", lossLabel: "deleted tweets",
                matches: { lastComponent($0, is: "tweets.js") }, count: { try jsonRecords($0) },
                compare: { before, after in
                    let d = try RecordDiff.compare(before: before, after: after, path: "data/tweets.js")
                    return (d.summary.added, d.summary.removed)
                }),
            RecordMeasure(
                id: "followers", title: "Followers", gainLabel: "new followers", lossLabel: "lost followers",
                matches: { lastComponent($0, is: "follower.js") }, count: { try jsonRecords($0) },
                compare: { before, after in
                    let d = try RecordDiff.compare(before: before, after: after, path: "data/follower.js")
                    return (d.summary.added, d.summary.removed)
                }),
        ])

    /// Records of an X archive `.js` file (`window.YTD.tweets.part0 = [ … ]`) or a JSON array.
    public static func jsonRecords(_ bytes: [UInt8]) throws -> Int {
        try JSONRecords.read(bytes).table.byteRows.count
    }

    /// Rows of a CSV file that are not blank (a preamble such as LinkedIn's `Notes:` is skipped).
    public static func csvRows(_ bytes: [UInt8]) throws -> Int {
        let table = try CSVReader.read(bytes)
        return table.rows.indices.filter { !table.isBlankRow($0) }.count
    }

    /// Whether the last component of `path` is `name` (ASCII letters compared without case; the
    /// comparison is on bytes).
    public static func lastComponent(_ path: [UInt8], is name: String) -> Bool {
        let slash = UInt8(ascii: "/")
        let start = (path.lastIndex(of: slash).map { $0 + 1 }) ?? 0
        let last = path[start...]
        let wanted = Array(name.utf8)
        guard last.count == wanted.count else { return false }
        func lower(_ b: UInt8) -> UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) ? b + 32 : b }
        return zip(last, wanted).allSatisfy { lower($0) == lower($1) }
    }
}
