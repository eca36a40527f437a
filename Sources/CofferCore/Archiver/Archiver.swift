import CofferCrypto
import Foundation

/// What to seal and how to label it.
public struct SealOptions: Sendable {
    /// The version's name; default: the base name of the first path.
    public var name: String?
    public var tags: [String] = []
    /// The version's time; default: now.
    public var time: Date?
    /// The host recorded; default: this machine's host name.
    public var host: String?
    /// Write even though the vault is behind a head this machine has seen (rollback).
    public var force = false
    /// Asked between blocks; returning true stops the seal with ``CofferError/interrupted``, writing no version.
    public var isCancelled: @Sendable () -> Bool = { false }
    /// Called now and then from the sealing thread.
    public var progress: (@Sendable (SealProgress) -> Void)?
    /// Stores archives (zips) part by part; nil seals every file as a plain byte stream.
    public var archiveHandler: ArchiveHandler?
    /// Seconds to wait for another writer's lock before giving up.
    public var lockWait: Double = 0
    /// What the walk leaves out (format 2 only).
    public var selection = SealSelection()
    /// Commit a version that holds no file; when false, such a seal throws ``EmptySealError``.
    public var allowEmpty = true
    /// Given paths that are symbolic links to folders are followed (the folder is sealed under
    /// the link's name); the caller decides which (`link/` with a trailing slash).
    public var followInputs: Set<String> = []
    /// A stream sealed as one file, after the paths (format 2 only).
    public var stream: SealStream?
    /// Called after everything is stored and before the version is committed; throwing commits nothing.
    public var beforeCommit: (@Sendable () throws -> Void)?
    /// The sealer's pack-entry and index-flush limits; tests pass smaller ones.
    var sealerLimits = Sealer.Limits()
    /// The parent version to read unchanged files from; default: the newest version with the
    /// same name, host and paths (``ParentChoice``).
    public var parent: ObjectID?

    public init() {}
}

/// Progress of a seal, for a progress bar.
public struct SealProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var addedBytes: UInt64
    public var currentPath: String
}

/// The outcome of a seal.
public struct SealResult: Sendable {
    public var id: ObjectID
    public var version: Version
    /// Inputs inside the sealed folders that could not be read and are not in the version.
    public var unreadable: [String]
    public var duration: TimeInterval
    /// Entries the selection left out (a folder left out counts once).
    public var excluded = 0
    /// Batches the sealer handed on (format 2; tests check that small files share them).
    var batchesSent = 0
    /// Said on stderr by the command (``ParentChoice/warning``).
    public var warnings: [String] = []
}

extension Vault {
    /// Seals `paths` (files, folders, symlinks) as a new version.
    ///
    /// Each path is stored under its base name. Files whose size, mtime, ctime, inode and device
    /// are unchanged since the previous version of the same name are not read again. Files that
    /// cannot be read are left out and listed in ``SealResult/unreadable`` and in the version's notes.
    ///
    /// Commit order: packs, index, version, head — killed at any point, the vault stays valid and
    /// at worst holds unreferenced packs.
    public func seal(_ paths: [String], options: SealOptions = SealOptions()) throws -> SealResult {
        try seal(pathBytes: paths.map { Array($0.utf8) }, options: options)
    }

    /// As ``seal(_:options:)``, the paths given as raw bytes (names that are not UTF-8 included;
    /// a format-1 vault, which stores paths as text, refuses those).
    public func seal(pathBytes paths: [[UInt8]], options: SealOptions = SealOptions()) throws -> SealResult {
        try withWriterLock(wait: options.lockWait) { try sealLocked(paths, options: options) }
    }

