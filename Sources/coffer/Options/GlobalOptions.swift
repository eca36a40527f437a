import ArgumentParser
import CofferCore
import CofferCrypto
import Foundation

/// Where the vault is and how to unlock it: shared by every command that opens a vault.
struct VaultArguments: ParsableArguments {
    @Option(
        name: .long, help: ArgumentHelp("The vault: a folder, rclone:REMOTE:PATH or s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]. Default: $COFFER_VAULT.", valueName: "dir"),
        completion: .directory)
    var vault: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the passphrase from the first line of this file. Default: $COFFER_PASSPHRASE_FILE.", valueName: "file"),
        completion: .file())
    var passphraseFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Run this shell command (/bin/sh -c) and use the first line it prints as the passphrase. Default: $COFFER_PASSPHRASE_COMMAND.",
            valueName: "cmd"))
    var passphraseCommand: String?

    /// Read by ProfileArguments before parsing, which replaces it with the options the profile
    /// stands for: declared here for --help only.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Use this profile of $XDG_CONFIG_HOME/coffer/config.toml (default ~/.config/coffer/config.toml): its vault and passphrase source, and seal's paths and forget's rules; options given override it.",
            valueName: "name"))
    var profile: String?

    func validate() throws {
        if passphraseFile != nil && passphraseCommand != nil {
            throw ValidationError("give either --passphrase-file or --passphrase-command, not both")
        }
        if passphraseFile == nil && passphraseCommand == nil && SecretEnvironment.passphraseFile != nil
            && SecretEnvironment.passphraseCommand != nil {
            throw ValidationError("both COFFER_PASSPHRASE_FILE and COFFER_PASSPHRASE_COMMAND are set; unset one of them")
        }
        if let vault, vault.isEmpty { throw ValidationError("--vault needs a folder") }
    }

    /// The vault folder: `--vault`, else `COFFER_VAULT`.
    func vaultPath() throws -> String {
        if let vault { return vault }
        if let env = ProcessInfo.processInfo.environment["COFFER_VAULT"], !env.isEmpty { return env }
        throw CommandFailure.usage("no vault given: pass --vault DIR or set COFFER_VAULT")
    }

    /// The passphrase source these options and the environment select.
    var passphraseSource: PassphraseSource {
        PassphraseSource.choose(file: passphraseFile, command: passphraseCommand)
    }

    /// Reads the passphrase from its source.
    func passphrase(prompt: String, confirm: Bool = false) throws -> SecureBytes {
        try PassphraseReader.read(from: passphraseSource, prompt: prompt, confirm: confirm)
    }

    /// Opens the vault, asking for the passphrase.
    ///
    /// A missing folder is reported before the passphrase is asked. When this machine has seen a
    /// newer head of the vault (rollback), a warning goes to stderr unless `warnOnRollback` is
    /// false (the caller reports it itself).
    func open(warnOnRollback: Bool = true) throws -> Vault {
        let path = try vaultPath()
        // A folder, rclone:REMOTE:PATH or s3:URL. A wrong location is reported before the passphrase is asked for.
        do { try Vault.probe(location: path) } catch CofferError.invalidArgument(let m) { throw CommandFailure.usage(m) }
        let key = try passphrase(prompt: "Passphrase for vault \(path): ")
        let vault: Vault
        do { vault = try Vault.open(location: path, passphrase: key) } catch CofferError.wrongPassphrase(let v) {
            throw CommandFailure(.wrongPassphrase, "wrong passphrase for vault \(v) (read from \(passphraseSource.label))")
        }
        BenchMemory.afterUnlock()
        if warnOnRollback, let finding = vault.rollback {
            Console.warn("rollback detected: \(finding.description)")
        }
        return vault
    }
}

/// How results are printed.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON on stdout instead of tables and messages.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors and warnings, and no progress.")
    var quiet = false

    /// Prints a human line on stdout unless `--quiet` or `--json`.
    func say(_ text: String) {
        if !quiet && !json { Console.out(text) }
    }
}
