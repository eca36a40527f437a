import Foundation

/// The folder a restore writes into, opened once. Everything below it is reached from that
/// descriptor and never through a path string the kernel would resolve across a symbolic link:
/// folders are opened component by component with `openat(O_DIRECTORY | O_NOFOLLOW)` (created
/// with `mkdirat` when missing), files are created with `openat(O_CREAT | O_EXCL | O_NOFOLLOW)`
/// under a temporary name and moved into place with `renameat`, links are made with
/// `symlinkat`, times and modes are set with `futimens`/`fchmod` or `utimensat(...,
/// AT_SYMLINK_NOFOLLOW)`. So neither a crafted name nor a symbolic link in the way — one the
/// version made, or one someone else planted in the folder before or during the restore — can
/// lead a write outside the folder.
///
/// A symbolic link or a file found where a folder must be is replaced only with `force` and
/// only where the version itself has a folder (`folders`); otherwise the entry is refused
/// (``CofferError/restoreRefused(path:reason:)``), or reported as existing
/// (``CofferError/destinationExists(path:)``) when the version has a folder there and `force`
/// is off.
final class RestoreFolder: Sendable {
    /// The folder's absolute path, for messages.
    let root: String
    /// The open folder.
    let fd: Int32
    let force: Bool
    /// Folders of the version (and folders archives expand into) besides those each call names
    /// (`versionFolders`): with `force`, a non-folder in the way of one of these is replaced.
    let folders: Set<RelativePath>
    /// Whether to try one `openat2` call before the per-component walk (tests turn it off to
    /// run the walk alone).
    let fastPath: Bool

