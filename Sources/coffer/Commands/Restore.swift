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
                Existing files are never overwritten without --force. A failed or interrupted \
                restore leaves no partial file under a real name.
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

        @Flag(help: "Overwrite existing files.")
        var force = false

        @Flag(help: "Restore each zip as a folder of its members (named like the zip without .zip) instead of the zip itself.")
        var expand = false

        func run() throws {
            Interrupt.beginCooperative()
            let patterns = try patternLists()
            let vault = try vaultArguments.open()
            let id = try vault.resolve(version)
            let v = try vault.version(id)
            let progress = ProgressLine(output: output)
            var options = RestoreOptions()
            options.patterns = patterns
            options.force = force
            options.archiveHandler = ZipArchiveHandler()
            options.expandArchives = expand
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
            if output.json {
                try JSONOutput.print(
                    RestoreJSON(
                        id: id.hex, name: v.name, to: target, files: result.files, dirs: result.directories, symlinks: result.symlinks,
                        bytes: result.bytes))
            } else {
                output.say(
                    "Restored \(id.short) \(v.name) (\(Format.dateTime(v.time))) into \(target): \(result.files) file\(result.files == 1 ? "" : "s"), "
                        + "\(Format.bytes(result.bytes)), SHA-256 verified, in \(Format.duration(progress.elapsed))")
            }
            for note in result.notes { Console.warn(note) }
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
}