    private func sealLocked(_ pathBytes: [[UInt8]], options: SealOptions) throws -> SealResult {
        let started = Date()
        let metaBefore = metaBytesWritten
        if let rollback, !options.force { throw CofferError.rollback(vault: location, reason: rollback.description) }
        guard !pathBytes.isEmpty || options.stream != nil else { throw CofferError.invalidArgument("nothing to seal: give at least one file or folder") }
        if format >= 2 { return try sealTrees(pathBytes, options: options, started: started) }
        let paths = try pathBytes.map { b in
            guard let text = String(validating: b, as: UTF8.self) else {
                throw CofferError.invalidArgument(
                    "cannot seal '\(TerminalText.escape(bytes: b))': its name is not UTF-8 and a format-1 vault stores paths as text; run coffer upgrade")
            }
            return text
        }
        guard options.selection.isEmpty, options.followInputs.isEmpty, options.stream == nil else {
            throw CofferError.invalidArgument("choosing what to seal needs a format-2 vault; run coffer upgrade")
        }

        // 1. Walk the inputs (nothing is written before every given path is known to exist).
        var walker = Walker()
        var bases = Set<String>()
        var absolutes: [String] = []
        for p in paths {
            let (abs, st) = try Walker.input(p)
            let base = Walker.baseName(abs)
            // A version only holds paths restore accepts (Version.decode refuses the rest).
            guard RelativePath.isValid(base) else {
                throw CofferError.invalidArgument("cannot seal '\(TerminalText.escape(p))': its name '\(TerminalText.escape(base))' cannot be restored safely")
            }
            guard bases.insert(base).inserted else {
                throw CofferError.invalidArgument("two inputs share the name '\(base)'; seal them separately or from a common parent folder")
            }
            absolutes.append(abs)
            walker.walk(abs, relative: base, stat: st)
        }
        let name = options.name ?? Walker.baseName(absolutes[0])
        guard !name.isEmpty, !name.contains("@") else { throw CofferError.invalidArgument("invalid version name '\(name)' (it may not be empty or contain '@')") }

        // Deduplicate only against packs that exist: an index file naming a pack that storage
        // does not hold (an old index put back after prune) must not make this version refer to it.
        let (storedPacks, missing) = try forgetMissingPacks()
        var missingPackNote: String?
        if !missing.isEmpty {
            missingPackNote = "the index names \(missing.count) pack\(missing.count == 1 ? "" : "s") that storage does not hold "
                + "(\(missing.sorted().prefix(3).map(\.short).joined(separator: ", "))\(missing.count > 3 ? ", ..." : "")); "
                + "their chunks were stored again. Run coffer check"
        }

        // 2. The previous version of the same name, for unchanged-file detection.
        let choice = try chooseParent(name: name, host: options.host ?? Vault.hostName, paths: absolutes, forced: options.parent)
        let parentID = choice.parent?.id
        var previous: [String: VersionEntry] = [:]
        if let parentID {
            try self.walker(for: parentID).forEach { e in if e.type == .file || e.type == .archive { previous[e.path] = e } }
        }

        // 3. Read, chunk and store.
        let dictionaryNote = try selectWriterDictionary()  // before the sealer, which may train the first one
        let sealer = Sealer(vault: self, options: options, totalFiles: walker.fileCount, totalBytes: walker.totalBytes)
        var entries: [VersionEntry] = []
        var stats = VersionStats()
        var notes = walker.notes
        if let missingPackNote { notes.append(missingPackNote) }
        if let dictionaryNote { notes.append(dictionaryNote) }
        var unreadable = walker.unreadable
        // Files (and archives) unchanged since the previous version are reused without reading.
        var toRead: [(source: Sealer.Source, entry: VersionEntry)] = []
        var readIndex: [Int: Int] = [:]
        var reused: [Int: VersionEntry] = [:]
        var archives: [Int] = []
        for (i, item) in walker.items.enumerated() where item.entry.type == .file {
            let e = item.entry
            if let old = previous[e.path], old.size == e.size, old.mtimeSeconds == e.mtimeSeconds,
               old.mtimeNanoseconds == e.mtimeNanoseconds, old.ctimeSeconds == e.ctimeSeconds,
               old.ctimeNanoseconds == e.ctimeNanoseconds, old.inode == e.inode, old.device == e.device,
               old.storedChunks.allSatisfy({ index.contains($0) }), old.type == .file || options.archiveHandler != nil {
                var r = old
                r.mode = e.mode
                reused[i] = r
                stats.unchangedFiles += 1
                sealer.skip(bytes: e.size, path: e.path)
            } else if options.archiveHandler != nil && e.size >= 22 {
                archives.append(i)
            } else {
                readIndex[i] = toRead.count
                toRead.append((.file(item.source), e))
            }
        }
        // Archives are analysed, then stored one at a time; their parts are streamed from the file.
        var archiveEntries: [Int: VersionEntry] = [:]
        for i in archives {
            let item = walker.items[i]
            if let e = try sealArchive(path: item.source, entry: item.entry, handler: options.archiveHandler!, sealer: sealer, notes: &notes) {
                archiveEntries[i] = e
            } else {
                readIndex[i] = toRead.count
                toRead.append((.file(item.source), item.entry))
            }
        }
        let results = try sealer.seal(files: toRead)
        for (i, item) in walker.items.enumerated() {
            var e = item.entry
            switch e.type {
            case .directory:
                stats.directories += 1
            case .symlink:
                stats.symlinks += 1
            case .archive, .fifo, .charDevice, .blockDevice, .hardlink:
                preconditionFailure("the walker lists only files, folders and links")
            case .file:
                if let r = reused[i] {
                    e = r
                } else if let a = archiveEntries[i] {
                    e = a
                    stats.bytesRead += e.size
                } else {
                    switch results[readIndex[i]!] {
                    case .success(let r):
                        e.sha256 = r.sha256
                        e.chunks = r.chunks
                        e.size = r.size
                        if r.changed { notes.append("\(e.path): changed while it was being read") }
                    case .failure(let err):
                        unreadable.append(item.source)
                        if case .inputUnreadable(_, let reason) = err { notes.append("\(e.path): not sealed: \(reason)") }
                        else { notes.append("\(e.path): not sealed: \(err)") }
                        continue
                    }
                }
                stats.files += 1
                stats.bytes += e.size
            }
            entries.append(e)
        }
        var added = try sealer.finish()
        if !options.allowEmpty && stats.files == 0 { throw EmptySealError(excluded: 0) }
        stats.bytesRead += sealer.bytesRead  // plus the archives, counted above as they were read whole
        stats.addedChunks = added.chunks
        stats.addedPlainBytes = added.plainBytes
        stats.addedBytes = added.storedBytes

        // 4. Commit: index (packs are already durable), version, head. The version may refer only
        // to packs listed at the start (under the writer lock, which prune also takes) or written
        // and verified by this seal.
        var batch = ChunkIndex.Batch()
        for p in added.packs { batch.append(pack: p.pack, entries: p.entries) }
        var newChunks = ChunkIndex()
        newChunks.add(batch)
        func check(_ c: ObjectID, _ e: VersionEntry) throws {
            guard newChunks.contains(c) || index.location(of: c).map({ storedPacks.contains($0.pack) }) == true else {
                throw CofferError.integrity(object: "\(e.path)", reason: "chunk \(c.short) is in no stored pack; nothing was committed")
            }
        }
        for e in entries {
            if e.type == .archive, let layout = e.archive {
                for p in layout.parts { try p.forEachChunk { try check($0, e) } }
            } else {
                for c in e.storedChunks { try check(c, e) }
            }
        }
        newChunks = ChunkIndex()
        var newIndexFiles: [ObjectID] = []
        if !added.packs.isEmpty {
            for file in format >= 2 ? IndexFile.bodyVersion2Files(added.packs) : [IndexFile(packs: added.packs)] {
                newIndexFiles.append(try writeMeta(file.encode(), kind: .index))
            }
            index.add(batch)
        }
        batch = ChunkIndex.Batch()
        added.packs = []
        var version = Version(
            name: name, time: options.time ?? Date(), host: options.host ?? Vault.hostName, tags: options.tags, paths: absolutes,
            parent: parentID, stats: stats, notes: notes, v1Entries: entries)
        // Everything this seal writes counts as added, the version file itself too (SealGrowth.swift).
        let indexList = (head.indexFiles ?? []) + newIndexFiles
        let others = added.storedBytes + (metaBytesWritten - metaBefore)
            + headFileSize(live: head.live.count + 1, removed: head.removed, indexFiles: indexList)
        let versionID = try writeMeta(encodeCountingItself(&version, others: others), kind: .version)
        // Format 2: the head lists the new index files; until it is written they are not loaded.
        try commitHead(live: head.live + [versionID], removed: head.removed, indexFiles: indexList)
        var result = SealResult(id: versionID, version: version, unreadable: unreadable, duration: Date().timeIntervalSince(started))
        result.warnings = choice.warning.map { [$0] } ?? []
        return result
    }
}

