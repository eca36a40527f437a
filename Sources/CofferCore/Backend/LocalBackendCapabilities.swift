import Foundation

extension LocalBackend {
    public var localFolder: String? { root }

    /// Names with sizes and modification times (`lstat`); a file gone meanwhile is left out.
    public func listDetailed(_ directory: String) throws -> [String: StoredFile] {
        var out: [String: StoredFile] = [:]
        for name in try list(directory) {
            if let f = try Self.stored(fullPath(directory.isEmpty ? name : directory + "/" + name)) { out[name] = f }
        }
        return out
    }

    /// `.tmp-*` files in the root and the vault folders (packs' two-letter subfolders included).
    public func listTemporary() throws -> [String: StoredFile] {
        var out: [String: StoredFile] = [:]
        var folders = [""] + VaultFolder.allCases.map(\.rawValue)
        for sub in try Self.allEntries(fullPath(VaultFolder.packs.rawValue)) where sub.utf8.count == 2 && !sub.hasPrefix(".") {
            folders.append(VaultFolder.packs.rawValue + "/" + sub)
        }
        for folder in folders {
            for name in try Self.allEntries(fullPath(folder)) where name.hasPrefix(".tmp-") {
                let path = folder.isEmpty ? name : folder + "/" + name
                if let f = try Self.stored(fullPath(path)) { out[path] = f }
            }
        }
        return out
    }

    /// A regular file's size and modification time; nil when it is gone or not a regular file.
    static func stored(_ full: String) throws -> StoredFile? {
        var st = stat()
        if lstat(full, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw CofferError.io(path: full, operation: "stat", errno: errno)
        }
        guard st.st_mode & S_IFMT == S_IFREG else { return nil }
        let t = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        return StoredFile(size: Int(st.st_size), modified: Date(timeIntervalSince1970: t))
    }

    /// Every name in a folder, dot names included; a missing folder is empty.
    static func allEntries(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else {
            if errno == ENOENT || errno == ENOTDIR { return [] }
            throw CofferError.io(path: dir, operation: "list", errno: errno)
        }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." { continue }
            out.append(name)
        }
        return out
    }
}
