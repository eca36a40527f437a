import ArgumentParser
import CofferCore
import CofferS3
import Foundation

extension Coffer {
    /// `coffer prune`: give back the space of data no live version uses.
    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove data no live version uses: delete unused packs, repack partly used ones.",
            discussion: """
                Run after 'coffer forget'. Packs with no used chunk are deleted; packs with at least \
                --repack-threshold of their bytes unused have their used chunks copied (each \
                verified) into new packs. The new packs and a new index are written before anything \
                is deleted, so prune can be stopped at any moment: every kept version stays \
                restorable and running prune again finishes the job. Prune stops without deleting \
                anything if a listing or a read fails, or if a live version's data is missing.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Flag(help: "Show what would be deleted and repacked; change nothing.")
        var dryRun = false

        @Option(help: ArgumentHelp("Repack a pack when at least this share of it is unused.", valueName: "N%"))
        var repackThreshold: String = "20%"

        @Flag(help: "Prune even though this vault is older than one this machine has seen (rollback).")
        var force = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        @Option(help: ArgumentHelp(
            "Remove packs no index lists, and .tmp- files of interrupted writes, only when older than this many seconds "
                + "(default 1800, the stale-lock time: a writer still uploading keeps its packs).", valueName: "seconds"))
        var minAge: Double = Double(LockInfo.staleAfter)

        static func fraction(_ text: String) -> Double? {
            let t = text.hasSuffix("%") ? String(text.dropLast()) : text
            guard let v = Double(t), v >= 0, v <= 100 else { return nil }
            return v / 100
        }

        func validate() throws {
            if Prune.fraction(repackThreshold) == nil {
                throw ValidationError("--repack-threshold expects a percentage between 0 and 100, like 20% (got '\(repackThreshold)')")
            }
        }

        func run() throws {
            let vault = try vaultArguments.open()
            var options = PruneOptions()
            options.dryRun = dryRun
            options.force = force
            options.lockWait = lockWait
            options.minimumAge = max(0, minAge)
            options.repackThreshold = Prune.fraction(repackThreshold) ?? 0.2
            let r = try vault.prune(options: options)
            // S3: multipart uploads a killed writer left unfinished (invisible, but billed), aborted
            // under the writer lock so that no running upload of another writer is cut.
            var abortedUploads = 0
            if !dryRun, let s3 = vault.backend as? S3Backend {
                abortedUploads = (try? vault.withWriterLock(wait: lockWait) { try s3.abortUnfinishedUploads() }) ?? 0
            }
            for note in vault.lockNotes { Console.warn(note) }
            if output.json {
                try JSONOutput.print(PruneJSON(r, dryRun: dryRun))
                return
            }
            let verb = dryRun ? "would delete" : "deleted"
            // A dry run's figures are its result: printed with --quiet too.
            let output = self.output, dryRun = self.dryRun
            func say(_ text: String) { if dryRun { Console.out(text) } else { output.say(text) } }
            say(
                "\(verb) \(r.packsDeleted) unused pack\(r.packsDeleted == 1 ? "" : "s") and \(r.unreferencedPacksDeleted) left by interrupted seals, "
                    + "repacked \(r.packsRepacked) (\(dryRun ? "into new packs" : "into \(r.packsWritten) new")), "
                    + "removed \(r.versionFilesDeleted) forgotten version file\(r.versionFilesDeleted == 1 ? "" : "s")")
            if r.unreferencedPacksKept > 0 {
                say("kept \(r.unreferencedPacksKept) unlisted pack\(r.unreferencedPacksKept == 1 ? "" : "s") newer than \(Int(minAge)) s (a writer may still be committing them)")
            }
            if r.temporaryFilesRemoved > 0 {
                say("\(dryRun ? "would remove" : "removed") \(r.temporaryFilesRemoved) temporary file\(r.temporaryFilesRemoved == 1 ? "" : "s") left by interrupted writes")
            }
            if abortedUploads > 0 { say("aborted \(abortedUploads) unfinished S3 upload\(abortedUploads == 1 ? "" : "s")") }
            say("packs: \(Format.bytes(r.bytesBefore)) → \(Format.bytes(r.bytesAfter)) (\(dryRun ? "would free" : "freed") \(Format.bytes(r.freedBytes)))")
        }
    }
}

/// `prune --json` (also inside `forget --prune --json`).
struct PruneJSON: Encodable {
    var dry_run: Bool
    var packs_before: Int
    var packs_deleted: Int
    var unreferenced_packs_deleted: Int
    var packs_repacked: Int
    var packs_written: Int
    var version_files_deleted: Int
    var unreferenced_packs_kept: Int
    var temporary_files_removed: Int
    var bytes_before: UInt64
    var bytes_after: UInt64
    var freed_bytes: UInt64

    init(_ r: PruneReport, dryRun: Bool) {
        dry_run = dryRun
        packs_before = r.packsBefore
        packs_deleted = r.packsDeleted
        unreferenced_packs_deleted = r.unreferencedPacksDeleted
        packs_repacked = r.packsRepacked
        packs_written = r.packsWritten
        version_files_deleted = r.versionFilesDeleted
        unreferenced_packs_kept = r.unreferencedPacksKept
        temporary_files_removed = r.temporaryFilesRemoved
        bytes_before = r.bytesBefore
        bytes_after = r.bytesAfter
        freed_bytes = r.freedBytes
    }
}
