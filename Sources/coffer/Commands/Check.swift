import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer check`: verify the vault's structure, or every byte.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the vault: its structure, or with --read-data every byte.",
            discussion: """
                Structure: key slots, the head chain, every version, every chunk of every file in \
                the index, and every indexed pack present with a header that agrees with the index. \
                --read-data also reads every pack in full: its hash against its name, its header, \
                and every chunk decrypted and verified; --read-data=N% (or --read-data-subset N%) \
                reads a random N% of the packs (--seed for a repeatable choice). Errors name the \
                file and the versions that can no longer be fully restored. Packs left by an \
                interrupted seal are reported as reclaimable, not as errors. Exit status: 0 clean, \
                13 integrity error, 14 rollback detected.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Flag(help: "Read and verify every pack in full.")
        var readData = false

        @Option(help: ArgumentHelp("Read a random share of the packs (also written --read-data=N%).", valueName: "N%"))
        var readDataSubset: String?

        @Option(help: "Seed for choosing the subset of packs, for a repeatable check.")
        var seed: UInt64?

        func validate() throws {
            if let s = readDataSubset, Check.fraction(s) == nil {
                throw ValidationError("--read-data expects a percentage between 0 and 100, like 5% (got '\(s)')")
            }
        }

        static func fraction(_ text: String) -> Double? {
            let t = text.hasSuffix("%") ? String(text.dropLast()) : text
            guard let v = Double(t), v > 0, v <= 100 else { return nil }
            return v / 100
        }

        func run() throws {
            let vault = try vaultArguments.open()
            let fraction = readDataSubset.flatMap(Check.fraction) ?? (readData ? 1 : 0)
            let report = try vault.check(readDataFraction: fraction, seed: seed)
            if output.json {
                try JSONOutput.print(CheckJSON(report, vault: vault))
            } else if output.quiet && report.isClean {
                // The verdict is the result: one line with --quiet too.
                Console.out("no errors found")
            } else {
                var lines: [String] = []
                lines.append(
                    "checked \(report.versionsChecked) version\(report.versionsChecked == 1 ? "" : "s"), \(report.packsChecked) pack headers"
                        + (fraction > 0 ? ", read \(report.packsRead) pack\(report.packsRead == 1 ? "" : "s") (\(Format.bytes(report.bytesRead)))" : ""))
                for e in report.errors { lines.append("error: \(e)") }
                for (id, files) in report.damagedVersions.sorted(by: { $0.key < $1.key }) {
                    let shown = files.prefix(5).joined(separator: ", ") + (files.count > 5 ? ", and \(files.count - 5) more" : "")
                    lines.append("version \(id.short) cannot be fully restored: \(shown)")
                }
                if let r = report.rollback { lines.append("rollback: \(r.description)") }
                for n in report.notes { lines.append("note: \(n)") }
                if !report.unreferencedPacks.isEmpty || !report.unreferencedVersions.isEmpty {
                    lines.append(
                        "reclaimable: \(report.unreferencedPacks.count) unreferenced pack\(report.unreferencedPacks.count == 1 ? "" : "s"), "
                            + "\(report.unreferencedVersions.count) unreferenced version file\(report.unreferencedVersions.count == 1 ? "" : "s") "
                            + "(left by an interrupted seal; not an error — prune removes them)")
                }
                if !report.unlistedIndexFiles.isEmpty {
                    let n = report.unlistedIndexFiles.count
                    lines.append(
                        "reclaimable: \(n) index file\(n == 1 ? "" : "s") the head does not list, not read "
                            + "(\(report.unlistedIndexFiles.prefix(3).map(\.short).joined(separator: ", "))\(n > 3 ? ", ..." : ""): "
                            + "left by an interrupted seal, or an old index file put back; not an error — prune removes them)")
                }
                lines.append(CheckVerdict.line(report))
                if report.isClean || !output.quiet { lines.forEach(Console.out) } else { lines.forEach(Console.err) }
            }
            if !report.errors.isEmpty { throw CommandFailure(.integrity) }
            if report.rollback != nil { throw CommandFailure(.rollback) }
        }
    }
}

/// `check --json`.
private struct CheckJSON: Encodable {
    var vault: String
    var clean: Bool
    var errors: [String]
    var damagedVersions: [String: [String]]
    var rollback: String?
    var notes: [String]
    var unreferencedPacks: [String]
    var unreferencedVersions: [String]
    var unlistedIndexFiles: [String]
    var versionsChecked: Int
    var packsChecked: Int
    var packsRead: Int
    var bytesRead: UInt64

    init(_ r: CheckReport, vault: Vault) {
        self.vault = vault.location
        clean = r.isClean
        errors = r.errors
        damagedVersions = Dictionary(uniqueKeysWithValues: r.damagedVersions.map { ($0.key.hex, $0.value) })
        rollback = r.rollback?.description
        notes = r.notes
        unreferencedPacks = r.unreferencedPacks.map(\.hex)
        unreferencedVersions = r.unreferencedVersions.map(\.hex)
        unlistedIndexFiles = r.unlistedIndexFiles.map(\.hex)
        versionsChecked = r.versionsChecked
        packsChecked = r.packsChecked
        packsRead = r.packsRead
        bytesRead = r.bytesRead
    }

    enum CodingKeys: String, CodingKey {
        case vault, clean, errors, rollback, notes
        case damagedVersions = "damaged_versions"
        case unreferencedPacks = "unreferenced_packs"
        case unreferencedVersions = "unreferenced_versions"
        case unlistedIndexFiles = "unlisted_index_files"
        case versionsChecked = "versions_checked"
        case packsChecked = "packs_checked"
        case packsRead = "packs_read"
        case bytesRead = "bytes_read"
    }
}
