@testable import CofferCore
import Foundation

/// Versions with whatever entries a test wants, committed through the vault's own write path
/// (`writeMeta` for the manifest, `commitHead` for the head), as anyone holding a passphrase of
/// the vault could write them: nothing checks the entries on the way in.
extension Vault {
    /// Commits a version holding `entries` (paths as given, unchecked) and returns its id.
    func commitCrafted(_ entries: [VersionEntry], name: String = "crafted") throws -> ObjectID {
        try withWriterLock {
            let version = Version(
                name: name, time: Date(), host: "crafted", tags: [], paths: [], parent: nil, stats: VersionStats(), notes: [],
                entries: entries)
            let id = try writeMeta(version.encode(), kind: .version)
            try commitHead(live: head.live + [id], removed: head.removed)
            return id
        }
    }

    /// A file entry at `path` whose content is that of `file` in version `id` (its chunks are in
    /// the vault), so a crafted version can hold real, verifiable content.
    func craftedFile(_ path: String, like file: String, in id: ObjectID) throws -> VersionEntry {
        guard var e = try listing(id).first(where: { $0.path == file && $0.type == .file }) else {
            throw CofferError.pathNotInVersion(path: file, version: id.short)
        }
        e.path = path
        return e
    }
}

extension Vault {
    /// The entries of version `id`, collected from its walk, archive layouts loaded (tests
    /// only: commands stream).
    func listing(_ id: ObjectID, expandArchives: Bool = false) throws -> [VersionEntry] {
        var out: [VersionEntry] = []
        try walker(for: id, expandArchives: expandArchives).forEach { e in
            var e = e
            if e.type == .archive { e.archive = try archiveLayout(of: e) }
            out.append(e)
        }
        return out
    }
}

extension VersionEntry {
    static func folder(_ path: String) -> VersionEntry {
        VersionEntry(type: .directory, path: path, mode: 0o755, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: 0)
    }

    static func link(_ path: String, to target: String) -> VersionEntry {
        VersionEntry(
            type: .symlink, path: path, mode: 0o777, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: UInt64(target.utf8.count),
            linkTarget: target)
    }
}
