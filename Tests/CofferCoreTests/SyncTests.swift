@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// A backend wrapper that counts, records and can fail operations (for sync tests).
final class ProbeBackend: Backend, @unchecked Sendable {
    let inner: Backend
    private let lock = NSLock()
    private(set) var reads = 0
    private(set) var writes = 0
    /// Every write and remove, in order: `write heads/…`, `remove packs/…`.
    private(set) var log: [String] = []
    /// Writes allowed before every further write fails (nil: no limit).
    var failAfterWrites: Int?
    /// A folder whose listing fails.
    var failListing: String?

    init(_ inner: Backend) { self.inner = inner }

    var location: String { inner.location }

    func resetCounts() { lock.withLock { reads = 0; writes = 0; log = [] } }

    func read(_ path: String) throws -> [UInt8] {
        lock.withLock { reads += 1 }
        return try inner.read(path)
    }

    func read(_ path: String, offset: Int, length: Int) throws -> [UInt8] {
        lock.withLock { reads += 1 }
        return try inner.read(path, offset: offset, length: length)
    }

    func write(_ path: String, _ bytes: [UInt8]) throws {
        let allowed: Bool = lock.withLock {
            if let limit = failAfterWrites, writes >= limit { return false }
            writes += 1
            log.append("write " + path)
            return true
        }
        guard allowed else { throw CofferError.io(path: location + "/" + path, operation: "write", errno: EIO) }
        try inner.write(path, bytes)
    }

    func list(_ directory: String) throws -> [String] {
        if directory == failListing { throw CofferError.io(path: location + "/" + directory, operation: "list", errno: EIO) }
        return try inner.list(directory)
    }

    func size(_ path: String) throws -> Int? { try inner.size(path) }

    func remove(_ path: String) throws {
        lock.withLock { log.append("remove " + path) }
        try inner.remove(path)
    }

    func openRandomAccess(_ path: String) throws -> RandomAccessFile {
        lock.withLock { reads += 1 }
        return try inner.openRandomAccess(path)
    }
}

/// Helpers for sync tests.
enum S {
    /// A vault with small packs, so a few hundred kilobytes make several packs.
    static func vault() throws -> T.Fixture {
        var o = T.cheap
        o.packTargetSize = 64 << 10
        // One tier, so the pseudo-random files below make many chunks and several packs (random
        // data would otherwise take the large tier).
        o.tiers = [ChunkTier(maxFileSize: UInt64.max, sizes: ChunkSizes(min: 2 << 10, average: 8 << 10, max: 64 << 10))]
        return try T.vault(o)
    }

    /// Seals a new file of `size` pseudo-random bytes under `name`.
    @discardableResult
    static func seal(_ vault: Vault, _ name: String, size: Int = 150_000, seed: UInt64) throws -> ObjectID {
        let dir = T.scratch("in")
        T.write(dir + "/" + name, T.bytes(size, seed: seed))
        return try vault.seal([dir + "/" + name]).id
    }

    static func open(_ path: String, state: RollbackState? = nil) throws -> Vault {
        try Vault.open(location: path, passphrase: T.secret("pw"), state: state)
    }

    /// The live version ids of the vault at `path`.
    static func live(_ path: String) throws -> [ObjectID] { try open(path).head.live }

    /// `cp -a`.
    static func copy(_ from: String, _ to: String) {
        _ = try? FileManager.default.removeItem(atPath: to)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/cp")
        p.arguments = ["-a", from, to]
        try? p.run()
        p.waitUntilExit()
    }

    static func rm(_ path: String) {
        chmod(Paths.parent(path), 0o700)
        unlink(path)
    }

    static var rclone: String? { RcloneBackend.findExecutable() }
}

@Suite("Sync (library)")
struct SyncTests {
    @Test("a local copy is a complete vault: it opens, lists and restores; a second sync copies nothing")
    func localCopy() throws {
        let f = try S.vault()
        let a = try S.seal(f.vault, "a.bin", seed: 1)
        try S.seal(f.vault, "b.bin", seed: 2)
        let dest = f.root + "/copy"
        let r = try f.vault.sync(to: LocalBackend(root: dest))
        #expect(r.relation == .new)
        #expect(r.copiedFiles == r.totalFiles)
        #expect(r.verifiedFiles == r.copiedFiles)
        #expect(r.versionsAdded.count == 2)
        #expect(T.files(in: dest) == T.files(in: f.path).filter { !$0.hasPrefix("locks/") })

        let copy = try S.open(dest, state: f.state)
        #expect(copy.rollback == nil)
        #expect(copy.head.live == f.vault.head.live)
        let out = T.scratch("out")
        try copy.restore(a, to: out)
        #expect(T.read(out + "/a.bin") == T.bytes(150_000, seed: 1))
        #expect(try copy.check(readDataFraction: 1).errors.isEmpty)

        let again = try f.vault.sync(to: LocalBackend(root: dest))
        #expect(again.relation == .same)
        #expect(again.copiedFiles == 0)
        #expect(again.skippedFiles == again.totalFiles)
    }

