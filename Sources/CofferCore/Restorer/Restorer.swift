import CofferCrypto
import Foundation

/// How to restore.
public struct RestoreOptions: Sendable {
    /// Only entries whose path matches one of these shell patterns (`fnmatch`), or lies under a
    /// matching folder, are restored; empty means everything.
    public var include: [String] = []
    /// Replace existing files and links at the destination instead of refusing (and a link or
    /// file found where the version has a folder). A link is replaced, never followed.
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
    ///
    /// Nothing is written outside `target`: the folder is opened once and everything below it is
    /// reached from that descriptor without following a symbolic link (``RestoreFolder``). An
    /// entry that lies below a symbolic link of the version, or below a link found in the
    /// target, is refused (``CofferError/restoreRefused(path:reason:)``).
    @discardableResult
    public func restore(_ versionID: ObjectID, to destination: String, options: RestoreOptions = RestoreOptions()) throws -> RestoreResult {
        let version = try version(versionID)
        let selected = try select(version, include: options.include, versionID: versionID)
        if selected.contains(where: { $0.type == .archive }) && options.archiveHandler == nil {
            throw CofferError.invalidArgument("version \(versionID.short) holds archives stored member by member; this program cannot rebuild them")
        }
        let root = Walker.absolute(destination)
        // Where each entry goes below the target, checked byte by byte (decoding checked it too).
        let places = try selected.map { e -> RelativePath in
            guard let p = RelativePath(e.path) else {
                throw CofferError.integrity(object: VaultFile.version(versionID).path, reason: "unsafe path '\(TerminalText.escape(e.path))'")
            }
            return e.type == .archive && options.expandArchives ? Restorer.expandedName(p) : p
        }
        // Refused before anything is written: an entry below one of the version's own links.
        var links = Set<RelativePath>()
        for (i, e) in selected.enumerated() where e.type == .symlink { links.insert(places[i]) }
        if !links.isEmpty {
            for p in places {
                for k in 1..<p.components.count {
                    let above = RelativePath(validated: Array(p.components[..<k]))
                    guard links.contains(above) else { continue }
                    throw CofferError.restoreRefused(
                        path: RestoreFolder.display(root: root, p.components),
                        reason: "\(TerminalText.escape(bytes: above.bytes)) is a symbolic link in the version; restore never writes through a link")
                }
            }
        }
        var folders = Set<RelativePath>()
        for (i, e) in selected.enumerated() where e.type == .directory || (e.type == .archive && options.expandArchives) {
            folders.insert(places[i])
        }
        let target = try RestoreFolder(path: root, force: options.force, folders: folders)

        // Refuse to overwrite unless forced: check every file and link first, write nothing yet.
        if !options.force {
            for (i, e) in selected.enumerated() {
                guard let st = try target.existing(places[i]) else { continue }
                if e.type == .directory && st.st_mode & S_IFMT == S_IFDIR { continue }
                throw CofferError.destinationExists(path: target.display(places[i]))
            }
        }
        var result = RestoreResult()
        for (i, d) in selected.enumerated() where d.type == .directory {
            close(try target.openFolder(places[i].components[...], create: true, for: places[i])!)
            result.directories += 1
        }

        let fileIndices = selected.indices.filter { selected[$0].type == .file || selected[$0].type == .archive }
        let files = fileIndices.map { selected[$0] }
        let filePlaces = fileIndices.map { places[$0] }
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
                        let notes = try self.expandArchive(e, into: filePlaces[i], target: target, readers: readers, versionID: versionID, options: options)
                        progressLock.withLock { noteList += notes }
                    } else {
                        try self.restoreFile(e, at: filePlaces[i], target: target, readers: readers, versionID: versionID, options: options)
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

        for (i, l) in selected.enumerated() where l.type == .symlink {
            let place = places[i]
            let shown = target.display(place)
            let dir = try target.openFolder(place.parentComponents, create: true, for: place)!
            defer { close(dir) }
            let (tmp, _) = try RestoreFolder.temporary(in: dir, display: shown, operation: "symlink") { symlinkat(l.linkTarget, dir, $0) }
            var times = [timespec(tv_sec: Int(l.mtimeSeconds), tv_nsec: Int(l.mtimeNanoseconds)),
                         timespec(tv_sec: Int(l.mtimeSeconds), tv_nsec: Int(l.mtimeNanoseconds))]
            _ = tmp.withCName { utimensat(dir, $0, &times, AT_SYMLINK_NOFOLLOW) }
            do { try RestoreFolder.moveIntoPlace(in: dir, from: tmp, to: place.name, display: shown) } catch {
                _ = tmp.withCName { unlinkat(dir, $0, 0) }
                throw error
            }
            result.symlinks += 1
        }
        // Folder modes and times last, deepest first, so writing inside them does not change them.
        for (i, d) in selected.enumerated().reversed() where d.type == .directory {
            guard let fd = try? target.openFolder(places[i].components[...], create: false, for: places[i]) else { continue }
            _ = fchmod(fd, mode_t(d.mode))
            var times = [timespec(tv_sec: Int(d.mtimeSeconds), tv_nsec: Int(d.mtimeNanoseconds)),
                         timespec(tv_sec: Int(d.mtimeSeconds), tv_nsec: Int(d.mtimeNanoseconds))]
            _ = futimens(fd, &times)
            close(fd)
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
        // Paths are compared as bytes (never as Swift Characters), without empty components.
        let slash = RelativePath.slash
        let trimmedBytes = Array(Array(path.utf8).split(separator: slash).joined(separator: [slash]))
        let trimmed = String(decoding: trimmedBytes, as: UTF8.self)
        let readers = PackReaders(vault: self)
        if let e = version.entries.first(where: { $0.path.utf8.elementsEqual(trimmedBytes) }) {
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
        for e in version.entries where e.type == .archive && trimmedBytes.starts(with: Array(e.path.utf8) + [slash]) {
            let name = Array(trimmedBytes.dropFirst(e.path.utf8.count + 1))
            guard let m = e.archive?.members.first(where: { $0.name.utf8.elementsEqual(name) || $0.name.utf8.elementsEqual(name + [slash]) }) else {
                continue
            }
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

    private func restoreFile(
        _ e: VersionEntry, at place: RelativePath, target: RestoreFolder, readers: PackReaders, versionID: ObjectID, options: RestoreOptions
    ) throws {
        let object = "\(TerminalText.escape(e.path)) in version \(versionID.short)"
        let dir = try target.openFolder(place.parentComponents, create: true, for: place)!
        defer { close(dir) }
        try writeVerified(
            in: dir, place: place, target: target, mode: e.mode, mtime: (e.mtimeSeconds, e.mtimeNanoseconds), size: e.size,
            sha256: e.sha256, object: object
        ) { emit in
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

    /// Restores an archive's members into the folder `folder` below the target. A member whose
    /// name is not a safe relative path (``RelativePath/zipMember(_:)``), or whose place is
    /// refused (a link in the way), is not written and gets a note.
    private func expandArchive(
        _ e: VersionEntry, into folder: RelativePath, target: RestoreFolder, readers: PackReaders, versionID: ObjectID, options: RestoreOptions
    ) throws -> [String] {
        guard let layout = e.archive else { return [] }
        close(try target.openFolder(folder.components[...], create: true, for: folder)!)
        let shownEntry = TerminalText.escape(e.path)
        var notes: [String] = []
        for m in layout.members {
            if options.isCancelled() { throw CofferError.interrupted }
            let shownMember = TerminalText.escape(m.name)
            guard let relative = RelativePath.zipMember(m.name) else {
                notes.append("\(shownEntry): member '\(shownMember)' not written: its name is not a safe relative path")
                continue
            }
            let place = folder.appending(relative)
            do {
                if m.isDirectory {
                    close(try target.openFolder(place.components[...], create: true, for: place)!)
                    continue
                }
                let dir = try target.openFolder(place.parentComponents, create: true, for: place)!
                defer { close(dir) }
                let object = "\(shownEntry)/\(shownMember) in version \(versionID.short)"
                if m.data == .opaque {
                    notes.append("\(shownEntry): member '\(shownMember)' not written: encrypted or an unknown compression method")
                    continue
                }
                let handler = options.archiveHandler, cancelled = options.isCancelled
                let sha256 = try memberSHA256(m, of: e, readers: readers, handler: handler, object: object, isCancelled: cancelled)
                try writeVerified(
                    in: dir, place: place, target: target, mode: 0o644, mtime: (m.mtimeSeconds, 0), size: m.size, sha256: sha256,
                    object: object
                ) { emit in
                    try self.streamMember(m, of: e, readers: readers, handler: handler, object: object, isCancelled: cancelled, into: emit)
                }
            } catch CofferError.restoreRefused(_, let reason) {
                notes.append("\(shownEntry): member '\(shownMember)' not written: \(reason)")
            }
        }
        return notes
    }

    /// Writes a file under a temporary name in the folder `dir`, checks its size and SHA-256,
    /// sets mode and mtime, and renames it into place; nothing is left under the real name on
    /// failure. `place` below `target` is where the file goes (for the name and for messages).
    private func writeVerified(
        in dir: Int32, place: RelativePath, target: RestoreFolder, mode: UInt32, mtime: (Int64, UInt32), size expected: UInt64, sha256: [UInt8], object: String,
        produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let (tmp, fd) = try RestoreFolder.temporary(in: dir, display: target.display(place), operation: "create") {
            openat(dir, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        var keep = false
        defer {
            if !keep { _ = tmp.withCName { unlinkat(dir, $0, 0) } }
        }
        do {
            let sha = SHA256()
            var size: UInt64 = 0
            try produce { bytes in
                sha.update(bytes)
                size += UInt64(bytes.count)
                let failure = LocalBackend.writeAll(fd, bytes)
                if failure != 0 { throw CofferError.fromErrno(failure, path: target.display(place), operation: "write") }
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
        guard close(fd) == 0 else { throw CofferError.fromErrno(errno, path: target.display(place), operation: "close") }
        try RestoreFolder.moveIntoPlace(in: dir, from: tmp, to: place.name, display: target.display(place))
        keep = true
    }

    /// The entries to restore: those matching `include` (or under a matching folder), plus the
    /// folders that contain them. Paths are split and compared as bytes.
    func select(_ version: Version, include: [String], versionID: ObjectID) throws -> [VersionEntry] {
        guard !include.isEmpty else { return version.entries }
        let slash = RelativePath.slash
        // NUL-terminated for fnmatch, without empty components.
        let patterns = include.map { Array(Array($0.utf8).split(separator: slash).joined(separator: [slash])) + [0] }
        var chosen = Set<[UInt8]>()
        for e in version.entries {
            let components = Array(e.path.utf8).split(separator: slash, omittingEmptySubsequences: false)
            let matches = patterns.contains { pattern in
                var prefix: [UInt8] = []
                for comp in components {
                    if !prefix.isEmpty { prefix.append(slash) }
                    prefix += comp
                    let hit = pattern.withUnsafeBufferPointer { p in
                        (prefix + [0]).withUnsafeBufferPointer { s in
                            p.withMemoryRebound(to: CChar.self) { p in
                                s.withMemoryRebound(to: CChar.self) { s in fnmatch(p.baseAddress!, s.baseAddress!, 0) == 0 }
                            }
                        }
                    }
                    if hit { return true }
                }
                return false
            }
            if matches {
                for k in 1...components.count { chosen.insert(Array(components[..<k].joined(separator: [slash]))) }
            }
        }
        guard !chosen.isEmpty else {
            throw CofferError.pathNotInVersion(path: include.joined(separator: ", "), version: versionID.short)
        }
        return version.entries.filter { chosen.contains(Array($0.path.utf8)) }
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
