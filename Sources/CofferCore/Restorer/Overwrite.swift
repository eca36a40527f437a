import CofferCrypto
import Foundation

/// What `restore` does where an entry's place is already taken (`--overwrite`).
///
/// A folder found where the version has a folder is never a conflict: it is kept, and what the
/// version holds is restored into it. Links in the target are replaced, never followed.
public enum OverwriteMode: String, Sendable, CaseIterable {
    /// Refuse the whole restore, listing what is in the way, before writing anything.
    case never
    /// Replace whatever is there (a folder only with ``RestoreOptions/delete``).
    case always
    /// Leave what is already identical: same type, and for a file the same size and the same
    /// SHA-256 (read from the disk: size and mtime alone never decide that a file is
    /// unchanged); a symbolic link with the same target bytes; a named pipe; a device with the
    /// same number; a hard link to the same inode as its first name. An identical entry is not
    /// written (its inode and content stay); only its mode, mtime, owner (as root) and stored
    /// extended attributes are set when they differ.
    /// Anything else is replaced.
    case ifChanged = "if-changed"
    /// Replace only what is older (mtime) than the version's entry.
    case ifNewer = "if-newer"
}

/// What a restore does, or would do (`--dry-run`), with one entry of the version or one path
/// of the target.
public enum RestoreAction: String, Sendable {
    /// Nothing was there: written.
    case write
    /// Something else was there: replaced.
    case replace
    /// A folder of the version found as a folder: kept, its contents restored into it.
    case keep
    /// Identical (`--overwrite if-changed`): not written.
    case skipIdentical = "skip-identical"
    /// Identical content whose mode or mtime differ: those set in place, the content not written.
    case fixMetadata = "fix-metadata"
    /// Newer (or as new) on disk than in the version (`--overwrite if-newer`): not written.
    case skipNewer = "skip-newer"
    /// In the way and not replaced: with `--overwrite never` (the restore is refused), or a
    /// folder where the version has something else, without `--delete`.
    case conflict
    /// In the target but not in the (selected part of the) version (`--delete`): removed.
    case remove
}

/// One line of a restore's plan: an action on a path relative to the target (raw bytes).
public struct RestoreEvent: Sendable {
    public var action: RestoreAction
    public var pathBytes: [UInt8]
    /// The entry's type in the version; for ``RestoreAction/remove``, the type found on disk.
    public var type: EntryType?

    public init(action: RestoreAction, pathBytes: [UInt8], type: EntryType?) {
        self.action = action
        self.pathBytes = pathBytes
        self.type = type
    }
}

/// What a restore did with entries whose place was taken, or found free.
public struct RestoreChanges: Sendable, Equatable {
    /// Entries made where nothing was (folders included).
    public var written = 0
    /// Entries that replaced something.
    public var replaced = 0
    /// Identical entries left as they were (those whose metadata was set are counted too).
    public var skippedIdentical = 0
    /// Of those, how many had their mode or mtime set.
    public var metadataFixed = 0
    /// Entries left because the target's is newer (`if-newer`), and entries below them.
    public var skippedByMode = 0
    /// Entries in the way and not replaced (a folder where the version has a file, without `--delete`).
    public var conflicts = 0
    /// Paths removed by `--delete` (each file, link and folder).
    public var removed = 0

    public init() {}
}

/// Decides, entry by entry in walk order, what a restore does where something already exists,
/// and does the parts that are not writing an entry: setting the metadata of an identical
/// entry, removing a folder in the way (with `--delete`), and removing what the version lacks
/// (``RestoreDelete``). With `dryRun` it only reports.
final class OverwriteGate {
    /// The target, or nil for a dry run into a folder that does not exist.
    let target: RestoreFolder?
    let mode: OverwriteMode
    let dryRun: Bool
    let delete: RestoreDelete?
    let report: ((RestoreEvent) -> Void)?
    private var counts = RestoreChanges()
    /// What was done so far (or would be, on a dry run).
    var changes: RestoreChanges {
        var c = counts
        c.removed = delete?.removed ?? 0
        return c
    }
    private(set) var notes: [String] = []
    /// The display paths of conflicts (the first ``conflictLimit``).
    private(set) var conflictPaths: [String] = []
    static let conflictLimit = 20
    /// A folder of the version whose place held no folder: nothing below it exists yet.
    private var fresh: RelativePath?
    /// A folder of the version left as it is (`if-newer`): everything below it is left.
    private var skipped: RelativePath?
    /// Selected first names of hard links not selected themselves: no place of their own.
    private let standIns: Set<[UInt8]>