    @Test("syncing an unchanged vault reads no data on either side, only listings")
    func unchangedReadsNothing() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 3)
        let counting = ProbeBackend(LocalBackend(root: f.path))
        let source = try Vault.open(backend: counting, passphrase: T.secret("pw"), state: f.state)
        let dest = ProbeBackend(LocalBackend(root: f.root + "/copy"))
        _ = try source.sync(to: dest)
        counting.resetCounts()
        dest.resetCounts()
        let r = try source.sync(to: dest)
        #expect(r.copiedFiles == 0)
        #expect(counting.reads == 0)
        #expect(dest.reads == 0)
        #expect(dest.writes == 0)
    }

    @Test("a sync that fails after N writes, for every N, leaves a valid vault at the old or new state; a re-run completes it")
    func interruptedAtEveryWrite() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 4)
        let base = f.root + "/base"
        _ = try f.vault.sync(to: LocalBackend(root: base))
        let oldHead = f.vault.headID
        try S.seal(f.vault, "b.bin", seed: 5)
        try S.seal(f.vault, "c.bin", size: 90_000, seed: 6)
        let newHead = f.vault.headID

        // How many writes a full sync takes.
        let probe = ProbeBackend(LocalBackend(root: f.root + "/probe"))
        S.copy(base, f.root + "/probe")
        _ = try f.vault.sync(to: probe)
        let total = probe.writes
        #expect(total >= 6)
        // Heads come last, the new head first (the destination's lock, taken first and removed
        // last, aside).
        let log = probe.log.filter { !$0.contains("locks/") }
        #expect(probe.log.first?.hasPrefix("write locks/") == true)
        let firstHead = try #require(log.firstIndex { $0.hasPrefix("write heads/") })
        #expect(log[firstHead].hasSuffix(newHead.hex))
        #expect(log[firstHead...].allSatisfy { $0.hasPrefix("write heads/") })

        for n in 0..<total {
            let dest = f.root + "/cut\(n)"
            S.copy(base, dest)
            let failing = ProbeBackend(LocalBackend(root: dest))
            failing.failAfterWrites = n
            var options = SyncOptions()
            options.parallelism = 1
            #expect(throws: CofferError.self) { try f.vault.sync(to: failing, options: options) }
            let cut = try S.open(dest)
            #expect(cut.headID == oldHead || cut.headID == newHead, "after \(n) writes")
            #expect(try cut.check().errors.isEmpty, "after \(n) writes")
            let r = try f.vault.sync(to: LocalBackend(root: dest))
            #expect(r.relation == (cut.headID == newHead ? .same : .behind(2)))
            let done = try S.open(dest)
            #expect(done.headID == newHead)
            #expect(try done.check(readDataFraction: 1).errors.isEmpty, "after \(n) writes and a re-run")
        }

        // A first copy cut short is not a vault yet, but it is recognised and completed.
        let fresh = f.root + "/fresh"
        let failing = ProbeBackend(LocalBackend(root: fresh))
        failing.failAfterWrites = 3
        #expect(throws: CofferError.self) { try f.vault.sync(to: failing) }
        let r = try f.vault.sync(to: LocalBackend(root: fresh))
        #expect(r.relation == .new)
        #expect(try S.open(fresh).headID == newHead)
    }

    @Test("a flipped byte and a deleted pack at the destination: check finds them, sync --verify repairs them")
    func verifyRepairs() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", size: 400_000, seed: 7)
        let dest = f.root + "/copy"
        _ = try f.vault.sync(to: LocalBackend(root: dest))
        let packs = T.files(in: dest).filter { $0.hasPrefix("packs/") }
        #expect(packs.count >= 3)
        T.flip(dest + "/" + packs[0], at: 100)
        S.rm(dest + "/" + packs[1])
        #expect(try !S.open(dest).check(readDataFraction: 1).errors.isEmpty)

        // Without --verify only the missing pack is noticed (listings only).
        let plain = try f.vault.sync(to: LocalBackend(root: dest))
        #expect(plain.copied == [packs[1]])
        #expect(try !S.open(dest).check(readDataFraction: 1).errors.isEmpty)

        var options = SyncOptions()
        options.verify = true
        let r = try f.vault.sync(to: LocalBackend(root: dest), options: options)
        #expect(r.repaired == [packs[0]])
        #expect(r.verifiedFiles >= r.totalFiles)
        #expect(try S.open(dest).check(readDataFraction: 1).errors.isEmpty)
    }

    @Test("a destination put back to an older copy is a rollback finding that names the missing version")
    func rollbackOfTheCopy() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 8)
        let dest = f.root + "/copy"
        _ = try f.vault.sync(to: LocalBackend(root: dest))
        S.copy(dest, f.root + "/old")
        let b = try S.seal(f.vault, "b.bin", seed: 9)
        _ = try f.vault.sync(to: LocalBackend(root: dest))
        // The old copy is put back.
        _ = try? FileManager.default.removeItem(atPath: dest)
        S.copy(f.root + "/old", dest)

        let copy = try S.open(dest, state: f.state)
        let finding = try #require(copy.rollback)
        #expect(!finding.diverged)
        #expect(finding.missingVersions?.count == 1)
        #expect(finding.description.contains("this copy is 1 version behind"))
        #expect(finding.description.contains("run coffer sync"))
        #expect(finding.description.contains(b.short))
        #expect(try copy.check().rollback != nil)

        // A machine that did not keep the newer head's list says it cannot name the versions.
        try? FileManager.default.removeItem(atPath: f.state.directory + "/" + f.vault.vaultID.hex + ".live")
        let blind = try S.open(dest, state: f.state)
        #expect(blind.rollback?.missingVersions == nil)
        #expect(blind.rollback?.description.contains("cannot be named") == true)

        // Syncing brings it forward again.
        let r = try f.vault.sync(to: LocalBackend(root: dest))
        #expect(r.relation == .behind(1))
        #expect(try S.open(dest, state: f.state).rollback == nil)
    }

    @Test("a diverged destination is refused with both sides explained, and replaced with force")
    func divergedRefused() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 10)
        let dest = f.root + "/copy"
        _ = try f.vault.sync(to: LocalBackend(root: dest))
        // Someone seals into the copy; the source moves on too.
        let other = try S.open(dest)
        let theirs = try S.seal(other, "theirs.bin", seed: 11)
        let ours = try S.seal(f.vault, "ours.bin", seed: 12)
        let before = T.tree(dest)

        do {
            _ = try f.vault.sync(to: LocalBackend(root: dest))
            Issue.record("a diverged destination was accepted")
        } catch CofferError.rollback(let where_, let reason) {
            #expect(where_ == dest)
            #expect(reason.contains("diverged"))
            #expect(reason.contains("theirs.bin@") && reason.contains(theirs.short))
            #expect(reason.contains("ours.bin@") && reason.contains(ours.short))
            #expect(reason.contains("--force"))
        }
        #expect(T.tree(dest) == before, "the destination was changed")

        var options = SyncOptions()
        options.force = true
        let r = try f.vault.sync(to: LocalBackend(root: dest), options: options)
        #expect(r.relation == .diverged)
        let copy = try S.open(dest)
        #expect(copy.headID == f.vault.headID)
        #expect(try copy.check(readDataFraction: 1).errors.isEmpty)
    }

    @Test("a destination ahead of the source (the source is the stale copy) is refused")
    func aheadRefused() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 13)
        let dest = f.root + "/copy"
        _ = try f.vault.sync(to: LocalBackend(root: dest))
        try S.seal(try S.open(dest), "newer.bin", seed: 14)
        #expect {
            try f.vault.sync(to: LocalBackend(root: dest))
        } throws: { e in
            guard case CofferError.rollback(_, let reason) = e else { return false }
            return reason.contains("newer than this vault") && reason.contains("newer.bin@")
        }
    }

    @Test("another vault, or unrelated files, at the destination are refused and left alone")
    func foreignRefused() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 15)
        let other = try T.vault()
        let before = T.tree(other.path)
        #expect {
            try f.vault.sync(to: LocalBackend(root: other.path))
        } throws: { e in
            guard case CofferError.remote(let l, let reason) = e else { return false }
            return l == other.path && reason.contains("another vault")
        }
        #expect(T.tree(other.path) == before)

        let junk = T.scratch("junk")
        T.write(junk + "/notes.txt", Array("hello".utf8))
        #expect {
            try f.vault.sync(to: LocalBackend(root: junk))
        } throws: { e in
            guard case CofferError.remote(_, let reason) = e else { return false }
            return reason.contains("not a copy of this vault") && reason.contains("notes.txt")
        }
        #expect(T.files(in: junk) == ["notes.txt"])
        #expect(throws: CofferError.self) { try f.vault.sync(to: LocalBackend(root: f.path)) }
    }

    @Test("--delete removes what the source no longer has, only after the new head; never on a listing error")
    func deleteAfterHeads() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 16)
        let dest = f.root + "/copy"
        _ = try f.vault.sync(to: LocalBackend(root: dest))
        // Files only the destination has (as prune leaves them): another vault's pack and version
        // bytes stored under their own hashes, so they are well-formed vault files.
        let elsewhere = try S.vault()
        try S.seal(elsewhere.vault, "x.bin", seed: 17)
        let extras = T.files(in: elsewhere.path).filter { $0.hasPrefix("packs/") || $0.hasPrefix("versions/") }
        for p in extras { T.write(dest + "/" + p, T.read(elsewhere.path + "/" + p) ?? []) }
        try S.seal(f.vault, "b.bin", seed: 18)

        // Without --delete they are kept and reported.
        S.copy(dest, f.root + "/copy2")
        let kept = try f.vault.sync(to: LocalBackend(root: f.root + "/copy2"))
        #expect(Set(kept.extra) == Set(extras))
        #expect(kept.deleted.isEmpty)

        // A listing error stops everything: nothing is written or deleted.
        let broken = ProbeBackend(LocalBackend(root: dest))
        broken.failListing = "versions"
        var options = SyncOptions()
        options.delete = true
        #expect(throws: CofferError.self) { try f.vault.sync(to: broken, options: options) }
        #expect(broken.log.isEmpty)

        let probe = ProbeBackend(LocalBackend(root: dest))
        let r = try f.vault.sync(to: probe, options: options)
        #expect(Set(r.deleted) == Set(extras))
        let lastHead = try #require(probe.log.lastIndex { $0.hasPrefix("write heads/") })
        let firstRemove = try #require(probe.log.firstIndex { $0.hasPrefix("remove ") })
        #expect(firstRemove > lastHead)
        for p in extras { #expect(!FileManager.default.fileExists(atPath: dest + "/" + p)) }
        #expect(try S.open(dest).check(readDataFraction: 1).errors.isEmpty)
    }

    @Test("a dry run reports what it would copy and writes nothing")
    func dryRun() throws {
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", seed: 19)
        let dest = f.root + "/copy"
        var options = SyncOptions()
        options.dryRun = true
        let r = try f.vault.sync(to: LocalBackend(root: dest), options: options)
        #expect(r.copiedFiles == r.totalFiles)
        #expect(r.copied.first == "config")
        #expect(r.copied.last?.hasPrefix("heads/") == true)
        #expect(!FileManager.default.fileExists(atPath: dest))
    }

    @Test("locations: a folder or rclone:REMOTE:PATH")
    func locations() throws {
        #expect(try VaultLocation(parsing: "/mnt/usb/coffer") == .folder("/mnt/usb/coffer"))
        #expect(try VaultLocation(parsing: "rclone:b2:backups/coffer") == .rclone(remote: "b2:backups/coffer"))
        #expect(try VaultLocation(parsing: "rclone::local:/tmp/x") == .rclone(remote: ":local:/tmp/x"))
        #expect(try VaultLocation(parsing: "./rclone:x") == .folder("./rclone:x"))
        #expect(throws: CofferError.self) { try VaultLocation(parsing: "rclone:nocolon") }
        #expect(throws: CofferError.self) { try VaultLocation(parsing: "") }
        #expect(RcloneBackend(remote: "b2:bucket/dir/").remotePath("heads/x") == "b2:bucket/dir/heads/x")
        #expect(RcloneBackend(remote: "b2:").remotePath("config") == "b2:config")
    }
}

