import CofferCrypto
import Foundation

/// A vault on any rclone remote (S3, B2, Google Drive, SFTP, WebDAV, a local folder, ...), reached
/// through one long-lived rclone process per backend (``RcloneServer``: `rclone rcd` on a
/// loopback port) with the user's rclone configuration (its config file and `RCLONE_CONFIG_*`
/// environment variables, which the child process is given). It is started on first use and
/// stopped by its pid when the backend goes away (or ``shutdown()``).
///
/// - Reads: `GET /[REMOTE:PATH]/file` (with `Range` for ranged reads). Packs opened for random
///   access are downloaded once to the private temporary folder (`operations/copyfile`), opened,
///   and unlinked at once.
/// - Writes: the bytes go to a local file in the private folder, then `operations/copyfile`
///   uploads it under the temporary name `.tmp-<name>-<random hex>` in the final folder, and
///   `operations/movefile` renames that to the final name. rclone 1.60 writes straight to the
///   target name on local, SFTP and FTP remotes, so without the rename an interrupted upload
///   would leave a short file under a vault name; with it, the final name appears whole (a
///   server-side rename on local, SFTP and WebDAV; on object stores such as S3 or B2 an object
///   only appears once its upload completed). Names that start with `.` are never listed, so
///   readers never see the temporary names.
/// - Listings: `operations/list` (`filesOnly`, recursive for `packs`). rclone's "directory not
///   found" means an empty folder; any other failure is an error, never an empty listing (a
///   listing error read as "empty" is how restic #4612 lost data).
/// - Sizes come from the last listing of the file's folder when there was one, else from
///   `operations/stat` of the file.
/// - Bounded reads: a listed size is a claim, never an allocation. A response body is read
///   incrementally; a whole-file read stops one byte past the listed size (a ranged read, past
///   the range), whatever `Content-Length` says, and the error names the remote path. A listing
///   longer than ``listingLimit`` (64 MiB) fails the same way. Fewer bytes than listed is a
///   truncated file.
/// - rclone runs with Coffer's environment less the passphrase variables
///   (``ChildEnvironment``), so neither rclone nor what it starts sees a passphrase.
///
/// Every failure becomes ``CofferError/remote(location:reason:)`` naming the remote, with
/// rclone's own error. An rclone process that ends during a command fails the command's next
/// request with one clear error (no new process is started behind its back). A missing `rclone`
/// program gives one clear line saying how to install it. The program is `$COFFER_RCLONE` when
/// set, else `rclone` on `PATH`.
public final class RcloneBackend: Backend, @unchecked Sendable {
    /// The rclone path of the vault root, as rclone takes it: `REMOTE:PATH` (or an rclone
    /// connection string such as `:local:/srv/vault`).
    public let remote: String
    /// `rclone:REMOTE:PATH`, the form `--vault` and `coffer sync` accept.
    public var location: String { "rclone:" + remote }

    private let executableOverride: String?
    private let lock = NSLock()
    /// Sizes from listings, by vault path.
    private var sizes: [String: Int] = [:]
    /// Folders (vault paths) whose listing filled `sizes`; a file missing there does not exist.
    private var listedFolders: Set<String> = []
    private let serverLock = NSLock()
    private var server: RcloneServer?

    /// - Parameters:
    ///   - remote: `REMOTE:PATH` as rclone takes it.
    ///   - executable: the rclone program; default `$COFFER_RCLONE`, else `rclone` on `PATH`.
    public init(remote: String, executable: String? = nil) {
        var r = remote
        while r.hasSuffix("/") && !r.hasSuffix(":/") && r.count > 1 { r.removeLast() }
        self.remote = r
        self.executableOverride = executable
    }

    deinit { shutdown() }

    private static let sharedBackends = NSLock()
    nonisolated(unsafe) private static var backends: [String: RcloneBackend] = [:]

    /// The backend for `remote` this process uses everywhere (probe, open, sync): one rclone
    /// process per remote per command.
    public static func shared(remote: String) -> RcloneBackend {
        sharedBackends.withLock {
            if let b = backends[remote] { return b }
            let b = RcloneBackend(remote: remote)
            backends[remote] = b
            return b
        }
    }

    /// How many rclone processes this backend started (a test hook).
    public private(set) var serversStarted = 0

