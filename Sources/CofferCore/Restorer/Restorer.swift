import CofferCrypto
import Foundation

/// How to restore.
public struct RestoreOptions: Sendable {
    /// Include patterns (``GlobPattern``), before those of `patterns.include`: only entries
    /// that match one, or lie under a matching folder, are restored; empty means everything.
    public var include: [String] = []
    /// Include and exclude patterns as bytes (``RestorePatterns`` says what they select).
    public var patterns = RestorePatternLists()
    /// What to do where something already exists (``OverwriteMode``); a link is replaced, never followed.
    public var overwrite = OverwriteMode.never
    /// `--force`: the same as ``overwrite`` `.always`.
    public var force: Bool {
        get { overwrite == .always }
        set { overwrite = newValue ? .always : .never }
    }
    /// Remove what the target holds and the selected part of the version lacks (``RestoreDelete``);
    /// needs ``overwrite`` other than `.never`.
    public var delete = false
    /// Write nothing: report what would be done through ``onEvent`` (``Vault/dryRunRestore``).
    public var dryRun = false
    /// Told each path removed by ``delete``, and on a dry run every action.
    public var onEvent: (@Sendable (RestoreEvent) -> Void)?
    public var isCancelled: @Sendable () -> Bool = { false }
    public var progress: (@Sendable (_ bytesDone: UInt64, _ bytesTotal: UInt64) -> Void)?
    /// Rebuilds archives stored part by part; required to restore a version that holds one.
    public var archiveHandler: ArchiveHandler?
    /// Restore each archive as a folder of its members (named like the archive without `.zip`)
    /// instead of the archive file itself.
    public var expandArchives = false
    /// Owners and groups by their stored numbers only, never by name (format 2, root).
    public var numericOwner = false
    /// After everything is written, read every restored file back from disk and check its
    /// SHA-256 against the version; a mismatch is a failure.
    public var verify = false
    /// Whether new files may be made without a name (`O_TMPFILE`); tests turn it off to run the
    /// short-temporary-name way.
    var unnamedFiles = true

    public init() {}
}

/// What `restore --expand` did with one archive: member files written (and their bytes), notes
/// (members skipped, faults of the original), members that could not be written.
struct ArchiveExpansion {
    var files = 0
    var bytes: UInt64 = 0
    var notes: [String] = []
    var failures: [RestoreFailure] = []
}

/// What a restore wrote.
public struct RestoreResult: Sendable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    /// Hard links made (format 2).
    public var hardlinks = 0
    /// Named pipes and devices made (format 2).
    public var specialFiles = 0
    public var bytes: UInt64 = 0
    /// What could not be written: members of expanded archives (unsafe names, undecodable
    /// data), devices without root, hard links whose first name is missing, owners and
    /// extended attributes that could not be given back (one note each).
    public var notes: [String] = []
    /// Entries that could not be restored (every other entry was).
    public var failures: [RestoreFailure] = []
    /// What was written, replaced, skipped and removed where the target already held something.
    public var changes = RestoreChanges()
}

extension Vault {
    /// Restores a version into `target`: each sealed path comes back under its base name, with its
    /// mode, mtime and symbolic links, and every file's SHA-256 is checked against the version.
    ///
    /// Each file is written under a temporary name in its folder and renamed only once it is
    /// complete and verified, so a failed or interrupted restore never leaves a partial or wrong
    /// file under a real name.
    ///
    /// Nothing is written outside `target`: the folder is opened once and everything below it is
    /// reached from that descriptor without following a symbolic link (``RestoreFolder``). An
    /// entry that lies below a symbolic link of the version, or below a link found in the
    /// target, is refused (``CofferError/restoreRefused(path:reason:)``).
    @discardableResult
    public func restore(_ versionID: ObjectID, to destination: String, options: RestoreOptions = RestoreOptions()) throws -> RestoreResult {
        let version = try version(versionID)
        return try restore(versionID, to: destination, options: options, formatTwo: version.rootTree != nil) {
            try self.walker(for: version, id: versionID)
        }
    }

