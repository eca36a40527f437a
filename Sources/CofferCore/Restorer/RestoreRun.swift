import Foundation

/// One selected entry and where it goes below the restore's target.
struct RestoreItem {
    var entry: VersionEntry
    /// Its place: the entry's path, or for an archive restored expanded, the folder it expands into.
    var place: RelativePath
    /// How many leading components of `place` are folders of the version (or the folder an
    /// archive expands into): with `--force`, a non-folder in their way is replaced.
    var folders: Int
}

/// The entries above the one being restored, outermost first: one per level, never the listing.
struct RestoreStack {
    let root: String
    let versionID: ObjectID
    let expandArchives: Bool
    private var open: [RestoreItem] = []

    init(root: String, versionID: ObjectID, expandArchives: Bool) {
        self.root = root
        self.versionID = versionID
        self.expandArchives = expandArchives
    }

    /// Takes the next entry in walk order: returns where it goes and the folders whose contents
    /// ended before it (deepest first). Refuses an unsafe path and an entry below a symbolic
    /// link of the version (restore never writes through a link).
    mutating func enter(_ e: VersionEntry) throws -> (item: RestoreItem, closed: [RestoreItem]) {
        var closed: [RestoreItem] = []
        while let last = open.last, !ListedEntries.isBelow(e.pathBytes, last.entry.pathBytes) {
            open.removeLast()
            if last.entry.type == .directory { closed.append(last) }
        }
        // Decoding checked the path already; checked again here, byte by byte, before any use.
        guard var place = RelativePath(bytes: e.pathBytes) else {
            throw CofferError.integrity(object: VaultFile.version(versionID).path, reason: "unsafe path '\(e.displayPath)'")
        }
        if let link = open.first(where: { $0.entry.type == .symlink }) {
            throw CofferError.restoreRefused(
                path: RestoreFolder.display(root: root, place.components),
                reason: "\(link.entry.displayPath) is a symbolic link in the version; restore never writes through a link")
        }
        var folders = 0
        for above in open {
            guard above.entry.type == .directory, above.place.components.count == folders + 1 else { break }
            folders += 1
        }
        let expanded = e.type == .archive && expandArchives
        if expanded { place = Restorer.expandedName(place) }
        if (e.type == .directory || expanded) && folders == place.components.count - 1 { folders += 1 }
        let item = RestoreItem(entry: e, place: place, folders: folders)
        open.append(item)
        return (item, closed)
    }

    /// The folders still open at the end of the walk, deepest first.
    mutating func closeAll() -> [RestoreItem] {
        defer { open = [] }
        return open.reversed().filter { $0.entry.type == .directory }
    }
}

/// The writing pass of a restore: entries come in walk order; files wait in a bounded batch
/// written in parallel; what needs them written first (hard links, a folder's final mode and
/// times) waits in a bounded list run after the batch.
final class RestoreRun {
    /// A batch is written once it holds this many files or bytes.
    static let batchFiles = 1024
    static let batchBytes: UInt64 = 256 << 20
    /// Waiting hard links and folders before the batch is written early.
    static let deferredLimit = 4096

    private enum Deferred {
        case hardlink(RestoreItem)
        case folder(RestoreItem)
    }

    let vault: Vault
    let target: RestoreFolder
    let versionID: ObjectID
    let options: RestoreOptions
    let total: UInt64
    let readers: PackReaders
    /// Owners, modes, attributes and times of what is written.
    let metadata: RestoreMetadata
    var result = RestoreResult()
    /// Entries that could not be restored, by path; the folder that failed last, while the
    /// walk is below it (its entries fail with it: see RestoreRunFailures.swift).
    var failedPaths = Set<[UInt8]>()
    var failedFolder: (path: [UInt8], index: Int)?
    /// First names of selected hard links that are not selected themselves, by path.
    var standIns: [[UInt8]: VersionEntry] = [:]
    /// Where each stand-in's content was written (at its first selected hard link's place).
    private(set) var standInPlaces: [[UInt8]: RelativePath] = [:]
    private var batch: [RestoreItem] = []
    private var batchSize: UInt64 = 0
    private var deferred: [Deferred] = []
    private let progressLock = NSLock()
    private var done: UInt64 = 0
    /// The most files a batch held (tests check the bound).
    private(set) var largestBatch = 0

    init(vault: Vault, target: RestoreFolder, versionID: ObjectID, options: RestoreOptions, total: UInt64, metadata: RestoreMetadata) {
        self.vault = vault
        self.metadata = metadata
        self.target = target
        self.versionID = versionID
        self.options = options
        self.total = total
        readers = PackReaders(vault: vault)
    }

