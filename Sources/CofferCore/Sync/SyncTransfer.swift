import CofferCrypto
import Foundation

/// Moving files: verifying the destination, copying (file by file, or in batches where the
/// destination prefers it), reading back, and the worker threads and progress of a sync.
extension SyncEngine {
    // MARK: Verify

    /// Reads back every destination vault file; returns the damaged ones (wrong content, or
    /// unreadable).
    func verifyDestination(dstTree: SyncTree, srcFiles: [String: Int]) throws -> [String] {
        let paths = dstTree.files.keys.sorted { (Self.rank($0), $0) < (Self.rank($1), $1) }
        startPhase(.verifying, files: paths.count, bytes: paths.reduce(0) { $0 + UInt64(max(0, dstTree.files[$1] ?? 0)) })
        if dest.prefersBatchCopy {
            return try verifyRemote(paths, dstTree: dstTree, srcFiles: srcFiles, remote: dest)
        }
        let damaged = Locked<[String]>([])
        let config = try sourceConfigBytes()
        try forEachConcurrently(paths) { path in
            let size = dstTree.files[path] ?? 0
            var ok = false
            do {
                let bytes = try self.dest.read(path)
                ok = Self.matches(path, bytes, config: config)
                self.countVerified(bytes: UInt64(bytes.count))
            } catch let e as CofferError {
                switch e {
                case .integrity, .notFound, .io: ok = false
                default: throw e
                }
            }
            if !ok { damaged.mutate { $0.append(path) } }
            self.advance(bytes: UInt64(max(0, size)))
        }
        return damaged.value.sorted()
    }

    /// Verify in a batch (``Backend/readBackSHA256(_:)``) of every file, compared with the
    /// SHA-256 of the source's copy (itself checked against its name). Files only the
    /// destination has are read one by one and checked against their names.
    func verifyRemote(_ paths: [String], dstTree: SyncTree, srcFiles: [String: Int], remote: Backend) throws -> [String] {
        let inSource = paths.filter { srcFiles[$0] != nil }
        var expected: [String: [UInt8]] = [:]
        for path in inSource {
            try checkCancelled()
            expected[path] = SHA256.hash(try readSource(path))
        }
        let got = try remote.readBackSHA256(inSource)
        var damaged: [String] = []
        for path in inSource {
            if got[path] != expected[path] { damaged.append(path) } else { countVerified(bytes: UInt64(max(0, dstTree.files[path] ?? 0))) }
            advance(bytes: UInt64(max(0, dstTree.files[path] ?? 0)))
        }
        let config = try sourceConfigBytes()
        for path in paths where srcFiles[path] == nil {
            try checkCancelled()
            let bytes = try? remote.read(path)
            if let bytes, Self.matches(path, bytes, config: config) { countVerified(bytes: UInt64(bytes.count)) } else { damaged.append(path) }
            advance(bytes: UInt64(max(0, dstTree.files[path] ?? 0)))
        }
        return damaged
    }

    /// Whether `bytes` are the right content for `path`: the hash named by it, or for `config`
    /// the source's config.
    static func matches(_ path: String, _ bytes: [UInt8], config: [UInt8]) -> Bool {
        if path == VaultFile.config.path { return bytes == config }
        guard let id = SyncTree.expectedID(path) else { return false }
        return ObjectID.hashing(bytes) == id
    }

    /// A source file, checked against its name (the config against its MAC).
    func readSource(_ path: String) throws -> [UInt8] {
        if path == VaultFile.config.path { return try sourceConfigBytes() }
        let bytes: [UInt8]
        do { bytes = try source.read(path) } catch let e as CofferError { throw e.missingAsIntegrity }
        guard let id = SyncTree.expectedID(path), ObjectID.hashing(bytes) == id else {
            throw CofferError.integrity(
                object: path, reason: "the source's copy does not match its name; nothing referring to it was synced — run coffer check on the source")
        }
        return bytes
    }

    // MARK: Copy

    /// Copies one file: read and check at the source, write, read back and check at the destination.
    func copyOne(_ path: String, expectedSize: Int) throws {
        let bytes = try readSource(path)
        guard bytes.count == expectedSize || expectedSize < 0 else {
            throw CofferError.integrity(object: path, reason: "the source's copy changed size while syncing")
        }
        try dest.write(path, bytes)
        if !(try verifyCopy(path, bytes)) {
            // One more try: a write that went wrong on the way (or a damaged file the backend
            // kept because it had the same size) is replaced.
            try? dest.remove(path)
            try dest.write(path, bytes)
            guard try verifyCopy(path, bytes) else {
                throw CofferError.remote(
                    location: destName, reason: "\(path) does not read back as written (size or content differs, twice); the destination may be failing")
            }
        }
        advance(bytes: UInt64(bytes.count))
    }

    /// Reads a file back from the destination: its size, then its content's hash.
    func verifyCopy(_ path: String, _ bytes: [UInt8]) throws -> Bool {
        guard try dest.size(path) == bytes.count else { return false }
        let back: [UInt8]
        do { back = try dest.read(path) } catch let e as CofferError where e.isNotFound || e.isIntegrity { return false }
        guard back.count == bytes.count else { return false }
        let ok = path == VaultFile.config.path ? back == bytes : ObjectID.hashing(back) == SyncTree.expectedID(path)
        if ok { countVerified(bytes: UInt64(back.count)) }
        return ok
    }

