import ArgumentParser
import CofferCore
import CofferCrypto
import Foundation

extension Coffer {
    /// `coffer copy --from-vault SRC [NAME|ID|NAME@selector…]`: copy versions from another vault.
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy versions from another vault (another passphrase and key) into this one.",
            discussion: """
                --from-vault SRC is read only (a folder or rclone:REMOTE:PATH); the versions are \
                written into --vault, which must be format 2 (SRC may be format 1 or 2). No \
                selector: every live version of SRC. NAME: every version of that series; an id, \
                an id prefix or NAME@latest|-N|YYYY-MM-DD: one version. Each chunk of a copied \
                version is decrypted in memory, given the target's id and stored only when the \
                target lacks it, so a version that shares data with what the target holds adds \
                only the new data. A version is already there (and skipped) when a live target \
                version has the same name, time, host, set of paths and content (what a restore \
                produces); copying again therefore adds nothing. Each copied version is committed \
                on its own (packs, index, version, head), so an interrupted copy leaves the \
                target valid with the versions copied so far; run copy again to finish.

                The source's passphrase: --from-passphrase-file, --from-passphrase-command, \
                COFFER_FROM_PASSPHRASE_FILE, COFFER_FROM_PASSPHRASE_COMMAND, COFFER_FROM_PASSPHRASE, \
                or a prompt, in that order. The target's comes from the usual options and variables.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Option(
            name: .long, help: ArgumentHelp("The vault to copy from: a folder, or rclone:REMOTE:PATH (read only).", valueName: "src"),
            completion: .directory)
        var fromVault: String

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Read the source vault's passphrase from the first line of this file. Default: $COFFER_FROM_PASSPHRASE_FILE.",
                valueName: "file"),
            completion: .file())
        var fromPassphraseFile: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Run this shell command (/bin/sh -c) and use the first line it prints as the source vault's passphrase. Default: $COFFER_FROM_PASSPHRASE_COMMAND.",
                valueName: "cmd"))
        var fromPassphraseCommand: String?

        @Argument(help: ArgumentHelp("Versions to copy: NAME (a whole series), ID, or NAME@latest|-N|YYYY-MM-DD. Default: all.", valueName: "version"))
        var versions: [String] = []

        @Flag(help: "Say which versions would be copied and which are already there; write nothing.")
        var dryRun = false

        @Flag(help: "Copy even though the target is older than one this machine has seen (rollback).")
        var force = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock on the target.", valueName: "seconds"))
        var lockWait: Double = 0

        func validate() throws {
            if fromVault.isEmpty { throw ValidationError("--from-vault needs a folder or rclone:REMOTE:PATH") }
            if fromPassphraseFile != nil && fromPassphraseCommand != nil {
                throw ValidationError("give either --from-passphrase-file or --from-passphrase-command, not both")
            }
            if fromPassphraseFile == nil && fromPassphraseCommand == nil && SecretEnvironment.fromPassphraseFile != nil
                && SecretEnvironment.fromPassphraseCommand != nil {
                throw ValidationError("both COFFER_FROM_PASSPHRASE_FILE and COFFER_FROM_PASSPHRASE_COMMAND are set; unset one of them")
            }
        }

        /// Names where the source passphrase came from, in messages.
        private func sourceLabel(_ s: PassphraseSource) -> String {
            switch s {
            case .command(_, let env): return env ? "COFFER_FROM_PASSPHRASE_COMMAND" : "--from-passphrase-command"
            case .file(let f, let env): return env ? "COFFER_FROM_PASSPHRASE_FILE (\(f))" : "--from-passphrase-file \(f)"
            default: return s.label
            }
        }

        func run() throws {
            Interrupt.beginCooperative()
            // The source first: a wrong source passphrase is found before the target is touched.
            do { try Vault.probe(location: fromVault) } catch CofferError.invalidArgument(let m) { throw CommandFailure.usage(m) }
            let sourceKey = PassphraseSource.chooseFrom(file: fromPassphraseFile, command: fromPassphraseCommand)
            let key = try PassphraseReader.read(from: sourceKey, prompt: "Passphrase for source vault \(fromVault): ", confirm: false)
            let source: Vault
            do { source = try Vault.open(location: fromVault, passphrase: key) } catch CofferError.wrongPassphrase(let v) {
                throw CommandFailure(.wrongPassphrase, "wrong passphrase for source vault \(v) (read from \(sourceLabel(sourceKey))); nothing was copied")
            }
            if let finding = source.rollback { Console.warn("source: rollback detected: \(finding.description)") }
            let target = try vaultArguments.open()
            let chosen = try source.copySelection(versions)
            var options = CopyOptions()
            options.dryRun = dryRun
            options.force = force
            options.lockWait = lockWait
            options.isCancelled = Interrupt.check
            #if DEBUG
                // Tests: killed once the first copied version's packs and index are written, before its version and head.
                if ProcessInfo.processInfo.environment["COFFER_TESTONLY_COPY_KILL"] == "1" {
                    options.beforeCommit = { kill(getpid(), SIGKILL) }
                }
            #endif
            let progress = ProgressLine(output: output)
            options.progress = { p in progress.update { "copying: \(p.versionsDone)/\(p.versionsTotal) versions" } }
            let report: CopyReport
            do {
                report = try target.copyVersions(chosen.map(\.id), from: source, options: options)
            } catch CofferError.interrupted {
                progress.finish()
                throw CommandFailure(
                    .interrupted, "interrupted: \(target.location) holds the versions copied so far and is consistent; run coffer copy again to finish")
            }
            progress.finish()
            for note in target.lockNotes { Console.warn(note) }
            if output.json {
                try JSONOutput.print(CopyJSON(report))
                return
            }
            if output.quiet && !dryRun { return }
            for c in report.copied {
                let what = "\(Console.name(c.name)) \(Format.dateTime(c.time))"
                if let t = c.target {
                    Console.out("copied  \(c.source.short) -> \(t.short)  \(what)  (\(c.addedChunks) new chunk\(c.addedChunks == 1 ? "" : "s"), \(Format.bytes(c.storedBytes)) stored)")
                } else {
                    Console.out("would copy  \(c.source.short)  \(what)")
                }
            }
            for s in report.skipped {
                Console.out("\(dryRun ? "already there" : "skipped")  \(s.source.short) = \(s.target.short)  \(Console.name(s.name)) \(Format.dateTime(s.time))")
            }
            let n = report.copied.count, k = report.skipped.count
            if dryRun {
                Console.out("Dry run: would copy \(n) version\(n == 1 ? "" : "s"); \(k) already there; nothing was changed.")
            } else {
                let bytes = report.copied.reduce(UInt64(0)) { $0 + $1.storedBytes }
                Console.out("Copied \(n) version\(n == 1 ? "" : "s") (\(Format.bytes(bytes)) stored); \(k) already there.")
            }
        }
    }
}

/// `copy --json`.
private struct CopyJSON: Encodable {
    struct Copied: Encodable {
        var source: String
        var target: String?
        var name: String
        var added_chunks: UInt64
        var added_plain_bytes: UInt64
        var added_pieces: UInt64
        var stored_bytes: UInt64
        var chunks_read: UInt64
    }
    struct Skipped: Encodable {
        var source: String
        var target: String
        var name: String
    }
    var dry_run: Bool
    var copied: [Copied]
    var skipped: [Skipped]
    var seconds: Double

    init(_ r: CopyReport) {
        dry_run = r.dryRun
        copied = r.copied.map {
            Copied(
                source: $0.source.hex, target: $0.target?.hex, name: $0.name, added_chunks: $0.addedChunks, added_plain_bytes: $0.addedPlainBytes,
                added_pieces: $0.addedPieces, stored_bytes: $0.storedBytes, chunks_read: $0.chunksRead)
        }
        skipped = r.skipped.map { Skipped(source: $0.source.hex, target: $0.target.hex, name: $0.name) }
        seconds = r.duration
    }
}