/// Results of an archive's parts, filled by the sealer's store stage as each is stored.
final class ArchivePartResults: @unchecked Sendable {
    var parts: [ArchivePart]
    /// Parts stored ahead of their turn, while they are streamed into layout pieces.
    var pending: [Int: ArchivePart] = [:]
    var stored = 0
    var failure: ArchiveStoreFailure?
    var error: CofferError?
    init(count: Int) {
        parts = Array(repeating: ArchivePart(kind: .stored, transform: [], outputSize: 0, contentSize: 0, digest: .zero, chunks: .none), count: count)
    }
}

/// Why an archive's parts could not be stored (the archive is then sealed as an ordinary file).
struct ArchiveStoreFailure: Error {
    var reason: String
}

/// Lists the inputs depth-first, names sorted, recording what it cannot list.
struct Walker {
    struct Item {
        var source: String
        var entry: VersionEntry
    }

    var items: [Item] = []
    var notes: [String] = []
    var unreadable: [String] = []
    var fileCount = 0
    var totalBytes: UInt64 = 0

    static func absolute(_ p: String) -> String {
        let url = URL(fileURLWithPath: p).standardizedFileURL
        return url.path
    }

    /// The absolute form of a path given to seal and its `lstat`; a missing input is
    /// ``CofferError/inputNotFound(path:)``, any other failure ``CofferError/inputUnreadable(path:reason:)``.
    static func input(_ p: String) throws -> (absolute: String, stat: stat) {
        let abs = absolute(p)
        var st = stat()
        if lstat(abs, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { throw CofferError.inputNotFound(path: p) }
            throw CofferError.inputUnreadable(path: p, reason: String(cString: strerror(errno)))
        }
        return (abs, st)
    }

