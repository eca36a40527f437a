import CofferCrypto
import Dispatch
import Foundation

/// The sealing pipeline for one seal: reads files into a batch buffer, cuts chunks, and turns new
/// chunks into encrypted blobs in packs.
///
/// Files are read one after the other into a 16 MiB buffer; small files share a batch, a large
/// file is streamed through it block by block (the uncut tail of one block starts the next).
/// When a batch holds 8 MiB it is processed:
/// 1. chunk ids (keyed BLAKE2b) and each file's SHA-256, in parallel over all chunks and files;
/// 2. new chunks found against the index and this seal's own chunks, serially;
/// 3. new chunks compressed, encrypted and verified, in parallel;
/// 4. chunks placed one by one into one of `openPacks` packs chosen at random.
/// A full pack is finished and written (temp file, fsync, rename) by a background writer, with at
/// most two packs in flight, so writing overlaps the next batch.
final class Sealer: @unchecked Sendable {
    static let blockSize = 8 << 20

    struct FileResult: Sendable {
        var sha256: [UInt8]
        var chunks: [ObjectID]
        var size: UInt64
        var changed: Bool
    }

    private struct Segment {
        var file: Int
        /// Bytes read for this file in this batch (hashed into its SHA-256).
        var fresh: Range<Int>
        var cuts: Range<Int>
        var last: Bool
    }

    private let vault: Vault
    private let options: SealOptions
    private var openPacks: [PackBuilder]
    private var pending = Set<ObjectID>()
    private var addedChunks: UInt64 = 0
    private var addedPlain: UInt64 = 0
    /// Bytes read from files (not from in-memory archive parts).
    private(set) var bytesRead: UInt64 = 0

    // The batch.
    private let capacity = 2 * Sealer.blockSize
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var cuts: [Range<Int>] = []
    private var segments: [Segment] = []
    private var hashers: [Int: SHA256] = [:]
    private var chunkLists: [Int: [ObjectID]] = [:]
    private var sizes: [Int: UInt64] = [:]
    private var results: [Int: Result<FileResult, CofferError>] = [:]
    private var expected: [Int: UInt64] = [:]

    // The background pack writer.
    private let writer = PackWriter()

    // Progress.
    private let totalFiles: Int
    private let totalBytes: UInt64
    private var filesDone = 0
    private var bytesDone: UInt64 = 0
    private var lastProgress = Date.distantPast

