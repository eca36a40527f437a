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
    static let vaultFolders: Set<String> = Set(VaultFolder.data.map(\.rawValue))
    static let layoutNames: Set<String> = Set([VaultFile.config.path] + VaultFolder.allCases.map(\.rawValue))

    /// The vault file sync copies at `path`: a well-formed vault file name (``VaultFile/init(path:)``;
    /// its content can then be checked against its name, except for `config`) that is not a lock.
    static func dataFile(_ path: String) -> VaultFile? {
        guard let file = VaultFile(path: path), file.folder != .locks else { return nil }
        return file
    }

    /// Whether `path` is a vault file sync copies (``dataFile(_:)``).
    static func isVaultFile(_ path: String) -> Bool { dataFile(path) != nil }

    /// The id a vault file's content must hash to (nil for `config`).
    static func expectedID(_ path: String) -> ObjectID? { dataFile(path)?.contentID }

    /// Sorts a path into the tree.
    mutating func add(_ path: String, size: Int) {
        let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
        guard let top = parts.first, !parts.contains(where: { $0.hasPrefix(".") || $0.isEmpty }) else { return }
        if Self.isVaultFile(path) {
            files[path] = size
        } else if Self.vaultFolders.contains(String(top)) {
            strays.append(path)
        } else if top == Substring(VaultFolder.locks.rawValue) {
            return
        } else if !foreign.contains(String(top)) {
            foreign.append(String(top))
        }
    }

    /// A tree from a recursive listing (``Backend/listAll()``).
    init(classifying listing: [String: Int]) {
        for (path, size) in listing { add(path, size: size) }
        foreign.sort()
        strays.sort()
    }

    init() {}

    /// Lists any backend: a local folder directly, a backend that lists everything at once
    /// (``Backend/listAll()``: an rclone remote) in one listing, anything else
    /// through ``Backend/list(_:)`` and ``Backend/size(_:)``.
    static func list(_ backend: Backend) throws -> SyncTree {
        if let folder = backend.localFolder { return try listLocal(folder) }
        if let all = try backend.listAll() { return SyncTree(classifying: all.mapValues(\.size)) }
        var tree = SyncTree()
        if let s = try backend.size(.config) { tree.files[VaultFile.config.path] = s }
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
            if name.utf8.elementsEqual(VaultFile.config.path.utf8) {
                tree.files[name] = try fileSize(full)
                continue
            }
            switch VaultFolder(name: name.utf8) {
            case .keys, .dicts, .index, .versions, .heads:
                for child in try entries(full) {
                    let path = name + "/" + child
                    if isVaultFile(path), let s = try fileSize(full + "/" + child) { tree.files[path] = s } else { tree.strays.append(path) }
                }
            case .packs:
                for sub in try entries(full) {
                    guard sub.utf8.count == 2, (try? isDirectory(full + "/" + sub)) == true else { tree.strays.append(name + "/" + sub); continue }
                    for child in try entries(full + "/" + sub) {
                        let path = name + "/" + sub + "/" + child
                        if isVaultFile(path), let s = try fileSize(full + "/" + sub + "/" + child) { tree.files[path] = s } else { tree.strays.append(path) }
                    }
                }
            case .locks:
                continue
            case nil:
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
