import ArgumentParser
import CofferCore
import CofferCrypto
import Foundation

extension Coffer {
    /// `coffer init`: creates a vault.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a vault; asks for the passphrase twice.",
            discussion: """
                Creates a new vault in DIR (a new or empty folder), or in an S3 bucket \
                (s3:https://HOST/BUCKET/PREFIX; the bucket is created when missing, the prefix must be empty). The passphrase cannot be \
                recovered: without it nothing in the vault can be read.
                """)

        /// Argon2id cost profiles offered at init.
        enum KDFProfile: String, ExpressibleByArgument, CaseIterable {
            case moderate, sensitive

            var parameters: KDFParameters { self == .moderate ? .moderate : .sensitive }
        }

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Option(help: "Argon2id cost of the passphrase: moderate (256 MiB, about 0.5 s) or sensitive (1 GiB, about 4 s).")
        var kdf: KDFProfile = .moderate

        func run() throws {
            Interrupt.beginCooperative()
            let path = try vaultArguments.vaultPath()
            // An object-storage location (s3:): its bucket is created when missing, and it must hold nothing.
            var remote: Backend?
            if path.hasPrefix("s3:") {
                let location: VaultLocation
                do { location = try VaultLocation(parsing: path) } catch CofferError.invalidArgument(let m) { throw CommandFailure.usage(m) }
                let backend = location.backend()
                try ObjectStorage.s3().prepareForCreate(backend)
                remote = backend
            }
            // Refuse before asking for a passphrase (Vault.create refuses too).
            var isDirectory: ObjCBool = false
            if remote == nil, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
                if !isDirectory.boolValue || !contents.isEmpty { throw CofferError.vaultExists(path: path) }
            }
            if let remote, try !remote.list("").isEmpty { throw CofferError.vaultExists(path: path) }
            let passphrase = try vaultArguments.passphrase(prompt: "New passphrase for vault \(path): ", confirm: true)
            var options = CofferCore.VaultOptions()
            options.kdf = PassphraseReader.newSlotParameters(kdf.parameters)
            let vault = try remote.map { try Vault.create(backend: $0, passphrase: passphrase, options: options) }
                ?? Vault.create(at: path, passphrase: passphrase, options: options)
            if output.json {
                try JSONOutput.print(InitJSON(path: path, id: vault.vaultID.hex, kdf: kdf.rawValue))
            } else {
                output.say("Created vault \(path) (id \(vault.vaultID.short)).")
                output.say("Keep the passphrase safe: it cannot be recovered, and without it nothing in the vault can be read.")
            }
        }
    }
}

/// `init --json`.
private struct InitJSON: Encodable {
    var path: String
    var id: String
    var kdf: String
}
