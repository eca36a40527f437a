import ArgumentParser
import CofferCore
import CofferExports
import Foundation

extension Coffer {
    /// `coffer diff`: what changed between two versions.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed between two versions: files and zip members, or CSV rows with --records.",
            discussion: """
                Files and zip members (Export.zip/Connections.csv) are compared by content. When each \
                version holds one export with a dated name, the two exports are compared with each \
                other. With --records, CSV files that changed are compared row by row: LinkedIn \
                Connections by profile URL, messages by conversation, date and sender, other files \
                by --key columns or the whole row. Rows that leave Invitations.csv because of its \
                rolling window are reported as aged out.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: "The older version.")
        var from: String

        @Argument(help: "The newer version.")
        var to: String

        @Argument(help: "With --records: only this CSV file (a path as 'coffer ls' shows it, or just its name).")
        var path: String?

        @Flag(help: "Compare changed CSV files row by row.")
        var records = false

        @Option(name: .customLong("key"), help: ArgumentHelp("With --records: a key column (repeatable); default: inferred.", valueName: "column"))
        var keys: [String] = []

        func validate() throws {
            if path != nil && !records { throw ValidationError("a PATH is only used with --records") }
            if !keys.isEmpty && !records { throw ValidationError("--key is only used with --records") }
        }

        func run() throws {
            let vault = try vaultArguments.open()
            let a = try vault.resolve(from), b = try vault.resolve(to)
            let va = try vault.version(a), vb = try vault.version(b)
            let diff = VersionDiff(from: va, to: vb)
            if records {
                try recordDiff(vault: vault, a: a, b: b, diff: diff)
            } else {
                fileDiff(diff, a: a, b: b)
            }
        }

        private func fileDiff(_ diff: VersionDiff, a: ObjectID, b: ObjectID) {
            if output.json {
                try? JSONOutput.print(FileDiffJSON(diff))
                return
            }
            if output.quiet { return }
            if let (x, y) = diff.renamedRoot { Console.out("comparing \(Console.name(x)) with \(Console.name(y))") }
            var added = 0, removed = 0, changed = 0
            for c in diff.changes {
                switch c {
                case .added(let e):
                    added += 1
                    Console.out("+ \(Console.name(e.path))\(e.type == .directory ? "/" : "  \(Format.bytes(e.size))")")
                case .removed(let e):
                    removed += 1
                    Console.out("- \(Console.name(e.path))\(e.type == .directory ? "/" : "  \(Format.bytes(e.size))")")
                case .changed(let x, let y):
                    changed += 1
                    let delta = Int64(y.size) - Int64(x.size)
                    Console.out("M \(Console.name(y.path))  \(Format.bytes(x.size)) → \(Format.bytes(y.size)) (\(delta >= 0 ? "+" : "-")\(Format.bytes(UInt64(abs(delta)))))")
                }
            }
            Console.out("\(added) added, \(removed) removed, \(changed) changed, \(diff.unchanged) unchanged (\(a.short) → \(b.short))")
        }

        private func recordDiff(vault: Vault, a: ObjectID, b: ObjectID, diff: VersionDiff) throws {
            let handler = ZipArchiveHandler()
            var pairs: [(String, String)] = []  // (path before, path after)
            for c in diff.changes {
                guard case .changed(_, let y) = c, y.type == .file, Self.isTable(y.path) else { continue }
                if let path {
                    guard Paths.endsWithComponents(y.path, Paths.normalized(path)) else { continue }
                }
                pairs.append((diff.pathInBefore(y.path), y.path))
            }
            if let path, pairs.isEmpty {
                let known = try vault.version(b).expandedEntries.contains { Paths.endsWithComponents($0.path, Paths.normalized(path)) }
                guard known else { throw CofferError.pathNotInVersion(path: path, version: b.short) }
            }
            var files: [FileRecordDiff] = []
            for (before, after) in pairs {
                var old: [UInt8] = [], new: [UInt8] = []
                try vault.readFile(a, path: before, archiveHandler: handler) { old += $0 }
                try vault.readFile(b, path: after, archiveHandler: handler) { new += $0 }
                do {
                    files.append(try RecordDiff.compare(before: old, after: new, path: after, keyColumns: keys))
                } catch {
                    throw CofferError.invalidArgument("\(after): \(error)")
                }
            }
            if output.json {
                try JSONOutput.print(RecordDiffReport(files: files))
                return
            }
            if output.quiet { return }
            if files.isEmpty { Console.out("no CSV file changed (\(a.short) → \(b.short))") }
            for f in files {
                Console.out(Console.name(f.summary.text))
                if let h = f.headerChange { Console.out("  header: \(Console.name(h.description))") }
                for r in f.added { Console.out("  + \(Self.describe(r.row))") }
                for r in f.removed { Console.out("  - \(Self.describe(r.row))") }
                for c in f.changed {
                    let cols = c.changedColumns.map { Console.name("\($0): \(c.before[$0] ?? "") → \(c.after[$0] ?? "")") }
                    Console.out("  ~ \(Self.label(c.row)): " + cols.joined(separator: "; "))
                }
                for r in f.agedOut { Console.out("  · aged out: \(Self.describe(r.row))") }
            }
        }

        static func isTable(_ path: String) -> Bool {
            let l = path.lowercased()
            return l.hasSuffix(".csv") || l.hasSuffix(".tsv")
        }

        /// A row as `Name, Company, …` (the first few non-empty values).
        static func describe(_ row: RecordFields) -> String {
            let values = row.values.filter { !$0.isEmpty }
            let shown = values.prefix(5).map { Console.name($0.count > 60 ? String($0.prefix(57)) + "…" : $0) }
            return shown.isEmpty ? "(blank row)" : shown.joined(separator: ", ") + (values.count > 5 ? ", …" : "")
        }

        /// A short name for a row: first and last name when present, else its first values.
        static func label(_ row: RecordFields) -> String {
            if let f = row["First Name"], let l = row["Last Name"], !(f + l).isEmpty { return Console.name("\(f) \(l)") }
            return describe(RecordFields(columns: Array(row.columns.prefix(2)), values: Array(row.values.prefix(2))))
        }
    }
}

/// `diff --json` without --records.
private struct FileDiffJSON: Encodable {
    struct Item: Encodable {
        var path: String
        var change: String
        var type: String
        var size_before: UInt64?
        var size_after: UInt64?
    }

    var files: [Item]
    var unchanged: Int
    var compared: [String]?

    init(_ d: VersionDiff) {
        files = d.changes.map { c in
            switch c {
            case .added(let e): return Item(path: e.path, change: "added", type: "\(e.type)", size_before: nil, size_after: e.size)
            case .removed(let e): return Item(path: e.path, change: "removed", type: "\(e.type)", size_before: e.size, size_after: nil)
            case .changed(let x, let y): return Item(path: y.path, change: "changed", type: "\(y.type)", size_before: x.size, size_after: y.size)
            }
        }
        unchanged = d.unchanged
        compared = d.renamedRoot.map { [$0.before, $0.after] }
    }
}
