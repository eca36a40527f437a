import ArgumentParser
import CofferCore
import CofferCrypto
import Foundation

extension Coffer {
    /// `coffer key`: the vault's passphrases (key slots).
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the vault's passphrases: list, add, passwd, remove.",
            discussion: """
                Each passphrase is a key slot: a small file under keys/ that wraps the vault's \
                master key. Every slot opens the whole vault. Adding, changing or removing a \
                passphrase writes or removes one slot and never re-encrypts data. A vault holds at \
                most \(Vault.maximumKeySlots) slots.

                The current passphrase comes from the usual sources (--passphrase-file, \
                --passphrase-command, $COFFER_PASSPHRASE_FILE, $COFFER_PASSPHRASE, the prompt). A \
                new one comes from --new-passphrase-file FILE or the terminal prompt (asked \
                twice), never from a command-line value.
                """,
            subcommands: [KeyList.self, KeyAdd.self, KeyPasswd.self, KeyRemove.self])
    }

    /// `coffer key list`.
    struct KeyList: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the key slots; the one marked current is the passphrase in use now.")

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try vaultArguments.open()
            let slots = try vault.keySlots()
            if output.json {
                try JSONOutput.print(slots.map(KeySlotJSON.init))
                return
            }
            // The listing is the result: printed with --quiet too.
            let rows = slots.map { s in
                [
                    s.shortID, s.damage == nil ? Format.dateTime(s.created) : "-", s.damage == nil ? s.host : "-",
                    s.damage.map { "damaged: \($0)" } ?? KeyCommand.kdfLabel(s.parameters), s.current ? "*" : "",
                ]
            }
            Console.out(Format.table(["ID", "CREATED (UTC)", "HOST", "KDF", "CURRENT"], rows))
        }
    }

    /// `coffer key add`.
    struct KeyAdd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a passphrase (a new key slot); the existing ones keep working.")

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions
        @OptionGroup var newPassphrase: NewPassphraseOptions

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        func run() throws {
            let vault = try vaultArguments.open()
            let passphrase = try PassphraseReader.readNew(file: newPassphrase.newPassphraseFile, prompt: "New passphrase for vault \(vault.location): ")
            let parameters = PassphraseReader.newSlotParameters((newPassphrase.kdf ?? .moderate).parameters)
            let slot = try vault.addKey(passphrase: passphrase, parameters: parameters, lockWait: lockWait)
            for note in vault.lockNotes { Console.warn(note) }
            if output.json {
                try JSONOutput.print(KeySlotJSON(slot))
            } else {
                output.say("Added key slot \(slot.shortID) (\(KeyCommand.kdfLabel(slot.parameters))). Both passphrases now open vault \(vault.location).")
            }
        }
    }

    /// `coffer key passwd`.
    struct KeyPasswd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd",
            abstract: "Change the passphrase in use: a new key slot replaces the current one.",
            discussion: """
                Writes a slot for the new passphrase, checks that it opens the vault, then removes \
                the slot of the current passphrase; other passphrases are untouched. No data is \
                re-encrypted. Without --kdf the new slot keeps the current slot's cost when it is \
                sensitive, and is moderate otherwise.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions
        @OptionGroup var newPassphrase: NewPassphraseOptions

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        func run() throws {
            let vault = try vaultArguments.open()
            let old = vault.keySlotID
            let passphrase = try PassphraseReader.readNew(file: newPassphrase.newPassphraseFile, prompt: "New passphrase for vault \(vault.location): ")
            let current = try vault.keySlots().first { $0.current }
            let profile = newPassphrase.kdf ?? (current?.parameters == .sensitive ? .sensitive : .moderate)
            let parameters = PassphraseReader.newSlotParameters(profile.parameters)
            let slot = try vault.changePassphrase(to: passphrase, parameters: parameters, lockWait: lockWait)
            for note in vault.lockNotes { Console.warn(note) }
            if output.json {
                try JSONOutput.print(PasswdJSON(removed: old, added: KeySlotJSON(slot)))
            } else {
                output.say("Changed the passphrase: key slot \(slot.shortID) replaces \(old.prefix(8)); no data was re-encrypted.")
                output.say("The old passphrase no longer opens vault \(vault.location).")
            }
        }
    }

    /// `coffer key remove ID`.
    struct KeyRemove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a key slot: its passphrase no longer opens the vault.",
            discussion: """
                ID is a slot id or a unique prefix of one ('coffer key list'). The last slot is \
                never removed, and the slot of the passphrase in use only with --force and \
                another passphrase of the vault (--other-passphrase-file FILE, else the terminal \
                prompt): coffer removes a slot only when a slot that stays was unlocked in this \
                run. A slot file that is merely present in keys/ does not count.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The key slot's id, or a unique prefix of it.", valueName: "id"))
        var id: String

        @Flag(help: "Also remove the slot of the passphrase in use; another passphrase of the vault must unlock a slot that stays.")
        var force = false

        @Option(
            help: ArgumentHelp(
                "With --force: read another passphrase of the vault (one that stays) from the first line of this file. "
                    + "Default: the terminal prompt.", valueName: "file"),
            completion: .file())
        var otherPassphraseFile: String?

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        func run() throws {
            let vault = try vaultArguments.open()
            // Removing the slot in use: a slot that stays must be unlocked too, with its passphrase.
            var other: SecureBytes?
            let prefix = id.lowercased()
            if let file = otherPassphraseFile {
                other = try PassphraseReader.readOther(file: file, prompt: "")
            } else if force, !prefix.isEmpty, vault.keySlotID.hasPrefix(prefix), try vault.keySlots().count > 1 {
                other = try PassphraseReader.readOther(file: nil, prompt: "Another passphrase of vault \(vault.location) (one that stays): ")
            }
            let removed = try vault.removeKey(id: id, force: force, otherPassphrase: other, lockWait: lockWait)
            for note in vault.lockNotes { Console.warn(note) }
            if output.json {
                try JSONOutput.print(["removed": removed])
            } else {
                output.say("Removed key slot \(removed.prefix(8)); its passphrase no longer opens vault \(vault.location).")
            }
        }
    }
}

