import CofferCrypto
import Dispatch
import Foundation

/// The sealing pipeline for one seal: reads files into batch buffers, cuts chunks, and turns new
/// chunks into encrypted blobs in packs. Three stages overlap on separate threads:
///
/// 1. **Read and cut** (the calling thread): files are read one after the other into a 16 MiB
///    batch buffer and cut into chunks; small files share a batch, a large file streams through
///    it block by block (the uncut tail of one block starts the next batch). A batch is handed on
///    when it holds 8 MiB; two buffers alternate, so reading waits only when storing falls behind.
/// 2. **Store** (a serial queue, fanning out over every core): chunk ids (keyed BLAKE2b) and each
///    file's SHA-256 in parallel; new chunks found against the index and this seal's own chunks;
///    new chunks compressed, encrypted and verified in parallel into a reused arena; each placed
///    into one of `openPacks` packs chosen at random.
/// 3. **Write** (a background writer): a full pack is finished and written (temp file, fsync,
///    rename), at most two in flight.
///
/// Every buffer is bounded and reused, so memory stays flat however much is sealed.
final class Sealer: @unchecked Sendable {
    static let blockSize = 4 << 20
    /// The most files (segments) one batch holds: bounds the per-file state of a batch in flight
    /// (hashes, chunk lists, sealed envelopes) when the files are tiny.
    static let maxSegments = 2048

    /// What a seal's per-chunk state is bounded by (Docs/FORMAT.md, "Index"). Tests pass smaller
    /// limits (``SealOptions/sealerLimits``) to reach several packs and index files with few chunks.
    struct Limits: Sendable {
        /// The most blobs one pack of the seal takes: with its padding blob, its header fills
        /// one 2^14-entry bucket exactly (a 16 MiB pack of 100-byte chunks would hold 90,000 and
        /// every open pack would keep their entries to the seal's end).
        var packEntries = (1 << 14) - 1
        /// A seal that writes index files as it goes (``init(vault:options:totalFiles:totalBytes:skipHoles:flushIndex:)``)
        /// writes them for the packs written so far once those hold this many entries.
        var indexFlushEntries = 1 << 16
    }

    struct FileResult: Sendable {
        var sha256: [UInt8]
        var chunks: [ObjectID]
        var size: UInt64
        var changed: Bool
        /// The holes not read (sparse files, with `skipsHoles`): `chunks` hold the other bytes, in
        /// order, and `sha256` covers the whole content, holes as zeros.
        var holes: [Hole] = []
    }

    struct Segment {
        var file: Int
        /// Bytes read for this file in this batch (hashed into its SHA-256).
        var fresh: Range<Int>
        var cuts: Range<Int>
        var last: Bool
        var expected: UInt64
        /// The stream's number among all this sealer has read (dictionary samples are chosen by stream).
        var stream = 0
        /// Holes met while reading this segment, in order: hashed as zeros, not stored.
        var zeros: [Zeros] = []
    }

    /// A hole of a file: `length` zeros at file offset `offset`, which come before the batch byte `at`.
    struct Zeros {
        var at: Int
        var offset: UInt64
        var length: UInt64
    }

