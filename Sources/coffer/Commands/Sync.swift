import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer sync DEST`: copy the vault to a folder or an rclone remote, verified.
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the vault to a folder or an rclone remote; the copy is itself a complete vault.",
            discussion: """
                DEST is a folder (a USB disk, a NAS mount, a cloud-synced folder) or \
                rclone:REMOTE:PATH for any rclone remote (S3, B2, Google Drive, SFTP, WebDAV, ...), \
                using your rclone configuration and RCLONE_CONFIG_* variables. Only what DEST lacks \
                is copied: config, key slots, packs, index and versions first, each read back and \
                checked (size and content hash), and the head last, so an interrupted sync leaves \
                DEST a valid vault at its previous state; run sync again to complete it. An \
                unchanged vault costs two listings. --vault DIR / COFFER_VAULT accept the same \
                forms, so every command works on the copy.

                DEST must be empty or a copy of this vault. A copy whose head chain has diverged \
                (someone sealed into it) or that is newer is refused with both sides explained \
                (exit status 14), unless --force. A copy in another vault format (format 1 and \
                format 2 of one vault) is refused, exit status 1: upgrade the older copy first. \
                --delete removes from DEST what the vault no longer has (after prune), only once \
                the new head is in place. A sync that writes holds DEST's writer lock, as seal \
                does (--lock-wait to wait for another writer).
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("A folder, rclone:REMOTE:PATH, or s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX].", valueName: "dest"), completion: .directory)
        var destination: String

        @Flag(help: "Re-read every file at the destination and replace any whose content does not match its name.")
        var verify = false

        @Flag(help: "Say what would be copied, repaired and deleted; write nothing.")
        var dryRun = false

        @Flag(help: "Remove files from the destination that the vault no longer has, after the new head is in place.")
        var delete = false

        @Flag(help: "Overwrite a destination whose history diverged from the vault's (or that is newer).")
        var force = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock on the destination.", valueName: "seconds"))
        var lockWait: Double = 0

        func validate() throws {
            if destination.isEmpty { throw ValidationError("give a destination: a folder, rclone:REMOTE:PATH or s3:URL") }
        }

        func run() throws {
            let location: VaultLocation
            do { location = try VaultLocation(parsing: destination) } catch CofferError.invalidArgument(let m) {
                throw CommandFailure.usage(m)
            }
            Interrupt.beginCooperative()
            let vault = try vaultArguments.open()
            let progress = ProgressLine(output: output)
            var options = SyncOptions()
            options.verify = verify
            options.dryRun = dryRun
            options.delete = delete
            options.force = force
            options.lockWait = lockWait
            options.isCancelled = Interrupt.check
            options.progress = { p in progress.update { Sync.progressText(p, progress) } }

            let destinationBackend = location.backend()
            // An S3 destination's bucket is created when it does not exist yet.
            if case .s3 = location, !dryRun { try ObjectStorage.s3().prepareForCreate(destinationBackend) }
            let report: SyncReport
            do {
                report = try vault.sync(to: destinationBackend, options: options)
            } catch CofferError.interrupted {
                progress.finish()
                throw CommandFailure(
                    .interrupted, "interrupted: \(location) is still a valid vault (at its previous state, or complete); run coffer sync again to finish")
            } catch CofferError.rollback(let dest, let reason) {
                progress.finish()
                throw CommandFailure(.rollback, "refusing to sync to \(dest): \(reason)")
            } catch {
                progress.finish()
                // Ctrl-C also reaches a running rclone, which then fails with its own message.
                if Interrupt.isRequested {
                    throw CommandFailure(
                        .interrupted, "interrupted: \(location) is still a valid vault (at its previous state, or complete); run coffer sync again to finish")
                }
                throw error
            }
            progress.finish()

            if output.json {
                try JSONOutput.print(SyncJSON(report))
                return
            }
            // A dry run's plan is its result: printed with --quiet too.
            if output.quiet && !dryRun { return }
            for line in Sync.summary(report, verbose: dryRun) { Console.out(line) }
        }

        static func progressText(_ p: SyncProgress, _ line: ProgressLine) -> String {
            let verb: String
            switch p.phase {
            case .verifying: verb = "verifying"
            case .copying: verb = "copying"
            case .heads: verb = "writing heads"
            case .deleting: verb = "deleting"
            }
            return "\(verb) \(p.filesDone)/\(p.filesTotal) files  " + line.transferText(done: p.bytesDone, total: p.bytesTotal)
        }

        /// The human summary.
        static func summary(_ r: SyncReport, verbose: Bool) -> [String] {
            var lines: [String] = []
            let n = r.copiedFiles
            let files = "\(n) file\(n == 1 ? "" : "s")"
            if r.dryRun {
                lines.append(
                    "Dry run: would copy \(files) (\(Format.bytes(r.copiedBytes))) to \(r.destination); \(r.skippedFiles) already there"
                        + (r.repairedFiles > 0 ? "; \(r.repairedFiles) damaged, would be replaced" : "")
                        + (r.deletedFiles > 0 ? "; would delete \(r.deletedFiles)" : "") + ".")
                for p in r.copied.prefix(verbose ? 200 : 20) { lines.append("  copy    \(p)") }
                if r.copied.count > (verbose ? 200 : 20) { lines.append("  ... and \(r.copied.count - (verbose ? 200 : 20)) more") }
                for p in r.deleted { lines.append("  delete  \(p)") }
            } else if n == 0 && r.deletedFiles == 0 {
                lines.append(
                    "\(r.destination) is up to date: \(r.totalFiles) file\(r.totalFiles == 1 ? "" : "s") (\(Format.bytes(r.totalBytes))) at head generation \(r.sourceGeneration)"
                        + (r.verifiedFiles > 0 ? ", \(r.verifiedFiles) verified" : "") + ", \(Format.duration(r.duration)).")
            } else {
                var line = "Synced to \(r.destination): copied \(files) (\(Format.bytes(r.copiedBytes))), \(r.skippedFiles) already there, "
                    + "\(r.verifiedFiles) verified"
                if r.repairedFiles > 0 { line += ", \(r.repairedFiles) damaged file\(r.repairedFiles == 1 ? "" : "s") replaced" }
                if r.deletedFiles > 0 { line += ", \(r.deletedFiles) deleted" }
                line += "; now at head generation \(r.sourceGeneration)"
                if let before = r.destinationGenerationBefore, before != r.sourceGeneration { line += " (was \(before))" }
                let added = r.versionsAdded.count
                if added > 0 { line += ", \(added) version\(added == 1 ? "" : "s") added" }
                line += ", \(Format.duration(r.duration))."
                lines.append(line)
            }
            if !r.damagedExtra.isEmpty {
                lines.append("Damaged files at the destination that this vault does not have (not repairable): \(r.damagedExtra.summarized())")
            }
            if !r.extra.isEmpty && !r.dryRun {
                lines.append(
                    "\(r.extra.count) file\(r.extra.count == 1 ? "" : "s") at the destination that this vault no longer has were kept; --delete removes them.")
            }
            return lines
        }
    }
}

/// `sync --json`.
private struct SyncJSON: Encodable {
    var source: String
    var destination: String
    var dryRun: Bool
    var relation: String
    var sourceGeneration: UInt64
    var destinationGenerationBefore: UInt64?
    var totalFiles: Int
    var totalBytes: UInt64
    var copiedFiles: Int
    var copiedBytes: UInt64
    var skippedFiles: Int
    var verifiedFiles: Int
    var verifiedBytes: UInt64
    var repairedFiles: Int
    var repaired: [String]
    var deletedFiles: Int
    var deleted: [String]
    var copied: [String]
    var extraFiles: Int
    var damagedExtra: [String]
    var versionsAdded: [String]
    var durationSeconds: Double

    init(_ r: SyncReport) {
        source = r.source
        destination = r.destination
        dryRun = r.dryRun
        relation = r.relation.description
        sourceGeneration = r.sourceGeneration
        destinationGenerationBefore = r.destinationGenerationBefore
        totalFiles = r.totalFiles
        totalBytes = r.totalBytes
        copiedFiles = r.copiedFiles
        copiedBytes = r.copiedBytes
        skippedFiles = r.skippedFiles
        verifiedFiles = r.verifiedFiles
        verifiedBytes = r.verifiedBytes
        repairedFiles = r.repairedFiles
        repaired = r.repaired
        deletedFiles = r.deletedFiles
        deleted = r.deleted
        copied = r.copied
        extraFiles = r.extra.count
        damagedExtra = r.damagedExtra
        versionsAdded = r.versionsAdded.map(\.hex)
        durationSeconds = (r.duration * 1000).rounded() / 1000
    }

    enum CodingKeys: String, CodingKey {
        case source, destination, relation, repaired, deleted, copied
        case dryRun = "dry_run"
        case sourceGeneration = "source_generation"
        case destinationGenerationBefore = "destination_generation_before"
        case totalFiles = "total_files"
        case totalBytes = "total_bytes"
        case copiedFiles = "copied_files"
        case copiedBytes = "copied_bytes"
        case skippedFiles = "skipped_files"
        case verifiedFiles = "verified_files"
        case verifiedBytes = "verified_bytes"
        case repairedFiles = "repaired_files"
        case deletedFiles = "deleted_files"
        case extraFiles = "extra_files"
        case damagedExtra = "damaged_extra"
        case versionsAdded = "versions_added"
        case durationSeconds = "duration_seconds"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(destination, forKey: .destination)
        try c.encode(dryRun, forKey: .dryRun)
        try c.encode(relation, forKey: .relation)
        try c.encode(sourceGeneration, forKey: .sourceGeneration)
        try c.encode(destinationGenerationBefore, forKey: .destinationGenerationBefore)  // null for a new copy
        try c.encode(totalFiles, forKey: .totalFiles)
        try c.encode(totalBytes, forKey: .totalBytes)
        try c.encode(copiedFiles, forKey: .copiedFiles)
        try c.encode(copiedBytes, forKey: .copiedBytes)
        try c.encode(skippedFiles, forKey: .skippedFiles)
        try c.encode(verifiedFiles, forKey: .verifiedFiles)
        try c.encode(verifiedBytes, forKey: .verifiedBytes)
        try c.encode(repairedFiles, forKey: .repairedFiles)
        try c.encode(repaired, forKey: .repaired)
        try c.encode(deletedFiles, forKey: .deletedFiles)
        try c.encode(deleted, forKey: .deleted)
        try c.encode(copied, forKey: .copied)
        try c.encode(extraFiles, forKey: .extraFiles)
        try c.encode(damagedExtra, forKey: .damagedExtra)
        try c.encode(versionsAdded, forKey: .versionsAdded)
        try c.encode(durationSeconds, forKey: .durationSeconds)
    }
}