/// Where `key add` and `key passwd` get the new passphrase, and its cost.
struct NewPassphraseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("Read the new passphrase from the first line of this file. Default: the terminal prompt, asked twice.", valueName: "file"),
        completion: .file())
    var newPassphraseFile: String?

    @Option(help: "Argon2id cost of the new slot: moderate (256 MiB, about 0.5 s) or sensitive (1 GiB, about 4 s).")
    var kdf: Coffer.Init.KDFProfile?
}

enum KeyCommand {
    /// `moderate`, `sensitive`, or the raw Argon2id cost.
    static func kdfLabel(_ p: KDFParameters) -> String {
        if p == .moderate { return "moderate" }
        if p == .sensitive { return "sensitive" }
        if p == .insecureTestOnly { return "test-only minimum" }
        return "argon2id \(p.opsLimit) passes, \(Format.bytes(p.memLimit))"
    }
}

/// A key slot in `key list --json` (and `key add --json`).
private struct KeySlotJSON: Encodable {
    var id: String
    var shortID: String
    var created: String?
    var host: String?
    var current: Bool
    var kdf: String?
    var kdfOpsLimit: UInt64?
    var kdfMemLimit: UInt64?
    var damage: String?

    enum CodingKeys: String, CodingKey {
        case id, created, host, current, kdf, damage
        case shortID = "short_id"
        case kdfOpsLimit = "kdf_ops_limit"
        case kdfMemLimit = "kdf_mem_limit"
    }

    init(_ s: KeySlotInfo) {
        id = s.id
        shortID = s.shortID
        current = s.current
        damage = s.damage
        if s.damage == nil {
            created = Format.iso8601(s.created)
            host = s.host
            kdf = KeyCommand.kdfLabel(s.parameters)
            kdfOpsLimit = s.parameters.opsLimit
            kdfMemLimit = s.parameters.memLimit
        }
    }
}

/// `key passwd --json`.
private struct PasswdJSON: Encodable {
    var removed: String
    var added: KeySlotJSON
}
