import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer ls`: what a version holds.
    struct Ls: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what a version holds.",
            discussion: "Paths inside a version start with the base name of each sealed path. Times are UTC.")

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: "The version: an id prefix, NAME@latest, NAME@-N or NAME@YYYY-MM-DD.")
        var version: String

        @Argument(help: "Only this file, or what is under this folder.")
        var path: String?

        @Flag(name: .shortAndLong, help: "Also show exact sizes in bytes and each file's SHA-256.")
        var long = false

        func run() throws {
            let vault = try vaultArguments.open()
            let id = try vault.resolve(version)
            let v = try vault.version(id)
            // Archives (zips) list their members under the archive's name.
            var entries = v.expandedEntries
            if let path {
                let prefix = Paths.normalized(path)
                if !prefix.isEmpty {
                    entries = entries.filter { Paths.isSelfOrDescendant($0.path, of: prefix) }
                    if entries.isEmpty { throw CofferError.pathNotInVersion(path: path, version: id.short) }
                }
            }
            if output.json {
                try JSONOutput.print(LsJSON(id: id, version: v, entries: entries))
                return
            }
            if output.quiet { return }
            let rows = entries.map { e -> [String] in
                var row = [Format.mode(e.mode, type: e.type)]
                row.append(e.type == .directory ? "-" : long ? String(e.size) : Format.bytes(e.size))
                row.append(Format.dateTime(Date(timeIntervalSince1970: TimeInterval(e.mtimeSeconds))))
                if long { row.append((e.type == .file || e.type == .archive) && e.sha256.contains(where: { $0 != 0 }) ? e.sha256Hex : "-") }
                row.append(e.type == .symlink ? "\(Console.name(e.path)) -> \(Console.name(e.linkTarget))" : Console.name(e.path))
                return row
            }
            let header = long ? ["MODE", "SIZE", "MODIFIED", "SHA-256", "PATH"] : ["MODE", "SIZE", "MODIFIED", "PATH"]
            Console.out(Format.table(header, rows, rightAligned: [1]))
        }
    }
}

/// `ls --json`.
private struct LsJSON: Encodable {
    struct Entry: Encodable {
        var type: String
        var path: String
        var mode: String
        var size: UInt64
        var mtime: String
        var sha256: String?
        var linkTarget: String?

        enum CodingKeys: String, CodingKey {
            case type, path, mode, size, mtime, sha256
            case linkTarget = "link_target"
        }
    }

    var id: String
    var name: String
    var time: String
    var entries: [Entry]

    init(id: ObjectID, version: Version, entries: [VersionEntry]) {
        self.id = id.hex
        name = version.name
        time = Format.iso8601(version.time)
        self.entries = entries.map { e in
            Entry(
                type: e.type == .directory ? "dir" : e.type == .symlink ? "symlink" : "file", path: e.path,
                mode: String(format: "%04o", e.mode), size: e.type == .directory ? 0 : e.size,
                mtime: Format.iso8601(Date(timeIntervalSince1970: TimeInterval(e.mtimeSeconds))),
                sha256: (e.type == .file || e.type == .archive) && e.sha256.contains(where: { $0 != 0 }) ? e.sha256Hex : nil, linkTarget: e.type == .symlink ? e.linkTarget : nil)
        }
    }
}
