import CofferCrypto
import Foundation

/// How to restore.
public struct RestoreOptions: Sendable {
    /// Only entries whose path matches one of these shell patterns (`fnmatch`), or lies under a
    /// matching folder, are restored; empty means everything.
    public var include: [String] = []
    /// Replace existing files and links at the destination instead of refusing.
    public var force = false
    public var isCancelled: @Sendable () -> Bool = { false }
    public var progress: (@Sendable (_ bytesDone: UInt64, _ bytesTotal: UInt64) -> Void)?
    /// Rebuilds archives stored part by part; required to restore a version that holds one.
    public var archiveHandler: ArchiveHandler?
    /// Restore each archive as a folder of its members (named like the archive without `.zip`)
    /// instead of the archive file itself.
    public var expandArchives = false

    public init() {}
}

/// What a restore wrote.
public struct RestoreResult: Sendable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var bytes: UInt64 = 0
    /// Members of expanded archives that could not be written (unsafe names, undecodable data).
    public var notes: [String] = []
}

extension Vault {
    /// Restores a version into `target`: each sealed path comes back under its base name, with its
    /// mode, mtime and symbolic links, and every file's SHA-256 is checked against the version.
    ///
    /// Each file is written under a temporary name in its folder and renamed only once it is
    /// complete and verified, so a failed or interrupted restore never leaves a partial or wrong
    /// file under a real name.
    @discardableResult
    public func restore(_ versionID: ObjectID, to destination: String, options: RestoreOptions = RestoreOptions()) throws -> RestoreResult {
        let version = try version(versionID)
        let selected = try select(version, include: options.include, versionID: versionID)
        let root = Walker.absolute(destination)
        try LocalBackend.makeDirectory(root, mode: 0o755)

        // Refuse to overwrite unless forced: check every file and link first, write nothing yet.
        if selected.contains(where: { $0.type == .archive }) && options.archiveHandler == nil {
            throw CofferError.invalidArgument("version \(versionID.short) holds archives stored member by member; this program cannot rebuild them")
        }
        func target(_ e: VersionEntry) -> String {
            e.type == .archive && options.expandArchives ? root + "/" + Restorer.expandedName(e.path) : root + "/" + e.path
        }
        if !options.force {
            for e in selected where e.type != .directory {
                var st = stat()
                if lstat(target(e), &st) == 0 { throw CofferError.destinationExists(path: target(e)) }
            }
        }
        var result = RestoreResult()
        let dirs = selected.filter { $0.type == .directory }
        for d in dirs {
            let p = root + "/" + d.path
            var st = stat()
            if lstat(p, &st) == 0 {
                if st.st_mode & S_IFMT != S_IFDIR {
                    guard options.force else { throw CofferError.destinationExists(path: p) }
                    unlink(p)
                }
            }
            try LocalBackend.makeDirectory(p, mode: 0o755)
            result.directories += 1
        }
        for e in selected where e.type != .directory {
            try LocalBackend.makeDirectory(Paths.parent(root + "/" + e.path), mode: 0o755)
        }

        let files = selected.filter { $0.type == .file || $0.type == .archive }
        let total = files.reduce(UInt64(0)) { $0 + $1.size }
        let readers = PackReaders(vault: self)
        let progressLock = NSLock()
        var done: UInt64 = 0
        var noteList: [String] = []
        var errors = [Error?](repeating: nil, count: files.count)
        let failed = ManagedFlag()
        errors.withUnsafeMutableBufferPointer { errs in
            let eBase = errs.baseAddress!
            // Largest files first: the cores then finish together instead of one of them ending
            // on a large file alone.
            let order = files.indices.sorted { files[$0].size > files[$1].size }
            parallelFor(files.count) { k in
                let i = order[k]
                if failed.isSet || options.isCancelled() {
                    if !failed.isSet { eBase[i] = CofferError.interrupted; failed.set() }
                    return
                }
                do {
                    let e = files[i]
                    if e.type == .archive, options.expandArchives {
                        let notes = try self.expandArchive(e, to: target(e), readers: readers, versionID: versionID, options: options)
                        progressLock.withLock { noteList += notes }
                    } else {
                        try self.restoreFile(e, to: root + "/" + e.path, readers: readers, versionID: versionID, options: options)
                    }
                    progressLock.lock()
                    done += files[i].size
                    let d = done
                    progressLock.unlock()
                    options.progress?(d, total)
                } catch {
                    eBase[i] = error
                    failed.set()
                }
            }
        }
        if let err = errors.lazy.compactMap({ $0 }).first { throw err }
        result.files = files.count
        result.bytes = total
        result.notes = noteList

        for l in selected where l.type == .symlink {
            let p = root + "/" + l.path
            let tmp = Restorer.temporaryName(for: p)
            guard symlink(l.linkTarget, tmp) == 0 else { throw CofferError.fromErrno(errno, path: p, operation: "symlink") }
            var times = [timespec(tv_sec: Int(l.mtimeSeconds), tv_nsec: Int(l.mtimeNanoseconds)),
                         timespec(tv_sec: Int(l.mtimeSeconds), tv_nsec: Int(l.mtimeNanoseconds))]
            _ = utimensat(AT_FDCWD, tmp, &times, AT_SYMLINK_NOFOLLOW)
            guard rename(tmp, p) == 0 else { let e = errno; unlink(tmp); throw CofferError.fromErrno(e, path: p, operation: "rename") }
            result.symlinks += 1
        }
        // Folder modes and times last, deepest first, so writing inside them does not change them.
        for d in dirs.reversed() {
            let p = root + "/" + d.path
            _ = chmod(p, mode_t(d.mode))
            var times = [timespec(tv_sec: Int(d.mtimeSeconds), tv_nsec: Int(d.mtimeNanoseconds)),
                         timespec(tv_sec: Int(d.mtimeSeconds), tv_nsec: Int(d.mtimeNanoseconds))]
            _ = utimensat(AT_FDCWD, p, &times, 0)
        }
        return result
    }

