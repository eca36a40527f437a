import Foundation

/// `restore --delete`: removes what the target holds and the version (its selected part) lacks.
///
/// It goes in step with the restore's walk: each folder of the version that the walk enters
/// keeps its children's names as they come (sorted by bytes, as the walker gives them); when
/// the walk leaves the folder, the folder on disk is listed, sorted the same way, and merged
/// with them; a name only on disk is removed. So at most one listing per level of depth is
/// held, never the whole of either side. The target itself is compared after the last entry.
///
/// With `--include`, only paths that the patterns select (``IncludePatterns/matches(_:)``: the
/// path or one of its folders matches) are removed; the folders above the selection keep
/// everything else. The contents of a folder an archive expands into are not compared.
///
/// Removal never follows a link and never leaves the target: folders are reached from the
/// target's descriptor (``RestoreFolder/openFolder(_:create:for:versionFolders:)``), what is
/// in them is examined with `fstatat(AT_SYMLINK_NOFOLLOW)`, a folder to remove is opened with
/// `openat(O_DIRECTORY | O_NOFOLLOW)` and emptied from that descriptor, and a link is removed
/// as a link (`unlinkat`).
final class RestoreDelete {
    let target: RestoreFolder?
    let patterns: IncludePatterns?
    let dryRun: Bool
    let report: ((RestoreEvent) -> Void)?
    /// Paths removed (or, on a dry run, to be removed).
    private(set) var removed = 0
    /// The folders the walk is in, outermost (the target) first, with their children's names so far.
    private var levels: [(components: [[UInt8]], names: [[UInt8]])] = [([], [])]

    init(target: RestoreFolder?, patterns: IncludePatterns?, dryRun: Bool, report: ((RestoreEvent) -> Void)?) {
        self.target = target
        self.patterns = patterns
        self.dryRun = dryRun
        self.report = report
    }

    /// Takes the next selected entry in walk order (before it is written).
    func observe(_ item: RestoreItem) throws {
        let c = item.place.components
        while levels.count > 1, !(c.count > levels[levels.count - 1].components.count && c.starts(with: levels[levels.count - 1].components)) {
            try compare(levels.removeLast())
        }
        levels[levels.count - 1].names.append(item.place.name)
        if item.entry.type == .directory { levels.append((c, [])) }
    }

    /// After the last entry: compares the folders still open, the target last.
    func finish() throws {
        while let level = levels.popLast() { try compare(level) }
    }

    /// Removes what is at `place` (a folder where the version has something else), contents first.
    func removeInTheWay(_ place: RelativePath) throws {
        guard let target, let dir = try target.openFolder(place.parentComponents, create: false, for: place) else { return }
        defer { close(dir) }
        try remove(place.name, in: dir, path: place.bytes)
    }

    /// Removes the names of the folder on disk that the version's folder lacks.
    private func compare(_ level: (components: [[UInt8]], names: [[UInt8]])) throws {
        guard let target else { return }
        let place = RelativePath(validated: level.components)
        let dir: Int32
        do {
            // A folder that is missing, or not a folder (left by --overwrite if-newer, or to be
            // replaced on a dry run), has nothing to compare.
            guard let d = try target.openFolder(level.components[...], create: false, for: place) else { return }
            dir = d
        } catch CofferError.restoreRefused, CofferError.destinationExists {
            return
        }
        defer { close(dir) }
        let onDisk = try Self.names(of: dir, display: target.display(level.components))
        // Both sides sorted by bytes: merge.
        var i = 0
        let version = level.names.sorted { $0.lexicographicallyPrecedes($1) }  // already, but for expanded archives' names
        for name in onDisk {
            while i < version.count && version[i].lexicographicallyPrecedes(name) { i += 1 }
            if i < version.count && version[i] == name { continue }
            let path = level.components.isEmpty ? name : place.bytes + [RelativePath.slash] + name
            if let patterns, !patterns.matches(path) { continue }
            try remove(name, in: dir, path: path)
        }
    }

    /// Removes `name` in `dir` (a folder's contents first), never following a link; reports each path.
    private func remove(_ name: [UInt8], in dir: Int32, path: [UInt8]) throws {
        let shown = { [target] in target.map { RestoreFolder.display(root: $0.root, [path]) } ?? TerminalText.escape(bytes: path) }
        var st = stat()
        guard name.withCName({ fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            if errno == ENOENT { return }
            throw CofferError.io(path: shown(), operation: "stat", errno: errno)
        }
        let kind = st.st_mode & S_IFMT
        if kind == S_IFDIR {
            let sub = name.withCName { openat(dir, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard sub >= 0 else { throw CofferError.io(path: shown(), operation: "open folder", errno: errno) }
            defer { close(sub) }
            for child in try Self.names(of: sub, display: shown()) {
                try remove(child, in: sub, path: path + [RelativePath.slash] + child)
            }
        }
        if !dryRun, name.withCName({ unlinkat(dir, $0, kind == S_IFDIR ? AT_REMOVEDIR : 0) }) != 0 && errno != ENOENT {
            throw CofferError.io(path: shown(), operation: "remove", errno: errno)
        }
        removed += 1
        report?(RestoreEvent(action: .remove, pathBytes: path, type: Self.type(of: kind)))
    }

    /// The names in the open folder `dir`, sorted by bytes, without `.` and `..`.
    static func names(of dir: Int32, display: @autoclosure () -> String) throws -> [[UInt8]] {
        let copy = fcntl(dir, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0, let stream = fdopendir(copy) else {
            let e = errno
            if copy >= 0 { close(copy) }
            throw CofferError.io(path: display(), operation: "list folder", errno: e)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var out: [[UInt8]] = []
        while true {
            errno = 0
            guard let ent = readdir(stream) else {
                if errno != 0 { throw CofferError.io(path: display(), operation: "list folder", errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if name == [RelativePath.dot] || name == [RelativePath.dot, RelativePath.dot] { continue }
            out.append(name)
        }
        return out.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The entry type a file-system type is, for reports.
    static func type(of kind: mode_t) -> EntryType {
        switch kind {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFIFO: return .fifo
        case S_IFCHR: return .charDevice
        case S_IFBLK: return .blockDevice
        default: return .file
        }
    }
}