    /// Copies files one by one, several at once.
    func copyGeneric(_ paths: [String], sizes: [String: Int]) throws {
        try forEachConcurrently(paths) { path in
            try self.copyOne(path, expectedSize: sizes[path] ?? -1)
        }
    }

    /// Copies files from a local folder to a destination that prefers batches (an rclone remote): config, key
    /// slots, dictionaries and index files (which readers load as soon as they exist) atomically one by one,
    /// packs, versions and older heads in one run straight to their names (no reader loads them
    /// before a head refers to them); then all of them are read back at once (SHA-256 and size).
    func copyBulk(_ paths: [String], sizes: [String: Int], remote: Backend, localRoot: String, atomic: Bool = true) throws {
        guard !paths.isEmpty else { return }
        var digests: [String: [UInt8]] = [:]
        for path in paths {
            try checkCancelled()
            let bytes = try readSource(path)
            digests[path] = SHA256.hash(bytes)
        }
        // Runs of "direct" files between the atomic ones keep the copy order.
        var batch: [String] = []
        func flush() throws {
            try remote.copyFiles(batch, fromLocalFolder: localRoot, atomically: false)
            for p in batch { advance(bytes: UInt64(max(0, sizes[p] ?? 0))) }
            batch = []
        }
        for path in paths {
            let loadedOnOpen: Bool
            switch VaultFile(path: path) {
            case .config, .keySlot, .index, .dictionary: loadedOnOpen = true  // a writer picks its dictionary by listing dicts/
            default: loadedOnOpen = false
            }
            if atomic && loadedOnOpen {
                try flush()
                try checkCancelled()
                try remote.copyFiles([path], fromLocalFolder: localRoot, atomically: true)
                advance(bytes: UInt64(max(0, sizes[path] ?? 0)))
            } else {
                batch.append(path)
            }
        }
        try flush()
        // Read everything back; what does not match is copied once more, atomically.
        var bad = try remoteMismatches(paths, digests: digests, sizes: sizes, remote: remote)
        if !bad.isEmpty {
            for path in bad { try remote.copyFiles([path], fromLocalFolder: localRoot, atomically: true) }
            bad = try remoteMismatches(bad, digests: digests, sizes: sizes, remote: remote)
            guard bad.isEmpty else {
                throw CofferError.remote(
                    location: destName,
                    reason: "\(Self.sample(bad)) do\(bad.count == 1 ? "es" : "") not read back as written (twice); the destination may be failing")
            }
        }
    }

    /// The paths whose size or SHA-256, read back from the remote, differ from the source's.
    func remoteMismatches(_ paths: [String], digests: [String: [UInt8]], sizes: [String: Int], remote: Backend) throws -> [String] {
        let listing = try remote.listAll()?.mapValues(\.size) ?? SyncTree.list(remote).files
        let back = try remote.readBackSHA256(paths)
        var bad: [String] = []
        for path in paths {
            if listing[path] != sizes[path] || back[path] == nil || back[path] != digests[path] {
                bad.append(path)
            } else {
                countVerified(bytes: UInt64(max(0, sizes[path] ?? 0)))
            }
        }
        return bad
    }

    // MARK: Workers and progress

    /// Runs `body` for every item on up to `options.parallelism` threads; the first error stops
    /// the others (they finish the file in hand) and is thrown.
    func forEachConcurrently(_ items: [String], _ body: @escaping @Sendable (String) throws -> Void) throws {
        if items.isEmpty { return }
        let width = max(1, min(options.parallelism, items.count))
        if width == 1 {
            for item in items {
                try checkCancelled()
                try body(item)
            }
            return
        }
        let state = Locked<(next: Int, error: Error?)>((0, nil))
        let group = DispatchGroup()
        let cancelled = options.isCancelled
        for _ in 0..<width {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while true {
                    let i: Int? = state.mutate { s in
                        guard s.error == nil, s.next < items.count else { return nil }
                        s.next += 1
                        return s.next - 1
                    }
                    guard let i else { return }
                    do {
                        if cancelled?() == true { throw CofferError.interrupted }
                        try body(items[i])
                    } catch {
                        state.mutate { s in if s.error == nil { s.error = error } }
                        return
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        if let error = state.value.error { throw error }
    }

    func startPhase(_ phase: SyncProgress.Phase, files: Int, bytes: UInt64) {
        lock.withLock {
            self.phase = phase
            progressDone = 0
            progressBytes = 0
            progressTotal = files
            progressBytesTotal = bytes
        }
        emit()
    }

    func advance(bytes: UInt64) {
        lock.withLock {
            progressDone += 1
            progressBytes += bytes
        }
        emit()
    }

    func countVerified(bytes: UInt64) {
        lock.withLock {
            report.verifiedFiles += 1
            report.verifiedBytes += bytes
        }
    }

    func emit() {
        guard let progress = options.progress else { return }
        let p = lock.withLock {
            SyncProgress(phase: phase, filesDone: progressDone, filesTotal: progressTotal, bytesDone: progressBytes, bytesTotal: progressBytesTotal)
        }
        progress(p)
    }
}

/// A value shared between threads behind a lock.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: T
    init(_ value: T) { _value = value }
    var value: T { lock.withLock { _value } }
    func mutate<R>(_ body: (inout T) -> R) -> R { lock.withLock { body(&_value) } }
}
