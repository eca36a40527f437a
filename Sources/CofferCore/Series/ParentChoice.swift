import Foundation

/// Which earlier version a seal reads unchanged files from (its *parent*), as restic chooses one.
///
/// The parent is the newest live version with the same name, the same host and the same *set*
/// of absolute paths given to seal (compared as bytes, in any order). A version of the same name
/// from other paths or another host is not a parent: its files are not this seal's files, and
/// treating them as such would make `diff` and retention compare unrelated trees. Such a seal
/// still takes the name (a moved folder keeps its series) and starts without a parent, with a
/// warning that suggests `--name` or `--parent`. `SealOptions.parent` forces a parent.
public struct ParentChoice: Sendable {
    public var parent: (id: ObjectID, version: Version)?
    /// Set when versions of the name exist but none matches host and paths.
    public var warning: String?
}

extension Version {
    /// The paths given to seal, as stored (raw bytes in format 2).
    public var pathBytes: [[UInt8]] { rawText?.paths ?? paths.map { Array($0.utf8) } }

    /// The host as stored (raw bytes in format 2).
    public var hostBytes: [UInt8] { rawText?.host ?? Array(host.utf8) }

    /// The paths given to seal, as a set of byte strings (order and repetition do not count).
    var pathSet: Set<[UInt8]> { Set(pathBytes) }
}

extension Vault {
    /// Chooses the parent of a seal of `paths` under `name` from `host` (see ``ParentChoice``).
    ///
    /// - Parameter forced: a live version id to use as the parent whatever its name, host and
    ///   paths (`seal --parent`).
    /// - Throws: ``CofferError/versionNotFound(selector:candidates:)`` when `forced` is not live.
    func chooseParent(name: String, host: String, paths: [String], forced: ObjectID?) throws -> ParentChoice {
        try chooseParent(name: name, host: host, pathBytes: paths.map { Array($0.utf8) }, forced: forced)
    }

    /// As above, the paths as raw bytes.
    func chooseParent(name: String, host: String, pathBytes paths: [[UInt8]], forced: ObjectID?) throws -> ParentChoice {
        let all = try versions()
        if let forced {
            guard let v = all.first(where: { $0.id == forced }) else {
                throw CofferError.versionNotFound(selector: forced.short, candidates: [])
            }
            return ParentChoice(parent: v, warning: nil)
        }
        let sameName = all.filter { $0.version.name == name }
        guard let newest = sameName.last else { return ParentChoice(parent: nil, warning: nil) }
        let wanted = Set(paths)
        let hostBytes = Array(host.utf8)
        if let match = sameName.last(where: { $0.version.hostBytes == hostBytes && $0.version.pathSet == wanted }) {
            return ParentChoice(parent: match, warning: nil)
        }
        let other = newest.version
        var differs: [String] = []
        if other.hostBytes != hostBytes { differs.append("host \(TerminalText.escape(bytes: other.hostBytes))") }
        if other.pathSet != wanted {
            differs.append("\(other.pathBytes.count == 1 ? "path" : "paths") " + other.pathBytes.map { TerminalText.escape(bytes: $0) }.joined(separator: ", "))
        }
        let warning =
            "'\(TerminalText.escape(name))' already names versions of other inputs (the newest, \(newest.id.short), has "
            + differs.joined(separator: " and ") + "); this version takes the name but has no parent, so every file is read. "
            + "Give --name to keep the series apart, or --parent ID to read unchanged files from a version"
        return ParentChoice(parent: nil, warning: warning)
    }
}
