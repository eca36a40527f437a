// DiffPage.swift: what changed between two versions: files and zip members added, removed and
// changed, and for the CSV files of exports the record diff (`coffer diff --records`): new and
// removed connections, changed jobs, new messages. The lists are filtered by search.js as one
// types; without JavaScript they are all shown.

import CofferCore
import CofferExports
import Foundation
import Hummingbird

/// The comparison of two versions, as the diff page shows it.
struct DiffReport: Sendable {
    var added: [VersionEntry] = []
    var removed: [VersionEntry] = []
    var changed: [(before: VersionEntry, after: VersionEntry)] = []
    var unchanged = 0
    var renamedRoot: (before: [UInt8], after: [UInt8])?
    var records: [FileRecordDiff] = []
    /// CSV files whose rows could not be compared, with why.
    var unreadable: [String] = []
}

extension Pages {
    /// Files listed per kind of change, at most; the page says how many more there are.
    static let diffListLimit = 2000

    static func compare(vault: Vault, a: ObjectID, b: ObjectID) throws -> DiffReport {
        var report = DiffReport()
        let diff = try VersionDiff(vault, from: a, to: b)
        report.unchanged = diff.unchanged
        report.renamedRoot = diff.renamedRootBytes
        let handler = ZipArchiveHandler()
        for c in diff.changes {
            switch c {
            case .added(let e): report.added.append(e)
            case .removed(let e): report.removed.append(e)
            case .changed(let x, let y):
                report.changed.append((x, y))
                guard y.type == .file, isTable(y.pathBytes) else { continue }
                var old: [UInt8] = [], new: [UInt8] = []
                try vault.readFile(a, pathBytes: diff.pathInBefore(y.pathBytes), archiveHandler: handler) { old += $0 }
                try vault.readFile(b, pathBytes: y.pathBytes, archiveHandler: handler) { new += $0 }
                let shown = String(decoding: y.pathBytes, as: UTF8.self)
                do {
                    report.records.append(try RecordDiff.compare(before: old, after: new, path: shown))
                } catch {
                    report.unreadable.append("\(shown): \(error)")
                }
            }
        }
        // Connections first, then messages and invitations, then X archive records, then other tables (stable).
        func rank(_ k: RecordFileKind) -> Int {
            switch k {
            case .connections: 0
            case .messages: 1
            case .invitations: 2
            case .tweets: 3
            case .followers: 4
            case .following: 5
            case .likes: 6
            case .generic: 7
            }
        }
        report.records = report.records.enumerated().sorted { (rank($0.element.kind), $0.offset) < (rank($1.element.kind), $1.offset) }.map(\.element)
        return report
    }

    /// `.csv`, `.tsv`, or a JSON record file (`.js`, `.json`, as X archives hold), compared on bytes.
    static func isTable(_ path: [UInt8]) -> Bool {
        [".csv", ".tsv", ".js", ".json"].contains { ExportRecordKinds.lastComponentHasSuffix(path, $0) }
    }

