import CofferCrypto
import Foundation

extension Sealer: TreeBlobSink {}

extension Vault {
    /// The format-2 seal: a streaming walk that never holds the whole listing.
    ///
    /// The inputs are walked depth-first, each folder read through a descriptor (`openat`; names
    /// are raw bytes, sorted by bytes), one listing per level of depth; each entry's metadata
    /// (owners with names, mode, ns times, extended attributes and ACLs, link target, rdev) is
    /// captured by a ``MetadataScanner`` relative to its folder's descriptor, and the second and
    /// later names of an inode become hardlink entries (``HardlinkTracker``). The parent version
    /// is walked in lockstep (``VersionWalker``, skipping the folders this walk does not reach),
    /// so a file whose size, mtime, ctime, inode and device are unchanged, and whose chunks are
    /// still stored, takes its chunks, SHA-256 and holes from there without being read; its
    /// metadata is always taken fresh. Changed files stream into the sealer one after the other
    /// (holes found with SEEK_DATA/SEEK_HOLE and not read), small files of many folders sharing its batches.
    /// Entries leave in walk order, each once its content is stored, into a ``TreeBuilder`` whose
    /// pieces go into the same packs. Commit order as in format 1: packs, index, version, head (a seal
    /// of many chunks writes index files for its packs as they are written, Docs/FORMAT.md "Index").
    func sealTrees(_ paths: [[UInt8]], options: SealOptions, started: Date) throws -> SealResult {
        let metaBefore = metaBytesWritten
        // 1. The inputs: each given path is stored under its base name (nothing is written before
        // every one is known to exist). Paths are bytes throughout (a listed name need not be UTF-8).
        struct Input {
            var given: [UInt8]
            var absolute: [UInt8]
            var name: [UInt8]
            var stat: stat
            /// Where the walk starts: `absolute`, or the folder a followed link leads to.
            var walk: [UInt8]
        }
        var inputs: [Input] = []
        for p in paths {
            let (abs, st) = try Walker.input(bytes: p)
            let base = Walker.baseName(bytes: abs)
            guard TreeCodec.isValidName(base) else {
                throw CofferError.invalidArgument("cannot seal '\(TerminalText.escape(bytes: p))': its name '\(TerminalText.escape(bytes: base))' cannot be restored safely")
            }
            guard !inputs.contains(where: { $0.name == base }) else {
                throw CofferError.invalidArgument("two inputs share the name '\(TerminalText.escape(bytes: base))'; seal them separately or from a common parent folder")
            }
            var walkFrom = abs
            if let given = String(validating: p, as: UTF8.self), options.followInputs.contains(given), st.st_mode & S_IFMT == S_IFLNK,
               let text = String(validating: abs, as: UTF8.self), let real = SealInputs.folderBehindLink(text) {
                walkFrom = Array(real.utf8)
            }
            inputs.append(Input(given: p, absolute: abs, name: base, stat: st, walk: walkFrom))
        }
        let name = options.name ?? (inputs.first.map { String(decoding: Walker.baseName(bytes: $0.absolute), as: UTF8.self) } ?? options.stream.map { String(decoding: $0.name, as: UTF8.self) } ?? "stdin")
        guard !name.isEmpty, !name.contains("@") else { throw CofferError.invalidArgument("invalid version name '\(name)' (it may not be empty or contain '@')") }
        let absolutes = inputs.map(\.absolute)
        inputs.sort { TreeCodec.precedes($0.name, $1.name) }

        let (storedPacks, missing) = try forgetMissingPacks()
        var notes: [String] = []
        if !missing.isEmpty {
            notes.append(
                "the index names \(missing.count) pack\(missing.count == 1 ? "" : "s") that storage does not hold "
                    + "(\(missing.sorted().prefix(3).map(\.short).joined(separator: ", "))\(missing.count > 3 ? ", ..." : "")); "
                    + "their chunks were stored again. Run coffer check")
        }

        // The vault's dictionary, before the sealer (which trains the first one when there is none).
        if let note = try selectWriterDictionary() { notes.append(note) }

        // 2. The previous version of the same name, walked in lockstep; its stats are the progress
        // estimate (its entries, counted as the walk counts them).
        let choice = try chooseParent(name: name, host: options.host ?? Vault.hostName, pathBytes: absolutes, forced: options.parent)
        let parent = choice.parent
        let parentEntries = parent.map { p in
            let s = p.version.stats
            return s.files + s.directories + s.symlinks + s.specialFiles + s.hardlinks
        }
        let sealer = Sealer(
            vault: self, options: options, totalFiles: Int(clamping: parentEntries ?? 0), totalBytes: parent?.version.stats.bytes ?? 0,
            skipHoles: true, flushIndex: format >= 2)
        sealer.entriesVisited = 0
        let walk = TreeSealWalk(
            vault: self, options: options, sealer: sealer, storedPacks: storedPacks,
            parent: try parent.map { try walker(for: $0.version, id: $0.id) })
        walk.notes = notes

        // 3. Walk, read, chunk and store.
        let root: [ObjectID]
        let added: (packs: [(pack: ObjectID, entries: [PackEntry])], chunks: UInt64, plainBytes: UInt64, storedBytes: UInt64)
        do {
            for input in inputs {
                try walk.sealInput(absolute: input.walk, name: input.name)
            }
            if let stream = options.stream { try walk.sealStream(stream) }
            root = try walk.finish()
            added = try sealer.finish()
        } catch {
            sealer.quiesce()  // no pack is written once the lock is released
            throw error
        }
        if !options.allowEmpty && walk.stats.files == 0 { throw EmptySealError(excluded: walk.excluded) }
        try options.beforeCommit?()
        var stats = walk.stats
        stats.bytesRead += sealer.bytesRead
        stats.addedChunks = added.chunks
        stats.addedPlainBytes = added.plainBytes
        stats.addedBytes = added.storedBytes
        stats.addedTreePieces = sealer.addedPieces
        stats.addedTreePlainBytes = sealer.addedPiecePlain

        // 4. Commit: index (packs are already durable), version, head. Every reused chunk and
        // piece was found in a pack listed at the start (under the writer lock, which prune also
        // takes); new ones are in the packs just written.
        // A seal of many chunks wrote index files as its packs were written (``Sealer/Limits``).
        let flushed = sealer.indexFilesWritten()
        var newIndexFiles = flushed
        if !added.packs.isEmpty {
            var batch = ChunkIndex.Batch()
            for p in added.packs { batch.append(pack: p.pack, entries: p.entries) }
            for file in format >= 2 ? IndexFile.bodyVersion2Files(added.packs) : [IndexFile(packs: added.packs)] {
                newIndexFiles.append(try writeMeta(file.encode(), kind: .index))
            }
            index.add(consume batch)
        }
        let host = options.host ?? Vault.hostName
        var version = Version(
            name: name, time: options.time ?? Date(), host: host, tags: options.tags, paths: absolutes.map { String(decoding: $0, as: UTF8.self) },
            parent: parent?.id, stats: stats, notes: walk.notes, v1Entries: [])
        version.rootTree = root
        // The paths as given, bytes (the String forms are for display).
        version.rawText = (Array(host.utf8), absolutes, walk.notes.map { Array($0.utf8) })
        // Everything this seal writes counts as added: packs, index files, dictionary, head, and
        // the version file itself (see SealGrowth.swift).
        let indexList = (head.indexFiles ?? []) + newIndexFiles
        let others = added.storedBytes + (metaBytesWritten - metaBefore)
            + headFileSize(live: head.live.count + 1, removed: head.removed, indexFiles: indexList)
        let versionID = try writeMeta(encodeCountingItself(&version, others: others), kind: .version)
        // The head lists the new index files; until it is written they are not loaded.
        try commitHead(live: head.live + [versionID], removed: head.removed, indexFiles: indexList)
        // The entries of the index files written during the seal were dropped: the index reads
        // them back now that the head lists them (on failure, the next command that reads the
        // index does: the seal is committed).
        if !flushed.isEmpty { try? loadNewIndexFiles() }
        var result = SealResult(id: versionID, version: version, unreadable: walk.unreadable, duration: Date().timeIntervalSince(started))
        result.batchesSent = sealer.batchesSent
        result.excluded = walk.excluded
        result.warnings = choice.warning.map { [$0] } ?? []
        return result
    }
}