    /// Archives are restored expanded (their place is a folder).
    private let expandArchives: Bool
    /// Owners and extended attributes to compare and set (format 2); mode and times only otherwise.
    var metadata = RestoreMetadata.plain

    init(
        target: RestoreFolder?, mode: OverwriteMode, dryRun: Bool, delete: Bool, expandArchives: Bool, patterns: IncludePatterns?,
        standIns: Set<[UInt8]>, report: ((RestoreEvent) -> Void)?
    ) {
        self.target = target
        self.mode = mode
        self.dryRun = dryRun
        self.expandArchives = expandArchives
        self.standIns = standIns
        self.report = report
        self.delete = delete ? RestoreDelete(target: target, patterns: patterns, dryRun: dryRun, report: report) : nil
    }

    /// Takes the next selected entry (in walk order); returns whether the writing pass should
    /// write it. Counts it, and reports it on a dry run.
    func admit(_ item: RestoreItem) throws -> Bool {
        try delete?.observe(item)
        let action = try decide(item)
        let e = item.entry
        switch action {
        case .write: counts.written += 1
        case .replace: counts.replaced += 1
        case .keep: break
        case .skipIdentical: counts.skippedIdentical += 1
        case .fixMetadata:
            counts.skippedIdentical += 1
            counts.metadataFixed += 1
        case .skipNewer: counts.skippedByMode += 1
        case .conflict:
            counts.conflicts += 1
            if conflictPaths.count < Self.conflictLimit { conflictPaths.append(display(item.place)) }
        case .remove: break
        }
        if dryRun {
            report?(RestoreEvent(action: action, pathBytes: item.place.bytes, type: e.type))
            return false
        }
        switch action {
        case .write, .replace, .keep:
            return true
        case .fixMetadata:
            try fixMetadata(item)
            return false
        case .conflict where mode == .never:
            // Appeared since the check before writing.
            throw CofferError.destinationExists(path: display(item.place))
        case .conflict:
            notes.append("\(display(item.place)): not restored: a folder is in the way; pass --delete to replace it")
            return false
        default:
            return false
        }
    }

    /// After the last entry: removes what the version lacks in the folders still open.
    func finish() throws { try delete?.finish() }

    private func display(_ place: RelativePath) -> String {
        target?.display(place) ?? TerminalText.escape(bytes: place.bytes)
    }