    /// An entry the overwrite mode leaves as it is (identical, or newer on disk): a file's bytes
    /// count as done, so the progress line still ends at its total.
    func skipped(_ item: RestoreItem) {
        guard item.entry.type == .file || item.entry.type == .archive else { return }
        let d = progressLock.withLock {
            done += item.entry.size
            return done
        }
        options.progress?(d, total)
    }

    /// Restores one entry, or queues it. An entry that fails is recorded and the restore goes on.
    func restore(_ item: RestoreItem) throws {
        if absorbedByFailedFolder(item.entry) { return }
        try attempt(item) { try restoreEntry(item) }
    }

    private func restoreEntry(_ item: RestoreItem) throws {
        let e = item.entry
        switch e.type {
        case .directory:
            close(try target.openFolder(item.place.components[...], create: true, for: item.place, versionFolders: item.folders)!)
            result.directories += 1
        case .file, .archive:
            batch.append(item)
            batchSize += e.size
            if batch.count >= Self.batchFiles || batchSize >= Self.batchBytes { try flush() }
        case .symlink:
            try Restorer.makeSymlink(e, at: item.place, versionFolders: item.folders, target: target, metadata: metadata)
            result.symlinks += 1
        case .fifo, .charDevice, .blockDevice:
            if let note = try Restorer.makeSpecial(e, at: item.place, versionFolders: item.folders, target: target, metadata: metadata) {
                result.notes.append(note)
            } else {
                result.specialFiles += 1
            }
        case .hardlink:
            deferred.append(.hardlink(item))
            if deferred.count >= Self.deferredLimit { try flush() }
        }
    }

    /// Sets a folder's mode and times once everything inside it is written.
    func closeFolder(_ folder: RestoreItem) throws {
        if failedPaths.contains(folder.entry.pathBytes) { return }
        deferred.append(.folder(folder))
        if deferred.count >= Self.deferredLimit { try flush() }
    }

    /// Writes the batch, then what waited for it.
    func flush() throws {
        try writeBatch()
        let waiting = deferred
        deferred = []
        for d in waiting {
            if options.isCancelled() { throw CofferError.interrupted }
            switch d {
            case .hardlink(let item): try attempt(item) { try hardlink(item) }
            case .folder(let item): Restorer.finishFolder(item.entry, at: item.place, target: target, metadata: metadata)
            }
        }
    }

    private func writeBatch() throws {
        let files = batch
        batch = []
        batchSize = 0
        largestBatch = max(largestBatch, files.count)
        guard !files.isEmpty else { return }
        var expansions = [ArchiveExpansion?](repeating: nil, count: files.count)
        var errors = [Error?](repeating: nil, count: files.count)
        let failed = ManagedFlag()
        let options = self.options, total = self.total
        errors.withUnsafeMutableBufferPointer { errs in
            let eBase = errs.baseAddress!
            // Largest files first: the cores then finish together instead of one of them ending
            // on a large file alone.
            let order = files.indices.sorted { files[$0].entry.size > files[$1].entry.size }
            parallelFor(files.count) { k in
                let i = order[k]
                // Only what stops the whole restore stops the others (see RestoreFailure).
                if failed.isSet || options.isCancelled() {
                    if !failed.isSet { eBase[i] = CofferError.interrupted; failed.set() }
                    return
                }
                do {
                    let item = files[i]
                    if item.entry.type == .archive, options.expandArchives {
                        let x = try self.vault.expandArchive(
                            item.entry, into: item.place, versionFolders: item.folders, target: self.target, readers: self.readers,
                            versionID: self.versionID, options: options)
                        self.progressLock.withLock { expansions[i] = x }
                    } else {
                        try self.vault.restoreFile(
                            item.entry, at: item.place, versionFolders: item.folders, target: self.target, readers: self.readers,
                            versionID: self.versionID, options: options, metadata: self.metadata)
                    }
                    let d = self.progressLock.withLock {
                        self.done += item.entry.size
                        return self.done
                    }
                    options.progress?(d, total)
                } catch {
                    eBase[i] = error
                    if RestoreFailure.stopsRestore(error) { failed.set() }
                }
            }
        }
        if let err = errors.lazy.compactMap({ $0 }).first(where: RestoreFailure.stopsRestore) { throw err }
        for (k, (item, error)) in zip(files, errors).enumerated() {
            guard let error else {
                if let x = expansions[k] {
                    // An expanded archive counts as the member files it wrote.
                    result.files += x.files
                    result.bytes += x.bytes
                    result.notes += x.notes
                    result.failures += x.failures
                } else {
                    result.files += 1
                    result.bytes += item.entry.size
                }
                continue
            }
            try recordFailure(item, error)
        }
    }

