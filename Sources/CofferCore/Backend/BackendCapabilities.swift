import CofferCrypto
import Foundation

/// A stored file as a listing gives it.
public struct StoredFile: Sendable, Equatable {
    /// Its size in bytes as listed (a claim: it bounds no read by itself).
    public var size: Int
    /// When it was last modified, when the backend knows.
    public var modified: Date?

    public init(size: Int, modified: Date? = nil) {
        self.size = size
        self.modified = modified
    }
}

/// What some backends do better than file by file. Every capability has a default built on the
/// basic operations, so a backend implements only what it can do faster or more fully.
extension Backend {
    /// Every file below the root, recursively, in one listing: paths relative to the root,
    /// including names that start with `.` (temporary files). nil (the default) when the
    /// backend lists folder by folder; then callers use ``Backend/list(_:)`` and
    /// ``Backend/size(_:)``.
    public func listAll() throws -> [String: StoredFile]? { nil }

    /// The files of `directory` as ``Backend/list(_:)`` names them, with their sizes and (when
    /// the backend knows) modification times. The default lists, then asks each size; a file
    /// gone meanwhile is left out.
    public func listDetailed(_ directory: String) throws -> [String: StoredFile] {
        var out: [String: StoredFile] = [:]
        for name in try list(directory) {
            guard let s = try size(directory.isEmpty ? name : directory + "/" + name) else { continue }
            out[name] = StoredFile(size: s)
        }
        return out
    }

    /// Temporary files (`.tmp-*`) that writes left behind (a killed writer's), with sizes and
    /// modification times, by path relative to the root. The default finds them in
    /// ``listAll()``, else reports none.
    public func listTemporary() throws -> [String: StoredFile] {
        guard let all = try listAll() else { return [:] }
        return all.filter { Paths.lastComponent($0.key).hasPrefix(".tmp-") }
    }

    /// The folder on this machine the files are in, when they are (a local backend); nil by default.
    public var localFolder: String? { nil }

    /// Whether sync should copy from a local folder with ``copyFiles(_:fromLocalFolder:atomically:)``
    /// and read back with ``readBackSHA256(_:)`` in batches rather than file by file. False by default.
    public var prefersBatchCopy: Bool { false }

    /// Copies files of a local folder to the same relative paths here. The default reads each
    /// file and writes it with ``Backend/write(_:_:)`` (always atomic).
    public func copyFiles(_ paths: [String], fromLocalFolder folder: String, atomically: Bool) throws {
        let source = LocalBackend(root: folder)
        for path in paths { try write(path, try source.read(path)) }
    }

    /// The SHA-256 of each file as read back from here; a file that cannot be read is absent.
    /// The default reads every file.
    public func readBackSHA256(_ paths: [String]) throws -> [String: [UInt8]] {
        let out = Locked<[String: [UInt8]]>([:])
        try BackendParallel.forEach(paths, width: 4) { path in
            do {
                let bytes = try self.read(path)
                let digest = SHA256.hash(bytes)
                out.mutate { $0[path] = digest }
            } catch let e as CofferError where e.isNotFound || e.isIntegrity {
                return
            }
        }
        return out.value
    }

    /// Removes many files; the default removes them one by one.
    public func removeFiles(_ paths: [String]) throws {
        for path in paths { try remove(path) }
    }
}

/// Runs a throwing body for items on a few threads; the first error stops the rest and is thrown.
enum BackendParallel {
    static func forEach(_ items: [String], width: Int, _ body: @escaping @Sendable (String) throws -> Void) throws {
        if items.isEmpty { return }
        let n = max(1, min(width, items.count))
        if n == 1 {
            for item in items { try body(item) }
            return
        }
        let state = Locked<(next: Int, error: Error?)>((0, nil))
        DispatchQueue.concurrentPerform(iterations: n) { _ in
            while true {
                let i: Int? = state.mutate { s in
                    guard s.error == nil, s.next < items.count else { return nil }
                    s.next += 1
                    return s.next - 1
                }
                guard let i else { return }
                do { try body(items[i]) } catch { state.mutate { s in if s.error == nil { s.error = error } } }
            }
        }
        if let error = state.value.error { throw error }
    }
}