    func diff(a aText: String?, b bText: String?) async throws -> Response {
        let a = try await resolve(aText), b = try await resolve(bText)
        let (va, vb) = try await model.read { vault in (try vault.version(a), try vault.version(b)) }
        let report = try await model.read { vault in try Self.compare(vault: vault, a: a, b: b) }

        var body: [Node] = [
            .el("nav", [("aria-label", "Breadcrumb")], [.el("ol", [("class", "crumbs")], [.el("li", [], [.el("a", [("href", "/")], "Overview")]), .el("li", [], [.el("a", [("href", Self.seriesLink(vb.name))], vb.name)]), .el("li", [("aria-current", "page")], "Compare")])]),
            .el("h1", [], "What changed"),
            .el(
                "p", [],
                [
                    .text("From "), .el("a", [("href", Self.versionLink(a))], "\(va.name) \(Show.dateTime(va.time)) (\(a.short))"),
                    .text(" to "), .el("a", [("href", Self.versionLink(b))], "\(vb.name) \(Show.dateTime(vb.time)) (\(b.short))"), .text("."),
                ]),
        ]
        if let (x, y) = report.renamedRoot {
            body.append(.el("p", [("class", "muted")], [.text("Comparing "), .el("span", [("class", "path")], [.bytes(x)]), .text(" with "), .el("span", [("class", "path")], [.bytes(y)]), .text(".")]))
        }
        body.append(
            .el(
                "div", [("class", "cards")],
                [
                    Self.card(Show.count(report.added.count), "added", id: "files-added"), Self.card(Show.count(report.removed.count), "removed", id: "files-removed"),
                    Self.card(Show.count(report.changed.count), "changed", id: "files-changed"), Self.card(Show.count(report.unchanged), "unchanged"),
                ]))

        // Records first: that is what people come for.
        if !report.records.isEmpty {
            body.append(.el("h2", [], "Records"))
            let connections = report.records.filter { $0.kind == .connections }
            let messages = report.records.filter { $0.kind == .messages }
            if !connections.isEmpty || !messages.isEmpty {
                body.append(
                    .el(
                        "div", [("class", "cards")],
                        [
                            Self.card("+" + Show.count(connections.reduce(0) { $0 + $1.summary.newConnections }), "new connections", id: "new-connections"),
                            Self.card("−" + Show.count(connections.reduce(0) { $0 + $1.summary.removedConnections }), "removed connections", id: "removed-connections"),
                            Self.card(Show.count(connections.reduce(0) { $0 + $1.summary.jobChanges }), "changed jobs", id: "job-changes"),
                            Self.card(Show.count(messages.reduce(0) { $0 + $1.summary.added }), "new messages", id: "new-messages"),
                        ]))
            }
            body.append(
                .el(
                    "div", [("id", "record-search"), ("hidden", "")],
                    [
                        .el("label", [("for", "record-search-input")], "Search the records (names, companies, messages)"),
                        .el("input", [("type", "search"), ("id", "record-search-input"), ("autocomplete", "off")]),
                        .el("p", [("id", "record-search-status"), ("aria-live", "polite"), ("class", "muted")], ""),
                    ]))
            for (index, file) in report.records.enumerated() {
                let section = Self.recordSection(file, index: index)
                if file.kind == .generic {
                    // Other tables of the export: folded, their summary line visible.
                    body.append(.el("details", [], [.el("summary", [], file.summary.text)] + section))
                } else {
                    body.append(contentsOf: section)
                }
            }
        }
        for line in report.unreadable {
            body.append(.el("p", [("class", "reminder")], "Rows not compared: \(line)"))
        }

        body.append(.el("h2", [], "Files"))
        body.append(Self.fileList(title: "Added", id: "added-files", entries: report.added.map { ($0.pathBytes, Show.bytes($0.size), $0.type) }, link: { Self.fileLink(b, path: $0) }))
        body.append(Self.fileList(title: "Removed", id: "removed-files", entries: report.removed.map { ($0.pathBytes, Show.bytes($0.size), $0.type) }, link: { Self.fileLink(a, path: $0) }))
        body.append(
            Self.fileList(
                title: "Changed", id: "changed-files",
                entries: report.changed.map { ($0.after.pathBytes, "\(Show.bytes($0.before.size)) → \(Show.bytes($0.after.size))", $0.after.type) },
                link: { Self.fileLink(b, path: $0) }))
        return Self.htmlResponse(Self.document(title: "Compare \(a.short) → \(b.short)", vault: location, scripts: ["search.js"], body: body))
    }