    /// Streams one file of a version to `sink`, then checks its SHA-256. `path` may name a
    /// member of an archive (`Export.zip/Connections.csv`); `handler` is needed for archives.
    /// - Throws: ``CofferError/integrity(object:reason:)`` if the content does not verify; the
    ///   sink may then have received verified chunks before the failure.
    public func readFile(
        _ versionID: ObjectID, path: String, archiveHandler: ArchiveHandler? = nil, into sink: ([UInt8]) throws -> Void
    ) throws {
        let version = try version(versionID)
        let trimmed = path.split(separator: "/").joined(separator: "/")
        let readers = PackReaders(vault: self)
        if let e = version.entries.first(where: { $0.path == trimmed }) {
            guard e.type == .file || e.type == .archive else {
                throw CofferError.invalidArgument("\(path) is a \(e.type == .directory ? "folder" : "symbolic link"), not a file")
            }
            let object = "\(e.path) in version \(versionID.short)"
            let sha = SHA256()
            var size: UInt64 = 0
            try stream(e, readers: readers, object: object, handler: archiveHandler, isCancelled: { false }) { bytes in
                sha.update(bytes)
                size += UInt64(bytes.count)
                try sink(Array(bytes))
            }
            guard size == e.size, sha.finalize() == e.sha256 else {
                throw CofferError.integrity(object: object, reason: "SHA-256 does not match the sealed file")
            }
            return
        }
        // A member of an archive?
        for e in version.entries where e.type == .archive && trimmed.hasPrefix(e.path + "/") {
            let name = String(trimmed.dropFirst(e.path.count + 1))
            guard let m = e.archive?.members.first(where: { $0.name == name || $0.name == name + "/" }) else { continue }
            guard !m.isDirectory else { throw CofferError.invalidArgument("\(path) is a folder inside \(e.path), not a file") }
            let object = "\(trimmed) in version \(versionID.short)"
            try streamMember(m, of: e, readers: readers, handler: archiveHandler, object: object, isCancelled: { false }) { try sink(Array($0)) }
            return
        }
        throw CofferError.pathNotInVersion(path: path, version: versionID.short)
    }

