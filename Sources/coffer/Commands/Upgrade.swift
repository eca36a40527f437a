import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer upgrade`: convert a format-1 vault to format 2 in place.
    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a format-1 vault to format 2 in place.",
            discussion: """
                Each live version is rewritten as a format-2 version (its entries as trees; the \
                data is not copied: packs and chunk ids stay), then the vault's config is switched \
                to format 2 and a new head lists the new versions in place of the old ones, which \
                are kept as forgotten (prune deletes their files). Prints each old version id with \
                the id that replaces it. Safe to stop at any moment: the vault stays readable and \
                every version restorable, and running upgrade again finishes it. Until then, other \
                writers (seal, forget, prune, key changes) refuse. A vault already in format 2 is \
                left as it is (exit status 0). Copies made with 'coffer sync' must be upgraded too, \
                or synced anew: sync refuses to copy between formats.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Flag(help: "Upgrade even though this vault is older than one this machine has seen (rollback).")
        var force = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        func run() throws {
            Interrupt.beginCooperative()
            let vault = try vaultArguments.open()
            var options = UpgradeOptions()
            options.force = force
            options.lockWait = lockWait
            options.isCancelled = Interrupt.check
            let r = try vault.upgrade(options: options)
            for note in vault.lockNotes { Console.warn(note) }
            if output.json {
                try JSONOutput.print(UpgradeJSON(r))
                return
            }
            if r.alreadyFormat2 {
                output.say("vault \(vault.location) is already format 2; nothing to do")
                return
            }
            for m in r.mapping { output.say("\(m.old.hex) -> \(m.new.hex)") }
            output.say(
                "upgraded \(r.mapping.count) version\(r.mapping.count == 1 ? "" : "s") to format 2\(r.resumed ? " (finishing an interrupted upgrade)" : ""): "
                    + "\(r.addedPieces) tree and layout piece\(r.addedPieces == 1 ? "" : "s") added (\(Format.bytes(r.addedPieceBytes)), "
                    + "\(Format.bytes(r.storedBytes)) in \(r.packsWritten) new pack\(r.packsWritten == 1 ? "" : "s")) in \(Format.duration(r.duration))")
            output.say("the old versions are kept as forgotten: 'coffer prune' deletes their files")
        }
    }
}

/// `upgrade --json`.
private struct UpgradeJSON: Encodable {
    struct Mapping: Encodable {
        var old: String
        var new: String
    }
    var already_format_2: Bool
    var resumed: Bool
    var versions: [Mapping]
    var added_pieces: UInt64
    var added_piece_bytes: UInt64
    var packs_written: Int
    var stored_bytes: UInt64
    var seconds: Double

    init(_ r: UpgradeResult) {
        already_format_2 = r.alreadyFormat2
        resumed = r.resumed
        versions = r.mapping.map { Mapping(old: $0.old.hex, new: $0.new.hex) }
        added_pieces = r.addedPieces
        added_piece_bytes = r.addedPieceBytes
        packs_written = r.packsWritten
        stored_bytes = r.storedBytes
        seconds = r.duration
    }
}