    /// Zeros hashed in place of holes (never written).
    nonisolated(unsafe) static let zeroBlock = UnsafeRawBufferPointer(UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64).initializeMemory(as: UInt8.self, repeating: 0))

    /// Bytes read from files and cut into chunks, on their way to the store stage. The plaintext
    /// is wiped (`sodium_memzero`) when the batch goes back to the free list and when it is freed.
    final class Batch: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
        var used = 0 { didSet { written = max(written, used) } }
        /// The most bytes of `buffer` written since the last wipe.
        private var written = 0
        var cuts: [Range<Int>] = []
        var segments: [Segment] = []
        /// Files that could not be read, in the order they failed.
        var failures: [(file: Int, error: CofferError)] = []

        init(capacity: Int) { buffer = .allocate(byteCount: capacity, alignment: 64) }
        deinit {
            wipe()
            buffer.deallocate()
        }

        /// Wipes the bytes written since the last wipe.
        func wipe() {
            if written > 0 { Sodium.wipe(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<written])) }
            written = 0
        }

        var isEmpty: Bool { segments.isEmpty && failures.isEmpty }

        func reset() {
            used = 0
            cuts.removeAll(keepingCapacity: true)
            segments.removeAll(keepingCapacity: true)
            failures.removeAll(keepingCapacity: true)
        }
    }

    private let vault: Vault
    private let options: SealOptions
    /// Files' holes are found (`lseek(SEEK_HOLE)`) and not read: only for versions that record holes.
    private let skipsHoles: Bool
    private let capacity: Int
    /// Bytes reserved per open pack: the target plus one longest envelope.
    private let packCapacity: Int
    private let limits: Limits
    /// Index files are written during the seal (format 2 tree seals), not all at its end.
    private let flushesIndex: Bool
    /// The index files written during the seal, in the order written (stage 2).
    private var flushedIndexFiles: [ObjectID] = []

    // Stage 1 (the calling thread).
    private var current: Batch
    private var free: [Batch]
    private let freeLock = NSLock()
    private let freeCount: DispatchSemaphore
    /// Bytes read from files (not archive parts).
    private(set) var bytesRead: UInt64 = 0
    /// Batches handed to the store stage (tests check that small files share them).
    private(set) var batchesSent = 0
    /// Streams started (``sealFile(_:from:path:size:)`` calls).
    private var streamsStarted = 0

    // Stage 2 (the store queue). Only touched on `stage`.
    private let stage = DispatchQueue(label: "coffer.seal.store")
    private var openPacks: [PackBuilder]
    private var pending = ChunkIDSet()
    private var addedChunks: UInt64 = 0
    private var addedPlain: UInt64 = 0
    private var hashers: [Int: SHA256] = [:]
    private var chunkLists: [Int: [ObjectID]] = [:]
    private var sizes: [Int: UInt64] = [:]
    private var holeLists: [Int: [Hole]] = [:]
    /// Where results go, during ``seal(count:input:deliver:)``.
    private var deliver: ((Int, Result<FileResult, CofferError>) -> Void)?
    private var arena = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private let failureLock = NSLock()
    private var failure: Error?
    private var openBytes: UInt64 = 0
    /// Trains the vault's first dictionary from this seal's small chunks (format 2), until it has.
    private var trainer: DictionaryTrainer?
    /// This seal trained the vault's dictionary at its end: the small chunks sealed before it are
    /// compressed again with it while their packs are still open (see `finish`). Trained earlier,
    /// before a pack was written, they are compressed again at once (see `trainBeforePackWrite`).
    private var trainedDictionary = false

    // Stage 3.
    private let writer = PackWriter()

    // Progress (stage 1).
    private let totalFiles: Int
    private let totalBytes: UInt64
    private var filesDone = 0
    /// Entries (files, folders, links, …) the walk has visited, when it counts them (format 2):
    /// progress then reports this against an entry total, not the files streamed.
    var entriesVisited: Int?
    private var bytesDone: UInt64 = 0
    private var lastProgress = Date.distantPast

    /// `skipHoles`: find each file's holes and read only its data (the results' `holes` say
    /// where the rest is); for versions that record holes (format 2) only.
    /// `flushIndex`: once the packs written hold ``Limits/indexFlushEntries`` entries, write
    /// their index files (body_version 2) and drop their entries, so the seal's memory does not
    /// grow with its chunk count; ``indexFilesWritten()`` lists them for the head. The caller
    /// commits them in its head, or leaves them unlisted (Docs/FORMAT.md, crash safety).
    init(vault: Vault, options: SealOptions, totalFiles: Int, totalBytes: UInt64, skipHoles: Bool = false, flushIndex: Bool = false) {
        self.vault = vault
        self.options = options
        self.limits = options.sealerLimits
        self.flushesIndex = flushIndex
        self.skipsHoles = skipHoles
        self.totalFiles = totalFiles
        self.totalBytes = totalBytes
        // Room for a full block plus the longest uncut tail a tier allows.
        let longest = vault.config.tiers.map(\.sizes.max).max() ?? ChunkSizes.formatMaximum
        capacity = Sealer.blockSize + longest
        let reserve = vault.config.packTargetSize + longest + AEAD.overhead
        packCapacity = reserve
        openPacks = (0..<max(1, vault.config.openPacks)).map { [limits] _ in
            PackBuilder(capacity: reserve, target: vault.config.packTargetSize, entryLimit: limits.packEntries)
        }
        current = Batch(capacity: capacity)
        free = [Batch(capacity: capacity)]
        freeCount = DispatchSemaphore(value: 1)
        trainer = DictionaryTrainer(vault: vault)
    }

    deinit {
        // A seal that stops early (an error, Ctrl-C) returns only once no pack write is running,
        // so nothing is written into the vault after its lock is released. (The pack writer's
        // work holds no reference to the sealer, so this never runs on its queue.)
        writer.waitForWrites()
        arena.deallocate()
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
        /// The file `name` (raw bytes) in the open folder `folder`, opened without following a
        /// symbolic link; the folder must stay open until the file is submitted.
        case at(folder: Int32, name: [UInt8])
        /// Bytes already in memory (an archive part the handler holds).
        case bytes([UInt8])
        /// Part `index` of an archive, streamed by the handler's reader.
        case part(ArchiveContentReader, Int)
        /// An open descriptor read to its end with read(2) (a pipe: standard input, a command's
        /// output); the caller closes it.
        case descriptor(Int32)
    }

    /// Reads and stores `files`. A file that cannot be opened or read gets a failure
    /// (``CofferError/inputUnreadable(path:reason:)``) and the others go on; any other error stops the seal.
    func seal(files: [(source: Source, entry: VersionEntry)]) throws -> [Result<FileResult, CofferError>] {
        let collected = ResultList(count: files.count)
        try seal(count: files.count, input: { i in Input(source: files[i].source, path: files[i].entry.path, size: files[i].entry.size) }) {
            collected.results[$0] = $1
        }
        return collected.results.map { $0! }
    }

    /// What to store for one stream of ``seal(count:input:deliver:)``.
    struct Input {
        var source: Source
        /// For progress and errors.
        var path: String
        /// The size expected (a file that reads to another size is `changed`).
        var size: UInt64
    }

    /// Results of ``seal(files:)``, filled on the store stage.
    private final class ResultList: @unchecked Sendable {
        var results: [Result<FileResult, CofferError>?]
        init(count: Int) { results = Array(repeating: nil, count: count) }
    }

    /// Reads and stores `count` streams, asking `input` for each in turn, and hands each result
    /// to `deliver` as soon as it is known (on the store stage, one call at a time, before this
    /// returns), so a caller storing many small streams (an archive's parts) keeps only what it
    /// needs of each. A stream that cannot be read gets a failure and the others go on; any other
    /// error stops the seal.
    func seal(count: Int, input: (Int) -> Input, deliver: @escaping (Int, Result<FileResult, CofferError>) -> Void) throws {
        // A stream (``beginStream(deliver:)``) flushed before this call gets its receiver back after.
        let saved = stage.sync { self.deliver }
        stage.sync { self.deliver = deliver }
        defer { stage.sync { self.deliver = saved } }
        do {
            for i in 0..<count {
                if options.isCancelled() { throw CofferError.interrupted }
                let f = input(i)
                try sealFile(i, from: f.source, path: f.path, size: f.size)
            }
            try submit()
        } catch {
            stage.sync {}  // let the store stage go idle before the caller unwinds
            writer.waitForWrites()  // and the pack writer
            throw error
        }
        stage.sync {}
        try rethrow()
    }

    // MARK: Streaming

    /// Starts a stream of files submitted one at a time (``stream(_:_:)``) from a walk that does
    /// not know them in advance. Results go to `deliver` on the store stage as they are known;
    /// they may come out of submission order (a failure is reported after the successes of its
    /// batch): the caller orders them by their number.
    func beginStream(deliver: @escaping (Int, Result<FileResult, CofferError>) -> Void) {
        stage.sync { self.deliver = deliver }
    }

    /// Reads stream `i` now (cut into the current batch; small files of many folders share
    /// batches, so the pipeline stays full). Its result follows once its batch is stored.
    func stream(_ i: Int, _ f: Input) throws {
        do {
            if options.isCancelled() { throw CofferError.interrupted }
            try sealFile(i, from: f.source, path: f.path, size: f.size)
        } catch {
            stage.sync {}
            writer.waitForWrites()
            throw error
        }
    }

    /// Hands the current batch on and waits until every result submitted so far is delivered.
    func flush() throws {
        do { try submit() } catch {
            stage.sync {}
            writer.waitForWrites()
            throw error
        }
        stage.sync {}
        try rethrow()
    }

    /// Ends the stream (after ``flush()``).
    func endStream() {
        stage.sync { self.deliver = nil }
    }

    /// After an error outside the sealer (the walk stopped): waits until the store stage and the
    /// pack writer are idle, so nothing is written into the vault once the caller returns.
    func quiesce() {
        stage.sync {}
        writer.waitForWrites()
    }

    private func sealFile(_ i: Int, from source: Source, path entryPath: String, size entrySize: UInt64) throws {
        // Keep small files whole in one batch when the buffer is short of room; and hand a batch
        // on once it holds `maxSegments` files, so many tiny files (an archive's parts) cost
        // bounded bookkeeping per batch.
        if capacity - current.used < min(Int(clamping: entrySize) + 1, Sealer.blockSize) || current.segments.count >= Sealer.maxSegments {
            try submit()
        }
        let path: String
        var fd: Int32 = -1
        var memory: [UInt8] = []
        var memoryOffset = 0
        var partReader: (reader: ArchiveContentReader, index: Int)?
        var partFailure: String?
        var sequential = false
        streamsStarted += 1
        let stream = streamsStarted
        switch source {
        case .file(let p):
            path = p
            fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                current.failures.append((i, .inputUnreadable(path: path, reason: String(cString: strerror(errno)))))
                filesDone += 1
                return
            }
        case .at(let folder, let name):
            path = entryPath
            fd = (name + [0]).withUnsafeBytes { openat(folder, $0.baseAddress!.assumingMemoryBound(to: CChar.self), O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else {
                current.failures.append((i, .inputUnreadable(path: path, reason: String(cString: strerror(errno)))))
                filesDone += 1
                return
            }
        case .bytes(let b):
            path = entryPath
            memory = b
        case .part(let reader, let index):
            path = entryPath
            partReader = (reader, index)
        case .descriptor(let d):
            path = entryPath
            fd = d
            sequential = true
        }
        defer { if fd >= 0 && !sequential { close(fd) } }
        // A file with holes is read region by region; each hole is noted where it falls in the
        // read bytes (`zeros`). One SEEK_HOLE probe tells the other files apart (read from 0 with pread).
        var offset: UInt64 = 0
        var sparse: SparseMap?
        var region = 0
        var zeros: [Zeros] = []
        if fd >= 0 && skipsHoles && !sequential, let hole = SparseMap.firstHole(fd, size: entrySize), hole < entrySize {
            sparse = try? SparseMap.map(fd)
        }
        func readFile(_ batch: Batch, _ max: Int) -> Int {
            var count = max
            if let map = sparse {
                while region < map.data.count && offset >= map.data[region].upperBound { region += 1 }
                // Past the last data range: the hole to the mapped end, then whatever the file grew by.
                let next = region < map.data.count ? map.data[region].lowerBound : map.size
                if offset < next {
                    zeros.append(Zeros(at: batch.used, offset: offset, length: next - offset))
                    offset = next
                }
                if region < map.data.count { count = Int(clamping: min(UInt64(max), map.data[region].upperBound - offset)) }
            }
            let n = sequential
                ? read(fd, batch.buffer.baseAddress! + batch.used, count) : pread(fd, batch.buffer.baseAddress! + batch.used, count, off_t(offset))
            if n > 0 { offset += UInt64(n) }
            return n
        }
        /// Reads into the batch at `used`: from the file, from the archive handler, or by copying from memory.
        func readMore(_ batch: Batch, _ max: Int) -> Int {
            if fd >= 0 { return readFile(batch, max) }
            if let partReader {
                do {
                    return try partReader.reader.read(
                        part: partReader.index, into: UnsafeMutableRawBufferPointer(start: batch.buffer.baseAddress! + batch.used, count: max))
                } catch {
                    partFailure = "\(error)"
                    errno = EIO
                    return -1
                }
            }
            let n = min(max, memory.count - memoryOffset)
            if n > 0 {
                memory.withUnsafeBytes { m in (batch.buffer.baseAddress! + batch.used).copyMemory(from: m.baseAddress! + memoryOffset, byteCount: n) }
                memoryOffset += n
            }
            return n
        }
        // The chunk sizes are chosen once the file's first bytes are in (format 2: by content too).
        var chunker: Chunker?
        var uncut = current.used  // start of this file's bytes not yet cut
        var scanned = 0  // bytes after `uncut` the chunker has already looked at
        var eof = false
        while !eof {
            if options.isCancelled() { throw CofferError.interrupted }
            try rethrow()
            let batch = current
            let freshStart = batch.used
            var failure: Int32 = 0
            while batch.used < capacity {
                let n = readMore(batch, capacity - batch.used)
                if n < 0 { if errno == EINTR && partFailure == nil { continue }; failure = errno; break }
                if n == 0 { eof = true; break }
                batch.used += n
            }
            if failure != 0 {
                // Drop what this file has in the batch (at most its uncut tail); chunks already
                // stored from earlier batches stay unreferenced.
                batch.used = min(freshStart, uncut)
                batch.segments.removeAll { $0.file == i }
                batch.cuts.removeAll { $0.lowerBound >= batch.used }
                batch.failures.append((i, .inputUnreadable(path: path, reason: partFailure ?? String(cString: strerror(failure)))))
                filesDone += 1
                return
            }
            let n = batch.used - freshStart
            if fd >= 0 { bytesRead += UInt64(n) }  // archives are counted whole by the caller
            let firstCut = batch.cuts.count
            if chunker == nil {
                chunker = Chunker(
                    sizes: vault.chunkSizes(forFileSize: entrySize, start: UnsafeRawBufferPointer(rebasing: batch.buffer[uncut..<batch.used])),
                    table: vault.gear)
            }
            while let c = chunker!.nextCut(in: UnsafeRawBufferPointer(rebasing: batch.buffer[uncut..<batch.used]), isFinal: eof, scanned: &scanned) {
                batch.cuts.append(uncut..<uncut + c)
                uncut += c
            }
            batch.segments.append(Segment(file: i, fresh: freshStart..<batch.used, cuts: firstCut..<batch.cuts.count, last: eof, expected: entrySize, stream: stream, zeros: zeros))
            let zeroBytes = zeros.reduce(UInt64(0)) { $0 + $1.length }
            zeros.removeAll(keepingCapacity: true)
            if !eof {
                // The buffer is full: hand it on and carry this file's uncut tail over.
                let next = try takeBatch()
                let tail = batch.used - uncut
                if tail > 0 { next.buffer.baseAddress!.copyMemory(from: batch.buffer.baseAddress! + uncut, byteCount: tail) }
                next.used = tail
                send(batch)
                current = next
                uncut = 0
            } else if batch.used >= Sealer.blockSize {
                try submit()
            }
            bytesDone += UInt64(n) + zeroBytes
            report(entryPath, force: false)
        }
        filesDone += 1
    }

    /// Hands the current batch to the store stage (when it holds anything) and starts a new one.
    private func submit() throws {
        guard !current.isEmpty else { return }
        let next = try takeBatch()
        batchesSent += 1
        send(current)
        current = next
    }

    /// A free batch; waits while the store stage still holds both.
    private func takeBatch() throws -> Batch {
        freeCount.wait()
        let b = freeLock.withLock { free.removeLast() }
        b.reset()
        return b
    }

    private func send(_ batch: Batch) {
        stage.async { [self] in
            if failureLock.withLock({ failure == nil }) {
                do { try store(batch) } catch { failureLock.withLock { if failure == nil { failure = error } } }
            }
            batch.wipe()
            freeLock.withLock { free.append(batch) }
            freeCount.signal()
        }
    }

    /// The first error of the store stage or the pack writer.
    private func rethrow() throws {
        if let err = failureLock.withLock({ failure }) { throw err }
        try writer.rethrow()
    }

    /// Stage 2: hashes, deduplicates, seals and places every chunk of `batch`. Runs on `stage`.
    private func store(_ batch: Batch) throws {
        try writer.rethrow()
        let keys = vault.keys
        let batchCuts = batch.cuts
        let segs = batch.segments
        var ids = [ObjectID](repeating: .zero, count: batchCuts.count)
        let base = UnsafeRawBufferPointer(batch.buffer)
        let hasherList = segs.map { s in
            if let h = hashers[s.file] { return h }
            let h = SHA256()
            hashers[s.file] = h
            chunkLists[s.file] = []
            sizes[s.file] = 0
            return h
        }
        ids.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            parallelFor(batchCuts.count + segs.count) { k in
                if k < batchCuts.count {
                    outBase[k] = keys.chunkID(of: UnsafeRawBufferPointer(rebasing: base[batchCuts[k]]))
                } else {
                    let s = segs[k - batchCuts.count]
                    let hasher = hasherList[k - batchCuts.count]
                    var at = s.fresh.lowerBound
                    for z in s.zeros {
                        hasher.update(UnsafeRawBufferPointer(rebasing: base[at..<z.at]))
                        at = z.at
                        var left = z.length
                        while left > 0 {
                            let n = Int(min(left, UInt64(Sealer.zeroBlock.count)))
                            hasher.update(UnsafeRawBufferPointer(rebasing: Sealer.zeroBlock[0..<n]))
                            left -= UInt64(n)
                        }
                    }
                    hasher.update(UnsafeRawBufferPointer(rebasing: base[at..<s.fresh.upperBound]))
                }
            }
        }
        var fresh: [Int] = []
        var slots: [Int] = []  // arena offset of each fresh chunk's envelope
        var arenaSize = 0
        for (k, id) in ids.enumerated() where !vault.index.contains(id) && !pending.contains(id) {
            pending.insert(id)
            fresh.append(k)
            slots.append(arenaSize)
            arenaSize += BlobCrypto.maximumEnvelope(plainLength: batchCuts[k].count)
        }
        if !fresh.isEmpty {
            if arena.count < arenaSize {
                arena.deallocate()
                arena = .allocate(byteCount: arenaSize, alignment: 64)
            }
            var sealed = [(flags: UInt8, length: Int)](repeating: (0, 0), count: fresh.count)
            var errors = [Error?](repeating: nil, count: fresh.count)
            let zstd = vault.zstd
            let space = arena
            // Seals the chunks `fresh[j]`, j in `which`, in parallel, each into its slot.
            func sealInParallel(_ which: [Int]) throws {
                sealed.withUnsafeMutableBufferPointer { s in
                    errors.withUnsafeMutableBufferPointer { e in
                        let sBase = s.baseAddress!, eBase = e.baseAddress!
                        parallelFor(which.count) { a in
                            let j = which[a], k = fresh[j]
                            let plain = UnsafeRawBufferPointer(rebasing: base[batchCuts[k]])
                            let out = UnsafeMutableRawBufferPointer(rebasing: space[slots[j]..<slots[j] + BlobCrypto.maximumEnvelope(plainLength: plain.count)])
                            do {
                                sBase[j] = try BlobCrypto.seal(plain, id: ids[k], type: .data, keys: keys, zstd: zstd, into: out)
                            } catch {
                                eBase[j] = error
                            }
                        }
                    }
                }
                if let err = errors.lazy.compactMap({ $0 }).first { throw err }
            }
            try sealInParallel(Array(fresh.indices))
            if let t = trainer {
                var seg = 0
                for (j, k) in fresh.enumerated() {
                    while seg < segs.count && segs[seg].cuts.upperBound <= k { seg += 1 }
                    guard seg < segs.count, segs[seg].cuts.contains(k), sealed[j].flags == BlobFlags.zstd else { continue }
                    t.offer(UnsafeRawBufferPointer(rebasing: base[batchCuts[k]]), stream: segs[seg].stream, streamSize: segs[seg].expected)
                }
                // Training waits for the end of the seal, or for the first pack that may be written
                // while placing this batch (a pack is written only once every open pack is full):
                // every small chunk sealed before training is still in an open pack then.
                var length = 0
                for j in fresh.indices { length += sealed[j].length }
                if t.hasEnough && mayWritePack(adding: length, entries: fresh.count) {
                    if try trainBeforePackWrite() {
                        // This batch's chunks were sealed before the dictionary: seal them again.
                        try sealInParallel(fresh.indices.filter { sealed[$0].flags == BlobFlags.zstd && batchCuts[fresh[$0]].count < DictionaryPolicy.smallChunk })
                    }
                }
            }
            let target = vault.config.packTargetSize
            for (j, k) in fresh.enumerated() {
                let s = sealed[j]
                var pick = openPacks.count == 1 ? 0 : Int(Sodium.randomUniform(UInt32(openPacks.count)))
                if let other = openPacks.pack(for: s.length, pick: pick, target: target) {
                    pick = other
                } else {
                    try writer.write(openPacks[pick], vault: vault)
                    openPacks[pick] = PackBuilder(capacity: packCapacity, target: vault.config.packTargetSize, entryLimit: limits.packEntries)
                    try flushIndexIfDue()
                }
                openPacks[pick].add(
                    type: .data, flags: s.flags, id: ids[k], plainLength: batchCuts[k].count,
                    envelope: UnsafeRawBufferPointer(rebasing: space[slots[j]..<slots[j] + s.length]))
                addedChunks += 1
                addedPlain += UInt64(batchCuts[k].count)
            }
        }
        for s in segs {
            chunkLists[s.file]! += ids[s.cuts]
            sizes[s.file]! += UInt64(s.fresh.count)
            if !s.zeros.isEmpty {
                sizes[s.file]! += s.zeros.reduce(0) { $0 + $1.length }
                holeLists[s.file, default: []] += s.zeros.map { Hole(offset: $0.offset, length: $0.length) }
            }
            if s.last {
                let size = sizes[s.file]!
                deliver?(s.file, .success(FileResult(
                    sha256: hashers[s.file]!.finalize(), chunks: chunkLists[s.file]!, size: size, changed: size != s.expected,
                    holes: holeLists.isEmpty ? [] : holeLists.removeValue(forKey: s.file) ?? [])))
                hashers[s.file] = nil
                chunkLists[s.file] = nil
                sizes[s.file] = nil
            }
        }
        for (file, error) in batch.failures {
            deliver?(file, .failure(error))
            hashers[file] = nil
            chunkLists[file] = nil
            sizes[file] = nil
            holeLists[file] = nil
        }
        let open = openPacks.reduce(UInt64(0)) { $0 + UInt64($1.byteCount) }
        failureLock.withLock { openBytes = open }
    }

    /// Writes the index files of the packs written so far once they hold
    /// ``Limits/indexFlushEntries`` entries (a seal with `flushIndex`); their entries are dropped.
    /// Runs on `stage`, each time a pack is handed to the writer. The packs are durable: the
    /// writer lists a pack once it is written.
    private func flushIndexIfDue() throws {
        guard flushesIndex, let packs = writer.takeWritten(atLeast: limits.indexFlushEntries) else { return }
        for file in IndexFile.bodyVersion2Files(packs) {
            flushedIndexFiles.append(try vault.writeMeta(file.encode(), kind: .index, markLoaded: false))
        }
    }

    /// The index files written during the seal, in the order written; read after ``finish()``.
    func indexFilesWritten() -> [ObjectID] { stage.sync { flushedIndexFiles } }

    // MARK: Tree and layout pieces

    /// Tree and layout pieces stored (new to the vault) and their plaintext bytes. Read after ``finish()``.
    private(set) var addedPieces: UInt64 = 0
    private(set) var addedPiecePlain: UInt64 = 0

    /// ``addedPieces`` and ``addedPiecePlain`` so far, once the pieces handed on before are stored.
    func pieceCounts() -> (count: UInt64, bytes: UInt64) { stage.sync { (addedPieces, addedPiecePlain) } }

    /// Stores a tree or layout piece in this seal's packs, unless the vault or this seal already
    /// holds it; returns its id (keyed BLAKE2b-256 under K_tree). The piece is sealed on the store
    /// stage, after the batches handed on before it.
    func storePiece(_ plaintext: [UInt8], type: BlobType) throws -> ObjectID {
        precondition(type == .tree || type == .layout)
        try rethrow()
        let id = vault.keys.treeID(of: plaintext)
        stage.async { [self] in
            guard failureLock.withLock({ failure == nil }) else { return }
            do { try storeOne(plaintext, id: id, type: type) } catch { failureLock.withLock { if failure == nil { failure = error } } }
        }
        return id
    }

    /// Bounds the data chunks ``storeChunk(_:)`` has handed to the store stage and not yet stored.
    private let chunksInFlight = DispatchSemaphore(value: 16)

    /// Stores one whole data chunk as it is (no cutting: `copy` keeps the source's chunks), unless
    /// the vault or this seal already holds it; returns its id under this vault's `K_id`.
    func storeChunk(_ plaintext: [UInt8]) throws -> ObjectID {
        try rethrow()
        let id = plaintext.withUnsafeBytes { vault.keys.chunkID(of: $0) }
        chunksInFlight.wait()
        stage.async { [self] in
            defer { chunksInFlight.signal() }
            guard failureLock.withLock({ failure == nil }) else { return }
            do {
                let before = addedPieces
                let plainBefore = addedPiecePlain
                try storeOne(plaintext, id: id, type: .data)
                if addedPieces != before {
                    // Counted as data, not as a piece.
                    addedPieces = before
                    addedPiecePlain = plainBefore
                    addedChunks += 1
                    addedPlain += UInt64(plaintext.count)
                }
            } catch { failureLock.withLock { if failure == nil { failure = error } } }
        }
        return id
    }

    /// Runs on `stage`.
    private func storeOne(_ plain: [UInt8], id: ObjectID, type: BlobType) throws {
        guard !vault.index.contains(id), !pending.contains(id) else { return }
        pending.insert(id)
        let (flags, envelope) = try plain.withUnsafeBytes { try BlobCrypto.seal($0, id: id, type: type, keys: vault.keys, zstd: vault.zstd) }
        var pick = openPacks.count == 1 ? 0 : Int(Sodium.randomUniform(UInt32(openPacks.count)))
        if let other = openPacks.pack(for: envelope.count, pick: pick, target: vault.config.packTargetSize) {
            pick = other
        } else {
            if let t = trainer, t.hasEnough { try trainBeforePackWrite() }
            try writer.write(openPacks[pick], vault: vault)
            openPacks[pick] = PackBuilder(capacity: packCapacity, target: vault.config.packTargetSize, entryLimit: limits.packEntries)
            try flushIndexIfDue()
        }
        openPacks[pick].add(type: type, flags: flags, id: id, plainLength: plain.count, envelope: envelope)
        addedPieces += 1
        addedPiecePlain += UInt64(plain.count)
    }

    /// Whether placing `length` more envelope bytes (`entries` blobs) may write a pack: every
    /// open pack takes blobs until it reaches its target (or entry limit), so one is written only
    /// once they are all there. Runs on `stage`.
    private func mayWritePack(adding length: Int, entries: Int) -> Bool {
        let target = vault.config.packTargetSize
        var room = 0
        var entryRoom = 0
        for p in openPacks {
            room += max(0, target - p.byteCount)
            entryRoom += max(0, p.entryLimit - p.entryCount)
        }
        return length >= room || entries >= entryRoom
    }

    /// Trains the dictionary now (a pack is about to be written) and
    /// seals the small chunks in the open packs again with it; returns whether it trained. The
    /// trainer is gone after. Runs on `stage`.
    @discardableResult
    private func trainBeforePackWrite() throws -> Bool {
        guard let t = trainer else { return false }
        trainer = nil
        guard try t.train() != nil else { return false }
        for p in openPacks where !p.isEmpty { try p.replaceBlobs(compressedWithDictionary) }
        return true
    }

    /// Writes the packs still open and waits for every pack write. Small leftovers are merged into
    /// one pack, so the last pack of a small seal does not show the size of a few chunks on their own.
    func finish() throws -> (packs: [(pack: ObjectID, entries: [PackEntry])], chunks: UInt64, plainBytes: UInt64, storedBytes: UInt64) {
        try stage.sync {
            // Nothing more is stored: the batches and this seal's chunk ids go before the last
            // packs are laid out and the version is written (for tiny chunks, both cost memory).
            pending = ChunkIDSet()
            arena.deallocate()
            arena = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            freeLock.withLock { free = [] }
            current = Batch(capacity: 0)
            if let t = trainer, t.hasEnough, try t.train() != nil { trainedDictionary = true }
            trainer = nil
            let open = openPacks.filter { !$0.isEmpty }
            if trainedDictionary {
                for p in open { try p.replaceBlobs(compressedWithDictionary) }
            }
            if let first = open.first {
                for other in open.dropFirst()
                where first.byteCount + other.byteCount <= vault.config.packTargetSize * 3 / 2 && first.entryCount + other.entryCount <= limits.packEntries {
                    first.absorb(other)
                }
                for p in open where !p.isEmpty { try writer.write(p, vault: vault) }
            }
            openPacks = []
        }
        let (written, bytes) = try writer.drain()
        report("", force: true)
        return stage.sync { (written, addedChunks, addedPlain, bytes) }
    }

    /// A data blob sealed before this seal trained the dictionary (zstd without it, under 64 KiB),
    /// sealed again now that the dictionary is the writer's, when that is smaller; nil otherwise.
    private func compressedWithDictionary(_ e: PackEntry, _ envelope: UnsafeRawBufferPointer) throws -> (flags: UInt8, envelope: [UInt8])? {
        guard e.type == .data, e.flags == BlobFlags.zstd, e.plainLength <= Zstd.dictionaryChunkLimit else { return nil }
        var plain = try BlobCrypto.open(
            Array(envelope), type: .data, flags: e.flags, id: e.id, plainLength: e.plainLength, keys: vault.keys, zstd: vault.zstd,
            object: "new chunk \(e.id.short)", verifyID: false)
        defer { plain.withUnsafeMutableBytes { Sodium.wipe($0) } }
        let again = try plain.withUnsafeBytes { try BlobCrypto.seal($0, id: e.id, type: .data, keys: vault.keys, zstd: vault.zstd) }
        guard again.flags == BlobFlags.zstd | BlobFlags.dictionary, again.envelope.count < envelope.count else { return nil }
        return again
    }

    private func report(_ path: String, force: Bool) {
        guard let progress = options.progress else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastProgress) >= 0.1 else { return }
        lastProgress = now
        let stored = writer.bytes + failureLock.withLock { openBytes }
        progress(SealProgress(
            filesDone: entriesVisited ?? filesDone, filesTotal: totalFiles, bytesDone: bytesDone, bytesTotal: totalBytes, addedBytes: stored, currentPath: path))
    }
}

