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

    public init() {}
}

/// What a restore wrote.
public struct RestoreResult: Sendable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var bytes: UInt64 = 0
}

extension Vault {
    /// Restores a version into `target`: each sealed path comes back under its base name, with its
    /// mode, mtime and symbolic links, and every file's SHA-256 is checked against the version.
    ///
    /// Each file is written under a temporary name in its folder and renamed only once it is
    /// complete and verified, so a failed or interrupted restore never leaves a partial or wrong
    /// file under a real name.
    @discardableResult
    public func restore(_ versionID: ObjectID, to target: String, options: RestoreOptions = RestoreOptions()) throws -> RestoreResult {
        let version = try version(versionID)
        let selected = try select(version, include: options.include, versionID: versionID)
        let root = Walker.absolute(target)
        try LocalBackend.makeDirectory(root, mode: 0o755)

        // Refuse to overwrite unless forced: check every file and link first, write nothing yet.
        if !options.force {
            for e in selected where e.type != .directory {
                var st = stat()
                if lstat(root + "/" + e.path, &st) == 0 { throw CofferError.destinationExists(path: root + "/" + e.path) }
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

        let files = selected.filter { $0.type == .file }
        let total = files.reduce(UInt64(0)) { $0 + $1.size }
        let readers = PackReaders(vault: self)
        let progressLock = NSLock()
        var done: UInt64 = 0
        var errors = [Error?](repeating: nil, count: files.count)
        let failed = ManagedFlag()
        errors.withUnsafeMutableBufferPointer { errs in
            let eBase = errs.baseAddress!
            parallelFor(files.count) { i in
                if failed.isSet || options.isCancelled() {
                    if !failed.isSet { eBase[i] = CofferError.interrupted; failed.set() }
                    return
                }
                do {
                    try self.restoreFile(files[i], to: root + "/" + files[i].path, readers: readers, versionID: versionID, isCancelled: options.isCancelled)
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

    /// Streams one file of a version to `sink`, chunk by chunk, then checks its SHA-256.
    /// - Throws: ``CofferError/integrity(object:reason:)`` if the content does not verify; the
    ///   sink may then have received the verified chunks before the failure.
    public func readFile(_ versionID: ObjectID, path: String, into sink: ([UInt8]) throws -> Void) throws {
        let version = try version(versionID)
        let trimmed = path.split(separator: "/").joined(separator: "/")
        guard let e = version.entries.first(where: { $0.path == trimmed }) else {
            throw CofferError.pathNotInVersion(path: path, version: versionID.short)
        }
        guard e.type == .file else { throw CofferError.invalidArgument("\(path) is a \(e.type == .directory ? "folder" : "symbolic link"), not a file") }
        let readers = PackReaders(vault: self)
        let sha = SHA256()
        var size: UInt64 = 0
        for c in e.chunks {
            let plain = try readChunk(c, readers: readers, context: "\(e.path) in version \(versionID.short)")
            sha.update(plain)
            size += UInt64(plain.count)
            try sink(plain)
        }
        guard size == e.size, sha.finalize() == e.sha256 else {
            throw CofferError.integrity(object: "\(e.path) in version \(versionID.short)", reason: "SHA-256 does not match the sealed file")
        }
    }

    /// Decrypts and verifies one chunk.
    func readChunk(_ id: ObjectID, readers: PackReaders, context: String) throws -> [UInt8] {
        guard let loc = index.location(of: id) else {
            throw CofferError.integrity(object: context, reason: "chunk \(id.short) is not in the index")
        }
        let packPath = PackFormat.path(loc.pack)
        let reader = try readers.reader(for: loc.pack)
        var readError: Error?
        let env = [UInt8](unsafeUninitializedCapacity: loc.envelopeLength) { buf, count in
            count = loc.envelopeLength
            do { try reader.read(into: UnsafeMutableRawBufferPointer(buf), at: loc.offset) } catch { readError = error; count = 0 }
        }
        if let readError { throw readError }
        // The AEAD binds id, type and length; the file's SHA-256 is checked after its last chunk.
        return try BlobCrypto.open(
            env, type: .data, flags: loc.flags, id: id, plainLength: loc.plainLength, keys: keys, zstd: zstd, object: packPath, verifyID: false)
    }

    private func restoreFile(_ e: VersionEntry, to path: String, readers: PackReaders, versionID: ObjectID, isCancelled: () -> Bool) throws {
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
            for c in e.chunks {
                if isCancelled() { throw CofferError.interrupted }
                let plain = try readChunk(c, readers: readers, context: "\(e.path) in version \(versionID.short)")
                sha.update(plain)
                size += UInt64(plain.count)
                try plain.withUnsafeBytes { b in
                    var off = 0
                    while off < b.count {
                        let n = write(fd, b.baseAddress! + off, b.count - off)
                        if n < 0 { if errno == EINTR { continue }; throw CofferError.fromErrno(errno, path: path, operation: "write") }
                        off += n
                    }
                }
            }
            guard size == e.size, sha.finalize() == e.sha256 else {
                throw CofferError.integrity(object: "\(e.path) in version \(versionID.short)", reason: "SHA-256 does not match the sealed file; not restored")
            }
            _ = fchmod(fd, mode_t(e.mode))
            var times = [timespec(tv_sec: Int(e.mtimeSeconds), tv_nsec: Int(e.mtimeNanoseconds)),
                         timespec(tv_sec: Int(e.mtimeSeconds), tv_nsec: Int(e.mtimeNanoseconds))]
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
    static func temporaryName(for path: String) -> String {
        let dir = Paths.parent(path)
        let base = Paths.lastComponent(path)
        return dir + "/.coffer-restore-" + String(UInt32.random(in: 0...UInt32.max), radix: 16) + "-" + base
    }
}

/// Open pack files shared by restore workers.
final class PackReaders: @unchecked Sendable {
    private let vault: Vault
    private let lock = NSLock()
    private var open: [ObjectID: RandomAccessFile] = [:]

    init(vault: Vault) { self.vault = vault }

    func reader(for pack: ObjectID) throws -> RandomAccessFile {
        lock.lock()
        defer { lock.unlock() }
        if let r = open[pack] { return r }
        let r = try vault.packReader(pack)
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
