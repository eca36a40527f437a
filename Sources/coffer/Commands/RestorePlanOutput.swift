import ArgumentParser
import CofferCore
import Foundation

extension OverwriteMode: ExpressibleByArgument {}

/// What `restore` reports entry by entry: each path `--delete` removes (a line on stderr, or the
/// `removed` field of `--json`), and with `--dry-run` the whole plan (lines on stdout, or the
/// `plan` field of `--json`).
final class RestoreEventLog: @unchecked Sendable {
    private let output: OutputOptions
    private let dryRun: Bool
    /// The restore's folder as given, for the paths removed.
    private let target: String
    private let lock = NSLock()
    private var plan: [RestorePathJSON] = []
    private var removedPaths: [RestorePathJSON] = []

    init(output: OutputOptions, dryRun: Bool, target: String) {
        self.output = output
        self.target = target
        self.dryRun = dryRun
    }

    /// Paths removed, for `--json`.
    var removed: [RestorePathJSON] { lock.withLock { removedPaths } }

    func take(_ event: RestoreEvent) {
        lock.withLock {
            let line = RestorePathJSON(event)
            if output.json {
                if dryRun { plan.append(line) } else if event.action == .remove { removedPaths.append(line) }
                return
            }
            let shown = TerminalText.escape(bytes: event.pathBytes)
            if dryRun {
                output.say("\(Self.verb(event.action)) \(shown)")
            } else if event.action == .remove && !output.quiet {
                Console.err("removed " + TerminalText.escape(bytes: Array(target.utf8) + [UInt8(ascii: "/")] + event.pathBytes))
            }
        }
    }

    /// The summary of a dry run (or its JSON).
    func finishDryRun(id: ObjectID, name: String, to target: String, result: RestoreResult) throws {
        if output.json {
            try JSONOutput.print(
                RestorePlanJSON(id: id.hex, name: name, to: target, dryRun: true, changes: RestoreChangesJSON(result.changes), plan: plan))
            return
        }
        output.say("Dry run of \(id.short) \(name) into \(target): " + Self.totals(result.changes, dryRun: true) + "; nothing was written")
        if result.changes.conflicts > 0 && !output.quiet {
            output.say("without --overwrite the restore would refuse: \(result.changes.conflicts) path\(result.changes.conflicts == 1 ? "" : "s") already exist")
        }
    }

    /// "would write", "would skip (identical)", …: a plan line's start, padded to one width.
    static func verb(_ action: RestoreAction) -> String {
        let text: String
        switch action {
        case .write: text = "would write"
        case .replace: text = "would replace"
        case .keep: text = "would keep (folder)"
        case .skipIdentical: text = "would skip (identical)"
        case .fixMetadata: text = "would set metadata (identical)"
        case .skipNewer: text = "would skip (newer on disk)"
        case .conflict: text = "would refuse (exists)"
        case .remove: text = "would remove"
        }
        return text.padding(toLength: 33, withPad: " ", startingAt: 0)
    }

    /// "3 written, 1 replaced, …" for the summary.
    static func totals(_ c: RestoreChanges, dryRun: Bool) -> String {
        var parts = [
            "\(c.written) \(dryRun ? "to write" : "written")", "\(c.replaced) \(dryRun ? "to replace" : "replaced")",
            "\(c.skippedIdentical) identical" + (c.metadataFixed > 0 ? " (\(c.metadataFixed) with mode/mtime set)" : ""),
            "\(c.skippedByMode) skipped (newer on disk)",
        ]
        if c.conflicts > 0 { parts.append("\(c.conflicts) in the way") }
        parts.append("\(c.removed) \(dryRun ? "to remove" : "removed")")
        return parts.joined(separator: ", ")
    }
}

/// One path of a restore's plan or of its removals, losslessly (`path_bytes` when not UTF-8).
struct RestorePathJSON: Encodable {
    var action: String
    var path: String
    var pathBytes: String?
    var type: String?

    enum CodingKeys: String, CodingKey {
        case action, path, type
        case pathBytes = "path_bytes"
    }

    init(_ e: RestoreEvent) {
        action = e.action.rawValue
        (path, pathBytes) = JSONBytes.lossless(e.pathBytes)
        type = e.type.map(JSONBytes.typeName)
    }
}

/// The counts of ``RestoreChanges`` (snake_case keys).
struct RestoreChangesJSON: Encodable {
    var written: Int
    var replaced: Int
    var skippedIdentical: Int
    var metadataFixed: Int
    var skippedNewer: Int
    var conflicts: Int
    var removed: Int

    enum CodingKeys: String, CodingKey {
        case written, replaced, conflicts, removed
        case skippedIdentical = "skipped_identical"
        case metadataFixed = "metadata_fixed"
        case skippedNewer = "skipped_newer"
    }

    init(_ c: RestoreChanges) {
        written = c.written
        replaced = c.replaced
        skippedIdentical = c.skippedIdentical
        metadataFixed = c.metadataFixed
        skippedNewer = c.skippedByMode
        conflicts = c.conflicts
        removed = c.removed
    }
}

/// `restore --dry-run --json`.
struct RestorePlanJSON: Encodable {
    var id: String
    var name: String
    var to: String
    var dryRun: Bool
    var changes: RestoreChangesJSON
    var plan: [RestorePathJSON]

    enum CodingKeys: String, CodingKey {
        case id, name, to, changes, plan
        case dryRun = "dry_run"
    }
}
