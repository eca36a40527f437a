import ArgumentParser
import CofferCore
import CofferExports
import Foundation

extension Coffer {
    /// `coffer cat`: one file to stdout.
    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one file of a version to stdout.",
            discussion: """
                The file is checked chunk by chunk and its SHA-256 at the end; on an integrity \
                failure the exit status is 13 and what was written before it must be discarded. \
                A zip member the original zip itself has a fault in (a wrong CRC-32, data that \
                does not inflate to its size) is written as unzip writes it, with a message, and \
                the exit status is 3.
                """)

        @OptionGroup var vaultArguments: VaultArguments

        @Argument(help: "The version: an id prefix, NAME@latest, NAME@-N or NAME@YYYY-MM-DD.")
        var version: String

        @Argument(help: "The file's path inside the version (see 'coffer ls').")
        var path: String

        func run() throws {
            let vault = try vaultArguments.open()
            let id = try vault.resolve(version)
            do {
                try vault.readFile(id, path: path, archiveHandler: ZipArchiveHandler()) { bytes in
                    try bytes.withUnsafeBytes { try Console.write(1, $0, name: "standard output") }
                }
            } catch let fault as ArchiveMemberFault {
                // Everything that decodes was written, as unzip writes it; the vault is fine.
                Console.err("\(TerminalText.escape(path)): written as unzip writes it; \(fault)")
                throw CommandFailure(.partial)
            }
        }
    }
}