    init(vault: Vault, options: SealOptions, totalFiles: Int, totalBytes: UInt64) {
        self.vault = vault
        self.options = options
        self.openPacks = (0..<max(1, vault.config.openPacks)).map { _ in PackBuilder() }
        self.totalFiles = totalFiles
        self.totalBytes = totalBytes
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * Sealer.blockSize, alignment: 64)
    }

    deinit {
        // A seal that stops early (an error, Ctrl-C) returns only once no pack write is running,
        // so nothing is written into the vault after its lock is released.
        writer.waitForWrites()
        buffer.deallocate()
    }

    /// Counts a file reused from the previous version.
    func skip(bytes: UInt64, path: String) {
        filesDone += 1
        bytesDone += bytes
        report(path, force: false)
    }

    /// Where the bytes of one stored stream come from.
    enum Source {
        /// A file, opened without following a final symbolic link.
        case file(String)
        /// Bytes already in memory (an archive part).
        case bytes([UInt8])
    }

    /// Reads and stores `files`. A file that cannot be opened or read gets a failure
    /// (``CofferError/inputUnreadable(path:reason:)``) and the others go on; any other error stops the seal.
    func seal(files: [(source: Source, entry: VersionEntry)]) throws -> [Result<FileResult, CofferError>] {
        results = [:]
        for (i, f) in files.enumerated() {
            if options.isCancelled() { throw CofferError.interrupted }
            try sealFile(i, from: f.source, entry: f.entry)
        }
        try processBatch()
        return files.indices.map { results[$0]! }
    }

    private func sealFile(_ i: Int, from source: Source, entry: VersionEntry) throws {
        // Keep small files whole in one batch when the buffer is short of room.
        if capacity - used < min(Int(entry.size) + 1, Sealer.blockSize) { try processBatch() }
        let path: String
        var fd: Int32 = -1
        var memory: [UInt8] = []
        var memoryOffset = 0
        switch source {
        case .file(let p):
            path = p
            fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                results[i] = .failure(.inputUnreadable(path: path, reason: String(cString: strerror(errno))))
                filesDone += 1
                return
            }
        case .bytes(let b):
            path = entry.path
            memory = b
        }
        defer { if fd >= 0 { close(fd) } }
        /// Reads into the buffer at `used`: from the file, or by copying from memory.
        func readMore(_ max: Int) -> Int {
            if fd >= 0 { return read(fd, buffer.baseAddress! + used, max) }
            let n = min(max, memory.count - memoryOffset)
            if n > 0 {
                memory.withUnsafeBytes { m in (buffer.baseAddress! + used).copyMemory(from: m.baseAddress! + memoryOffset, byteCount: n) }
                memoryOffset += n
            }
            return n
        }
        let chunker = Chunker(sizes: vault.config.tier(forFileSize: entry.size), table: vault.gear)
        hashers[i] = SHA256()
        chunkLists[i] = []
        sizes[i] = 0
        expected[i] = entry.size
        var uncut = used  // start of this file's bytes not yet cut
        var eof = false
        while !eof {
            if options.isCancelled() { throw CofferError.interrupted }
            let freshStart = used
            var failure: Int32 = 0
            while used < capacity {
                let n = readMore(capacity - used)
                if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                if n == 0 { eof = true; break }
                used += n
            }
            if failure != 0 {
                // Drop what this file has in the batch; chunks already stored stay unreferenced.
                used = min(freshStart, uncut)
                segments.removeAll { $0.file == i }
                cuts.removeAll { $0.lowerBound >= used }
                hashers[i] = nil
                results[i] = .failure(.inputUnreadable(path: path, reason: String(cString: strerror(failure))))
                filesDone += 1
                return
            }
            let n = used - freshStart
            sizes[i, default: 0] += UInt64(n)
            if fd >= 0 { bytesRead += UInt64(n) }  // archive parts are already in memory
            let firstCut = cuts.count
            while let c = chunker.nextCut(in: UnsafeRawBufferPointer(rebasing: buffer[uncut..<used]), isFinal: eof) {
                cuts.append(uncut..<uncut + c)
                uncut += c
            }
            segments.append(Segment(file: i, fresh: freshStart..<used, cuts: firstCut..<cuts.count, last: eof))
            if !eof {
                // The buffer is full: process it and carry this file's uncut tail over.
                uncut = try processBatch(keepingFrom: uncut)
            } else if used >= Sealer.blockSize {
                try processBatch()
            }
            bytesDone += UInt64(n)
            report(entry.path, force: false)
        }
        filesDone += 1
    }

    /// Processes every complete chunk in the batch. Bytes from `keepingFrom` on (an uncut tail)
    /// move to the start of the buffer; returns their new offset.
    @discardableResult
    private func processBatch(keepingFrom keep: Int? = nil) throws -> Int {
        try writer.rethrow()
        if options.isCancelled() { throw CofferError.interrupted }
        let keys = vault.keys
        let batchCuts = cuts
        let segs = segments
        var ids = [ObjectID](repeating: .zero, count: batchCuts.count)
        let base = UnsafeRawBufferPointer(buffer)
        let hasherList = segs.map { hashers[$0.file]! }
        ids.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            parallelFor(batchCuts.count + segs.count) { k in
                if k < batchCuts.count {
                    outBase[k] = keys.chunkID(of: UnsafeRawBufferPointer(rebasing: base[batchCuts[k]]))
                } else {
                    let s = segs[k - batchCuts.count]
                    hasherList[k - batchCuts.count].update(UnsafeRawBufferPointer(rebasing: base[s.fresh]))
                }
            }
        }
        var fresh: [Int] = []
        for (k, id) in ids.enumerated() where !vault.index.contains(id) && !pending.contains(id) {
            pending.insert(id)
            fresh.append(k)
        }
        if !fresh.isEmpty {
            var sealed = [(flags: UInt8, envelope: [UInt8])?](repeating: nil, count: fresh.count)
            var errors = [Error?](repeating: nil, count: fresh.count)
            let zstd = vault.zstd
            sealed.withUnsafeMutableBufferPointer { s in
                errors.withUnsafeMutableBufferPointer { e in
                    let sBase = s.baseAddress!, eBase = e.baseAddress!
                    parallelFor(fresh.count) { j in
                        let k = fresh[j]
                        do {
                            sBase[j] = try BlobCrypto.seal(UnsafeRawBufferPointer(rebasing: base[batchCuts[k]]), id: ids[k], type: .data, keys: keys, zstd: zstd)
                        } catch {
                            eBase[j] = error
                        }
                    }
                }
            }
            if let err = errors.lazy.compactMap({ $0 }).first { throw err }
            for (j, k) in fresh.enumerated() {
                let s = sealed[j]!
                let pick = openPacks.count == 1 ? 0 : Int(Sodium.randomUniform(UInt32(openPacks.count)))
                let pack = openPacks[pick]
                pack.add(type: .data, flags: s.flags, id: ids[k], plainLength: batchCuts[k].count, envelope: s.envelope)
                addedChunks += 1
                addedPlain += UInt64(batchCuts[k].count)
                if pack.byteCount >= vault.config.packTargetSize {
                    openPacks[pick] = PackBuilder()
                    try enqueue(pack)
                }
            }
        }
        for s in segs {
            chunkLists[s.file]! += ids[s.cuts]
            if s.last {
                let size = sizes[s.file]!
                results[s.file] = .success(FileResult(
                    sha256: hashers[s.file]!.finalize(), chunks: chunkLists[s.file]!, size: size, changed: size != expected[s.file]!))
                hashers[s.file] = nil
                chunkLists[s.file] = nil
            }
        }
        cuts = []
        segments = []
        guard let keep else {
            used = 0
            return 0
        }
        let tail = used - keep
        if tail > 0 && keep > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + keep, byteCount: tail) }
        used = tail
        return 0
    }

    /// Hands a full pack to the background writer (at most two in flight).
    private func enqueue(_ pack: PackBuilder) throws {
        try writer.write(pack, vault: vault)
    }

    /// Writes the packs still open and waits for every pack write. Small leftovers are merged into
    /// one pack, so the last pack of a small seal does not show the size of a few chunks on their own.
    func finish() throws -> (packs: [(pack: ObjectID, entries: [PackEntry])], chunks: UInt64, plainBytes: UInt64, storedBytes: UInt64) {
        let open = openPacks.filter { !$0.isEmpty }
        if let first = open.first {
            for other in open.dropFirst() where first.byteCount + other.byteCount <= vault.config.packTargetSize * 3 / 2 {
                first.absorb(other)
            }
            for p in open where !p.isEmpty { try enqueue(p) }
        }
        openPacks = []
        let (written, bytes) = try writer.drain()
        report("", force: true)
        return (written, addedChunks, addedPlain, bytes)
    }

    private func report(_ path: String, force: Bool) {
        guard let progress = options.progress else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastProgress) >= 0.1 else { return }
        lastProgress = now
        let stored = writer.bytes + openPacks.reduce(0) { $0 + UInt64($1.byteCount) }
        progress(SealProgress(
            filesDone: filesDone, filesTotal: totalFiles, bytesDone: bytesDone, bytesTotal: totalBytes, addedBytes: stored, currentPath: path))
    }
}