/// The state of one format-2 seal's walk (see ``Vault/sealTrees(_:options:started:)``).
final class TreeSealWalk {
    private let vault: Vault
    private let options: SealOptions
    private let sealer: Sealer
    private let storedPacks: Set<ObjectID>
    private let builder: TreeBuilder
    var notes: [String] = []
    var unreadable: [String] = []
    var stats = VersionStats()
    /// Entries the selection left out (a folder once).
    var excluded = 0
    /// The device of the given path being walked (for `oneFileSystem`).
    private var inputDevice: UInt64 = 0

    // The parent version, in lockstep.
    private var parent: VersionWalker?
    private var peeked: VersionEntry?

    /// Metadata of every entry, and the inodes whose later names become hardlink entries.
    private let scanner = MetadataScanner()
    private var hardlinks = HardlinkTracker()
    /// First names of hard-linked inodes that could not be stored: their later names already
    /// queued as hardlink entries are left out too.
    private var lostFirstNames: Set<[UInt8]> = []

    /// Entries in walk order waiting for their content (files being stored) or for those before
    /// them; `first`: the metadata of the first name of a hard-linked inode (to forget it if it is lost).
    private var queue: [(entry: VersionEntry, stream: Int?, source: String, first: EntryMetadata?)] = []
    private var queueHead = 0
    private var nextStream = 0
    private let results = StreamResults()
    /// Streams of unknown size (their read size is not a change).
    private var unsized: Set<Int> = []

