import Foundation

/// The files of a vault location, with their sizes, as sync sees them: one listing per folder
/// (a local folder), or one recursive listing (an rclone remote).
///
/// A listing error is always thrown, never read as an empty folder: sync decides what to copy
/// and what to delete from these listings (restic #4612).
struct SyncTree: Sendable {
    /// Vault files by path (`config`, `keys/<id>`, `packs/ab/<id>`, `index/<id>`,
    /// `versions/<id>`, `heads/<gen>-<id>`) with their sizes. Only well-formed vault names.
    var files: [String: Int] = [:]
    /// Other names in the vault folders (a sync tool's "conflicted copy", a stray file): never
    /// copied, never deleted.
    var strays: [String] = []
    /// Names at the top that are not part of a vault (`notes.txt`, `Photos/`).
    var foreign: [String] = []

    /// The folders of a vault; `locks/` holds no data and is neither listed nor copied.
    static let vaultFolders: Set<String> = ["keys", "packs", "index", "versions", "heads"]
    static let layoutNames: Set<String> = ["config", "keys", "packs", "index", "versions", "heads", "locks"]

    /// Whether `path` is a well-formed vault file name (its content can then be checked
    /// against its name, except for `config`).
    static func isVaultFile(_ path: String) -> Bool {
        if path == "config" { return true }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.first {
        case "keys", "index", "versions":
            return parts.count == 2 && ObjectID(hex: parts[1]) != nil
        case "heads":
            return parts.count == 2 && Head.parseFileName(String(parts[1])) != nil
        case "packs":
            return parts.count == 3 && parts[1].count == 2 && ObjectID(hex: parts[2]) != nil && parts[2].hasPrefix(parts[1])
        default:
            return false
        }
    }

    /// The id a vault file's content must hash to (nil for `config`).
    static func expectedID(_ path: String) -> ObjectID? {
        let name = Paths.lastComponent(path)
        if path.hasPrefix("heads/") { return Head.parseFileName(name)?.id }
        if path == "config" { return nil }
        return ObjectID(hex: name)
    }

    /// Sorts a path into the tree.
    mutating func add(_ path: String, size: Int) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard let top = parts.first, !parts.contains(where: { $0.hasPrefix(".") || $0.isEmpty }) else { return }
        if Self.isVaultFile(path) {
            files[path] = size
        } else if Self.vaultFolders.contains(String(top)) {
            strays.append(path)
        } else if top == "locks" {
            return
        } else if !foreign.contains(String(top)) {
            foreign.append(String(top))
        }
    }

    /// A tree from a recursive listing (rclone's `lsjson -R`).
    init(classifying listing: [String: Int]) {
        for (path, size) in listing { add(path, size: size) }
        foreign.sort()
        strays.sort()
    }

    init() {}

    /// Lists any backend: a local folder directly, an rclone remote in one run, anything else
    /// through ``Backend/list(_:)`` and ``Backend/size(_:)``.
    static func list(_ backend: Backend) throws -> SyncTree {
        if let local = backend as? LocalBackend { return try listLocal(local.root) }
        if let remote = backend as? RcloneBackend { return SyncTree(classifying: try remote.listTree()) }
        var tree = SyncTree()
        if let s = try backend.size("config") { tree.files["config"] = s }
        for dir in vaultFolders.sorted() {
            for name in try backend.list(dir) {
                let path = dir + "/" + name
                guard let s = try backend.size(path) else { continue }
                tree.add(path, size: s)
            }
        }
        for name in (try? backend.list("")) ?? [] where !layoutNames.contains(name) && !name.hasPrefix(".") {
            tree.foreign.append(name)
        }
        return tree
    }

    /// Lists a local folder: `readdir` of each vault folder and `stat` of each file. A folder
    /// that does not exist is empty; any other error is thrown.
    static func listLocal(_ root: String) throws -> SyncTree {
        var tree = SyncTree()
        var st = stat()
        if stat(root, &st) != 0 {
            if errno == ENOENT { return tree }
            throw CofferError.io(path: root, operation: "stat", errno: errno)
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw CofferError.remote(location: root, reason: "it is a file, not a folder")
        }
        for name in try entries(root) {
            let full = root + "/" + name
            switch name {
            case "config":
                tree.files["config"] = try fileSize(full)
            case "keys", "index", "versions", "heads":
                for child in try entries(full) {
                    let path = name + "/" + child
                    if isVaultFile(path), let s = try fileSize(full + "/" + child) { tree.files[path] = s } else { tree.strays.append(path) }
                }
            case "packs":
                for sub in try entries(full) {
                    guard sub.count == 2, (try? isDirectory(full + "/" + sub)) == true else { tree.strays.append("packs/" + sub); continue }
                    for child in try entries(full + "/" + sub) {
                        let path = "packs/" + sub + "/" + child
                        if isVaultFile(path), let s = try fileSize(full + "/" + sub + "/" + child) { tree.files[path] = s } else { tree.strays.append(path) }
                    }
                }
            case "locks":
                continue
            default:
                tree.foreign.append(name)
            }
        }
        return tree
    }

    /// Names in a folder, without those starting with `.`; a missing folder is empty.
    private static func entries(_ dir: String) throws -> [String] { try LocalBackend.directoryEntries(dir) }

    /// The size of a regular file; nil for anything else or a file that vanished.
    private static func fileSize(_ path: String) throws -> Int? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw CofferError.io(path: path, operation: "stat", errno: errno)
        }
        return st.st_mode & S_IFMT == S_IFREG ? Int(st.st_size) : nil
    }

    private static func isDirectory(_ path: String) throws -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return st.st_mode & S_IFMT == S_IFDIR
    }
}