    /// A hard link: another name of its first name, which was written before (or, when the
    /// first name is not selected, the first name's content written here, later ones linked to it).
    private func hardlink(_ item: RestoreItem) throws {
        let first = item.entry.hardlinkTargetBytes
        if failedPaths.contains(first) {
            throw CofferError.invalidArgument("hard link not restored: its first name \(TerminalText.escape(bytes: first)) could not be restored")
        }
        if let standIn = standIns[first] {
            if let written = standInPlaces[first] {
                if let note = try Restorer.makeHardlink(item.entry, at: item.place, versionFolders: item.folders, to: written, target: target) {
                    result.notes.append(note)
                } else {
                    result.hardlinks += 1
                }
                return
            }
            var content = standIn
            content.pathBytes = item.entry.pathBytes
            switch standIn.type {
            case .file, .archive:
                try vault.restoreFile(
                    content, at: item.place, versionFolders: item.folders, target: target, readers: readers, versionID: versionID, options: options,
                    metadata: metadata)
                result.files += 1
                result.bytes += content.size
            case .fifo, .charDevice, .blockDevice:
                if let note = try Restorer.makeSpecial(content, at: item.place, versionFolders: item.folders, target: target, metadata: metadata) {
                    result.notes.append(note)
                    return
                }
                result.specialFiles += 1
            default:
                result.notes.append("\(target.display(item.place)): hard link not restored: its first name \(TerminalText.escape(bytes: first)) is \(Restorer.kindName(standIn.type))")
                return
            }
            standInPlaces[first] = item.place
            return
        }
        guard let firstPlace = RelativePath(bytes: first) else {
            throw CofferError.integrity(object: VaultFile.version(versionID).path, reason: "hard link \(item.entry.displayPath) names an unsafe path")
        }
        if let note = try Restorer.makeHardlink(item.entry, at: item.place, versionFolders: item.folders, to: firstPlace, target: target) {
            result.notes.append(note)
        } else {
            result.hardlinks += 1
        }
    }
}

extension Restorer {
    /// "a folder", "a symbolic link", … for messages.
    static func kindName(_ type: EntryType) -> String {
        switch type {
        case .file: return "a file"
        case .directory: return "a folder"
        case .symlink: return "a symbolic link"
        case .archive: return "an archive"
        case .fifo: return "a named pipe"
        case .charDevice: return "a character device"
        case .blockDevice: return "a block device"
        case .hardlink: return "a hard link"
        }
    }

    /// Sets a folder's mode and times (after everything inside it was written, so writing
    /// inside does not change them). A folder that cannot be opened any more is left as it is.
    static func finishFolder(_ d: VersionEntry, at place: RelativePath, target: RestoreFolder, metadata: RestoreMetadata = .plain) {
        guard let fd = try? target.openFolder(place.components[...], create: false, for: place) else { return }
        metadata.apply(fd: fd, d, display: target.display(place))
        close(fd)
    }

    /// Makes a symbolic link with the entry's raw target bytes, under a temporary name then
    /// renamed into place, with its mtime.
    static func makeSymlink(_ l: VersionEntry, at place: RelativePath, versionFolders: Int, target: RestoreFolder, metadata: RestoreMetadata = .plain) throws {
        let shown = target.display(place)
        let dir = try target.openFolder(place.parentComponents, create: true, for: place, versionFolders: versionFolders)!
        defer { close(dir) }
        let (tmp, _) = try RestoreFolder.temporary(in: dir, display: shown, operation: "symlink") { name in
            l.linkTargetBytes.withCName { symlinkat($0, dir, name) }
        }
        try settle(tmp, in: dir, at: place, entry: l, display: shown, metadata: metadata)
    }