    /// Stops the rclone process, if one was started; the next request starts a new one.
    public func shutdown() {
        let s = serverLock.withLock { () -> RcloneServer? in
            defer { server = nil }
            return server
        }
        s?.stop()
    }

    /// The rclone process's pid, when one runs (for tests).
    var serverPID: Int32? { serverLock.withLock { server?.pid } }

    /// The rclone path of a vault file.
    func remotePath(_ path: String) -> String {
        if path.isEmpty { return remote }
        if remote.hasSuffix(":") || remote.hasSuffix("/") { return remote + path }
        return remote + "/" + path
    }

    // MARK: The rclone process

    /// The rclone program to run, or nil when it is not installed.
    public static func findExecutable(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit = environment["COFFER_RCLONE"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = String(dir) + "/rclone"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Options given to the rclone process: no password prompt, and few retries so an
    /// unreachable remote fails in seconds rather than minutes (coffer's own re-run is the
    /// retry). The log level stays at NOTICE: the listening address is read from it.
    static let commonOptions = [
        "--ask-password=false", "--retries", "1", "--low-level-retries", "2", "--contimeout", "15s", "--timeout", "5m",
    ]

    /// The longest listing read: 64 MiB, about 400,000 vault files (some 6 TB of packs). A
    /// listing that goes on past it fails with an error.
    static let listingLimit = 64 << 20
    /// How much of rclone's stderr is kept (the end of it, for error messages).
    static let stderrLimit = 64 << 10
    /// The longest answer to any other call.
    static let replyLimit = 1 << 20

    /// The running server, started on first use.
    private func runningServer() throws -> RcloneServer {
        try serverLock.withLock {
            if let server {
                guard server.isRunning else { throw died(server) }
                return server
            }
            guard let exe = executableOverride ?? Self.findExecutable() else {
                throw CofferError.remote(
                    location: location, reason: "rclone is not installed; install it with 'apt-get install rclone' or 'make deps'")
            }
            guard FileManager.default.isExecutableFile(atPath: exe) else {
                throw CofferError.remote(location: location, reason: "cannot run \(exe): it is not an executable file")
            }
            do {
                let s = try RcloneServer.start(executable: exe, options: Self.commonOptions)
                server = s
                serversStarted += 1
                return s
            } catch let e as RcloneServer.StartFailure {
                throw CofferError.remote(
                    location: location, reason: "cannot start rclone (\(exe) rcd): \(Self.lastError(e.stderr) ?? "it printed no listening address")")
            } catch let e as CofferError {
                throw e
            } catch {
                throw CofferError.remote(location: location, reason: "cannot run \(exe): \(error.localizedDescription)")
            }
        }
    }

    /// The error for an rclone process that ended while this backend used it.
    private func died(_ server: RcloneServer) -> CofferError {
        let why = Self.lastError(server.stderr).map { "; its last message: \($0)" } ?? ""
        return .remote(location: location, reason: "the rclone process (pid \(server.pid)) ended during the command\(why); nothing more was written")
    }

    /// Turns a transport failure into a clear error (a dead rclone says so).
    private func transport(_ server: RcloneServer, _ error: Error, operation: String) -> Error {
        if let e = error as? CofferError { return e }
        // A process killed a moment ago may not have been reaped yet.
        for _ in 0..<50 where server.isRunning { usleep(20_000) }
        if !server.isRunning { return died(server) }
        return CofferError.remote(location: location, reason: "\(operation) failed: \(error)")
    }

    /// What an `operations/...` call answered.
    struct Reply {
        var status: Int
        var json: [String: Any]
        var ok: Bool { status == 200 }
        var error: String { json["error"] as? String ?? "HTTP status \(status)" }
        var isNotFound: Bool { status == 404 || error.contains("not found") }
    }

    /// Calls `operations/<name>` with a JSON body.
    func call(_ name: String, _ params: [String: Any], operation: String, limit: Int = RcloneBackend.replyLimit, overflow: CofferError? = nil) throws -> Reply {
        let server = try runningServer()
        let body = try JSONSerialization.data(withJSONObject: params)
        let response: LoopbackHTTPClient.Response
        do {
            response = try server.client.send(
                method: "POST", target: "/" + name, headers: [("Content-Type", "application/json")], body: Array(body), bodyLimit: limit,
                overflow: overflow ?? CofferError.remote(location: location, reason: "\(operation) failed: rclone's answer was longer than \(limit) bytes"))
        } catch {
            throw transport(server, error, operation: operation)
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        if response.status == 200 && json == nil {
            throw CofferError.remote(location: location, reason: "\(operation) failed: rclone answered with something that is not JSON")
        }
        return Reply(status: response.status, json: json ?? [:])
    }

    /// Calls and throws a clear error unless the call succeeded.
    @discardableResult
    func callChecked(_ name: String, _ params: [String: Any], operation: String) throws -> Reply {
        let r = try call(name, params, operation: operation)
        guard r.ok else { throw failure(r.error, operation: operation) }
        return r
    }

    /// `GET /[REMOTE:PATH]/path`, reading at most `limit` bytes of the body.
    func get(_ path: String, range: ClosedRange<Int>? = nil, limit: Int, overflow: CofferError) throws -> LoopbackHTTPClient.Response {
        let server = try runningServer()
        let target = "/" + LoopbackHTTPClient.percentEncoded("[" + remote + "]/" + path)
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        do {
            return try server.client.send(method: "GET", target: target, headers: headers, bodyLimit: limit, overflow: overflow)
        } catch {
            throw transport(server, error, operation: "reading \(path)")
        }
    }

    /// The error message in a failed GET's body.
    private static func errorText(_ body: [UInt8], status: Int) -> String {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["error"] as? String ?? "HTTP status \(status)"
    }

    /// The error for a failed call: the operation, rclone's error, and a hint.
    func failure(_ detail: String, operation: String) -> CofferError {
        var detail = detail
        if detail.count > 400 { detail = String(detail.prefix(400)) + "…" }
        let lower = detail.lowercased()
        if lower.contains("no space left") || lower.contains("quota") || lower.contains("insufficient storage") {
            return .remote(location: location, reason: "\(operation) failed: the destination is full (rclone: \(detail)); free some space and run the command again")
        }
        var hint = ""
        if lower.contains("didn't find section in config file") || lower.contains("didn't find section") {
            let name = remote.split(separator: ":", maxSplits: 1).first.map(String.init) ?? remote
            hint = "; no rclone remote named '\(name)' (see 'rclone listremotes', or set RCLONE_CONFIG_\(name.uppercased())_TYPE and its options)"
        } else if lower.contains("connection refused") || lower.contains("no such host") || lower.contains("i/o timeout")
            || lower.contains("network is unreachable") || lower.contains("couldn't connect") || lower.contains("dial tcp")
            || lower.contains("connection reset") {
            hint = "; the remote cannot be reached — check the network and the remote's address"
        } else if lower.contains("401") || lower.contains("403") || lower.contains("unauthorized") || lower.contains("forbidden")
            || lower.contains("access denied") || lower.contains("invalid credentials") || lower.contains("handshake failed")
            || lower.contains("unable to authenticate") || lower.contains("authentication") || lower.contains("permission denied") {
            hint = "; the remote refused the credentials or the access — check the rclone remote's configuration"
        } else if lower.contains("read-only") || lower.contains("read only") {
            hint = "; the destination is read-only"
        }
        return .remote(location: location, reason: "\(operation) failed: rclone: \(detail)\(hint)")
    }

    /// rclone's last error line, without its time stamp and log level.
    static func lastError(_ stderr: String) -> String? {
        let lines = stderr.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let interesting = lines.last { $0.contains("Failed to") || $0.contains("ERROR") || $0.contains("CRITICAL") } ?? lines.last
        guard var line = interesting else { return nil }
        // "2026/11/29 03:07:10 ERROR : path: message" -> "path: message"
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, parts[0].count == 10, parts[0].filter({ $0 == "/" }).count == 2 { line = String(parts[2]) }
        for prefix in ["ERROR : ", "NOTICE: ", "CRITICAL: ", "ERROR: "] where line.hasPrefix(prefix) {
            line = String(line.dropFirst(prefix.count))
        }
        if line.count > 400 { line = String(line.prefix(400)) + "…" }
        return line
    }

    /// The error for a listing past ``listingLimit``.
    func listingOverflow(_ operation: String) -> CofferError {
        .remote(
            location: location,
            reason: "\(operation) failed: rclone's output went on past \(Self.listingLimit >> 20) MiB, more than any vault's listing; "
                + "stopped reading (the remote is not a Coffer vault, or not trustworthy)")
    }

    // MARK: Backend

    /// Reads a whole file: exactly the size the remote lists for it. The body is read
    /// incrementally and cut off one byte past that size, so a remote that lists a small size and
    /// sends more cannot make the read unbounded; fewer bytes than listed is a truncated file.
    public func read(_ path: String) throws -> [UInt8] {
        // The remembered listing may predate a file another writer added since: ask once more.
        let expected: Int?
        if case .some(.some(let known)) = cachedSize(path) { expected = known } else { expected = try listedSize(path) }
        guard let expected else { throw CofferError.notFound(path: path) }
        guard expected >= 0 else {
            throw CofferError.remote(location: location, reason: "reading \(remotePath(path)) failed: the remote lists no size for it")
        }
        let r = try get(path, limit: expected, overflow: oversized(path, limit: expected, what: "its listed size"))
        if r.status == 404 { throw CofferError.notFound(path: path) }
        guard r.status == 200 else { throw failure(Self.errorText(r.body, status: r.status), operation: "reading \(path)") }
        guard r.body.count == expected else {
            throw CofferError.integrity(object: path, reason: "truncated: \(r.body.count) of the \(expected) bytes the remote lists")
        }
        return r.body
    }

    /// The error for a body past `limit` bytes while reading `path`.
    private func oversized(_ path: String, limit: Int, what: String) -> CofferError {
        .remote(
            location: location,
            reason: "reading \(remotePath(path)) failed: the remote sent more than \(what) (\(limit) bytes); stopped reading")
    }

    public func read(_ path: String, offset: Int, length: Int) throws -> [UInt8] {
        if length == 0 { return [] }
        let r = try get(
            path, range: offset...(offset + length - 1), limit: length, overflow: oversized(path, limit: length, what: "the range asked for"))
        if r.status == 404 { throw CofferError.notFound(path: path) }
        if r.status == 416 { throw CofferError.integrity(object: path, reason: "truncated: 0 of \(length) bytes at offset \(offset)") }
        guard r.status == 206 || (r.status == 200 && offset == 0) else {
            throw failure(Self.errorText(r.body, status: r.status), operation: "reading \(path)")
        }
        guard r.body.count == length else {
            throw CofferError.integrity(object: path, reason: "truncated: \(r.body.count) of \(length) bytes at offset \(offset)")
        }
        return r.body
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws {
        // Content-addressed and write-once: the same name and the same bytes is already written.
        if let existing = try size(path), existing == bytes.count, (try? read(path)) == bytes { return }
        let server = try runningServer()
        let name = "w-" + Hex.encode(Sodium.randomBytes(count: 8))
        let file = server.scratch.folder + "/upload/" + name
        try LocalScratch.writeFile(file, bytes)
        defer { unlink(file) }
        try upload(localFolder: server.scratch.folder + "/upload", name: name, to: path, size: bytes.count)
    }

    /// Uploads `folder/name` to `path` under a temporary name, then renames it into place.
    func upload(localFolder: String, name: String, to path: String, size: Int?) throws {
        let folder = Paths.parent(path)
        let tmp = (folder.isEmpty ? "" : folder + "/") + ".tmp-" + Paths.lastComponent(path) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try callChecked(
            "operations/copyfile", ["srcFs": localFolder, "srcRemote": name, "dstFs": remote, "dstRemote": tmp], operation: "writing \(path)")
        do {
            try callChecked("operations/movefile", ["srcFs": remote, "srcRemote": tmp, "dstFs": remote, "dstRemote": path], operation: "writing \(path)")
        } catch {
            _ = try? call("operations/deletefile", ["fs": remote, "remote": tmp], operation: "removing \(tmp)")
            throw error
        }
        lock.withLock { sizes[path] = size }
    }

    /// A file listed by `operations/list`.
    struct Entry {
        var path: String
        var name: String
        var size: Int
        var isDir: Bool
        var modified: Date?
    }

    /// `operations/list` of `directory` (a vault path; "" for the root); nil when it does not exist.
    func listEntries(_ directory: String, recurse: Bool, operation: String) throws -> [Entry]? {
        let r = try call(
            "operations/list",
            ["fs": remote, "remote": directory, "opt": ["recurse": recurse, "filesOnly": true, "noMimeType": true] as [String: Any]],
            operation: operation, limit: Self.listingLimit, overflow: listingOverflow(operation))
        if r.status == 404 || r.error.contains("directory not found") && !r.ok { return nil }
        guard r.ok else { throw failure(r.error, operation: operation) }
        guard let list = r.json["list"] as? [[String: Any]] else {
            throw CofferError.remote(location: location, reason: "\(operation) failed: rclone printed a listing that is not JSON")
        }
        // Paths are relative to the root: made relative to `directory`.
        let prefix = directory.isEmpty ? "" : directory + "/"
        return Self.entries(list).compactMap { e in
            guard e.path.utf8.starts(with: prefix.utf8) else { return nil }
            var e = e
            e.path = String(decoding: e.path.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
            return e
        }
    }

    static func entries(_ list: [[String: Any]]) -> [Entry] {
        list.compactMap { item in
            guard let path = item["Path"] as? String else { return nil }
            let name = item["Name"] as? String ?? Paths.lastComponent(path)
            let size = (item["Size"] as? NSNumber)?.intValue ?? -1
            let isDir = (item["IsDir"] as? Bool) ?? false
            let modified = (item["ModTime"] as? String).flatMap(parseTime)
            return Entry(path: path, name: name, size: size, isDir: isDir, modified: modified)
        }
    }

    /// An RFC 3339 time as rclone prints it (fractional seconds optional).
    static func parseTime(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        // More than millisecond precision: drop the fraction.
        if let dot = s.firstIndex(of: "."), let end = s[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            f.formatOptions = [.withInternetDateTime]
            return f.date(from: String(s[..<dot]) + String(s[end...]))
        }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }

    public func list(_ directory: String) throws -> [String] {
        try listDetailed(directory).keys.sorted()
    }

    /// Names (relative to `directory`, `ab/<id>` for packs) with size and modification time.
    public func listDetailed(_ directory: String) throws -> [String: StoredFile] {
        let packs = directory == VaultFolder.packs.rawValue
        guard let entries = try listEntries(directory, recurse: packs, operation: "listing \(directory)/") else {
            lock.withLock { forget(folder: directory); listedFolders.insert(directory) }
            return [:]
        }
        var out: [String: StoredFile] = [:]
        var found: [String: Int] = [:]
        for e in entries where !e.isDir {
            let parts = e.path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
            if parts.contains(where: { $0.hasPrefix(".") || $0.isEmpty }) { continue }
            if packs {
                guard parts.count == 2, parts[0].count == 2 else { continue }
            } else if parts.count != 1 {
                continue
            }
            out[e.path] = StoredFile(size: e.size, modified: e.modified)
            found[(directory.isEmpty ? "" : directory + "/") + e.path] = e.size
        }
        lock.withLock {
            forget(folder: directory)
            sizes.merge(found) { _, new in new }
            listedFolders.insert(directory)
        }
        return out
    }

    /// Drops the remembered sizes below `folder` (lock held).
    private func forget(folder: String) {
        let prefix = folder.isEmpty ? "" : folder + "/"
        sizes = sizes.filter { !$0.key.hasPrefix(prefix) }
    }

    /// The folder whose listing covers `path` (`packs` for `packs/ab/<id>`).
    private static func listingFolder(of path: String) -> String {
        if path.hasPrefix(VaultFolder.packs.rawValue + "/") { return VaultFolder.packs.rawValue }
        return Paths.parent(path)
    }

    public func size(_ path: String) throws -> Int? {
        if let cached = cachedSize(path) { return cached }
        return try listedSize(path)
    }

    /// The size the last listing of `path`'s folder gave (`.some(nil)`: not in that listing), or
    /// nil when there was no such listing.
    private func cachedSize(_ path: String) -> Int?? {
        lock.withLock {
            if let s = sizes[path] { return .some(s) }
            if listedFolders.contains(Self.listingFolder(of: path)) { return .some(nil) }
            return nil
        }
    }

    /// The size `operations/stat` of `path` gives now (no remembered listing), or nil.
    private func listedSize(_ path: String) throws -> Int? {
        let r = try call("operations/stat", ["fs": remote, "remote": path, "opt": ["noMimeType": true]], operation: "reading the size of \(path)")
        if r.isNotFound { return nil }
        guard r.ok else { throw failure(r.error, operation: "reading the size of \(path)") }
        guard let item = r.json["item"] as? [String: Any], let e = Self.entries([item]).first, !e.isDir,
              e.name == Paths.lastComponent(path)
        else { return nil }
        return e.size
    }

    public func remove(_ path: String) throws {
        let r = try call("operations/deletefile", ["fs": remote, "remote": path], operation: "removing \(path)")
        lock.withLock { sizes[path] = nil }
        if r.ok || r.isNotFound { return }
        // deletefile fails on a file that is already gone; that is not an error here.
        if try listedSize(path) == nil { return }
        throw failure(r.error, operation: "removing \(path)")
    }

    public func openRandomAccess(_ path: String) throws -> RandomAccessFile {
        let server = try runningServer()
        let name = "r-" + Hex.encode(Sodium.randomBytes(count: 8))
        let folder = server.scratch.folder + "/upload"
        let file = folder + "/" + name
        defer { unlink(file) }
        let r = try call("operations/copyfile", ["srcFs": remote, "srcRemote": path, "dstFs": folder, "dstRemote": name], operation: "reading \(path)")
        if r.isNotFound || (r.ok && !FileManager.default.fileExists(atPath: file)) { throw CofferError.notFound(path: path) }
        guard r.ok else { throw failure(r.error, operation: "reading \(path)") }
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CofferError.io(path: file, operation: "open", errno: errno) }
        var st = stat()
        if case .some(.some(let listed)) = cachedSize(path), fstat(fd, &st) == 0, Int(st.st_size) != listed {
            close(fd)
            throw CofferError.integrity(object: path, reason: "downloaded \(st.st_size) bytes, the remote lists \(listed)")
        }
        // The open descriptor keeps the data; the name is unlinked now.
        return FileReader(fd: fd, path: path, displayPath: remotePath(path))
    }

    // MARK: Capabilities

    public func listAll() throws -> [String: StoredFile]? {
        guard let entries = try listEntries("", recurse: true, operation: "listing") else {
            lock.withLock {
                sizes = [:]
                listedFolders = Set([""]).union(SyncTree.layoutNames)
            }
            return [:]
        }
        var out: [String: StoredFile] = [:]
        for e in entries where !e.isDir { out[e.path] = StoredFile(size: e.size, modified: e.modified) }
        lock.withLock {
            sizes = out.mapValues(\.size)
            listedFolders = Set([""]).union(SyncTree.layoutNames)
        }
        return out
    }

    /// Every file below the root, recursively, with its size (paths relative to the root,
    /// including names that start with `.`). A root that does not exist is empty; any other
    /// listing failure throws.
    public func listTree() throws -> [String: Int] {
        try (listAll() ?? [:]).mapValues(\.size)
    }

    public var prefersBatchCopy: Bool { true }

    /// Copies files of a local folder to the same relative paths here, several at once over the
    /// one rclone process: atomically (temporary name, then rename), or straight to their final
    /// names (not atomic per file: only for files no reader loads before a head refers to them,
    /// verified before that head is written).
    public func copyFiles(_ paths: [String], fromLocalFolder folder: String, atomically: Bool) throws {
        try BackendParallel.forEach(paths, width: 4) { path in
            if atomically {
                try self.upload(localFolder: folder, name: path, to: path, size: nil)
            } else {
                try self.callChecked(
                    "operations/copyfile", ["srcFs": folder, "srcRemote": path, "dstFs": self.remote, "dstRemote": path],
                    operation: "copying \(path)")
            }
            self.lock.withLock { self.sizes[path] = nil }
        }
    }

    /// Copies one file of a local folder here atomically (temporary name, then rename).
    public func copyAtomically(_ path: String, fromLocalFolder folder: String) throws {
        try copyFiles([path], fromLocalFolder: folder, atomically: true)
    }
}

/// A private temporary folder (mode 0700) for rclone's input and output files.
struct LocalScratch {
    let folder: String

    static func make() throws -> LocalScratch {
        var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        if base.isEmpty { base = "/tmp" }
        var template = Array((base + "/coffer-rclone-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf -> String? in
            guard let p = mkdtemp(buf.baseAddress!) else { return nil }
            return String(cString: p)
        }
        guard let made else { throw CofferError.io(path: base, operation: "create a temporary folder", errno: errno) }
        return LocalScratch(folder: made)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CofferError.fromErrno(errno, path: path, operation: "create") }
        defer { close(fd) }
        let failure = bytes.withUnsafeBytes { LocalBackend.writeAll(fd, $0) }
        if failure != 0 { throw CofferError.fromErrno(failure, path: path, operation: "write") }
    }
}