    /// What to do with `item`, from what is at its place now (never following a link).
    private func decide(_ item: RestoreItem) throws -> RestoreAction {
        let e = item.entry, place = item.place
        let isFolder = e.type == .directory || (e.type == .archive && expandArchives)
        if let skipped, skipped.isAncestor(of: place) { return .skipNewer }
        skipped = nil
        if let fresh, fresh.isAncestor(of: place) { return .write }
        fresh = nil
        guard let target, let st = try target.existing(place, versionFolders: item.folders) else {
            if isFolder { fresh = place }
            return .write
        }
        let kind = st.st_mode & S_IFMT
        let newer = (e.mtimeSeconds, Int64(e.mtimeNanoseconds)) > (Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec))
        if isFolder {
            // An archive's folder is filled member by member, each member replaced: in the way
            // unless asked to overwrite.
            if kind == S_IFDIR { return e.type == .directory || mode != .never ? .keep : .conflict }
            switch mode {
            case .never:
                fresh = place
                return .conflict
            case .ifNewer where !newer:
                skipped = place
                return .skipNewer
            default:
                fresh = place
                return .replace
            }
        }
        switch mode {
        case .never: return .conflict
        case .ifNewer where !newer: return .skipNewer
        case .ifChanged where kind != S_IFDIR:
            guard try identical(item, st) else { return .replace }
            return try metadataDiffers(item, st) ? .fixMetadata : .skipIdentical
        default:
            guard kind == S_IFDIR else { return .replace }
            // A folder where the version has something else: only --delete removes a folder.
            guard let delete else { return .conflict }
            try delete.removeInTheWay(place)
            return .replace
        }
    }

    /// Whether what is at `item`'s place (`st`, not followed) is the entry itself.
    private func identical(_ item: RestoreItem, _ st: stat) throws -> Bool {
        let e = item.entry
        let kind = st.st_mode & S_IFMT
        switch e.type {
        case .file, .archive:
            guard kind == S_IFREG, UInt64(st.st_size) == e.size else { return false }
            return try contentSHA256(item.place, expecting: st) == e.sha256
        case .symlink:
            guard kind == S_IFLNK else { return false }
            return try linkTarget(item.place) == e.linkTargetBytes
        case .fifo:
            return kind == S_IFIFO
        case .charDevice, .blockDevice:
            return kind == (e.type == .charDevice ? S_IFCHR : S_IFBLK) && UInt64(st.st_rdev) == e.rdev
        case .hardlink:
            guard !standIns.contains(e.hardlinkTargetBytes), let first = RelativePath(bytes: e.hardlinkTargetBytes),
                let firstSt = try? target?.existing(first)
            else { return false }
            return kind != S_IFDIR && firstSt.st_dev == st.st_dev && firstSt.st_ino == st.st_ino
        case .directory:
            return kind == S_IFDIR
        }
    }

    /// Whether the mode, mtime, owner (as root) or a stored extended attribute of an identical
    /// entry differ from the version's (a link has no mode of its own; a hard link's are its
    /// first name's). Attributes on disk that the version lacks are left alone.
    private func metadataDiffers(_ item: RestoreItem, _ st: stat) throws -> Bool {
        let e = item.entry
        switch e.type {
        case .hardlink: return false
        case .symlink: break
        default: if UInt32(st.st_mode) & 0o7777 != e.mode & 0o7777 { return true }
        }
        if Int64(st.st_mtim.tv_sec) != e.mtimeSeconds || Int64(st.st_mtim.tv_nsec) != Int64(e.mtimeNanoseconds) { return true }
        guard metadata.formatTwo else { return false }
        if metadata.isRoot, let (u, g) = metadata.owner(e), st.st_uid != u || st.st_gid != g { return true }
        guard !e.xattrs.isEmpty else { return false }
        let dir = try parent(of: item.place)
        defer { close(dir) }
        return metadata.attributesDiffer(in: dir, name: item.place.name, e)
    }

    /// The folder holding `place`, opened without creating anything.
    private func parent(of place: RelativePath) throws -> Int32 {
        guard let target, let dir = try target.openFolder(place.parentComponents, create: false, for: place) else {
            throw CofferError.io(path: display(place), operation: "open folder", errno: ENOENT)
        }
        return dir
    }

    /// The SHA-256 of the regular file at `place`, opened without following a link; it must
    /// still be the file `expected` describes.
    private func contentSHA256(_ place: RelativePath, expecting expected: stat) throws -> [UInt8] {
        let dir = try parent(of: place)
        defer { close(dir) }
        let fd = place.name.withCName { openat(dir, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else {
            if errno == EACCES { return [] }  // cannot be read: taken as changed, and replaced
            throw CofferError.io(path: display(place), operation: "open", errno: errno)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CofferError.io(path: display(place), operation: "stat", errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG, st.st_ino == expected.st_ino, st.st_dev == expected.st_dev else { return [] }
        let sha = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CofferError.io(path: display(place), operation: "read", errno: errno)
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
        }
        return sha.finalize()
    }

    /// The target bytes of the link at `place`.
    private func linkTarget(_ place: RelativePath) throws -> [UInt8] {
        let dir = try parent(of: place)
        defer { close(dir) }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = place.name.withCName { name in buffer.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { readlinkat(dir, name, $0.baseAddress!, $0.count) }
        } }
        guard n >= 0 else { throw CofferError.io(path: display(place), operation: "readlink", errno: errno) }
        return Array(buffer.prefix(n))
    }

    /// Sets the owner, mode, stored extended attributes and mtime of an identical entry in
    /// place (its content is not written), never following a link.
    private func fixMetadata(_ item: RestoreItem) throws {
        let e = item.entry, place = item.place
        let dir = try parent(of: place)
        defer { close(dir) }
        if metadata.formatTwo {
            try metadata.apply(in: dir, name: place.name, e, display: self.display(place))
            return
        }
        var times = [timespec(tv_sec: Int(e.mtimeSeconds), tv_nsec: Int(e.mtimeNanoseconds)),
                     timespec(tv_sec: Int(e.mtimeSeconds), tv_nsec: Int(e.mtimeNanoseconds))]
        if e.type != .symlink, place.name.withCName({ fchmodat(dir, $0, mode_t(e.mode & 0o7777), AT_SYMLINK_NOFOLLOW) }) != 0 {
            throw CofferError.io(path: display(place), operation: "chmod", errno: errno)
        }
        guard place.name.withCName({ utimensat(dir, $0, &times, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw CofferError.io(path: display(place), operation: "set mtime", errno: errno)
        }
    }
}
