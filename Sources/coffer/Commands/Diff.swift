import ArgumentParser
import CofferCore
import CofferExports
import Foundation

extension Coffer {
    /// `coffer diff`: what changed between two versions.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed between two versions: files and zip members, or records (CSV rows, JSON array items) with --records.",
            discussion: """
                Files and zip members (Export.zip/Connections.csv) are compared by content. When each \
                version holds one export with a dated name, the two exports are compared with each \
                other. With --records, record files that changed (CSV, and JSON arrays such as an X \
                archive's data/tweets.js) are compared record by record, values byte for byte: \
                each known file by its natural key (README lists them; LinkedIn Connections by \
                profile URL, messages by conversation, date and sender, tweets by id), others by \
                --key columns or the whole row. Rows that leave Invitations.csv because of its \
                rolling window are reported as aged out. Each record line starts with its marker \
                (+ added, - removed, ~ changed, · aged out); long values are shortened in the \
                middle unless --wide. A file that does not parse is reported and the others are \
                still compared; the exit status is then 1.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: "The older version.")
        var from: String

        @Argument(help: "The newer version.")
        var to: String

        @Argument(help: "With --records: only this record file (a path as 'coffer ls' shows it, or just its name).")
        var path: String?

        @Flag(help: "Compare changed record files (CSV, TSV, JSON arrays, an X archive's .js) record by record.")
        var records = false

        @Option(name: .customLong("key"), help: ArgumentHelp("With --records: a key column (repeatable, any letter case), overriding the file's default key (README lists them; else the whole row).", valueName: "column"))
        var keys: [String] = []

        @Flag(help: "With --records: print values whole instead of shortening long ones in the middle.")
        var wide = false

        func validate() throws {
            if path != nil && !records { throw ValidationError("a PATH is only used with --records") }
            if !keys.isEmpty && !records { throw ValidationError("--key is only used with --records") }
            if wide && !records { throw ValidationError("--wide is only used with --records") }
        }

        func run() throws {
            let vault = try vaultArguments.open()
            let a = try vault.resolve(from), b = try vault.resolve(to)
            if records {
                try recordDiff(vault: vault, a: a, b: b)
            } else {
                try fileDiff(vault: vault, a: a, b: b)
            }
        }

        /// Prints each change as the two walks produce it.
        private func fileDiff(vault: Vault, a: ObjectID, b: ObjectID) throws {
            var added = 0, removed = 0, changed = 0
            let rename = try vault.renamedRoot(from: a, to: b)
            if output.json {
                // "compared" sorts before "files": the renamed root is known before the first change.
                let compared = rename.map { FileDiffJSON.Leading(compared: [String(decoding: $0.before, as: UTF8.self), String(decoding: $0.after, as: UTF8.self)]) }
                let stream = try JSONArrayStream(key: "files", leading: compared)
                let (_, summary) = try vault.diff(from: a, to: b) { try stream.append(FileDiffJSON.Item($0)) }
                try stream.finish(FileDiffJSON.Trailing(unchanged: summary.unchanged))
                return
            }
            // The changes are the result: printed with --quiet too; only the summary line is not.
            if let (x, y) = rename {
                Console.out("comparing \(TerminalText.escape(bytes: x)) with \(TerminalText.escape(bytes: y))")
            }
            let (_, summary) = try vault.diff(from: a, to: b) { c in
                switch c {
                case .added(let e):
                    added += 1
                    Console.out("+ \(e.displayPath)\(e.type == .directory ? "/" : "  \(Format.bytes(e.size))")")
                case .removed(let e):
                    removed += 1
                    Console.out("- \(e.displayPath)\(e.type == .directory ? "/" : "  \(Format.bytes(e.size))")")
                case .changed(let x, let y):
                    changed += 1
                    let delta = Int64(bitPattern: y.size &- x.size)
                    Console.out("M \(y.displayPath)  \(Format.bytes(x.size)) → \(Format.bytes(y.size)) (\(delta >= 0 ? "+" : "-")\(Format.bytes(delta.magnitude)))")
                }
            }
            if output.quiet { return }
            Console.out("\(added) added, \(removed) removed, \(changed) changed, \(summary.unchanged) unchanged (\(a.short) → \(b.short))")
        }

        private func recordDiff(vault: Vault, a: ObjectID, b: ObjectID) throws {
            let handler = ZipArchiveHandler()
            let diff = try VersionDiff(vault, from: a, to: b)
            var pairs: [([UInt8], [UInt8])] = []  // (path before, path after)
            for c in diff.changes {
                guard case .changed(_, let y) = c, y.type == .file, Self.isTable(y.path) else { continue }
                if let path {
                    guard Paths.endsWithComponents(y.path, Paths.normalized(path)) else { continue }
                }
                pairs.append((diff.pathInBefore(y.pathBytes), y.pathBytes))
            }
            if let path, pairs.isEmpty {
                var known = false
                let walker = try vault.walker(for: b, expandArchives: true)
                while let e = try walker.next() {
                    if Paths.endsWithComponents(e.path, Paths.normalized(path)) { known = true; break }
                }
                guard known else { throw CofferError.pathNotInVersion(path: path, version: b.short) }
            }
            var files: [FileRecordDiff] = []
            var failures: [RecordFileFailure] = []
            for (before, after) in pairs {
                var old: [UInt8] = [], new: [UInt8] = []
                try vault.readFile(a, pathBytes: before, archiveHandler: handler) { old += $0 }
                try vault.readFile(b, pathBytes: after, archiveHandler: handler) { new += $0 }
                let shown = String(decoding: after, as: UTF8.self)
                do {
                    files.append(try RecordDiff.compare(before: old, after: new, path: shown, keyColumns: keys))
                } catch RecordDiffError.unknownKeyColumn(let column, let available) where path != nil {
                    // The one file asked for lacks the --key column: a usage error. Among all
                    // changed files, one without it is reported like one that does not parse.
                    let error = RecordDiffError.unknownKeyColumn(column: column, available: available)
                    throw CofferError.invalidArgument("\(TerminalText.escape(bytes: after)): \(error)")
                } catch {
                    // A file that does not parse: reported, the others still compared.
                    failures.append(RecordFileFailure(pathBytes: after, error: Self.reason(error)))
                }
            }
            if output.json {
                try JSONOutput.print(RecordDiffReport(files: files, errors: failures))
            } else {
                printRecords(files, failures: failures, a: a, b: b)
            }
            if !failures.isEmpty {
                // With --json the document's "errors" is the report (no second JSON line).
                let message = failures.count == 1 ? "1 file could not be compared" : "\(failures.count) files could not be compared"
                throw CommandFailure(.failure, output.json ? "" : message)
            }
        }

        /// The text form: per file a summary line, then one line per record, each starting with
        /// its marker. The changed records are the result: printed with --quiet too.
        private func printRecords(_ files: [FileRecordDiff], failures: [RecordFileFailure], a: ObjectID, b: ObjectID) {
            let limit = wide ? nil : RecordText.defaultLimit
            if files.isEmpty, failures.isEmpty { Console.out("no record file changed (\(a.short) → \(b.short))") }
            for f in files {
                // A file that is Windows-1252 rather than UTF-8 is shown decoded, and says so.
                let cp1252 = f.shownAs == "Windows-1252"
                func shown(_ bytes: [UInt8]) -> [UInt8] { cp1252 ? RecordText.fromWindows1252(bytes) : bytes }
                func row(_ fields: RecordFields) -> String { RecordText.row(fields.bytes.map(shown), limit: limit) }
                Console.out(Console.name(f.summary.text) + (cp1252 ? " (not UTF-8: values shown as Windows-1252)" : ""))
                if let h = f.headerChange { Console.out("header: \(Console.name(h.description))") }
                for r in f.added { Console.out("+ " + row(r.row)) }
                for r in f.removed { Console.out("- " + row(r.row)) }
                for c in f.changed {
                    let cols = zip(c.before.columns, zip(c.before.bytes, c.after.bytes)).map { column, values in
                        let pair = RecordText.changedPair(shown(values.0), shown(values.1), limit: limit)
                        return Console.name(column) + ": " + pair.before + " → " + pair.after
                    }
                    Console.out("~ " + Self.label(c, limit: limit, shown: shown) + ": " + cols.joined(separator: "; "))
                }
                for r in f.agedOut { Console.out("· aged out: " + row(r.row)) }
            }
            for failure in failures {
                Console.out(TerminalText.escape(bytes: failure.pathBytes) + ": not compared: " + Console.name(failure.error))
            }
        }

        /// The error's text without the path (the line starts with it).
        static func reason(_ error: any Error) -> String {
            switch error {
            case RecordDiffError.unreadable(_, let side, let error): "cannot read the \(side.rawValue) version: \(error)"
            case RecordDiffError.unreadableJSON(_, let side, let reason): "cannot read the \(side.rawValue) version: \(reason)"
            default: "\(error)"
            }
        }

        static func isTable(_ path: String) -> Bool {
            let l = path.lowercased()
            return l.hasSuffix(".csv") || l.hasSuffix(".tsv") || l.hasSuffix(".js") || l.hasSuffix(".json")
        }

        /// How a changed record is named: `First Last (key)` for people, else its key.
        static func label(_ change: RecordChange, limit: Int?, shown: ([UInt8]) -> [UInt8]) -> String {
            let key = RecordText.field(shown(change.keyBytes), limit: limit)
            if let f = change.row.bytes("First Name"), let l = change.row.bytes("Last Name"), !(f + l).isEmpty {
                return RecordText.field(shown(f + [0x20] + l), limit: limit) + " (" + key + ")"
            }
            return key
        }
    }
}

/// `diff --json` without --records: `{"compared": [before, after]?, "files": [...], "unchanged": n}`,
/// the files written as the comparison finds them. Paths as in `ls --json` (`path_bytes` when
/// not UTF-8).
enum FileDiffJSON {
    struct Leading: Encodable {
        var compared: [String]
    }

    struct Trailing: Encodable {
        var unchanged: Int
    }

    struct Item: Encodable {
        var path: String
        var path_bytes: String?
        var change: String
        var type: String
        var size_before: UInt64?
        var size_after: UInt64?

        init(_ c: VersionDiff.Change) {
            (path, path_bytes) = JSONBytes.lossless(c.pathBytes)
            switch c {
            case .added(let e): (change, type, size_before, size_after) = ("added", "\(e.type)", nil, e.size)
            case .removed(let e): (change, type, size_before, size_after) = ("removed", "\(e.type)", e.size, nil)
            case .changed(let x, let y): (change, type, size_before, size_after) = ("changed", "\(y.type)", x.size, y.size)
            }
        }
    }
}
