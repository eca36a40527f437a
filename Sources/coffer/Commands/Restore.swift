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
            help: ArgumentHelp("Only paths matching this shell pattern, or under a matching folder (repeatable).", valueName: "pattern"))
        var include: [String] = []

        @Flag(help: "Overwrite existing files.")
        var force = false

        @Flag(help: "Restore each zip as a folder of its members (named like the zip without .zip) instead of the zip itself.")
        var expand = false

        func run() throws {
            if target == "-" {
                throw CommandFailure.usage("restore writes into a folder, not to stdout: use 'coffer dump VERSION [PATH]' for a tar or zip stream")
            }
            Interrupt.beginCooperative()
            let vault = try vaultArguments.open()
            let id = try vault.resolve(version)
            let v = try vault.version(id)
            let progress = ProgressLine(output: output)
            var options = RestoreOptions()
            options.include = include
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