    /// Restores what `walk` gives (a new walker for each pass over the version).
    ///
    /// The version is read as a stream, never held whole: a first pass checks what is refused
    /// before anything is written (an entry below one of the version's own links, an archive
    /// without a handler, an `--include` that selects nothing) and sums the bytes; with
    /// `overwrite` `.never` a second pass checks that nothing selected exists at the destination
    /// (``refuseConflicts``); the last pass writes, in walk order, each entry as
    /// ``OverwriteGate`` decides (which also does `--delete`). A dry run stops after the first
    /// pass and reports instead (``dryRunRestore``). Folders are made as they come; files are
    /// written in bounded batches, each batch in parallel (largest first, through one set of pack readers and
    /// their window cache); links, named pipes and devices are made as they come; hard links
    /// and each folder's mode and times wait for the batch that holds what they need.
    func restore(
        _ versionID: ObjectID, to destination: String, options: RestoreOptions, formatTwo: Bool = true, walk: () throws -> VersionWalker
    ) throws -> RestoreResult {
        let root = Walker.absolute(destination)
        try checkDelete(options, root: root)
        let patterns = try RestorePatterns(options)
        var total: UInt64 = 0
        // First names of selected hard links that are not selected themselves: their content is
        // written at the hard link's place.
        var standIns = Set<[UInt8]>()
        do {
            let selected = SelectedEntries(try walk(), patterns: patterns)
            var stack = RestoreStack(root: root, versionID: versionID, expandArchives: options.expandArchives)
            while let (e, _) = try selected.next() {
                if options.isCancelled() { throw CofferError.interrupted }
                _ = try stack.enter(e)
                switch e.type {
                case .file, .archive:
                    if e.type == .archive && options.archiveHandler == nil {
                        throw CofferError.invalidArgument("version \(versionID.short) holds archives stored member by member; this program cannot rebuild them")
                    }
                    total = total.addingReportingOverflow(e.size).overflow ? UInt64.max : total + e.size
                case .hardlink:
                    if let patterns, !patterns.selects(e.hardlinkTargetBytes) { standIns.insert(e.hardlinkTargetBytes) }
                default:
                    break
                }
            }
            if let patterns, patterns.hasIncludes, !selected.selectedAny {
                throw CofferError.pathNotInVersion(path: patterns.includeText, version: versionID.short)
            }
        }
        let metadata = RestoreMetadata(formatTwo: formatTwo, numericOwner: options.numericOwner)
        if options.dryRun {
            return try dryRunRestore(versionID, root: root, patterns: patterns, standIns: standIns, metadata: metadata, options: options, walk: walk)
        }
        let target = try RestoreFolder(path: root, force: options.overwrite != .never)

        // Refuse to overwrite unless asked: check every entry first, write nothing yet.
        if options.overwrite == .never {
            try refuseConflicts(versionID, target: target, patterns: patterns, options: options, walk: walk)
        }

        let run = RestoreRun(vault: self, target: target, versionID: versionID, options: options, total: total, metadata: metadata)
        let gate = OverwriteGate(
            target: target, mode: options.overwrite, dryRun: false, delete: options.delete, expandArchives: options.expandArchives,
            patterns: patterns, standIns: standIns, report: options.onEvent)
        gate.metadata = metadata
        let selected = SelectedEntries(try walk(), patterns: patterns, standIns: standIns)
        var stack = RestoreStack(root: root, versionID: versionID, expandArchives: options.expandArchives)
        while let (e, standIn) = try selected.next() {
            if options.isCancelled() { throw CofferError.interrupted }
            if standIn {
                run.standIns[e.pathBytes] = e
                continue
            }
            let (item, closed) = try stack.enter(e)
            // Before the closed folders get their times: --delete empties them of extras first.
            let write = try gate.admit(item)
            for folder in closed { try run.closeFolder(folder) }
            if write { try run.restore(item) } else { run.skipped(item) }
        }
        try gate.finish()
        for folder in stack.closeAll() { try run.closeFolder(folder) }
        try run.flush()
        if options.verify {
            try run.verify(
                SelectedEntries(try walk(), patterns: patterns, standIns: standIns),
                stack: RestoreStack(root: root, versionID: versionID, expandArchives: options.expandArchives))
        }
        var result = run.result
        result.notes += metadata.takeNotes()
        result.changes = gate.changes
        result.notes += gate.notes
        return result
    }

    /// Streams one file of a version to `sink`, then checks its SHA-256. `path` may name a
    /// member of an archive (`Export.zip/Connections.csv`), or a hard link (its first name's
    /// content); `handler` is needed for archives.
    /// - Throws: ``CofferError/integrity(object:reason:)`` if the content does not verify; the
    ///   sink may then have received verified chunks before the failure.
    public func readFile(
        _ versionID: ObjectID, path: String, archiveHandler: ArchiveHandler? = nil, into sink: ([UInt8]) throws -> Void
    ) throws {
        try readFile(versionID, pathBytes: Array(path.utf8), archiveHandler: archiveHandler, into: sink)
    }