    init(vault: Vault, options: SealOptions, sealer: Sealer, storedPacks: Set<ObjectID>, parent: VersionWalker?) {
        self.vault = vault
        self.options = options
        self.sealer = sealer
        self.storedPacks = storedPacks
        self.parent = parent
        builder = TreeBuilder(sink: sealer, keys: vault.keys)
        let results = self.results
        sealer.beginStream { i, r in results.put(i, r) }
    }

    /// Stream results, filled on the sealer's store stage.
    private final class StreamResults: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Int: Result<Sealer.FileResult, CofferError>] = [:]
        func put(_ i: Int, _ r: Result<Sealer.FileResult, CofferError>) { lock.withLock { results[i] = r } }
        func take(_ i: Int) -> Result<Sealer.FileResult, CofferError>? { lock.withLock { results.removeValue(forKey: i) } }
    }

    /// Seals one given path (a file, folder, link or special file) under `name`.
    func sealInput(absolute: [UInt8], name: [UInt8]) throws {
        let slash = UInt8(ascii: "/")
        let root = absolute == [slash]
        let cut = absolute.lastIndex(of: slash) ?? 0
        let parentPath = root || cut == 0 ? [slash] : Array(absolute[..<cut])
        let fd = (parentPath + [0]).withUnsafeBytes { open($0.baseAddress!.assumingMemoryBound(to: CChar.self), O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw CofferError.inputUnreadable(path: TerminalText.escape(bytes: absolute), reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        // "/" is captured as "." of itself.
        let component = root ? Array(".".utf8) : Array(absolute[(cut + 1)...])
        try visit(folder: fd, name: component, path: name, absolute: absolute, input: true)
    }

    /// Seals a stream as one file at `stream.name` (no parent content is reused: it is read whole).
    func sealStream(_ stream: SealStream) throws {
        guard TreeCodec.isValidName(stream.name) else {
            throw CofferError.invalidArgument("cannot seal standard input as '\(TerminalText.escape(bytes: stream.name))': not a file name that can be restored safely")
        }
        let now = Date().timeIntervalSince1970
        let m = EntryMetadata(
            type: .file, mode: 0o644, uid: getuid(), gid: getgid(), user: scanner.userName(getuid()), group: scanner.groupName(getgid()),
            mtimeSeconds: Int64(now), mtimeNanoseconds: UInt32((now - now.rounded(.down)) * 1e9), ctimeSeconds: 0, ctimeNanoseconds: 0,
            inode: 0, device: 0, nlink: 1, size: 0, blocks: 0, rdev: 0, linkTarget: [], xattrs: [])
        let e = TreeSealWalk.entry(from: m, path: stream.name)
        _ = try parentEntry(for: stream.name)
        let i = nextStream
        nextStream += 1
        unsized.insert(i)
        queue.append((e, i, "-", nil))
        // The size is unknown: the chunk sizes of a large file.
        try sealer.stream(i, Sealer.Input(source: .descriptor(stream.descriptor), path: e.displayPath, size: 1 << 32))
        try drain()
    }

    /// Ends the walk: waits for the last files, feeds the last entries, closes the trees.
    func finish() throws -> [ObjectID] {
        try sealer.flush()
        try drain()
        sealer.endStream()
        precondition(queueHead == queue.count, "entries left waiting after the last file was stored")
        return try builder.finish()
    }

    // MARK: Walk

    private func note(_ path: [UInt8], _ text: String) {
        notes.append("\(TerminalText.escape(bytes: path)): \(text)")
    }

    /// One entry: `name` in the open folder `folder`, stored at `path`.
    private func visit(folder: Int32, name: [UInt8], path: [UInt8], absolute: [UInt8], input: Bool = false) throws {
        if options.isCancelled() { throw CofferError.interrupted }
        let selection = options.selection
        if selection.excludesByPattern(absolute) {
            excluded += 1
            return
        }
        sealer.entriesVisited? += 1
        let source = String(decoding: absolute, as: UTF8.self)
        guard path.count <= TreeCodec.maximumPath else {
            note(path.prefix(200) + Array("...".utf8), "not sealed: its path is longer than \(TreeCodec.maximumPath) bytes")
            unreadable.append(source)
            return
        }
        let m: EntryMetadata
        switch scanner.capture(in: folder, name: name) {
        case .entry(let captured, let captureNotes):
            m = captured
            for n in captureNotes { note(path, n) }
        case .skipped(let reason):
            note(path, "skipped: \(reason)")
            return
        case .unreadable(let reason):
            note(path, "not sealed: \(reason)")
            unreadable.append(source)
            return
        }
        if input {
            inputDevice = m.device
        } else {
            if selection.oneFileSystem && m.device != inputDevice && m.type != .directory {
                excluded += 1
                return
            }
            if let limit = selection.largerThan, m.type == .file, m.size > limit {
                excluded += 1
                return
            }
        }
        var e = TreeSealWalk.entry(from: m, path: path)
        // A later name of an inode already listed: a hardlink entry, nothing read.
        if let first = hardlinks.firstPath(of: m, at: path) {
            e.type = .hardlink
            e.hardlinkTargetBytes = first
            try enqueue(e, source: source)
            return
        }
        let linkFirst = m.isLinkable ? m : nil
        let old = try parentEntry(for: path)
        switch m.type {
        case .file:
            try sealFile(e, old: old, folder: folder, name: name, absolute: absolute, first: linkFirst)
        case .directory:
            try enqueue(e, source: source)
            // Another file system mounted here: the folder is kept, empty.
            if selection.oneFileSystem && !input && m.device != inputDevice {
                excluded += 1
                return
            }
            let fd = name.withNulTerminated { openat(folder, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else {
                note(path, "contents not sealed: \(String(cString: strerror(errno)))")
                unreadable.append(source)
                return
            }
            defer { close(fd) }
            try walkFolder(fd, path: path, absolute: absolute)
        case .symlink:
            e.size = UInt64(e.linkTargetBytes.count)
            try enqueue(e, source: source)
        case .fifo, .charDevice, .blockDevice:
            e.size = 0
            try enqueue(e, source: source, first: linkFirst)
        case .archive, .hardlink:
            preconditionFailure("the scanner gives no \(m.type)")
        }
    }

    /// The entry's metadata as the scanner captured it (content fields empty).
    static func entry(from m: EntryMetadata, path: [UInt8]) -> VersionEntry {
        var e = VersionEntry(type: m.type, pathBytes: path, mode: m.mode, mtimeSeconds: m.mtimeSeconds, mtimeNanoseconds: m.mtimeNanoseconds, size: 0)
        m.apply(to: &e)
        return e
    }

    /// Lists an open folder (names as bytes, sorted), then visits each child.
    private func walkFolder(_ fd: Int32, path: [UInt8], absolute: [UInt8]) throws {
        let listFD = dup(fd)
        guard listFD >= 0, let d = fdopendir(listFD) else {
            if listFD >= 0 { close(listFD) }
            note(path, "contents not sealed: \(String(cString: strerror(errno)))")
            unreadable.append(String(decoding: absolute, as: UTF8.self))
            return
        }
        var names: [[UInt8]] = []
        while let de = readdir(d) {
            let n = withUnsafeBytes(of: de.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if n != [0x2E] && n != [0x2E, 0x2E] { names.append(n) }
        }
        closedir(d)
        names.sort { TreeCodec.precedes($0, $1) }
        // A folder holding an exclusion marker keeps only the marker.
        if !options.selection.markers.isEmpty, let marker = options.selection.marker(in: fd, names: names) {
            excluded += names.count - 1
            names = [marker]
        }
        let slash = UInt8(ascii: "/")
        for n in names {
            let childPath = path + [slash] + n
            let childAbsolute = (absolute == [slash] ? [] : absolute) + [slash] + n
            try visit(folder: fd, name: n, path: childPath, absolute: childAbsolute)
        }
    }

    // MARK: Files

    private func sealFile(_ entry: VersionEntry, old: VersionEntry?, folder: Int32, name: [UInt8], absolute: [UInt8], first: EntryMetadata?) throws {
        var e = entry
        let source = String(decoding: absolute, as: UTF8.self)
        if let old, let reused = try reuse(old, for: e) {
            stats.unchangedFiles += 1
            sealer.skip(bytes: e.size, path: e.path)
            try enqueue(reused, source: source, first: first)
            return
        }
        // An archive is analysed from its path (which must then be text) and stored part by
        // part; the stream is flushed first, as the archive's parts take the sealer's batches.
        // Only an archive flushes: a flush per file would hand each small file on in a batch
        // of its own and wait for it.
        if let handler = options.archiveHandler, e.size >= 22, let path = String(validating: absolute, as: UTF8.self),
           let plan = vault.analyseArchive(path: path, entry: e, handler: handler, notes: &notes) {
            try sealer.flush()
            try drain()
            if let a = try vault.sealArchive(path: path, entry: e, plan: plan, handler: handler, sealer: sealer, storeLayout: true, notes: &notes) {
                stats.bytesRead += a.size
                try enqueue(a, source: source, first: first)
                return
            }
        }
        e.type = .file
        let i = nextStream
        nextStream += 1
        queue.append((e, i, source, first))
        try sealer.stream(i, Sealer.Input(source: .at(folder: folder, name: name), path: e.displayPath, size: e.size))
        try drain()
    }

    /// The parent's content for an unchanged file, with this seal's metadata; nil when the file
    /// changed or its content is no longer stored.
    private func reuse(_ old: VersionEntry, for e: VersionEntry) throws -> VersionEntry? {
        guard old.type == .file || (old.type == .archive && options.archiveHandler != nil),
              old.size == e.size, old.mtimeSeconds == e.mtimeSeconds, old.mtimeNanoseconds == e.mtimeNanoseconds,
              old.ctimeSeconds == e.ctimeSeconds, old.ctimeNanoseconds == e.ctimeNanoseconds, old.inode == e.inode, old.device == e.device
        else { return nil }
        func stored(_ id: ObjectID) -> Bool { vault.index.location(of: id).map { storedPacks.contains($0.pack) } == true }
        var r = e
        r.type = old.type
        r.sha256 = old.sha256
        if old.type == .file {
            guard old.chunks.allSatisfy(stored) else { return nil }
            r.chunks = old.chunks
            r.holes = old.holes
            return r
        }
        // An archive: its layout (read from its pieces, or the format-1 parent's own) and every part's chunks.
        if !old.layoutIDs.isEmpty && !old.layoutIDs.allSatisfy(stored) { return nil }
        // Read record by record, never held whole (the members are checked as they decode).
        guard old.archive != nil || !old.layoutIDs.isEmpty else { return nil }
        let layout = try ArchiveLayoutCursor(vault: vault, entry: old)
        while let p = try layout.nextPart() {
            var ok = true
            p.forEachChunk { if !stored($0) { ok = false } }
            guard ok else { return nil }
        }
        while try layout.nextMember() != nil {}
        r.layoutIDs = try old.archive.map { try $0.storePieces(sink: sealer, vault: vault) } ?? old.layoutIDs
        return r
    }

    /// The parent version's entry at `path`, walking the parent forward (and past the folders
    /// this walk does not enter).
    private func parentEntry(for path: [UInt8]) throws -> VersionEntry? {
        guard let walker = parent else { return nil }
        while true {
            if peeked == nil {
                peeked = try walker.next()
                if peeked == nil {
                    parent = nil
                    return nil
                }
            }
            let p = peeked!
            let c = VersionWalker.compare(p.pathBytes, path)
            if c == 0 { return p }
            if c > 0 { return nil }
            if p.type == .directory && !ListedEntries.isBelow(path, p.pathBytes) { walker.skipChildren() }
            peeked = nil
        }
    }

    // MARK: In order into the trees

    private func enqueue(_ e: VersionEntry, source: String, first: EntryMetadata? = nil) throws {
        queue.append((e, nil, source, first))
        try drain()
    }

    /// An entry not stored: if it is the first name of a hard-linked inode, its later names are
    /// left out if already queued, and the next one found is stored in full.
    private func lost(_ e: VersionEntry, first: EntryMetadata?) {
        guard let first else { return }
        hardlinks.forget(first)
        lostFirstNames.insert(e.pathBytes)
    }

    /// Feeds the entries at the front of the queue whose content is known to the tree builder.
    private func drain() throws {
        while queueHead < queue.count {
            var (e, stream, source, first) = queue[queueHead]
            if let stream {
                guard let r = results.take(stream) else { break }
                switch r {
                case .success(let f):
                    e.sha256 = f.sha256
                    e.chunks = f.chunks
                    e.size = f.size
                    e.holes = f.holes
                    if f.changed && !unsized.contains(stream) { note(e.pathBytes, "changed while it was being read") }
                case .failure(let err):
                    queueHead += 1
                    lost(e, first: first)
                    unreadable.append(source)
                    if case .inputUnreadable(_, let reason) = err { note(e.pathBytes, "not sealed: \(reason)") }
                    else { note(e.pathBytes, "not sealed: \(err)") }
                    continue
                }
            }
            queueHead += 1
            if e.type != .directory, let reason = TreeCodec.refusal(e, name: Array(e.pathBytes.split(separator: UInt8(ascii: "/")).last ?? [])) {
                note(e.pathBytes, "not sealed: \(reason)")
                lost(e, first: first)
                unreadable.append(source)
                continue
            }
            if e.type == .hardlink && !lostFirstNames.isEmpty && lostFirstNames.contains(e.hardlinkTargetBytes) {
                note(e.pathBytes, "not sealed: a hard link to \(TerminalText.escape(bytes: e.hardlinkTargetBytes)), which could not be sealed")
                unreadable.append(source)
                continue
            }
            switch e.type {
            case .directory: stats.directories += 1
            case .symlink: stats.symlinks += 1
            case .fifo, .charDevice, .blockDevice: stats.specialFiles += 1
            case .hardlink: stats.hardlinks += 1
            case .file, .archive:
                stats.files += 1
                stats.bytes += e.size
            }
            try builder.add(e)
        }
        if queueHead > 4096 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }
}

extension Array where Element == UInt8 {
    /// Runs `body` with the bytes as a NUL-terminated C string.
    func withNulTerminated<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (self + [0]).withUnsafeBytes { try body($0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
    }
}
