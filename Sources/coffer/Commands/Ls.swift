import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer ls`: what a version holds.
    struct Ls: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what a version holds.",
            discussion: """
                Paths inside a version start with the base name of each sealed path; a zip's \
                members are listed under its name. Times are UTC.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: "The version: an id prefix, NAME@latest, NAME@-N or NAME@YYYY-MM-DD.")
        var version: String

        @Argument(help: "Only this file, or what is under this folder.")
        var path: String?

        @Flag(name: .shortAndLong, help: "Also show exact sizes in bytes, each file's SHA-256, (format 2) owners, and a STORAGE column: archive for a zip, reproduced, kept-compressed or stored for its members.")
        var long = false

        func run() throws {
            let vault = try vaultArguments.open()
            let id = try vault.resolve(version)
            let v = try vault.version(id)
            // Archives (zips) list their members under the archive's name. The version is read
            // as a stream: each entry is printed as it comes, nothing is held but the row.
            let walker = try vault.walker(for: v, id: id, expandArchives: true)
            // Owners and extended attributes are recorded by format-2 versions only.
            let owners = v.rootTree != nil
            let slash = UInt8(ascii: "/")
            let prefix = path.map { Array(Array($0.utf8).split(separator: slash).joined(separator: [slash])) } ?? []
            var listed = 0
            let json = output.json ? try JSONArrayStream(key: "entries") : nil
            // The listing is the result: printed with --quiet too.
            let table = !output.json ? LsTable(long: long, owners: long && owners) : nil
            while let e = try walker.next() {
                if !prefix.isEmpty {
                    guard e.pathBytes == prefix || e.pathBytes.starts(with: prefix + [slash]) else {
                        // Not at or under the path: descend only towards it.
                        if !prefix.starts(with: e.pathBytes + [slash]) {
                            walker.skipChildren()
                            if VersionWalker.compare(e.pathBytes, prefix) > 0 { break }
                        }
                        continue
                    }
                }
                listed += 1
                try json?.append(LsJSON.Entry(e, owners: owners, storage: walker.lastMemberStorage))
                table?.row(e, storage: walker.lastMemberStorage)
            }
            if !prefix.isEmpty && listed == 0 { throw CofferError.pathNotInVersion(path: path ?? "", version: id.short) }
            try json?.finish(LsJSON(id: id, version: v))
            table?.finish()
        }
    }
}

/// `ls` for people: rows printed as they come, in columns of fixed widths (the SIZE column as
/// wide as a size in `Format.bytes` is, or 12 digits with `--long`; OWNER, with `--long` on a
/// format-2 version, is `user:group`, each the name or, when unknown, the id).
private final class LsTable {
    private let long: Bool
    private let owners: Bool
    private let widths: [Int]
    private var pending: [String] = []

    init(long: Bool, owners: Bool) {
        self.long = long
        self.owners = owners
        widths = [10] + (owners ? [17] : []) + [long ? 12 : 7, 16] + (long ? [64, 15] : [])
        let header = ["MODE"] + (owners ? ["OWNER"] : []) + ["SIZE", "MODIFIED"] + (long ? ["SHA-256", "STORAGE"] : []) + ["PATH"]
        pending.append(line(header))
    }

    /// One entry's row; `storage` is how an archive member is kept (``LsJSON/Entry/storage``).
    func row(_ e: VersionEntry, storage: ArchiveMemberStorage? = nil) {
        var row = [Format.mode(e.mode, type: e.type)]
        if owners {
            func name(_ n: [UInt8], _ id: UInt32) -> String { n.isEmpty ? String(id) : TerminalText.escape(bytes: n) }
            row.append(name(e.user, e.uid) + ":" + name(e.group, e.gid))
        }
        let sized = e.type == .file || e.type == .archive || e.type == .hardlink || e.type == .symlink
        row.append(!sized ? "-" : long ? String(e.size) : Format.bytes(e.size))
        row.append(Format.dateTime(Date(timeIntervalSince1970: TimeInterval(e.mtimeSeconds))))
        if long {
            row.append((e.type == .file || e.type == .archive) && e.sha256.contains(where: { $0 != 0 }) ? e.sha256Hex : "-")
            row.append(e.type == .archive ? "archive" : storage?.rawValue ?? "-")
        }
        switch e.type {
        case .symlink: row.append("\(e.displayPath) -> \(TerminalText.escape(bytes: e.linkTargetBytes))")
        case .hardlink: row.append("\(e.displayPath) => \(TerminalText.escape(bytes: e.hardlinkTargetBytes))")
        case .charDevice, .blockDevice: row.append("\(e.displayPath) (\(Format.device(e.rdev)))")
        default: row.append(e.displayPath)
        }
        pending.append(line(row))
        if pending.count >= 512 { flush() }
    }

    func finish() { flush() }

    private func flush() {
        guard !pending.isEmpty else { return }
        // Names are escaped already (displayPath): each line prints as it is.
        Console.out(pending.joined(separator: "\n"))
        pending = []
    }

    private func line(_ cells: [String]) -> String {
        let sizeColumn = owners ? 2 : 1
        var out = ""
        for (c, cell) in cells.enumerated() {
            if c > 0 { out += "  " }
            if c == cells.count - 1 { out += cell; break }
            let pad = String(repeating: " ", count: max(0, widths[c] - cell.count))
            out += c == sizeColumn ? pad + cell : cell + pad
        }
        return out
    }
}

/// `ls --json`: `{"entries": [...], "id": ..., "name": ..., "time": ...}`, the entries written
/// as they come. A path (or link target) that is not valid UTF-8 is given as `path` with
/// U+FFFD for the invalid bytes, and exactly as `path_bytes` (base64). Format-2 versions add
/// `uid`, `gid`, `user`, `group` (names, lossy UTF-8; empty when unknown) and `xattrs` (how many
/// extended attributes, ACLs included, the entry has).
struct LsJSON: Encodable {
    struct Entry: Encodable {
        var type: String
        var path: String
        var pathBytes: String?
        var mode: String
        var size: UInt64
        var mtime: String
        var sha256: String?
        var linkTarget: String?
        var linkTargetBytes: String?
        var hardlinkTarget: String?
        var hardlinkTargetBytes: String?
        var rdev: UInt64?
        var uid: UInt32?
        var gid: UInt32?
        var user: String?
        var group: String?
        var xattrs: Int?
        /// An archive member's: `reproduced` (its content is stored, its compressed bytes
        /// rebuilt exactly), `kept-compressed` (its compressed bytes are stored as they are),
        /// `stored` (not compressed in the archive).
        var storage: String?

        enum CodingKeys: String, CodingKey {
            case type, path, mode, size, mtime, sha256, rdev, uid, gid, user, group, xattrs, storage
            case pathBytes = "path_bytes"
            case linkTarget = "link_target"
            case linkTargetBytes = "link_target_bytes"
            case hardlinkTarget = "hardlink_target"
            case hardlinkTargetBytes = "hardlink_target_bytes"
        }

        init(_ e: VersionEntry, owners: Bool = false, storage: ArchiveMemberStorage? = nil) {
            // `ls` says which files are archives (find and diff keep "file").
            type = e.type == .archive ? "archive" : JSONBytes.typeName(e.type)
            self.storage = storage?.rawValue
            (path, pathBytes) = JSONBytes.lossless(e.pathBytes)
            mode = String(format: "%04o", e.mode)
            size = e.type == .directory ? 0 : e.size
            mtime = Format.iso8601(Date(timeIntervalSince1970: TimeInterval(e.mtimeSeconds)))
            sha256 = (e.type == .file || e.type == .archive) && e.sha256.contains(where: { $0 != 0 }) ? e.sha256Hex : nil
            if e.type == .symlink { (linkTarget, linkTargetBytes) = JSONBytes.lossless(e.linkTargetBytes) }
            if e.type == .hardlink { (hardlinkTarget, hardlinkTargetBytes) = JSONBytes.lossless(e.hardlinkTargetBytes) }
            if e.type == .charDevice || e.type == .blockDevice { rdev = e.rdev }
            if owners {
                (uid, gid, xattrs) = (e.uid, e.gid, e.xattrs.count)
                (user, group) = (String(decoding: e.user, as: UTF8.self), String(decoding: e.group, as: UTF8.self))
            }
        }
    }

    var id: String
    var name: String
    var time: String

    init(id: ObjectID, version: Version) {
        self.id = id.hex
        name = version.name
        time = Format.iso8601(version.time)
    }
}
