import Foundation

/// A vault on any rclone remote (S3, B2, Google Drive, SFTP, WebDAV, a local folder, ...), reached
/// by running the `rclone` program with the user's rclone configuration (its config file and
/// `RCLONE_CONFIG_*` environment variables, which the child process is given).
///
/// - Reads: `rclone cat` (ranges with `--offset` / `--count`). Packs opened for random access
///   are downloaded once to a private temporary file (`rclone copyto`), which is unlinked at once.
/// - Writes: the bytes go to a local temporary file, then `rclone copyto` uploads them under the
///   temporary name `.tmp-<name>-<random hex>` in the final folder, and `rclone moveto` renames
///   that to the final name. rclone 1.60 writes straight to the target name on local, SFTP and
///   FTP remotes, so without the rename an interrupted upload would leave a short file under a
///   vault name; with it, the final name appears whole (a server-side rename on local, SFTP and
///   WebDAV; on object stores such as S3 or B2 an object only appears once its upload completed).
///   Names that start with `.` are never listed, so readers never see the temporary names.
/// - Listings: `rclone lsjson --files-only` (packs with `-R --max-depth 2`). rclone's exit status
///   3 ("directory not found") means an empty folder; any other failure is an error, never an
///   empty listing (a listing error read as "empty" is how restic #4612 lost data).
/// - Sizes come from the last listing of the file's folder when there was one, else from
///   `rclone lsjson` of the file.
/// - Bounded reads: a listed size is a claim, never an allocation. rclone's output is read
///   incrementally; a whole-file read stops one byte past the listed size (a ranged read, past
///   the range), rclone is ended by its pid, and the error names the remote path. A listing (or
///   `hashsum` output) longer than ``listingLimit`` (64 MiB) fails the same way. Fewer bytes than
///   listed is a truncated file.
/// - rclone runs with Coffer's environment less the passphrase variables
///   (``ChildEnvironment``), so neither rclone nor what it starts sees a passphrase.
///
/// Every failure becomes ``CofferError/remote(location:reason:)`` naming the remote, with
/// rclone's own last error line. A missing `rclone` program gives one clear line saying how to
/// install it. The program is `$COFFER_RCLONE` when set, else `rclone` on `PATH`.
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

    /// - Parameters:
    ///   - remote: `REMOTE:PATH` as rclone takes it.
    ///   - executable: the rclone program; default `$COFFER_RCLONE`, else `rclone` on `PATH`.
    public init(remote: String, executable: String? = nil) {
        var r = remote
        while r.hasSuffix("/") && !r.hasSuffix(":/") && r.count > 1 { r.removeLast() }
        self.remote = r
        self.executableOverride = executable
    }

    /// The rclone path of a vault file.
    func remotePath(_ path: String) -> String {
        if path.isEmpty { return remote }
        if remote.hasSuffix(":") || remote.hasSuffix("/") { return remote + path }
        return remote + "/" + path
    }

    // MARK: Running rclone

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

    /// Options given to every rclone run: errors only on stderr, no password prompt, and few
    /// retries so an unreachable remote fails in seconds rather than minutes (coffer's own
    /// re-run is the retry).
    static let commonOptions = [
        "--quiet", "--ask-password=false", "--retries", "1", "--low-level-retries", "2", "--contimeout", "15s",
        "--timeout", "5m",
    ]

    /// What one rclone run did.
    struct Run {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        /// rclone's "directory not found" (3) and "file not found" (4).
        var isNotFound: Bool { status == 3 || status == 4 }
    }

    /// How much of rclone's standard output a run may print. Nothing a remote claims (a size in
    /// a listing) sets how much is read: a read stops one byte past its limit.
    enum OutputLimit {
        /// Output that is used: more than `bytes` ends rclone (SIGKILL to its pid) and fails the
        /// run with `error`.
        case fail(bytes: Int, error: CofferError)
        /// Output nobody reads (rclone is run with `--quiet`): the first 64 KiB are kept, the
        /// rest is read and dropped so rclone never blocks on a full pipe.
        case discard
    }

    /// The longest `lsjson` listing (or `hashsum` output) read: 64 MiB, about 400,000 vault
    /// files (some 6 TB of packs). A listing that goes on past it fails with an error.
    static let listingLimit = 64 << 20
    /// How much of rclone's stderr is kept (the end of it, for the error message).
    static let stderrLimit = 64 << 10

    /// Runs `rclone <arguments>` and collects its output, reading at most what `limit` allows.
    func run(_ arguments: [String], limit: OutputLimit = .discard) throws -> Run {
        guard let exe = executableOverride ?? Self.findExecutable() else {
            throw CofferError.remote(
                location: location, reason: "rclone is not installed; install it with 'apt-get install rclone' or 'make deps'")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = Self.commonOptions + arguments
        // rclone, and whatever it runs (ssh, password commands), never sees a passphrase variable.
        process.environment = ChildEnvironment.filtered()
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw CofferError.remote(location: location, reason: "cannot run \(exe): \(error.localizedDescription)")
        }
        // stderr is drained on another thread so neither pipe can fill up and block rclone.
        let errBox = DataBox()
        let group = DispatchGroup()
        // The closure holds the handle, so the descriptor stays open (and is not reused) until the
        // reader is done, even when this run is abandoned below.
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async(group: group) { errBox.set(Self.readTail(errHandle.fileDescriptor, keeping: Self.stderrLimit)) }
        let outFD = out.fileHandleForReading.fileDescriptor
        var stdout: [UInt8] = []
        var overflow: CofferError?
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(outFD, $0.baseAddress!, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            switch limit {
            case .discard:
                if stdout.count < 64 << 10 { stdout.append(contentsOf: chunk[0..<min(n, (64 << 10) - stdout.count)]) }
            case .fail(let bytes, let error):
                stdout.append(contentsOf: chunk[0..<min(n, bytes + 1 - stdout.count)])
                if stdout.count > bytes { overflow = error }
            }
            if overflow != nil { break }
        }
        if let overflow {
            // Stop rclone by its pid, and close the pipe so anything it started gets SIGPIPE.
            kill(process.processIdentifier, SIGKILL)
            try? out.fileHandleForReading.close()
            process.waitUntilExit()
            // A grandchild that still holds stderr open is not waited for long.
            _ = group.wait(timeout: .now() + 5)
            throw overflow
        }
        group.wait()
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Run(status: status, stdout: stdout, stderr: String(decoding: errBox.get(), as: UTF8.self))
    }

    /// Reads `fd` to its end and returns its last `keeping` bytes (at most twice that is held).
    private static func readTail(_ fd: Int32, keeping: Int) -> Data {
        var kept = Data()
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            kept.append(contentsOf: chunk[0..<n])
            if kept.count > 2 * keeping { kept = kept.suffix(keeping) }
        }
        return kept.count > keeping ? kept.suffix(keeping) : kept
    }

    /// The limit of a listing run: past ``listingLimit`` bytes it fails naming `operation`.
    func listingLimit(_ operation: String) -> OutputLimit {
        .fail(
            bytes: Self.listingLimit,
            error: .remote(
                location: location,
                reason: "\(operation) failed: rclone's output went on past \(Self.listingLimit >> 20) MiB, more than any vault's listing; "
                    + "stopped reading (the remote is not a Coffer vault, or not trustworthy)"))
    }

    /// Runs rclone and throws a clear error unless it succeeded.
    @discardableResult
    func runChecked(_ arguments: [String], operation: String) throws -> Run {
        let r = try run(arguments)
        guard r.status == 0 else { throw failure(r, operation: operation) }
        return r
    }

    /// The error for a failed run: the operation, rclone's last error line, and a hint.
    func failure(_ r: Run, operation: String) -> CofferError {
        let detail = Self.lastError(r.stderr) ?? "rclone exited with status \(r.status)"
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
            || lower.contains("unable to authenticate") || lower.contains("authentication") || lower.contains("permission denied")
            || lower.contains("access denied") || lower.contains("invalid credentials") || lower.contains("handshake failed") {
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

    // MARK: Backend

    /// Reads a whole file: exactly the size the remote lists for it. rclone's output is read
    /// incrementally and cut off one byte past that size (rclone is then ended), so a remote that
    /// lists a small size and sends more cannot make the read unbounded; fewer bytes than listed
    /// is a truncated file.
    public func read(_ path: String) throws -> [UInt8] {
        if let local = try mirrored(path), let bytes = FileManager.default.contents(atPath: local) { return Array(bytes) }
        // The remembered listing may predate a file another writer added since: ask once more.
        let expected: Int?
        if case .some(.some(let known)) = cachedSize(path) { expected = known } else { expected = try listedSize(path) }
        guard let expected else { throw CofferError.notFound(path: path) }
        guard expected >= 0 else {
            throw CofferError.remote(location: location, reason: "reading \(remotePath(path)) failed: the remote lists no size for it")
        }
        let r = try run(["cat", remotePath(path)], limit: .fail(bytes: expected, error: oversized(path, limit: expected, what: "its listed size")))
        if r.isNotFound { throw CofferError.notFound(path: path) }
        guard r.status == 0 else { throw failure(r, operation: "reading \(path)") }
        guard r.stdout.count == expected else {
            throw CofferError.integrity(object: path, reason: "truncated: \(r.stdout.count) of the \(expected) bytes the remote lists")
        }
        return r.stdout
    }

    /// The error for rclone output past `limit` bytes while reading `path`.
    private func oversized(_ path: String, limit: Int, what: String) -> CofferError {
        .remote(
            location: location,
            reason: "reading \(remotePath(path)) failed: the remote sent more than \(what) (\(limit) bytes); stopped reading and ended rclone")
    }

    public func read(_ path: String, offset: Int, length: Int) throws -> [UInt8] {
        if length == 0 { return [] }
        let r = try run(
            ["cat", "--offset", String(offset), "--count", String(length), remotePath(path)],
            limit: .fail(bytes: length, error: oversized(path, limit: length, what: "the range asked for")))
        if r.isNotFound { throw CofferError.notFound(path: path) }
        guard r.status == 0 else { throw failure(r, operation: "reading \(path)") }
        guard r.stdout.count == length else {
            throw CofferError.integrity(object: path, reason: "truncated: \(r.stdout.count) of \(length) bytes at offset \(offset)")
        }
        return r.stdout
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws {
        // Content-addressed and write-once: the same name and the same bytes is already written.
        if let existing = try size(path), existing == bytes.count, (try? read(path)) == bytes { return }
        let local = try LocalScratch.make()
        defer { local.remove() }
        let file = local.folder + "/upload"
        try LocalScratch.writeFile(file, bytes)
        try upload(localFile: file, to: path)
    }

    /// Uploads a local file to `path` under a temporary name, then renames it into place.
    func upload(localFile: String, to path: String) throws {
        let folder = Paths.parent(path)
        let name = Paths.lastComponent(path)
        let tmp = (folder.isEmpty ? "" : folder + "/") + ".tmp-" + name + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try runChecked(["copyto", localFile, remotePath(tmp)], operation: "writing \(path)")
        do {
            try runChecked(["moveto", remotePath(tmp), remotePath(path)], operation: "writing \(path)")
        } catch {
            _ = try? run(["deletefile", remotePath(tmp)])
            throw error
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: localFile)[.size] as? Int) ?? nil
        lock.withLock { sizes[path] = size }
        unmirror(path)
    }

    public func list(_ directory: String) throws -> [String] {
        var args = ["lsjson", "--files-only", "--no-mimetype", "--no-modtime"]
        let packs = directory == VaultFolder.packs.rawValue
        if packs { args += ["-R", "--max-depth", "2"] }
        let r = try run(args + [remotePath(directory)], limit: listingLimit("listing \(directory)/"))
        if r.isNotFound {
            lock.withLock { forget(folder: directory); listedFolders.insert(directory) }
            return []
        }
        guard r.status == 0 else { throw failure(r, operation: "listing \(directory)/") }
        let entries = try parseListing(r.stdout, operation: "listing \(directory)/")
        var names: [String] = []
        var found: [String: Int] = [:]
        for e in entries where !e.isDir {
            let parts = e.path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
            if parts.contains(where: { $0.hasPrefix(".") || $0.isEmpty }) { continue }
            if packs {
                guard parts.count == 2, parts[0].count == 2 else { continue }
            } else if parts.count != 1 {
                continue
            }
            names.append(e.path)
            found[(directory.isEmpty ? "" : directory + "/") + e.path] = e.size
        }
        lock.withLock {
            forget(folder: directory)
            sizes.merge(found) { _, new in new }
            listedFolders.insert(directory)
        }
        return names.sorted()
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

    /// The size `rclone lsjson` of `path` gives now (no remembered listing), or nil.
    private func listedSize(_ path: String) throws -> Int? {
        let r = try run(
            ["lsjson", "--files-only", "--no-mimetype", "--no-modtime", remotePath(path)],
            limit: listingLimit("reading the size of \(path)"))
        if r.isNotFound { return nil }
        guard r.status == 0 else { throw failure(r, operation: "reading the size of \(path)") }
        let entries = try parseListing(r.stdout, operation: "reading the size of \(path)")
        let name = Paths.lastComponent(path)
        // `lsjson` of a file lists that file; of a folder, the folder's files.
        guard entries.count == 1, let e = entries.first, !e.isDir, e.name == name else { return nil }
        return e.size
    }

    public func remove(_ path: String) throws {
        let r = try run(["deletefile", remotePath(path)])
        lock.withLock { sizes[path] = nil }
        unmirror(path)
        if r.status == 0 || r.isNotFound { return }
        // deletefile fails on a file that is already gone; that is not an error here.
        let check = try run(["lsjson", "--files-only", "--no-mimetype", "--no-modtime", remotePath(path)], limit: listingLimit("removing \(path)"))
        if check.isNotFound { return }
        if check.status == 0, let entries = try? parseListing(check.stdout, operation: "removing \(path)"),
           !entries.contains(where: { $0.name == Paths.lastComponent(path) && !$0.isDir }) {
            return
        }
        throw failure(r, operation: "removing \(path)")
    }

    public func openRandomAccess(_ path: String) throws -> RandomAccessFile {
        let local = try LocalScratch.make()
        defer { local.remove() }
        let file = local.folder + "/download"
        let r = try run(["copyto", remotePath(path), file])
        if r.isNotFound || (r.status == 0 && !FileManager.default.fileExists(atPath: file)) {
            throw CofferError.notFound(path: path)
        }
        guard r.status == 0 else { throw failure(r, operation: "reading \(path)") }
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CofferError.io(path: file, operation: "open", errno: errno) }
        var st = stat()
        if case .some(.some(let listed)) = cachedSize(path), fstat(fd, &st) == 0, Int(st.st_size) != listed {
            close(fd)
            throw CofferError.integrity(object: path, reason: "downloaded \(st.st_size) bytes, the remote lists \(listed)")
        }
        // The open descriptor keeps the data; the name goes with the scratch folder.
        return FileReader(fd: fd, path: path, displayPath: remotePath(path))
    }

    // MARK: Metadata mirror

    /// The most metadata (config, key slots, dictionaries, index, versions, heads) fetched in one run.
    static let mirrorLimit = 64 << 20

    private var mirrorState: (scratch: LocalScratch?, files: Set<String>, tried: Bool) = (nil, [], false)
    private let mirrorLock = NSLock()

    deinit { mirrorScratchRoot?.remove() }

    /// The local copy of a metadata file, fetching all metadata files in one rclone run the
    /// first time one is read (opening a vault reads config, a key slot, heads and every index
    /// file; one run instead of one per file). Vault files are content-addressed and written
    /// once, so a copy fetched moments earlier is the file; a file written or removed through
    /// this backend since is read from the remote again. Skipped above ``mirrorLimit``.
    private func mirrored(_ path: String) throws -> String? {
        guard Self.isMetadata(path) else { return nil }
        return try mirrorLock.withLock { () throws -> String? in
            if !mirrorState.tried {
                mirrorState.tried = true
                try fetchMetadata()
            }
            guard let scratch = mirrorState.scratch, lock.withLock({ mirrorState.files.contains(path) }) else { return nil }
            return scratch.folder + "/" + path
        }
    }

    /// Whether `path` is one of the metadata files the mirror holds: `config`, or a name directly
    /// in `keys/`, `dicts/`, `index/`, `versions/` or `heads/` that does not start with `.` (a stray name
    /// too, so that opening the vault reads it as it reads the others).
    static func isMetadata(_ path: String) -> Bool {
        let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard !parts.contains(where: { $0.first == UInt8(ascii: ".") || $0.isEmpty }) else { return false }
        if parts.count == 1 { return parts[0].elementsEqual(VaultFile.config.path.utf8) }
        guard parts.count == 2, let folder = VaultFolder(name: parts[0]) else { return false }
        return [VaultFolder.keys, .dicts, .index, .versions, .heads].contains(folder)
    }

    /// Copies every metadata file to a private local folder (mirror lock held).
    private func fetchMetadata() throws {
        let tree = try listTree()
        let wanted = tree.filter { path, _ in Self.isMetadata(path) }
        // A listed size is only a claim: a negative one must not offset a huge one in the sum.
        guard !wanted.isEmpty, wanted.values.allSatisfy({ (0...Self.mirrorLimit).contains($0) }),
              wanted.values.reduce(0, +) <= Self.mirrorLimit
        else { return }
        let scratch = try LocalScratch.make()
        let list = scratch.folder + "/.files"
        try LocalScratch.writeFile(list, Array((wanted.keys.sorted().joined(separator: "\n") + "\n").utf8))
        let r = try run(["copy", "--files-from-raw", list, "--no-traverse", "--transfers", "8", remote, scratch.folder + "/m"])
        guard r.status == 0 else { scratch.remove(); return }
        let base = LocalScratch(folder: scratch.folder + "/m")
        var present = Set<String>()
        for (path, size) in wanted {
            var st = stat()
            if stat(base.folder + "/" + path, &st) == 0, Int(st.st_size) == size { present.insert(path) }
        }
        lock.withLock { mirrorState.files = present }
        mirrorState.scratch = base
        mirrorScratchRoot = scratch
    }

    /// The folder to remove when this backend goes away.
    private var mirrorScratchRoot: LocalScratch?

    /// Forgets the local copy of `path` (written or removed through this backend).
    private func unmirror(_ path: String) {
        lock.withLock { _ = mirrorState.files.remove(path) }
    }

    // MARK: Bulk operations for sync

    /// Every file below the root, recursively, with its size (paths relative to the root,
    /// including names that start with `.`). A root that does not exist is empty; any other
    /// listing failure throws.
    public func listTree() throws -> [String: Int] {
        let r = try run(["lsjson", "-R", "--files-only", "--no-mimetype", "--no-modtime", remote], limit: listingLimit("listing"))
        if r.isNotFound { return [:] }
        guard r.status == 0 else { throw failure(r, operation: "listing") }
        var out: [String: Int] = [:]
        for e in try parseListing(r.stdout, operation: "listing") where !e.isDir { out[e.path] = e.size }
        lock.withLock {
            sizes = out
            listedFolders = Set([""]).union(SyncTree.layoutNames)
        }
        return out
    }

    /// Copies files of a local folder to the same relative paths here, in one rclone run,
    /// straight to their final names (not atomic per file: use it only for files no reader
    /// loads before a head refers to them, and verify them before writing that head).
    public func copyDirectly(_ paths: [String], fromLocalFolder folder: String) throws {
        guard !paths.isEmpty else { return }
        let local = try LocalScratch.make()
        defer { local.remove() }
        let list = local.folder + "/files"
        try LocalScratch.writeFile(list, Array((paths.joined(separator: "\n") + "\n").utf8))
        try runChecked(
            ["copy", "--files-from-raw", list, "--no-traverse", "--ignore-times", "--transfers", "4", folder, remote],
            operation: "copying \(paths.count) file\(paths.count == 1 ? "" : "s")")
        lock.withLock { for p in paths { sizes[p] = nil } }
        for p in paths { unmirror(p) }
    }

    /// Copies one file of a local folder here atomically (temporary name, then rename).
    public func copyAtomically(_ path: String, fromLocalFolder folder: String) throws {
        try upload(localFile: folder + "/" + path, to: path)
    }

    /// The SHA-256 of each file as read back from the remote (`rclone hashsum sha256
    /// --download`: rclone downloads every byte and hashes it locally). A file that cannot be
    /// read is absent from the result; a run that reads nothing at all throws.
    public func readBackSHA256(_ paths: [String]) throws -> [String: [UInt8]] {
        guard !paths.isEmpty else { return [:] }
        let local = try LocalScratch.make()
        defer { local.remove() }
        let list = local.folder + "/files"
        try LocalScratch.writeFile(list, Array((paths.joined(separator: "\n") + "\n").utf8))
        let r = try run(
            ["hashsum", "sha256", "--download", "--files-from-raw", list, remote], limit: listingLimit("reading back \(paths.count) files"))
        var out: [String: [UInt8]] = [:]
        for line in String(decoding: r.stdout, as: UTF8.self).split(separator: "\n") {
            // "<64 hex>  <path>"
            guard line.count > 66 else { continue }
            let hex = line.prefix(64)
            let path = String(line.dropFirst(66))
            if let digest = Hex.decode(String(hex)), digest.count == 32 { out[path] = digest }
        }
        if r.status != 0 && out.isEmpty && !r.isNotFound { throw failure(r, operation: "reading back \(paths.count) files") }
        return out
    }

    /// Removes many files in one rclone run.
    public func removeFiles(_ paths: [String]) throws {
        guard !paths.isEmpty else { return }
        let local = try LocalScratch.make()
        defer { local.remove() }
        let list = local.folder + "/files"
        try LocalScratch.writeFile(list, Array((paths.joined(separator: "\n") + "\n").utf8))
        let r = try run(["delete", "--files-from-raw", list, remote])
        lock.withLock { for p in paths { sizes[p] = nil } }
        for p in paths { unmirror(p) }
        if r.status != 0 && !r.isNotFound { throw failure(r, operation: "removing \(paths.count) files") }
    }

    /// Removes a folder and everything in it (used for sync's leftovers only).
    func purge(_ folder: String) throws {
        let r = try run(["purge", remotePath(folder)])
        if r.status != 0 && !r.isNotFound { throw failure(r, operation: "removing \(folder)/") }
    }

    // MARK: Listing JSON

    struct Entry {
        var path: String
        var name: String
        var size: Int
        var isDir: Bool
    }

    func parseListing(_ bytes: [UInt8], operation: String) throws -> [Entry] {
        guard let array = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]] else {
            throw CofferError.remote(location: location, reason: "\(operation) failed: rclone printed a listing that is not JSON")
        }
        return array.compactMap { item in
            guard let path = item["Path"] as? String else { return nil }
            let name = item["Name"] as? String ?? Paths.lastComponent(path)
            let size = (item["Size"] as? NSNumber)?.intValue ?? -1
            let isDir = (item["IsDir"] as? Bool) ?? false
            return Entry(path: path, name: name, size: size, isDir: isDir)
        }
    }
}

/// A byte buffer written by one thread and read by another after a barrier.
private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.withLock { data = d } }
    func get() -> Data { lock.withLock { data } }
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