    /// Decrypts and verifies one chunk into `scratch`; the view is valid until `scratch` is used again.
    func readChunk(_ id: ObjectID, readers: PackReaders, context: String, scratch: BlobScratch) throws -> UnsafeRawBufferPointer {
        guard let loc = index.location(of: id) else {
            throw CofferError.integrity(object: context, reason: "chunk \(id.short) is not in the index")
        }
        guard loc.envelopeLength <= Zstd.bound(ChunkSizes.formatMaximum) + AEAD.overhead else {
            throw CofferError.integrity(object: context, reason: "chunk \(id.short) has an impossible length in the index")
        }
        let packPath = PackFormat.path(loc.pack)
        let reader = try readers.reader(for: loc.pack)
        let env = scratch.third(loc.envelopeLength)
        try reader.read(into: env, at: loc.offset)
        // The AEAD binds id, type and length; the file's SHA-256 is checked after its last chunk.
        return try BlobCrypto.open(
            UnsafeRawBufferPointer(env), type: .data, flags: loc.flags, id: id, plainLength: loc.plainLength, keys: keys, zstd: zstd,
            object: packPath, verifyID: false, scratch: scratch)
    }

    /// Decrypts and verifies one chunk into a new array.
    func readChunk(_ id: ObjectID, readers: PackReaders, context: String) throws -> [UInt8] {
        try BlobScratch.with { Array(try readChunk(id, readers: readers, context: context, scratch: $0)) }
    }

    private func restoreFile(_ e: VersionEntry, to path: String, readers: PackReaders, versionID: ObjectID, options: RestoreOptions) throws {
        let object = "\(e.path) in version \(versionID.short)"
        try writeVerified(to: path, mode: e.mode, mtime: (e.mtimeSeconds, e.mtimeNanoseconds), size: e.size, sha256: e.sha256, object: object) { emit in
            try self.stream(e, readers: readers, object: object, handler: options.archiveHandler, isCancelled: options.isCancelled, into: emit)
        }
    }

    /// Produces the bytes of a file or archive entry, chunk by chunk (archives: part by part).
    func stream(
        _ e: VersionEntry, readers: PackReaders, object: String, handler: ArchiveHandler?, isCancelled: () -> Bool,
        into emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if e.type == .file {
            try BlobScratch.with { scratch in
                for c in e.chunks {
                    if isCancelled() { throw CofferError.interrupted }
                    try emit(try readChunk(c, readers: readers, context: object, scratch: scratch))
                }
            }
            return
        }
        guard let layout = e.archive, let handler else { throw CofferError.invalidArgument("\(object): an archive needs an archive handler to rebuild") }
        try streamArchive(layout, handler: handler, readers: readers, object: object, isCancelled: isCancelled, into: emit)
    }

    /// Restores an archive's members into a folder.
    private func expandArchive(
        _ e: VersionEntry, to folder: String, readers: PackReaders, versionID: ObjectID, options: RestoreOptions
    ) throws -> [String] {
        guard let layout = e.archive else { return [] }
        try LocalBackend.makeDirectory(folder, mode: 0o755)
        var notes: [String] = []
        for m in layout.members {
            if options.isCancelled() { throw CofferError.interrupted }
            var name = m.name
            while name.hasSuffix("/") { name.removeLast() }
            guard Version.isValidPath(name) else {
                notes.append("\(e.path): member '\(m.name)' not written: its name is not a safe relative path")
                continue
            }
            let path = folder + "/" + name
            if m.isDirectory {
                try LocalBackend.makeDirectory(path, mode: 0o755)
                continue
            }
            try LocalBackend.makeDirectory(Paths.parent(path), mode: 0o755)
            let object = "\(e.path)/\(m.name) in version \(versionID.short)"
            if m.data == .opaque {
                notes.append("\(e.path): member '\(m.name)' not written: encrypted or an unknown compression method")
                continue
            }
            let handler = options.archiveHandler, cancelled = options.isCancelled
            let sha256 = try memberSHA256(m, of: e, readers: readers, handler: handler, object: object, isCancelled: cancelled)
            try writeVerified(to: path, mode: 0o644, mtime: (m.mtimeSeconds, 0), size: m.size, sha256: sha256, object: object) { emit in
                try self.streamMember(m, of: e, readers: readers, handler: handler, object: object, isCancelled: cancelled, into: emit)
            }
        }
        return notes
    }