    /// Creates the folder (and its parents) if missing and opens it. The path given by the user
    /// is resolved as usual, links included; nothing below it is.
    init(path: String, force: Bool, folders: Set<RelativePath> = [], fastPath: Bool = Openat2.available) throws {
        root = path
        self.fastPath = fastPath
        self.force = force
        self.folders = folders
        try LocalBackend.makeDirectory(path, mode: 0o755)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CofferError.io(path: path, operation: "open folder", errno: errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// `root/path`, escaped for a terminal.
    static func display(root: String, _ components: some Collection<[UInt8]>) -> String {
        TerminalText.escape(bytes: Array(root.utf8) + components.flatMap { [RelativePath.slash] + $0 })
    }

    func display(_ components: some Collection<[UInt8]>) -> String { Self.display(root: root, components) }

    func display(_ path: RelativePath) -> String { display(path.components) }

    /// Opens the folder at `components` below the root (the root itself for none), creating
    /// missing folders (mode 0755 less the umask) when `create` is set. Returns nil when a
    /// folder is missing and `create` is not set. The descriptor is the caller's to close.
    /// `entry` names what is being restored, for errors. The first `versionFolders` components
    /// are folders of the version (as are those in ``folders``): with `force`, a non-folder in
    /// their way is replaced.
    func openFolder(_ components: ArraySlice<[UInt8]>, create: Bool, for entry: RelativePath, versionFolders: Int = 0) throws -> Int32? {
        if components.isEmpty {
            let d = fcntl(fd, F_DUPFD_CLOEXEC, 0)
            guard d >= 0 else { throw CofferError.io(path: root, operation: "open folder", errno: errno) }
            return d
        }
        if fastPath {
            switch Openat2.openFolderBeneath(fd, components) {
            case .opened(let d): return d
            case .missing: if !create { return nil }
            case .walk: break
            }
        }
        var current = fd
        var owned = false
        defer { if owned { close(current) } }
        var i = components.startIndex
        var retries = 0
        while i < components.endIndex {
            let name = components[i]
            let next = name.withCName { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            if next >= 0 {
                if owned { close(current) }
                current = next
                owned = true
                i += 1
                retries = 0
                continue
            }
            let e = errno
            let prefix = components[components.startIndex...i]
            // Per component: a missing folder is made and opened on the second try; more tries
            // mean someone keeps replacing it.
            retries += 1
            guard retries <= 8 else {
                throw CofferError.restoreRefused(path: display(entry), reason: "\(display(prefix)) keeps changing while the restore creates it")
            }
            switch e {
            case EINTR:
                continue
            case ENOENT:
                guard create else { return nil }
                if name.withCName({ mkdirat(current, $0, 0o755) }) != 0 && errno != EEXIST {
                    throw CofferError.fromErrno(errno, path: display(prefix), operation: "mkdir")
                }
            case ELOOP, ENOTDIR:
                // Something that is not a folder is in the way (ELOOP: a symbolic link).
                var st = stat()
                guard name.withCName({ fstatat(current, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                    if errno == ENOENT { continue }  // removed meanwhile: try again
                    throw CofferError.io(path: display(prefix), operation: "stat", errno: errno)
                }
                if st.st_mode & S_IFMT == S_IFDIR { continue }  // replaced by a folder meanwhile
                let isLink = st.st_mode & S_IFMT == S_IFLNK
                let versionFolder = prefix.count <= versionFolders || folders.contains(RelativePath(validated: Array(prefix)))
                if versionFolder && !force { throw CofferError.destinationExists(path: display(prefix)) }
                guard versionFolder && create else {
                    throw CofferError.restoreRefused(
                        path: display(entry),
                        reason: isLink
                            ? "\(display(prefix)) is a symbolic link; restore never writes through a link"
                            : "\(display(prefix)) is not a folder")
                }
                // --force, and the version has a folder here: replace the link or file (unlinkat
                // removes the link itself, never what it points to).
                if name.withCName({ unlinkat(current, $0, 0) }) != 0 && errno != ENOENT {
                    throw CofferError.fromErrno(errno, path: display(prefix), operation: "remove")
                }
            default:
                throw CofferError.io(path: display(prefix), operation: "open folder", errno: e)
            }
        }
        owned = false
        return current
    }

    /// What is at `path` now, not following a link: nil when nothing is there (or a folder
    /// above it is missing). A non-folder above it is reported as ``openFolder(_:create:for:)``
    /// reports it.
    func existing(_ path: RelativePath, versionFolders: Int = 0) throws -> stat? {
        guard let dir = try openFolder(path.parentComponents, create: false, for: path, versionFolders: versionFolders) else { return nil }
        defer { close(dir) }
        var st = stat()
        if path.name.withCName({ fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 { return st }
        if errno == ENOENT { return nil }
        throw CofferError.io(path: display(path), operation: "stat", errno: errno)
    }

    /// A new entry made by `make` under a fresh temporary name (`.coffer-` and 8 hex digits)
    /// in `dir`; returns the name. `make` returns what the call returns (-1 and errno on failure).
    static func temporary(in dir: Int32, display: @autoclosure () -> String, operation: String, _ make: (UnsafePointer<CChar>) -> Int32) throws -> (name: [UInt8], result: Int32) {
        for _ in 0..<16 {
            let hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let name = Array((".coffer-" + String(repeating: "0", count: 8 - hex.count) + hex).utf8)
            let r = name.withCName(make)
            if r >= 0 { return (name, r) }
            if errno != EEXIST { throw CofferError.fromErrno(errno, path: display(), operation: operation) }
        }
        throw CofferError.fromErrno(EEXIST, path: display(), operation: operation)
    }

    /// Moves `temporary` onto `name` in `dir` (replacing a file or link there, never following
    /// one); refuses to replace a folder.
    static func moveIntoPlace(in dir: Int32, from temporary: [UInt8], to name: [UInt8], display: @autoclosure () -> String) throws {
        var st = stat()
        if name.withCName({ fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 && st.st_mode & S_IFMT == S_IFDIR {
            throw CofferError.destinationExists(path: display())
        }
        let r = temporary.withCName { from in name.withCName { to in renameat(dir, from, dir, to) } }
        guard r == 0 else { throw CofferError.fromErrno(errno, path: display(), operation: "rename") }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with the bytes as a NUL-terminated C string (the bytes hold no NUL).
    func withCName<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (self + [0]).withUnsafeBufferPointer { b in
            try b.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }
}
