import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer find`: which versions hold paths matching patterns.
    struct Find: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find which versions hold paths matching patterns.",
            discussion: """
                Patterns follow restore --include's rules (*, ?, [...], ** and \\, matched on the \
                names' bytes). A pattern without '/' is matched against each entry's base name at \
                any depth ('*.pdf', 'notes.txt'); one with '/' against the whole path, from any \
                component or, with a leading '/', from the top ('docs/*.md', '/home/ann/**'), and \
                a folder it matches brings everything below it. A later '!PATTERN' takes back \
                what earlier patterns matched. --oldest and --newest select by the entries' \
                modification times. Versions are searched newest first; each one with a match is \
                printed with its id, name and time, then the matching entries. Times are UTC.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("Patterns to look for (at least one).", valueName: "pattern"))
        var patterns: [String]

        @Option(name: .customLong("name"), help: ArgumentHelp("Only versions with this name (repeatable).", valueName: "name"))
        var names: [String] = []

        @Option(name: .customLong("host"), help: ArgumentHelp("Only versions sealed on this host (repeatable).", valueName: "host"))
        var hosts: [String] = []

        @Option(
            help: ArgumentHelp("Only entries modified at or before this time (forms as seal --time).", valueName: "time"),
            transform: Seal.parseTime)
        var newest: Date?

        @Option(
            help: ArgumentHelp("Only entries modified at or after this time (forms as seal --time).", valueName: "time"),
            transform: Seal.parseTime)
        var oldest: Date?

        @Flag(name: [.customShort("i"), .long], help: "Match patterns ignoring case.")
        var ignoreCase = false

        @Flag(help: "Also search the members of sealed archives (zips), as paths below the archive.")
        var members = false

        func validate() throws {
            if patterns.isEmpty { throw ValidationError("give at least one pattern") }
            if let oldest, let newest, oldest > newest { throw ValidationError("--oldest is after --newest: nothing can match") }
        }

        func run() throws {
            let set: FindPatterns
            do { set = try FindPatterns(patterns.map { Array($0.utf8) }, caseInsensitive: ignoreCase) } catch let e as PatternError {
                throw CommandFailure.usage("\(e)")
            }
            let vault = try vaultArguments.open()
            let chosen = try vault.versions().reversed().filter { v in
                (names.isEmpty || names.contains(v.version.name)) && (hosts.isEmpty || hosts.contains(v.version.host))
            }
            if chosen.isEmpty && !names.isEmpty {
                let all = Set(try vault.versions().map(\.version.name)).sorted()
                if !names.contains(where: all.contains) {
                    throw CofferError.versionNotFound(selector: names.joined(separator: ","), candidates: all.map { "\($0)@latest" })
                }
            }
            let find = VersionFind(patterns: set, members: members, oldest: oldest, newest: newest)
            // COFFER_FIND_STATS=1 reports the walk's figures on stderr; =nocache also turns the
            // memory of what was found below folders off, to measure what it saves.
            let measure = ProcessInfo.processInfo.environment["COFFER_FIND_STATS"]
            if measure == "nocache" { find.remembersFolders = false }
            let started = Date()
            var results: [FindJSON.Version] = []
            var total = 0, versionsWithMatches = 0
            for (id, v) in chosen {
                var header = false
                var entries: [FindJSON.Entry] = []
                let n = try find.search(vault, version: id) { e in
                    if output.json {
                        entries.append(FindJSON.Entry(e))
                        return
                    }
                    if !header {
                        Console.out("\(versionsWithMatches == 0 ? "" : "\n")Found in \(id.short) \(Console.name(v.name)) (\(Format.dateTime(v.time))):")
                        header = true
                    }
                    let size = e.type == .directory ? "-" : Format.bytes(e.size)
                    let mtime = Format.dateTime(Date(timeIntervalSince1970: TimeInterval(e.mtimeSeconds)))
                    Console.out("  \(FindJSON.typeLetter(e.type))  \(String(repeating: " ", count: max(0, 7 - size.count)))\(size)  \(mtime)  \(e.displayPath)")
                }
                if n > 0 {
                    versionsWithMatches += 1
                    total += n
                    if output.json { results.append(FindJSON.Version(id: id, version: v, matches: entries)) }
                }
            }
            let seconds = Date().timeIntervalSince(started)
            if measure != nil {
                // For measurements: how much of the walk the memory of folders saved.
                Console.err("find: \(find.entriesRead) entries read, \(find.foldersSkipped) folders from memory, \(String(format: "%.3f", seconds)) s")
            }
            if output.json {
                try JSONOutput.print(FindJSON(versions: results, searched: chosen.count))
                return
            }
            let searched = "\(chosen.count) version\(chosen.count == 1 ? "" : "s")"
            if total == 0 {
                output.say("No matches in \(searched).")
            } else {
                output.say("\n\(total) match\(total == 1 ? "" : "es") in \(versionsWithMatches) of \(searched).")
            }
        }
    }
}

/// `find --json`: `{"searched": N, "versions": [{id, short_id, name, time, host, matches: [...]}]}`,
/// only versions with a match, newest first. Each match has `path` (and `path_bytes`, base64,
/// when the path is not valid UTF-8), `type`, `size` and `mtime`.
struct FindJSON: Encodable {
    struct Entry: Encodable {
        var path: String
        var pathBytes: String?
        var type: String
        var size: UInt64
        var mtime: String

        enum CodingKeys: String, CodingKey {
            case path, type, size, mtime
            case pathBytes = "path_bytes"
        }

        init(_ e: VersionEntry) {
            (path, pathBytes) = JSONBytes.lossless(e.pathBytes)
            type = e.type == .archive ? "archive" : JSONBytes.typeName(e.type)
            size = e.type == .directory ? 0 : e.size
            mtime = Format.iso8601(Date(timeIntervalSince1970: TimeInterval(e.mtimeSeconds)))
        }
    }

    struct Version: Encodable {
        var id: String
        var shortID: String
        var name: String
        var time: String
        var host: String
        var matches: [Entry]

        enum CodingKeys: String, CodingKey {
            case id, name, time, host, matches
            case shortID = "short_id"
        }

        init(id: ObjectID, version: CofferCore.Version, matches: [Entry]) {
            self.id = id.hex
            shortID = id.short
            name = version.name
            time = Format.iso8601(version.time)
            host = version.host
            self.matches = matches
        }
    }

    var versions: [Version]
    var searched: Int

    /// The one-letter type of the human listing: f file, a archive, d folder, l symlink, h hard
    /// link, p fifo, c and b devices.
    static func typeLetter(_ t: EntryType) -> String {
        switch t {
        case .file: return "f"
        case .archive: return "a"
        case .directory: return "d"
        case .symlink: return "l"
        case .hardlink: return "h"
        case .fifo: return "p"
        case .charDevice: return "c"
        case .blockDevice: return "b"
        }
    }
}
