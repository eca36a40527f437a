/// Where a vault's files live. Paths are relative to the vault root and use `/`
/// (`config`, `keys/<id>`, `packs/ab/<id>`, `index/<id>`, `versions/<id>`, `heads/<gen>-<id>`).
///
/// Every vault file is written once and never modified, so a backend needs no partial
/// updates: only whole-file writes that are atomic and durable.
public protocol Backend: AnyObject, Sendable {
    /// A human-readable location (a folder path, a remote URL) used in messages.
    var location: String { get }

    /// Reads a whole file.
    /// - Throws: ``CofferError/notFound(path:)`` when it does not exist.
    func read(_ path: String) throws -> [UInt8]

    /// Reads `length` bytes at `offset`; fewer bytes than asked is an integrity error (truncated
    /// file), a file that does not exist ``CofferError/notFound(path:)``.
    func read(_ path: String, offset: Int, length: Int) throws -> [UInt8]

    /// Writes a whole file atomically and durably: after a crash either the complete file is
    /// there under `path` or nothing is. Writing an existing path with the same content is a no-op.
    func write(_ path: String, _ bytes: [UInt8]) throws

    /// Writes the concatenation of `parts` like ``write(_:_:)`` (a pack written from its blobs
    /// where they lie). The default joins them and calls ``write(_:_:)``; the local backend
    /// writes them one after the other.
    func write(_ path: String, parts: [UnsafeRawBufferPointer]) throws

    /// Names of the files directly in `directory` (for `packs`, in its two-letter subfolders,
    /// returned as `ab/<id>`). Temporary files are never listed. A missing folder is empty.
    func list(_ directory: String) throws -> [String]

    /// The size of a file, or nil when it does not exist.
    func size(_ path: String) throws -> Int?

    /// Removes a file; removing a missing file is not an error.
    func remove(_ path: String) throws

    /// Opens a file for repeated positional reads (packs during restore and check); a file that
    /// does not exist is ``CofferError/notFound(path:)``.
    func openRandomAccess(_ path: String) throws -> RandomAccessFile

    // Capabilities, each with a default (BackendCapabilities.swift): a backend implements only
    // what it does better than file by file.
    func listAll() throws -> [String: StoredFile]?
    func listDetailed(_ directory: String) throws -> [String: StoredFile]
    func listTemporary() throws -> [String: StoredFile]
    var localFolder: String? { get }
    var prefersBatchCopy: Bool { get }
    func copyFiles(_ paths: [String], fromLocalFolder folder: String, atomically: Bool) throws
    func readBackSHA256(_ paths: [String]) throws -> [String: [UInt8]]
    func removeFiles(_ paths: [String]) throws
}

extension Backend {
    public func write(_ path: String, parts: [UnsafeRawBufferPointer]) throws {
        var joined: [UInt8] = []
        joined.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for p in parts { joined.append(contentsOf: p) }
        try write(path, joined)
    }
}

/// Positional reads from one stored file; safe to use from several threads at once.
public protocol RandomAccessFile: Sendable {
    /// Reads exactly `buffer.count` bytes at `offset`; a short read is an integrity error.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws
    /// The file's size.
    var size: Int { get }
}
