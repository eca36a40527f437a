import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer list`: the versions, newest first.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List versions, newest first, with their sizes and what each added.",
            discussion: """
                ADDED is what the version cost in storage after deduplication and compression. \
                Times are UTC.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: "Only versions with this name.")
        var name: String?

        func run() throws {
            let vault = try vaultArguments.open()
            let all = try vault.versions()
            var chosen = all
            if let name {
                chosen = all.filter { $0.version.name == name }
                if chosen.isEmpty {
                    let names = Set(all.map(\.version.name)).sorted()
                    throw CofferError.versionNotFound(selector: name, candidates: names.map { "\($0)@latest" })
                }
            }
            chosen.reverse()
            if output.json {
                try JSONOutput.print(chosen.map { VersionJSON(id: $0.id, version: $0.version) })
                return
            }
            guard !chosen.isEmpty else {
                output.say("No versions yet; add one with 'coffer seal PATH'.")
                return
            }
            let rows = chosen.map { (id, v) in
                [
                    id.short, Console.name(v.name), Format.dateTime(v.time), String(v.stats.files), Format.bytes(v.stats.bytes),
                    Format.bytes(v.stats.addedBytes), Console.name(v.tags.joined(separator: ",")),
                ]
            }
            // The listing is the result: printed with --quiet too.
            Console.out(Format.table(["ID", "NAME", "DATE (UTC)", "FILES", "SIZE", "ADDED", "TAGS"], rows, rightAligned: [3, 4, 5]))
        }
    }
}