@Suite("Rclone backend (library)")
struct RcloneBackendTests {
    @Test("read, ranges, atomic write, listings, sizes, remove, random access on an rclone local remote")
    func basics() throws {
        guard S.rclone != nil else {
            Issue.record("rclone is not installed (apt-get install rclone); rclone tests not run")
            return
        }
        let dir = T.scratch("rc")
        let b = RcloneBackend(remote: ":local:" + dir)
        #expect(try b.list("packs").isEmpty)
        #expect(try b.size("config") == nil)
        #expect { try b.read(.config) } throws: { e in
            guard case CofferError.notFound(let path) = e else { return false }
            return path == "config"
        }
        #expect { _ = try b.openRandomAccess(.pack(ObjectID.hashing([1]))) } throws: { e in
            guard case CofferError.notFound(let path) = e else { return false }
            return path == VaultFile.pack(ObjectID.hashing([1])).path
        }
        let data = T.bytes(100_000, seed: 20)
        let id = ObjectID.hashing(data)
        try b.write("packs/" + String(id.hex.prefix(2)) + "/" + id.hex, data)
        try b.write("index/" + id.hex, data)
        try b.write("index/" + id.hex, data)  // same content: a no-op
        #expect(try b.list("packs") == [String(id.hex.prefix(2)) + "/" + id.hex])
        #expect(try b.list("index") == [id.hex])
        #expect(try b.size("index/" + id.hex) == data.count)
        #expect(try b.read("index/" + id.hex) == data)
        #expect(try b.read("index/" + id.hex, offset: 1000, length: 50) == Array(data[1000..<1050]))
        #expect { try b.read("index/" + id.hex, offset: 99_990, length: 50) } throws: { T.isIntegrity($0) }
        let ra = try b.openRandomAccess("index/" + id.hex)
        #expect(ra.size == data.count)
        var buf = [UInt8](repeating: 0, count: 10)
        try buf.withUnsafeMutableBytes { try ra.read(into: $0, at: 5) }
        #expect(buf == Array(data[5..<15]))
        // No temporary names are left behind.
        let all = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter { name in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDir) && !isDir.boolValue
        }
        #expect(all.sorted() == ["index/" + id.hex, "packs/" + String(id.hex.prefix(2)) + "/" + id.hex].sorted())
        try b.remove("index/" + id.hex)
        try b.remove("index/" + id.hex)
        #expect(try b.list("index").isEmpty)
        #expect(try b.size("index/" + id.hex) == nil)
    }

    @Test("an unreachable remote is an error naming it, never an empty listing")
    func unreachable() throws {
        guard S.rclone != nil else { return }
        let b = RcloneBackend(remote: ":webdav,url='http://127.0.0.1:9':vault")
        #expect {
            _ = try b.list("packs")
        } throws: { e in
            guard case CofferError.remote(let l, let reason) = e else { return false }
            return l == b.location && reason.contains("cannot be reached")
        }
        let missing = RcloneBackend(remote: "nosuchremote:vault", executable: nil)
        #expect { _ = try missing.list("keys") } throws: { e in "\(e)".contains("no rclone remote named 'nosuchremote'") }
        let noBinary = RcloneBackend(remote: "x:y", executable: "/nonexistent/rclone")
        #expect { _ = try noBinary.list("keys") } throws: { e in "\(e)".contains("cannot run") }
    }

    @Test("sync to an rclone remote: a complete vault, verified; unchanged is one listing; --verify repairs")
    func syncToRemote() throws {
        guard S.rclone != nil else { return }
        let f = try S.vault()
        let a = try S.seal(f.vault, "a.bin", size: 200_000, seed: 21)
        let dir = T.scratch("rcsync")
        let remote = RcloneBackend(remote: ":local:" + dir)
        let r = try f.vault.sync(to: remote)
        #expect(r.copiedFiles == r.totalFiles)
        #expect(r.verifiedFiles == r.totalFiles)
        #expect(T.files(in: dir) == T.files(in: f.path).filter { !$0.hasPrefix("locks/") })

        let copy = try S.open("rclone::local:" + dir, state: f.state)
        #expect(copy.head.live == [a])
        let out = T.scratch("out")
        try copy.restore(a, to: out)
        #expect(T.read(out + "/a.bin") == T.bytes(200_000, seed: 21))

        let again = try f.vault.sync(to: RcloneBackend(remote: ":local:" + dir))
        #expect(again.copiedFiles == 0)

        let pack = try #require(T.files(in: dir).first { $0.hasPrefix("packs/") })
        T.flip(dir + "/" + pack, at: 10)
        var options = SyncOptions()
        options.verify = true
        let fixed = try f.vault.sync(to: RcloneBackend(remote: ":local:" + dir), options: options)
        #expect(fixed.repaired == [pack])
        #expect(try S.open(dir).check(readDataFraction: 1).errors.isEmpty)
    }
}
