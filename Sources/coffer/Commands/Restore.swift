import ArgumentParser
import CofferCore
import CofferExports
import Foundation

extension Coffer {
    /// `coffer restore`: a version, byte for byte.
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a version byte for byte into a folder.",
            discussion: """
                Each sealed path comes back under DIR by its base name, with its modes and times; \
                every file's SHA-256 is checked against the version before it gets its real name. \
                Format-2 versions also give back extended attributes and ACLs, holes of sparse \
                files, hard links, pipes and devices, and, for root only, owners and groups (by \
                name where this machine knows it, else by number). A failed or interrupted \
                restore leaves no partial file under a real name. An entry that cannot be \
                restored does not stop the others: they are listed at the end and the exit \
                status is 3.

                --expand writes each zip's members as unzip reads them (names, UT times, Unix \
                modes). A fault in the original zip (a wrong CRC-32, bytes after a deflate \
                stream) is a warning naming the member, which is written as unzip writes it; \
                a member that cannot be written is listed at the end (exit status 3).

                Where something already exists, --overwrite decides (--force is the \
                same as --overwrite always):
                  never       refuse, listing what is in the way; write nothing (default).
                              A folder where the version has one is not in the way.
                  always      replace files and links (a link is replaced, not followed)
                  if-changed  leave what is identical. A file of another size has
                              changed; one of the same size is compared by the SHA-256
                              of its content, read from the disk (size and mtime alone
                              never make a file unchanged). An identical file keeps its
                              inode and is not written; only its mode, mtime, owner
                              (as root) and stored attributes are set if they differ. A link is identical with the same target
                              bytes, a named pipe always, a device with the same number.
                  if-newer    replace only what is older (mtime) than the version's entry
                A folder where the version has something else is replaced only with \
                --delete.

                --delete removes what DIR holds and the version (or the part --include \
                selects) lacks, and prints each path removed; it needs --overwrite. It never \
                follows a link and never leaves DIR. --dry-run prints what would be written, \
                replaced, skipped and removed, and writes nothing (not even DIR).

                Examples:
                  coffer restore docs@latest --to ~/restored
                  coffer restore docs@latest --to ~/docs --overwrite if-changed
                  coffer restore docs@latest --to ~/docs --overwrite if-newer
                  coffer restore docs@latest --to ~/docs --overwrite always --delete
                  coffer restore docs@latest --to ~/docs --overwrite always --dry-run
                  coffer restore home@latest --to /srv/home --verify
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: "The version: an id prefix, NAME@latest, NAME@-N or NAME@YYYY-MM-DD.")
        var version: String

        @Option(name: .customLong("to"), help: ArgumentHelp("The folder to restore into (created if missing).", valueName: "dir"), completion: .directory)
        var target: String

        @Option(
            name: .customLong("include"),
            help: ArgumentHelp(
                "Only paths matching this pattern, or under a matching folder (repeatable; * ? [a-z] \\ within a name, ** across folders, leading / anchors at the version's root, leading ! takes back).",
                valueName: "pattern"))
        var include: [String] = []

        @Option(help: ArgumentHelp("Leave out paths matching this pattern, and everything under a matching folder (repeatable).", valueName: "pattern"))
        var exclude: [String] = []

        @Option(help: ArgumentHelp("Like --include, ignoring case (repeatable).", valueName: "pattern"))
        var iinclude: [String] = []

        @Option(help: ArgumentHelp("Like --exclude, ignoring case (repeatable).", valueName: "pattern"))
        var iexclude: [String] = []

        @Option(
            name: .customLong("include-file"),
            help: ArgumentHelp("Include patterns from a file, one per line; blank lines and lines starting with # are ignored (repeatable).", valueName: "file"),
            completion: .file())
        var includeFile: [String] = []

        @Option(
            name: .customLong("exclude-file"),
            help: ArgumentHelp("Exclude patterns from a file, one per line, as --include-file (repeatable).", valueName: "file"),
            completion: .file())
        var excludeFile: [String] = []

        @Option(help: ArgumentHelp("What to do where something exists (default never; see above).", valueName: "mode"))
        var overwrite: OverwriteMode?

        @Flag(help: ArgumentHelp("The same as --overwrite always.", visibility: .hidden))
        var force = false

        @Flag(help: "Remove what the folder holds and the version lacks (needs --overwrite).")
        var delete = false

        @Flag(help: "Print what would be written, replaced, skipped and removed; write nothing.")
        var dryRun = false

        @Flag(help: "Restore each zip as a folder of its members (named like the zip without .zip) instead of the zip itself; the summary counts member files.")
        var expand = false

        @Flag(help: "Set owners and groups by their stored numbers, never by name (root only).")
        var numericOwner = false

        @Flag(help: "After writing, read every restored file back from disk and check its SHA-256 against the version.")
        var verify = false

        func validate() throws {
            if force, let overwrite, overwrite != .always { throw ValidationError("--force is --overwrite always; give one of them") }
            if delete, mode == .never { throw ValidationError("--delete needs --overwrite always, if-changed or if-newer") }
        }

        /// `--overwrite`, or `always` for `--force`.
        var mode: OverwriteMode { overwrite ?? (force ? .always : .never) }

        func run() throws {
            if target == "-" {
                throw CommandFailure.usage("restore writes into a folder, not to stdout: use 'coffer dump VERSION [PATH]' for a tar or zip stream")
            }
            Interrupt.beginCooperative()
            let patterns = try patternLists()
            let vault = try vaultArguments.open()
            let id = try vault.resolve(version)
            let v = try vault.version(id)
            let progress = ProgressLine(output: output)
            var options = RestoreOptions()
            options.patterns = patterns
            options.overwrite = mode
            options.delete = delete
            options.dryRun = dryRun
            let log = RestoreEventLog(output: output, dryRun: dryRun, target: target)
            options.onEvent = { log.take($0) }
            options.archiveHandler = ZipArchiveHandler()
            options.expandArchives = expand
            options.numericOwner = numericOwner
            options.verify = verify
            options.isCancelled = Interrupt.check
            options.progress = { done, total in progress.update { progress.transferText(done: done, total: total) } }
            let result: RestoreResult
            do {
                result = try vault.restore(id, to: target, options: options)
            } catch CofferError.interrupted {
                progress.finish()
                throw CommandFailure(
                    .interrupted, "interrupted: files restored so far are complete and verified; no partial file was left")
            } catch {
                progress.finish()
                throw error
            }
            progress.finish()
            if dryRun {
                try log.finishDryRun(id: id, name: v.name, to: target, result: result)
                for note in result.notes { Console.warn(note) }
                return
            }
            if output.json {
                try JSONOutput.print(
                    RestoreJSON(
                        id: id.hex, name: v.name, to: target, files: result.files, dirs: result.directories, symlinks: result.symlinks,
                        bytes: result.bytes, changes: RestoreChangesJSON(result.changes), removed: log.removed,
                        failures: result.failures.map { RestoreFailureJSON(path: $0.path, reason: $0.reason, entriesBelow: $0.entriesBelow) }))
            } else {
                output.say(
                    "Restored \(id.short) \(v.name) (\(Format.dateTime(v.time))) into \(target): \(result.files) file\(result.files == 1 ? "" : "s"), "
                        + "\(Format.bytes(result.bytes)), SHA-256 verified\(verify ? " and read back" : ""), in \(Format.duration(progress.elapsed))")
                if mode != .never { output.say("  " + RestoreEventLog.totals(result.changes, dryRun: false)) }
            }
            for note in result.notes { Console.warn(note) }
            if !result.failures.isEmpty {
                let n = result.failures.count + result.failures.reduce(0) { $0 + $1.entriesBelow }
                Console.err("\(n) entr\(n == 1 ? "y" : "ies") could not be restored:")
                for f in result.failures { Console.err("  \(f)") }
                throw CommandFailure(.partial)
            }
        }
    }
}

extension Coffer.Restore {
    /// The pattern options as bytes, each list in the order given, a file's patterns after the
    /// options'; checked before the vault is opened.
    func patternLists() throws -> RestorePatternLists {
        func file(_ path: String) throws -> [[UInt8]] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure.usage("cannot read pattern file \(TerminalText.escape(path))")
            }
            return PatternSet.lines(of: Array(data))
        }
        var lists = RestorePatternLists()
        lists.include = include.map { Array($0.utf8) } + (try includeFile.flatMap(file))
        lists.exclude = exclude.map { Array($0.utf8) } + (try excludeFile.flatMap(file))
        lists.iinclude = iinclude.map { Array($0.utf8) }
        lists.iexclude = iexclude.map { Array($0.utf8) }
        do {
            try lists.validate()
        } catch CofferError.invalidArgument(let message) {
            throw CommandFailure.usage(message)
        }
        return lists
    }
}

/// `restore --json`.
private struct RestoreJSON: Encodable {
    var id: String
    var name: String
    var to: String
    var files: Int
    var dirs: Int
    var symlinks: Int
    var bytes: UInt64
    var changes: RestoreChangesJSON
    /// Paths removed by --delete.
    var removed: [RestorePathJSON]
    var failures: [RestoreFailureJSON]
}

/// One entry `restore --json` could not restore.
private struct RestoreFailureJSON: Encodable {
    var path: String
    var reason: String
    var entriesBelow: Int
}