/// Finishes and writes packs on a background queue, at most two in flight. The first failure is
/// kept and thrown by the next call, once no write is running any more; packs queued behind a
/// failed one are not written.
final class PackWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "coffer.pack-writer")
    private let inFlight = DispatchSemaphore(value: 2)
    private let lock = NSLock()
    private var written: [(pack: ObjectID, entries: [PackEntry])] = []
    private var writtenBytes: UInt64 = 0
    private var failure: Error?

    var bytes: UInt64 { lock.withLock { writtenBytes } }

    func rethrow() throws {
        if let err = lock.withLock({ failure }) {
            waitForWrites()
            throw err
        }
    }

    /// Returns once every queued write has finished or been skipped.
    func waitForWrites() {
        queue.sync {}
    }

    func write(_ pack: PackBuilder, vault: Vault) throws {
        inFlight.wait()
        do { try rethrow() } catch { inFlight.signal(); throw error }
        queue.async { [self] in
            defer { inFlight.signal() }
            // After a failure (a full disk, say) the seal stops: do not write what is queued.
            if lock.withLock({ failure != nil }) { return }
            do {
                let (id, bytes, entries) = try pack.finish(vaultID: vault.vaultID, keys: vault.keys)
                try vault.backend.write(PackFormat.path(id), bytes)
                lock.withLock {
                    written.append((id, entries))
                    writtenBytes += UInt64(bytes.count)
                }
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
    }

    /// Waits for every write; returns the packs written and their bytes.
    func drain() throws -> ([(pack: ObjectID, entries: [PackEntry])], UInt64) {
        queue.sync {}
        try rethrow()
        return lock.withLock { (written, writtenBytes) }
    }
}