    /// ``readFile(_:path:archiveHandler:into:)`` with the path as raw bytes. Only the folders
    /// on the way to the file are read (the walk skips every other subtree).
    public func readFile(
        _ versionID: ObjectID, pathBytes: [UInt8], archiveHandler: ArchiveHandler? = nil, into sink: ([UInt8]) throws -> Void
    ) throws {
        // Paths are compared as bytes (never as Swift Characters), without empty components.
        let slash = RelativePath.slash
        var wanted = Array(pathBytes.split(separator: slash).joined(separator: [slash]))
        let shown = TerminalText.escape(bytes: pathBytes)
        let readers = PackReaders(vault: self)
        var followedHardlink = false
        var walker = try walker(for: versionID)
        search: while let e = try walker.next() {
            if e.pathBytes == wanted {
                switch e.type {
                case .file, .archive:
                    let object = "\(e.displayPath) in version \(versionID.short)"
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
                case .hardlink where !followedHardlink:
                    // Another name of a file listed earlier: read that one.
                    followedHardlink = true
                    wanted = e.hardlinkTargetBytes
                    walker = try self.walker(for: versionID)
                    continue search
                default:
                    throw CofferError.invalidArgument("\(shown) is \(Restorer.kindName(e.type)), not a file")
                }
            }
            guard ListedEntries.isBelow(wanted, e.pathBytes) else {
                walker.skipChildren()
                if VersionWalker.compare(e.pathBytes, wanted) > 0 { break }
                continue
            }
            // Below this entry: descend into a folder; look for an archive's member.
            // The members are read from the layout one at a time; then the member's part.
            guard e.type == .archive else { continue }
            let name = Array(wanted.dropFirst(e.pathBytes.count + 1))
            let members = try ArchiveLayoutCursor(vault: self, entry: e, readers: readers)
            var found: ArchiveMember?
            while let m = try members.nextMember() {
                if m.name.utf8.elementsEqual(name) || m.name.utf8.elementsEqual(name + [slash]) {
                    found = m
                    break
                }
            }
            guard let m = found else { continue }
            guard !m.isDirectory else { throw CofferError.invalidArgument("\(shown) is a folder inside \(e.displayPath), not a file") }
            let part = try m.part.flatMap { try ArchiveLayoutCursor(vault: self, entry: e, readers: readers).part($0) }
            let object = "\(TerminalText.escape(bytes: wanted)) in version \(versionID.short)"
            try streamMember(m, part: part, readers: readers, handler: archiveHandler, object: object, isCancelled: { false }) { try sink(Array($0)) }
            return
        }
        throw CofferError.pathNotInVersion(path: shown, version: versionID.short)
    }