    /// Makes a named pipe (`mkfifoat`) or, as root, a device (`mknodat`) with the entry's mode
    /// and mtime. Returns a note instead when a device cannot be made (not root).
    static func makeSpecial(
        _ e: VersionEntry, at place: RelativePath, versionFolders: Int, target: RestoreFolder, metadata: RestoreMetadata = .plain
    ) throws -> String? {
        let shown = target.display(place)
        let kind: mode_t
        switch e.type {
        case .fifo: kind = S_IFIFO
        case .charDevice: kind = S_IFCHR
        case .blockDevice: kind = S_IFBLK
        default: preconditionFailure("not a special file")
        }
        if kind != S_IFIFO && geteuid() != 0 {
            let major = ((e.rdev >> 32) & 0xFFFF_F000) | ((e.rdev >> 8) & 0xFFF), minor = ((e.rdev >> 12) & 0xFFFF_FF00) | (e.rdev & 0xFF)
            return "\(shown): \(kindName(e.type)) \(major):\(minor) not restored: making a device needs root"
        }
        let dir = try target.openFolder(place.parentComponents, create: true, for: place, versionFolders: versionFolders)!
        defer { close(dir) }
        let (tmp, _) = try RestoreFolder.temporary(in: dir, display: shown, operation: kind == S_IFIFO ? "mkfifo" : "mknod") { name in
            kind == S_IFIFO ? mkfifoat(dir, name, 0o600) : mknodat(dir, name, kind | 0o600, dev_t(e.rdev))
        }
        // The mode is set after creation (mkfifoat and mknodat apply the umask), in settle.
        try settle(tmp, in: dir, at: place, entry: e, display: shown, metadata: metadata)
        return nil
    }

    /// Makes `place` another name of what was written at `first` (`linkat`, not following a
    /// link; both reached from the target's descriptor). Returns a note when the first name is
    /// missing (it was not written: a device without root) or cannot be linked (a folder).
    static func makeHardlink(
        _ e: VersionEntry, at place: RelativePath, versionFolders: Int, to first: RelativePath, target: RestoreFolder
    ) throws -> String? {
        let shown = target.display(place)
        guard let from = try target.openFolder(first.parentComponents, create: false, for: first) else {
            return "\(shown): hard link not restored: \(target.display(first)) is missing"
        }
        defer { close(from) }
        let dir = try target.openFolder(place.parentComponents, create: true, for: place, versionFolders: versionFolders)!
        defer { close(dir) }
        let made: (name: [UInt8], result: Int32)
        do {
            made = try RestoreFolder.temporary(in: dir, display: shown, operation: "link") { name in
                first.name.withCName { linkat(from, $0, dir, name, 0) }
            }
        } catch CofferError.io(_, _, let err) where err == ENOENT || err == EPERM {
            return "\(shown): hard link not restored: \(target.display(first)) is \(err == ENOENT ? "missing" : "not a file")"
        }
        do { try RestoreFolder.moveIntoPlace(in: dir, from: made.name, to: place.name, display: shown) } catch {
            _ = made.name.withCName { unlinkat(dir, $0, 0) }
            throw error
        }
        // Renaming onto another name of the same file does nothing: the temporary name stays.
        _ = made.name.withCName { unlinkat(dir, $0, 0) }
        return nil
    }

    /// Gives the new entry `tmp` its owner, mode, attributes and mtime (not following a link)
    /// and renames it into place.
    private static func settle(
        _ tmp: [UInt8], in dir: Int32, at place: RelativePath, entry e: VersionEntry, display shown: String, metadata: RestoreMetadata
    ) throws {
        do {
            try metadata.apply(in: dir, name: tmp, e, display: shown)
            try RestoreFolder.moveIntoPlace(in: dir, from: tmp, to: place.name, display: shown)
        } catch {
            _ = tmp.withCName { unlinkat(dir, $0, 0) }
            throw error
        }
    }
}

/// Puts a sparse file's holes back as zeros between its stored bytes (which are the bytes
/// outside the holes, in order).
struct HoleFiller {
    private let holes: [Hole]
    private let object: String
    private var next = 0
    private var position: UInt64 = 0
    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    init(_ holes: [Hole], object: String) {
        self.holes = holes
        self.object = object
    }

    /// Emits `bytes`, the next stored bytes, with the holes that come before or among them.
    mutating func emit(_ bytes: UnsafeRawBufferPointer, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            try zerosAtPosition(into: emit)
            let room = next < holes.count ? holes[next].offset - position : UInt64.max
            let n = Int(min(UInt64(rest.count), room))
            try emit(UnsafeRawBufferPointer(rebasing: rest.prefix(n)))
            position += UInt64(n)
            rest = rest.dropFirst(n)
        }
    }

    /// Emits the holes after the last stored byte.
    mutating func finish(into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try zerosAtPosition(into: emit)
        guard next == holes.count else { throw CofferError.integrity(object: object, reason: "a hole lies beyond the stored content") }
    }

    private mutating func zerosAtPosition(into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        while next < holes.count && holes[next].offset <= position {
            guard holes[next].offset == position else { throw CofferError.integrity(object: object, reason: "holes overlap") }
            var left = holes[next].length
            while left > 0 {
                let n = Int(min(left, UInt64(Self.zeros.count)))
                try Self.zeros.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
                left -= UInt64(n)
            }
            position += holes[next].length
            next += 1
        }
    }
}
