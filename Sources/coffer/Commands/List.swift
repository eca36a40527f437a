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
                Times are UTC. PATHS are the paths given to seal, shortened in the table (--json \
                has them in full). --host keeps versions from any of the hosts given; --path keeps \
                versions whose paths include every path given; --tag a,b keeps versions having \
                both tags, and several --tag keep versions matching any of them. --group-by \
                host,paths,tags (any of them) prints one table per group, under a header line.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: "Only versions with this name.")
        var name: String?

        @Option(name: .customLong("host"), help: ArgumentHelp("Only versions sealed on this host (repeatable: any of them).", valueName: "host"))
        var hosts: [String] = []

        @Option(name: .customLong("path"), help: ArgumentHelp("Only versions whose sealed paths include this path (repeatable: all of them).", valueName: "path"))
        var paths: [String] = []

        @Option(name: .customLong("tag"), help: ArgumentHelp("Only versions with these tags (a,b: both; repeatable: any of the lists).", valueName: "tags"))
        var tags: [String] = []

        @Option(help: ArgumentHelp("Group the versions by host, paths and/or tags (host,paths,tags).", valueName: "fields"), transform: List.parseGroupBy)
        var groupBy: VersionGroupKey.Fields?

        static func parseGroupBy(_ text: String) throws -> VersionGroupKey.Fields {
            guard let f = VersionGroupKey.Fields(parsing: text) else {
                throw ValidationError("'\(text)' is not a grouping; use host, paths and tags, separated by commas (host,paths)")
            }
            return f
        }

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
            let filter = VersionFilter(
                hosts: hosts, paths: paths,
                tagLists: tags.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
            let filtered = !filter.isEmpty
            chosen = chosen.filter { filter.matches($0.version) }
            chosen.reverse()
            if output.json {
                try JSONOutput.print(chosen.map { VersionJSON(id: $0.id, version: $0.version) })
                return
            }
            guard !chosen.isEmpty else {
                output.say(filtered ? "No version matches the filters." : "No versions yet; add one with 'coffer seal PATH'.")
                return
            }
            // The listing is the result: printed with --quiet too.
            guard let groupBy else {
                Console.out(List.table(chosen))
                return
            }
            var order: [VersionGroupKey] = []
            var groups: [VersionGroupKey: [(id: ObjectID, version: Version)]] = [:]
            for v in chosen {
                let key = VersionGroupKey(v.version, by: groupBy)
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(v)
            }
            for (i, key) in order.enumerated() {
                if i > 0 { Console.out("") }
                let n = groups[key]!.count
                Console.out("\(key.description) (\(n) version\(n == 1 ? "" : "s")):")
                Console.out(List.table(groups[key]!))
            }
        }

        static func table(_ versions: [(id: ObjectID, version: Version)]) -> String {
            let rows = versions.map { (id, v) in
                [
                    id.short, Console.name(v.name), Format.dateTime(v.time), TerminalText.escape(bytes: v.hostBytes), shortPaths(v.pathBytes),
                    String(v.stats.files), Format.bytes(v.stats.bytes), Format.bytes(v.stats.addedBytes), Console.name(v.tags.joined(separator: ",")),
                ]
            }
            return Format.table(["ID", "NAME", "DATE (UTC)", "HOST", "PATHS", "FILES", "SIZE", "ADDED", "TAGS"], rows, rightAligned: [5, 6, 7])
        }

        /// The paths for the table: each at most 40 characters (the middle left out), the first
        /// two and a count of the rest.
        static func shortPaths(_ paths: [[UInt8]]) -> String {
            func short(_ p: [UInt8]) -> String {
                let text = Array(TerminalText.escape(bytes: p))
                guard text.count > 40 else { return String(text) }
                return String(text.prefix(12)) + "…" + String(text.suffix(27))
            }
            let shown = paths.prefix(2).map(short).joined(separator: ", ")
            return paths.count > 2 ? shown + " +\(paths.count - 2) more" : shown
        }
    }
}