    /// Decrypts and verifies one chunk into `scratch`; the view is valid until `scratch` is used again.
    func readChunk(_ id: ObjectID, readers: PackReaders, context: String, scratch: BlobScratch) throws -> UnsafeRawBufferPointer {
        guard let loc = index.location(of: id) else {
            throw CofferError.integrity(object: context, reason: "chunk \(id.short) is not in the index")
        }
        guard loc.envelopeLength <= Zstd.bound(ChunkSizes.formatMaximum) + AEAD.overhead else {
            throw CofferError.integrity(object: context, reason: "chunk \(id.short) has an impossible length in the index")
        }
        let packPath = VaultFile.pack(loc.pack).path
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

    /// Writes a file or archive entry at `place` (below `versionFolders` folders of the version).
    func restoreFile(
        _ e: VersionEntry, at place: RelativePath, versionFolders: Int, target: RestoreFolder, readers: PackReaders, versionID: ObjectID,
        options: RestoreOptions, metadata: RestoreMetadata? = nil
    ) throws {
        let object = "\(e.displayPath) in version \(versionID.short)"
        let dir = try target.openFolder(place.parentComponents, create: true, for: place, versionFolders: versionFolders)!
        defer { close(dir) }
        try writeVerified(
            in: dir, place: place, target: target, mode: e.mode, mtime: (e.mtimeSeconds, e.mtimeNanoseconds), size: e.size,
            sha256: e.sha256, object: object, holes: e.type == .file ? e.holes : [], unnamed: options.unnamedFiles,
            metadata: metadata.map { m in { fd in m.apply(fd: fd, e, display: target.display(place)) } }
        ) { emit in
            try self.stream(e, readers: readers, object: object, handler: options.archiveHandler, isCancelled: options.isCancelled, into: emit)
        }
    }

    /// Produces the bytes of a file or archive entry, chunk by chunk (archives: part by part;
    /// a sparse file's holes as zeros between its chunks' bytes).
    func stream(
        _ e: VersionEntry, readers: PackReaders, object: String, handler: ArchiveHandler?, isCancelled: () -> Bool,
        into emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if e.type == .file {
            var holes = HoleFiller(e.holes, object: object)
            try BlobScratch.with { scratch in
                for c in e.chunks {
                    if isCancelled() { throw CofferError.interrupted }
                    let bytes = try readChunk(c, readers: readers, context: object, scratch: scratch)
                    if e.holes.isEmpty { try emit(bytes) } else { try holes.emit(bytes, into: emit) }
                }
            }
            try holes.finish(into: emit)
            return
        }
        guard let handler, e.type == .archive else {
            throw CofferError.invalidArgument("\(object): an archive needs an archive handler to rebuild")
        }
        let layout = try ArchiveLayoutCursor(vault: self, entry: e, readers: readers)
        try streamArchive(layout, handler: handler, readers: readers, object: object, isCancelled: isCancelled, into: emit)
    }

    /// Restores an archive's members into the folder `folder` below the target. A member whose
    /// name is not a safe relative path (``RelativePath/zipMember(_:)``) is not written and gets
    /// a note; one that cannot be written (its place refused, a file where its folder should
    /// be, a name the file system refuses) is a failure, and the
    /// members after it are still written. A member the original archive itself has a fault in
    /// (``ArchiveMemberFault``) is written as it decodes, with a note. What stops the whole
    /// restore (Ctrl-C, damage to the vault) is thrown.
    func expandArchive(
        _ entry: VersionEntry, into folder: RelativePath, versionFolders: Int, target: RestoreFolder, readers: PackReaders, versionID: ObjectID,
        options: RestoreOptions
    ) throws -> ArchiveExpansion {
        var result = ArchiveExpansion()
        guard entry.type == .archive else { return result }
        // Members one at a time, each member's part from a second cursor on the parts (read
        // forward; opened again for a member whose part comes before the last one read).
        let members = try ArchiveLayoutCursor(vault: self, entry: entry, readers: readers)
        var parts = try ArchiveLayoutCursor(vault: self, entry: entry, readers: readers)
        var lastPart: (index: Int, part: ArchivePart)?
        func part(of m: ArchiveMember) throws -> ArchivePart? {
            guard let k = m.part else { return nil }
            if let lastPart, lastPart.index == k { return lastPart.part }
            if k < parts.partsRead { parts = try ArchiveLayoutCursor(vault: self, entry: entry, readers: readers) }
            guard let p = try parts.part(k) else { throw CofferError.integrity(object: entry.displayPath, reason: "layout: member \(m.name) refers to a missing part") }
            lastPart = (k, p)
            return p
        }
        close(try target.openFolder(folder.components[...], create: true, for: folder, versionFolders: versionFolders)!)
        let shownEntry = entry.displayPath
        while let m = try members.nextMember() {
            if options.isCancelled() { throw CofferError.interrupted }
            let shownMember = TerminalText.escape(m.name)
            guard let relative = RelativePath.zipMember(m.name) else {
                result.notes.append("\(shownEntry): member '\(shownMember)' not written: its name is not a safe relative path")
                continue
            }
            let place = folder.appending(relative)
            do {
                if m.isDirectory {
                    close(try target.openFolder(place.components[...], create: true, for: place, versionFolders: versionFolders)!)
                    continue
                }
                if m.data == .opaque {
                    let why = options.archiveHandler?.whyOpaque(m) ?? ArchiveMember.opaqueReason
                    result.notes.append("\(shownEntry): member '\(shownMember)' not written: \(why)")
                    continue
                }
                let dir = try target.openFolder(place.parentComponents, create: true, for: place, versionFolders: versionFolders)!
                defer { close(dir) }
                let object = "\(shownEntry)/\(shownMember) in version \(versionID.short)"
                let handler = options.archiveHandler, cancelled = options.isCancelled
                let part = try part(of: m)
                let digest = try memberDigest(m, part: part, readers: readers, handler: handler, object: object, isCancelled: cancelled)
                try writeVerified(
                    in: dir, place: place, target: target, mode: m.mode != 0 ? m.mode & 0o777 : 0o644, mtime: (m.mtimeSeconds, 0), size: digest.size,
                    sha256: digest.sha256, object: object
                ) { emit in
                    do {
                        try self.streamMember(m, part: part, readers: readers, handler: handler, object: object, isCancelled: cancelled, into: emit)
                    } catch is ArchiveMemberFault where digest.fault != nil {
                        // Found by the first pass; the content so far is what it hashed.
                    }
                }
                result.files += 1
                result.bytes += digest.size
                if let fault = digest.fault {
                    result.notes.append("\(shownEntry): member '\(shownMember)' written as unzip writes it; \(fault)")
                }
            } catch {
                if case .interrupted? = error as? CofferError { throw error }
                if case .integrity? = error as? CofferError { throw error }
                result.failures.append(RestoreFailure(path: target.display(place), error: error))
            }
        }
        return result
    }

    /// Writes a file in the folder `dir` without a name or under a short temporary one
    /// (``RestoreNewFile``), its holes left as holes, checks its size and SHA-256, gives it its
    /// metadata (`metadata` on its descriptor, else mode and mtime), and renames it into place;
    /// nothing is left under the real name on failure. `place` below `target` is where the file
    /// goes (for the name and for messages).
    func writeVerified(
        in dir: Int32, place: RelativePath, target: RestoreFolder, mode: UInt32, mtime: (Int64, UInt32), size expected: UInt64, sha256: [UInt8], object: String,
        holes: [Hole] = [], unnamed: Bool = true, metadata: ((Int32) -> Void)? = nil,
        produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let file = try RestoreNewFile(in: dir, unnamed: unnamed, display: target.display(place))
        var keep = false
        defer { if !keep { file.discard() } }
        let sha = SHA256()
        var size: UInt64 = 0
        var writer = SparseWriter(fd: file.fd, holes: holes)
        try produce { bytes in
            sha.update(bytes)
            size += UInt64(bytes.count)
            let failure = writer.write(bytes)
            if failure != 0 { throw CofferError.fromErrno(failure, path: target.display(place), operation: "write") }
        }
        let failure = writer.finish()
        if failure != 0 { throw CofferError.fromErrno(failure, path: target.display(place), operation: "truncate") }
        guard size == expected, sha.finalize() == sha256 else {
            throw CofferError.integrity(object: object, reason: "SHA-256 does not match the sealed file; not restored")
        }
        if let metadata {
            metadata(file.fd)
        } else {
            _ = fchmod(file.fd, mode_t(mode))
            var times = [timespec(tv_sec: Int(mtime.0), tv_nsec: Int(mtime.1)), timespec(tv_sec: Int(mtime.0), tv_nsec: Int(mtime.1))]
            _ = futimens(file.fd, &times)
        }
        try file.publish(as: place.name, display: target.display(place))
        keep = true
    }
}

enum Restorer {
    /// The folder an expanded archive goes to: its name without `.zip` (any case), or with
    /// `.contents` added when that would leave an empty, `.` or `..` name.
    static func expandedName(_ path: RelativePath) -> RelativePath {
        var components = path.components
        let last = components[components.count - 1]
        let suffix = Array(".zip".utf8)
        if last.count > suffix.count, last.suffix(suffix.count).map({ $0 | (($0 >= 0x41 && $0 <= 0x5A) ? 0x20 : 0) }) == suffix {
            let stem = Array(last.dropLast(suffix.count))
            if stem != [RelativePath.dot] && stem != [RelativePath.dot, RelativePath.dot] {
                components[components.count - 1] = stem
                return RelativePath(validated: components)
            }
        }
        components[components.count - 1] = last + Array(".contents".utf8)
        return RelativePath(validated: components)
    }
}

/// Open pack files shared by restore workers. Packs are read in aligned windows, never in
/// exact blob ranges (``WindowedReader``).
final class PackReaders: @unchecked Sendable {
    private let vault: Vault
    private let lock = NSLock()
    private var open: [ObjectID: RandomAccessFile] = [:]
    private let windows: WindowCache

    /// `windows`: the windows the cache keeps (``WindowCache``).
    init(vault: Vault, windows: Int = 256) {
        self.vault = vault
        self.windows = WindowCache(capacity: windows)
    }

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
