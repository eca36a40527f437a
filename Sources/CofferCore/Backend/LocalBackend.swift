import Foundation

/// A vault in a local folder (a disk, a USB stick, a mounted NAS or cloud-synced folder).
///
/// Writes follow restic's local backend: a temporary name in the same folder, write, check the
/// count, `fsync`, `close`, `rename`, `fsync` of the folder, then read-only permissions.
/// ENOSPC is reported as ``CofferError/diskFull(path:)``.
///
/// Every call that changes the folder goes through ``FileSystemCalls`` (libc by default), so
/// tests can simulate power cuts and failing calls under the real write sequence.
public final class LocalBackend: Backend {
    public let root: String
    public var location: String { root }
    /// The calls writes and removals are made with.
    let calls: any FileSystemCalls

    public convenience init(root: String) {
        self.init(root: root, calls: POSIXCalls())
    }

    init(root: String, calls: any FileSystemCalls) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.calls = calls
    }

    func fullPath(_ path: String) -> String { root + "/" + path }

    public func read(_ path: String) throws -> [UInt8] {
        let fd = try openForReading(path)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CofferError.io(path: fullPath(path), operation: "stat", errno: errno) }
        return try readExactly(fd, path: path, offset: 0, length: Int(st.st_size))
    }

    public func read(_ path: String, offset: Int, length: Int) throws -> [UInt8] {
        let fd = try openForReading(path)
        defer { close(fd) }
        return try readExactly(fd, path: path, offset: offset, length: length)
    }

    public func openRandomAccess(_ path: String) throws -> RandomAccessFile {
        FileReader(fd: try openForReading(path), path: path, displayPath: fullPath(path))
    }

    private func openForReading(_ path: String) throws -> Int32 {
        let fd = open(fullPath(path), O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { throw CofferError.notFound(path: path) }
            throw CofferError.io(path: fullPath(path), operation: "open", errno: e)
        }
        return fd
    }

    private func readExactly(_ fd: Int32, path: String, offset: Int, length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var done = 0
        var failure: Int32 = 0
        out.withUnsafeMutableBytes { b in
            while done < length {
                let n = pread(fd, b.baseAddress! + done, length - done, off_t(offset + done))
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                if n == 0 { return }
                done += n
            }
        }
        if failure != 0 { throw CofferError.io(path: fullPath(path), operation: "read", errno: failure) }
        guard done == length else {
            throw CofferError.integrity(object: path, reason: "truncated: \(done) of \(length) bytes at offset \(offset)")
        }
        return out
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(path, parts: [$0]) }
    }

    /// Writes the parts one after the other into the temporary file (no joined copy), then as
    /// ``write(_:_:)``.
    public func write(_ path: String, parts: [UnsafeRawBufferPointer]) throws {
        let final = fullPath(path)
        let dir = Paths.parent(final)
        try Self.makeDirectory(dir, calls: calls)
        let count = parts.reduce(0) { $0 + $1.count }
        if let existing = try size(path), existing == count {
            // Content-addressed and write-once: same name and size means the same file.
            if let stored = try? read(path), Self.equal(stored, parts) { return }
        }
        let tmp = dir + "/.tmp-" + Paths.lastComponent(final) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fd = calls.openFile(tmp, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
        guard fd >= 0 else { throw CofferError.fromErrno(errno, path: tmp, operation: "create") }
        var ok = false
        defer {
            if !ok { _ = calls.unlink(tmp) }
        }
        var failure: Int32 = 0
        for part in parts where failure == 0 { failure = Self.writeAll(fd, part, calls: calls) }
        if failure != 0 { _ = calls.close(fd); throw CofferError.fromErrno(failure, path: final, operation: "write") }
        if calls.fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP {
            let e = errno; _ = calls.close(fd); throw CofferError.fromErrno(e, path: final, operation: "fsync")
        }
        if calls.close(fd) != 0 { throw CofferError.fromErrno(errno, path: final, operation: "close") }
        _ = calls.chmod(tmp, 0o400)
        if calls.rename(tmp, final) != 0 { throw CofferError.fromErrno(errno, path: final, operation: "rename") }
        ok = true
        try Self.syncDirectory(dir, calls: calls)
    }

    /// Whether `bytes` is the concatenation of `parts`.
    private static func equal(_ bytes: [UInt8], _ parts: [UnsafeRawBufferPointer]) -> Bool {
        var offset = 0
        return bytes.withUnsafeBytes { b in
            for part in parts {
                guard offset + part.count <= b.count else { return false }
                if part.count > 0 && memcmp(b.baseAddress! + offset, part.baseAddress!, part.count) != 0 { return false }
                offset += part.count
            }
            return offset == b.count
        }
    }

    public func list(_ directory: String) throws -> [String] {
        let dir = fullPath(directory)
        if directory == VaultFolder.packs.rawValue {
            var out: [String] = []
            for sub in try entries(of: dir) where sub.count == 2 {
                for name in try entries(of: dir + "/" + sub) { out.append(sub + "/" + name) }
            }
            return out
        }
        return try entries(of: dir)
    }

    private func entries(of dir: String) throws -> [String] { try Self.directoryEntries(dir) }

    /// Names in a folder, sorted, without those starting with `.` (temporary files); a missing
    /// folder is empty, any other error is thrown (a listing is never taken for empty).
    static func directoryEntries(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else {
            if errno == ENOENT { return [] }
            throw CofferError.io(path: dir, operation: "list", errno: errno)
        }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            out.append(name)
        }
        return out.sorted()
    }

    public func size(_ path: String) throws -> Int? {
        var st = stat()
        if stat(fullPath(path), &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw CofferError.io(path: fullPath(path), operation: "stat", errno: errno)
        }
        return Int(st.st_size)
    }

    public func remove(_ path: String) throws {
        if calls.unlink(fullPath(path)) != 0 && errno != ENOENT {
            throw CofferError.fromErrno(errno, path: fullPath(path), operation: "remove")
        }
        try Self.syncDirectory(Paths.parent(fullPath(path)), calls: calls)
    }

    /// Writes all of `bytes` to `fd`, retrying on `EINTR`; returns 0 or the failing `errno`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, calls: any FileSystemCalls = POSIXCalls()) -> Int32 {
        var written = 0
        while written < bytes.count {
            let n = calls.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            written += n
        }
        return 0
    }

    /// Creates a folder and its parents (vault folders 0700; `mode` for others, less the umask),
    /// syncing each new folder's parent.
    static func makeDirectory(_ dir: String, mode: mode_t = 0o700, calls: any FileSystemCalls = POSIXCalls()) throws {
        var st = stat()
        if stat(dir, &st) == 0 { return }
        let parent = Paths.parent(dir)
        if !parent.isEmpty && parent != dir { try makeDirectory(parent, mode: mode, calls: calls) }
        if calls.mkdir(dir, mode) != 0 && errno != EEXIST { throw CofferError.fromErrno(errno, path: dir, operation: "mkdir") }
        try syncDirectory(parent.isEmpty ? "." : parent, calls: calls)
    }

    static func syncDirectory(_ dir: String, calls: any FileSystemCalls = POSIXCalls()) throws {
        let fd = calls.openDirectory(dir)
        guard fd >= 0 else { throw CofferError.io(path: dir, operation: "open folder", errno: errno) }
        defer { _ = calls.close(fd) }
        if calls.fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP {
            throw CofferError.fromErrno(errno, path: dir, operation: "fsync folder")
        }
    }
}

/// Positional reads from one open file.
final class FileReader: RandomAccessFile, @unchecked Sendable {
    let fd: Int32
    let path: String
    let displayPath: String

    init(fd: Int32, path: String, displayPath: String) {
        self.fd = fd
        self.path = path
        self.displayPath = displayPath
    }

    deinit { close(fd) }

    /// Reads exactly `buffer.count` bytes at `offset`.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw CofferError.io(path: displayPath, operation: "read", errno: errno)
            }
            if n == 0 { throw CofferError.integrity(object: path, reason: "truncated: no data at offset \(offset + done)") }
            done += n
        }
    }

    var size: Int {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }
}