    static func fileList(title: String, id: String, entries: [(path: [UInt8], size: String, type: EntryType)], link: ([UInt8]) -> String) -> Node {
        guard !entries.isEmpty else { return .el("p", [("id", id)], "\(title): none.") }
        let shown = entries.prefix(diffListLimit)
        let rows: [[Node]] = shown.map { e in
            let name: Node = (e.type == .file || e.type == .archive) ? .el("a", [("href", link(e.path)), ("class", "path"), ("download", "")], [.bytes(e.path)]) : .el("span", [("class", "path")], [.bytes(e.path), .text(e.type == .directory ? "/" : "")])
            return [name, .text(e.type == .directory ? "" : e.size)]
        }
        var nodes = [table(caption: "\(title) (\(Show.count(entries.count)))", headers: ["Path", "Size"], numeric: [1], rows: rows, id: id)]
        if entries.count > shown.count {
            nodes.append(.el("p", [("class", "muted")], "… and \(Show.count(entries.count - shown.count)) more (coffer diff lists them all)."))
        }
        return .group(nodes)
    }

    /// One CSV file's record diff: its summary, then the added, removed, changed and aged-out rows.
    static func recordSection(_ f: FileRecordDiff, index: Int) -> [Node] {
        let isConnections = f.kind == .connections
        let isMessages = f.kind == .messages
        var nodes: [Node] = [
            .el("h3", [("class", "path")], f.path),
            .el("p", [("id", "summary-\(index)")], f.summary.text),
        ]
        if let h = f.headerChange { nodes.append(.el("p", [("class", "muted")], "Header: \(h.description)")) }
        func list(_ heading: String, _ id: String, _ items: [(sign: String, cls: String, text: String, key: String)]) {
            guard !items.isEmpty else { return }
            nodes.append(.el("h4", [], "\(heading) (\(Show.count(items.count)))"))
            nodes.append(
                .el(
                    "ul", [("class", "records"), ("id", id)],
                    items.map { item in
                        .el("li", [("data-search", item.text.lowercased()), ("data-key", item.key)], [.el("span", [("class", "sign " + item.cls), ("aria-hidden", "true")], item.sign), .text(item.text)])
                    }))
        }
        let slug = isConnections ? "connections" : isMessages ? "messages" : "records-\(index)"
        list(isConnections ? "New connections" : isMessages ? "New messages" : "Added rows", "added-\(slug)", f.added.map { ("+", "gain", describe($0.row), $0.key) })
        list(isConnections ? "Removed connections" : isMessages ? "Removed messages" : "Removed rows", "removed-\(slug)", f.removed.map { ("−", "loss", describe($0.row), $0.key) })
        list(
            isConnections ? "Changed jobs and details" : "Changed rows", "changed-\(slug)",
            f.changed.map { c in
                let cols = c.changedColumns.map { "\($0): \(c.before[$0] ?? "") → \(c.after[$0] ?? "")" }.joined(separator: "; ")
                return ("~", "", "\(label(c.row)): \(cols)", c.key)
            })
        list("Aged out of the rolling window", "aged-\(slug)", f.agedOut.map { ("·", "muted", describe($0.row), $0.key) })
        return nodes
    }

    /// A row as `Name, Company, …` (its non-empty values; long ones shortened).
    static func describe(_ row: RecordFields) -> String {
        let values = row.values.filter { !$0.isEmpty }
        let shown = values.prefix(6).map { $0.count > 120 ? String($0.prefix(117)) + "…" : $0 }
        return shown.isEmpty ? "(blank row)" : shown.joined(separator: ", ") + (values.count > 6 ? ", …" : "")
    }

    /// First and last name when the row has them, else its first values.
    static func label(_ row: RecordFields) -> String {
        if let f = row["First Name"], let l = row["Last Name"], !(f + l).isEmpty { return "\(f) \(l)" }
        return describe(RecordFields(columns: Array(row.columns.prefix(2)), values: Array(row.values.prefix(2))))
    }
}

extension ExportRecordKinds {
    /// Whether the last component of `path` ends with `suffix` (ASCII letters without case; bytes).
    static func lastComponentHasSuffix(_ path: [UInt8], _ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        guard path.count >= s.count else { return false }
        func lower(_ b: UInt8) -> UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) ? b + 32 : b }
        return zip(path.suffix(s.count), s).allSatisfy { lower($0) == lower($1) }
    }
}