/// Finishes and writes packs on a background queue, at most two in flight. The first failure is
/// kept and thrown by the next call, once no write is running any more; packs queued behind a
/// failed one are not written.
final class PackWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "coffer.pack-writer")
    private let inFlight = DispatchSemaphore(value: 1)
    private let lock = NSLock()
    private var written: [(pack: ObjectID, entries: [PackEntry])] = []
    /// The entries of `written`.
    private var writtenEntries = 0
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
                let (id, size, entries) = try pack.write(to: vault.backend, vaultID: vault.vaultID, keys: vault.keys)
                lock.withLock {
                    written.append((id, entries))
                    writtenEntries += entries.count
                    writtenBytes += UInt64(size)
                }
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
    }

    /// The packs written so far, once they hold at least `entries` entries (nil before); they are
    /// not returned again. Their bytes stay counted.
    func takeWritten(atLeast entries: Int) -> [(pack: ObjectID, entries: [PackEntry])]? {
        lock.withLock {
            guard writtenEntries >= entries, !written.isEmpty else { return nil }
            defer { written = []; writtenEntries = 0 }
            return written
        }
    }

    /// Waits for every write; returns the packs written (those not taken, which are then the
    /// caller's only copy) and their bytes.
    func drain() throws -> ([(pack: ObjectID, entries: [PackEntry])], UInt64) {
        queue.sync {}
        try rethrow()
        return lock.withLock {
            defer { written = []; writtenEntries = 0 }
            return (written, writtenBytes)
        }
    }
}