    /// Writes a file under a temporary name, checks its size and SHA-256, sets mode and mtime, and
    /// renames it into place; nothing is left under the real name on failure.
    private func writeVerified(
        to path: String, mode: UInt32, mtime: (Int64, UInt32), size expected: UInt64, sha256: [UInt8], object: String,
        produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let tmp = Restorer.temporaryName(for: path)
        let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CofferError.fromErrno(errno, path: path, operation: "create") }
        var keep = false
        defer {
            if !keep { unlink(tmp) }
        }
        do {
            let sha = SHA256()
            var size: UInt64 = 0
            try produce { bytes in
                sha.update(bytes)
                size += UInt64(bytes.count)
                let failure = LocalBackend.writeAll(fd, bytes)
                if failure != 0 { throw CofferError.fromErrno(failure, path: path, operation: "write") }
            }
            guard size == expected, sha.finalize() == sha256 else {
                throw CofferError.integrity(object: object, reason: "SHA-256 does not match the sealed file; not restored")
            }
            _ = fchmod(fd, mode_t(mode))
            var times = [timespec(tv_sec: Int(mtime.0), tv_nsec: Int(mtime.1)), timespec(tv_sec: Int(mtime.0), tv_nsec: Int(mtime.1))]
            _ = futimens(fd, &times)
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw CofferError.fromErrno(errno, path: path, operation: "close") }
        var st = stat()
        if lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR {
            throw CofferError.destinationExists(path: path)
        }
        guard rename(tmp, path) == 0 else { throw CofferError.fromErrno(errno, path: path, operation: "rename") }
        keep = true
    }

    /// The entries to restore: those matching `include` (or under a matching folder), plus the
    /// folders that contain them.
    func select(_ version: Version, include: [String], versionID: ObjectID) throws -> [VersionEntry] {
        guard !include.isEmpty else { return version.entries }
        let patterns = include.map { $0.split(separator: "/").joined(separator: "/") }
        var chosen = Set<String>()
        for e in version.entries {
            let matches = patterns.contains { pat in
                var prefix = ""
                for comp in e.path.split(separator: "/") {
                    prefix = prefix.isEmpty ? String(comp) : prefix + "/" + comp
                    if fnmatch(pat, prefix, 0) == 0 { return true }
                }
                return false
            }
            if matches {
                chosen.insert(e.path)
                var parent = Paths.parent(e.path)
                while !parent.isEmpty { chosen.insert(parent); parent = Paths.parent(parent) }
            }
        }
        guard !chosen.isEmpty else {
            throw CofferError.pathNotInVersion(path: include.joined(separator: ", "), version: versionID.short)
        }
        return version.entries.filter { chosen.contains($0.path) }
    }
}

enum Restorer {
    /// The folder an expanded archive goes to: its name without `.zip` (or with `.contents` added).
    static func expandedName(_ path: String) -> String {
        let lower = path.lowercased()
        if lower.hasSuffix(".zip") && path.count > 4 && !Paths.lastComponent(path).lowercased().elementsEqual(".zip") {
            return String(path.dropLast(4))
        }
        return path + ".contents"
    }

    static func temporaryName(for path: String) -> String {
        let dir = Paths.parent(path)
        let base = Paths.lastComponent(path)
        return dir + "/.coffer-restore-" + String(UInt32.random(in: 0...UInt32.max), radix: 16) + "-" + base
    }
}

/// Open pack files shared by restore workers. Packs are read in aligned windows, never in
/// exact blob ranges (``WindowedReader``).
final class PackReaders: @unchecked Sendable {
    private let vault: Vault
    private let lock = NSLock()
    private var open: [ObjectID: RandomAccessFile] = [:]
    private let windows = WindowCache()

    init(vault: Vault) { self.vault = vault }

    func reader(for pack: ObjectID) throws -> RandomAccessFile {
        lock.lock()
        defer { lock.unlock() }
        if let r = open[pack] { return r }
        let r = WindowedReader(base: try vault.packReader(pack), pack: pack, cache: windows)
        if open.count > 256 { open.removeAll() }
        open[pack] = r
        return r
    }
}

/// A flag set once from any thread.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