    /// ``input(_:)`` for a path given as raw bytes: made absolute against the working folder and
    /// normalized on its bytes (empty and `.` components dropped, `..` removes the one before).
    static func input(bytes p: [UInt8]) throws -> (absolute: [UInt8], stat: stat) {
        let slash = UInt8(ascii: "/")
        var full = p
        if p.first != slash {
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buf, buf.count) != nil else {
                throw CofferError.inputUnreadable(path: TerminalText.escape(bytes: p), reason: String(cString: strerror(errno)))
            }
            full = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) } + [slash] + p
        }
        var parts: [ArraySlice<UInt8>] = []
        for c in full.split(separator: slash, omittingEmptySubsequences: true) {
            if c.elementsEqual([UInt8(ascii: ".")]) { continue }
            if c.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        let abs = parts.isEmpty ? [slash] : parts.flatMap { [slash] + $0 }
        var st = stat()
        let rc = (abs + [0]).withUnsafeBytes { lstat($0.baseAddress!.assumingMemoryBound(to: CChar.self), &st) }
        if rc != 0 {
            if errno == ENOENT || errno == ENOTDIR { throw CofferError.inputNotFound(path: TerminalText.escape(bytes: p)) }
            throw CofferError.inputUnreadable(path: TerminalText.escape(bytes: p), reason: String(cString: strerror(errno)))
        }
        return (abs, st)
    }

    /// ``baseName(_:)`` of an absolute path given as bytes.
    static func baseName(bytes abs: [UInt8]) -> [UInt8] {
        let last = abs.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).last.map(Array.init) ?? []
        return last.isEmpty ? Array("root".utf8) : last
    }

    static func baseName(_ abs: String) -> String {
        let b = Paths.lastComponent(abs)
        return b == "/" || b.isEmpty ? "root" : b
    }

    mutating func walk(_ path: String, relative: String, stat st: stat) {
        // Names come from readdir (never `/`, NUL, `.` or `..`), so this only guards the rule
        // restore relies on: a version never holds a path that Version.decode would refuse.
        guard RelativePath.isValid(relative) else {
            notes.append("\(TerminalText.escape(relative)): not sealed: its path cannot be restored safely")
            unreadable.append(path)
            return
        }
        let fmt = st.st_mode & S_IFMT
        var e = VersionEntry(
            type: .file, path: relative, mode: UInt32(st.st_mode & 0o7777), mtimeSeconds: Int64(st.st_mtim.tv_sec),
            mtimeNanoseconds: UInt32(st.st_mtim.tv_nsec), size: 0)
        switch fmt {
        case S_IFREG:
            e.size = UInt64(st.st_size)
            e.inode = UInt64(st.st_ino)
            e.device = UInt64(st.st_dev)
            e.ctimeSeconds = Int64(st.st_ctim.tv_sec)
            e.ctimeNanoseconds = UInt32(st.st_ctim.tv_nsec)
            items.append(Item(source: path, entry: e))
            fileCount += 1
            totalBytes += e.size
        case S_IFLNK:
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(path, &buf, buf.count - 1)
            guard n >= 0 else {
                notes.append("\(relative): not sealed: cannot read link: \(String(cString: strerror(errno)))")
                unreadable.append(path)
                return
            }
            e.type = .symlink
            e.linkTarget = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            e.size = UInt64(n)
            items.append(Item(source: path, entry: e))
        case S_IFDIR:
            e.type = .directory
            items.append(Item(source: path, entry: e))
            guard let d = opendir(path) else {
                notes.append("\(relative)/: contents not sealed: \(String(cString: strerror(errno)))")
                unreadable.append(path)
                return
            }
            var names: [String] = []
            while let de = readdir(d) {
                let bytes = withUnsafeBytes(of: de.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                // A format-1 version holds UTF-8 paths only (format 2 holds any bytes).
                guard let name = String(validating: bytes, as: UTF8.self) else {
                    notes.append("\(relative)/\(TerminalText.escape(bytes: bytes)): not sealed: its name is not UTF-8, which a format-1 vault cannot hold")
                    unreadable.append(path + "/" + String(decoding: bytes, as: UTF8.self))
                    continue
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            for name in names.sorted() {
                let child = path == "/" ? "/" + name : path + "/" + name
                var cst = stat()
                guard lstat(child, &cst) == 0 else {
                    notes.append("\(relative)/\(name): not sealed: \(String(cString: strerror(errno)))")
                    unreadable.append(child)
                    continue
                }
                walk(child, relative: relative + "/" + name, stat: cst)
            }
        default:
            notes.append("\(relative): skipped (not a regular file, folder or symbolic link)")
        }
    }
}
