import ArgumentParser
import CofferCore
import CofferExports
import Foundation

extension Coffer {
    /// `coffer seal`: adds a new version.
    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new version: seal files, folders or archives into the vault.",
            discussion: """
                Each PATH is stored under its base name. Only new data is stored: chunks already \
                in the vault cost nothing, and files unchanged since the previous version of the \
                same name are not read again. Files that cannot be read are left out, listed on \
                stderr and in the version's notes, and the exit status is 3; so is it when nothing would be \
                stored (no version is written; --allow-empty writes it). Ctrl-C stops the seal \
                without writing a version (exit status 130).

                A data export's file name gives the version its name and date (LinkedIn, X, \
                Takeout, Instagram, Facebook; README lists the patterns); Takeout parts sealed \
                together are one version. A zip is stored member by member, so unchanged members \
                cost nothing. The summary's "added" is every byte the seal wrote, and its time \
                the command's wall time.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("Files, folders or archives to seal (a link to a folder written link/ is followed); with --stdin-from-command, the command and its arguments.", valueName: "path"), completion: .file())
        var paths: [String] = []

        @OptionGroup(title: "Choosing what to seal") var selection: SealSelectionOptions

        @Option(help: "The version's name. Default: the export series when the first path is a named export (Basic_LinkedInDataExport_07-11-2023.zip → Basic_LinkedInDataExport), else its base name.")
        var name: String?

        @Option(name: .customLong("tag"), help: ArgumentHelp("A tag for the version (repeatable).", valueName: "tag"))
        var tags: [String] = []

        @Option(
            help: ArgumentHelp(
                "The version's time: 2026-03-01 (midnight UTC), 2026-03-01 12:00 or 2026-03-01T12:00:00 (local time), or with an offset (2026-03-01T12:00Z, 2026-03-01 12:00+01:00). Default: the date in an export's file name, else now.",
                valueName: "time"),
            transform: Seal.parseTime)
        var time: Date?

        @Option(help: ArgumentHelp("Read unchanged files from this version (id, prefix or NAME@selector). Default: the newest version with the same name, host and paths.", valueName: "version"))
        var parent: String?

        @Flag(help: "Seal even though this vault is older than one this machine has seen (rollback).")
        var force = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        static func parseTime(_ text: String) throws -> Date {
            guard let d = TimeArgument.parse(text) else {
                throw ValidationError("'\(text)' is not a time; use \(TimeArgument.forms)")
            }
            return d
        }

        func validate() throws {
            if let name, name.isEmpty || name.contains("@") {
                throw ValidationError("--name may not be empty or contain '@'")
            }
            try validateSelection()
        }

        func run() throws {
            // The time reported is the command's wall time: the zip analysis that runs while the
            // vault unlocks, the unlock and the lock wait count too.
            let commandStarted = Date()
            Interrupt.beginCooperative()
            let sel = try selection.selection()
            let pathBytes = try inputPaths()
            // Report a missing input before asking for the passphrase (the library checks again).
            for p in pathBytes {
                var st = stat()
                let rc = (p + [0]).withUnsafeBytes { lstat($0.baseAddress!.assumingMemoryBound(to: CChar.self), &st) }
                if rc != 0 && (errno == ENOENT || errno == ENOTDIR) { throw CofferError.inputNotFound(path: TerminalText.escape(bytes: p)) }
            }
            // The paths that are text (options taking paths as text: link following, export names, zip analysis).
            let paths = pathBytes.compactMap { String(validating: $0, as: UTF8.self) }
            // Zip analysis needs no key: it runs on the other core while Argon2id unlocks the vault.
            let archives = PreparedArchiveHandler(ZipArchiveHandler())
            let analysis = DispatchGroup()
            DispatchQueue.global().async(group: analysis) { archives.prepare(paths) }
            let vault = try vaultArguments.open(warnOnRollback: false)
            analysis.wait()
            if let finding = vault.rollback {
                guard force else { throw CofferError.rollback(vault: vault.location, reason: finding.description) }
                Console.warn("rollback detected, sealing anyway (--force): \(finding.description)")
            }
            let progress = ProgressLine(output: output)
            var options = SealOptions()
            options.name = name
            options.tags = tags
            options.time = time
            options.archiveHandler = archives
            options.lockWait = lockWait
            options.parent = try parent.map { try vault.resolve($0) }
            options.selection = sel
            options.allowEmpty = selection.allowEmpty
            options.followInputs = Set(paths.filter(SealInputs.isLinkToFolderWithSlash))
            let command = try startStream(&options)
            // An export's file name gives the series name and the export date
            // (Basic_LinkedInDataExport_07-11-2023.zip → Basic_LinkedInDataExport, 2023-07-11).
            if let first = pathBytes.first.map({ String(decoding: $0, as: UTF8.self) }), let export = ExportName.parse(fileName: Paths.lastComponent(first)) {
                if name == nil { options.name = export.series }
                if time == nil { options.time = Date(timeIntervalSince1970: TimeInterval(export.date.secondsSince1970)) }
            }
            options.force = force
            options.isCancelled = Interrupt.check
            options.progress = { p in progress.update { progress.sealText(p) } }

            let result: SealResult
            do {
                result = try vault.seal(pathBytes: pathBytes, options: options)
            } catch let empty as EmptySealError {
                progress.finish()
                command?.stop()
                throw CommandFailure(.partial, empty.description)
            } catch CofferError.interrupted {
                progress.finish()
                command?.stop()
                throw CommandFailure(.interrupted, "interrupted: no version was written; the vault is unchanged")
            } catch {
                progress.finish()
                command?.stop()
                throw error
            }
            progress.finish()
            for note in vault.lockNotes { Console.warn(note) }
            // An export series (Basic_LinkedInDataExport_MM-DD-YYYY.zip each month) is one name
            // for files of other paths by design: no parent, and nothing to warn about.
            let exportSeries = name == nil && options.name != nil
            if !exportSeries { for warning in result.warnings { Console.warn(warning) } }

            let v = result.version
            let duration = max(result.duration, Date().timeIntervalSince(commandStarted))
            if output.json {
                try JSONOutput.print(SealJSON(result, duration: duration))
            } else {
                var line = "Sealed \(result.id.short) \(Console.name(v.name)) (\(Format.dateTime(v.time))): "
                line += "\(v.stats.files) file\(v.stats.files == 1 ? "" : "s"), \(Format.bytes(v.stats.bytesRead)) read"
                if v.stats.unchangedFiles > 0 { line += " (\(v.stats.unchangedFiles) unchanged)" }
                if result.excluded > 0 { line += ", \(result.excluded) excluded" }
                line += ", \(Format.bytes(v.stats.addedBytes)) added after dedup and compression, \(Format.duration(duration))"
                output.say(line)
            }
            if !result.unreadable.isEmpty {
                let n = result.unreadable.count
                throw CommandFailure(
                    .partial,
                    "\(n) input\(n == 1 ? "" : "s") could not be read and \(n == 1 ? "is" : "are") not in version \(result.id.short): "
                        + "\(result.unreadable.summarized()) — \(LeftOutInputs.explanation(notes: v.notes))")
            }
        }
    }
}

/// `seal --json`: the version, plus what this seal did.
private struct SealJSON: Encodable {
    var version: VersionJSON
    var durationSeconds: Double
    var unreadable: [String]
    var excluded: Int

    /// `duration`: the command's wall time in seconds.
    init(_ r: SealResult, duration: TimeInterval) {
        version = VersionJSON(id: r.id, version: r.version)
        durationSeconds = (duration * 1000).rounded() / 1000
        unreadable = r.unreadable
        excluded = r.excluded
    }

    enum CodingKeys: String, CodingKey {
        case durationSeconds = "duration_seconds"
        case unreadable
        case excluded
    }

    func encode(to encoder: Encoder) throws {
        try version.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(unreadable, forKey: .unreadable)
        try c.encode(excluded, forKey: .excluded)
    }
}
