import Foundation
import Testing

/// Several writers on one vault at once (two coffer processes), and the rclone process a command
/// starts. The shared vault is a folder or an S3 bucket on a real SeaweedFS.
@Suite("Shared storage")
struct SharedStorageTests {
    /// Where the shared vault lives in a test: a folder of the scratch area, or (`s3`) a prefix
    /// of a bucket on a real SeaweedFS started for the test (stopped by pid in `done`).
    static func location(_ kind: String, _ s: Scratch, _ name: String) throws -> (vault: String, done: () -> Void) {
        guard kind == "s3" else { return (s.path(name), {}) }
        let store = try SeaweedFS.single()
        for (k, v) in store.environment { s.environment[k] = v }
        return ("s3:\(store.endpoint)/shared-\(name)/vault", { store.stop() })
    }

    /// No lock is left at `vault` once both writers have ended: `unlock` finds none, live or stale.
    static func noLockLeft(_ s: Scratch, _ vault: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try s.run(["unlock", "--json", "--vault", vault])
        let json = try? r.json() as? [String: Any]
        #expect(r.status == 0 && (json?["removed"] as? [Any])?.isEmpty == true && (json?["live"] as? [Any])?.isEmpty == true,
                "a lock was left behind: \(r.stdout) \(r.stderr)", sourceLocation: sourceLocation)
    }

    /// Every live version of `vault` restores, and `check --read-data` passes.
    /// With `diverged`, the vault is a copy that was sealed into while this machine had seen the
    /// source's newer head: check must then report the rollback (exit 14) and nothing else.
    static func everyVersionRestores(_ s: Scratch, _ vault: String, diverged: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let check = try s.run(["check", "--read-data", "--vault", vault])
        if diverged {
            #expect(check.status == 14 && check.stderr.contains("rollback detected"), "check --read-data: \(check.stderr)", sourceLocation: sourceLocation)
            #expect(!check.stderr.contains("integrity") && !check.stderr.contains("damaged"), "check --read-data: \(check.stderr)", sourceLocation: sourceLocation)
        } else {
            #expect(check.status == 0, "check --read-data: \(check.stderr)", sourceLocation: sourceLocation)
        }
        let ids = try #require(s.versions(vault), "the vault opens", sourceLocation: sourceLocation)
        #expect(!ids.isEmpty, sourceLocation: sourceLocation)
        for id in ids {
            let out = s.path("restored/" + id)
            let r = try s.run(["restore", id, "--to", out, "--vault", vault, "--quiet"])
            #expect(r.status == 0, "restore \(id): \(r.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// Files of pseudo-random data under `in/<name>`, so a seal takes a moment.
    static func input(_ s: Scratch, _ name: String, files: Int, size: Int, seed: UInt64) throws {
        for i in 0..<files { try s.write("in/\(name)/f\(i).bin", pseudoRandomBytes(count: size, seed: seed &+ UInt64(i))) }
    }

    @Test("a seal into a copy while a sync writes to it: both take the copy's lock; every version restores and check --read-data passes",
          arguments: ["folder", "s3"])
    func sealDuringSync(kind: String) throws {
        let s = try Scratch()
        let (dest, done) = try Self.location(kind, s, "copy")
        defer { done() }
        try s.vaultWithTwoVersions()
        try s.ok(["sync", dest, "--quiet"])
        // More for the next sync to copy.
        try Self.input(s, "more", files: 12, size: 400_000, seed: 40)
        try s.ok(["seal", s.path("in/more"), "--quiet"])
        try Self.input(s, "other", files: 6, size: 300_000, seed: 90)

        let sync = try s.start(["sync", dest, "--lock-wait", "120", "--quiet"])
        // --force: this machine has seen the source's newer head, and the copy is the same vault.
        let seal = try s.start(["seal", s.path("in/other"), "--vault", dest, "--force", "--lock-wait", "120", "--quiet"])
        let syncResult = try sync.finish(timeout: 180)
        let sealResult = try seal.finish(timeout: 180)
        #expect(sealResult.status == 0, "seal: \(sealResult.stderr)")
        // The sync either ran first, or found the copy sealed into (diverged, exit 14) and copied nothing.
        #expect(syncResult.status == 0 || syncResult.status == 14, "sync: \(syncResult.status) \(syncResult.stderr)")
        try Self.noLockLeft(s, dest)
        // When the seal won, the copy's history went its own way: this machine saw the source's
        // head of the same generation, so check rightly reports a rollback there.
        try Self.everyVersionRestores(s, dest, diverged: syncResult.status == 14)
    }

    @Test("a prune while a seal writes: prune waits for the lock and keeps the seal's packs; every version restores and check --read-data passes",
          arguments: ["folder", "s3"])
    func pruneDuringSeal(kind: String) throws {
        let s = try Scratch()
        let (shared, done) = try Self.location(kind, s, "vault")
        defer { done() }
        try s.vaultWithTwoVersions()
        try Self.input(s, "old", files: 4, size: 200_000, seed: 7)
        try s.ok(["seal", s.path("in/old"), "--quiet"])
        // On S3 the shared vault is a complete copy of the folder vault, used from then on.
        let vault = kind == "s3" ? shared : s.vault
        if kind == "s3" { try s.ok(["sync", vault, "--quiet"]) }
        let ids = try #require(s.versions(vault))
        try s.ok(["forget", ids[0], "--vault", vault, "--quiet"])
        try Self.input(s, "big", files: 16, size: 400_000, seed: 60)

        let seal = try s.start(["seal", s.path("in/big"), "--vault", vault, "--lock-wait", "120", "--quiet"])
        let prune = try s.start(["prune", "--vault", vault, "--lock-wait", "120", "--quiet"])
        let sealResult = try seal.finish(timeout: 180)
        let pruneResult = try prune.finish(timeout: 180)
        #expect(sealResult.status == 0, "seal: \(sealResult.stderr)")
        #expect(pruneResult.status == 0, "prune: \(pruneResult.stderr)")
        try Self.noLockLeft(s, vault)
        try Self.everyVersionRestores(s, vault)
        #expect(try #require(s.versions(vault)).count == ids.count)
    }

    @Test("prune removes .tmp- leftovers older than --min-age and keeps young ones; unreferenced packs likewise")
    func pruneLeftovers() throws {
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let old = try s.write("vault/index/.tmp-old-1234", "partial")
        let young = try s.write("vault/keys/.tmp-young-5678", "partial")
        let pack = try #require(filesUnder(s.vault + "/packs").first { $0.contains("/") })
        let stray = s.vault + "/packs/" + String(repeating: "e", count: 2) + "/" + String(repeating: "e", count: 64)
        try FileManager.default.createDirectory(atPath: (stray as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: s.vault + "/packs/" + pack, toPath: stray)
        var hourAgo = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, old, &hourAgo, 0) == 0)

        let first = try #require(try s.ok(["prune", "--json"]).json() as? [String: Any])
        #expect(first["temporary_files_removed"] as? Int == 1)
        #expect(first["unreferenced_packs_kept"] as? Int == 1)
        #expect(first["unreferenced_packs_deleted"] as? Int == 0)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: young))
        #expect(FileManager.default.fileExists(atPath: stray))

        #expect(utimensat(AT_FDCWD, stray, &hourAgo, 0) == 0)
        let second = try #require(try s.ok(["prune", "--json"]).json() as? [String: Any])
        #expect(second["unreferenced_packs_deleted"] as? Int == 1)
        #expect(!FileManager.default.fileExists(atPath: stray))
        let third = try #require(try s.ok(["prune", "--min-age", "0", "--json"]).json() as? [String: Any])
        #expect(third["temporary_files_removed"] as? Int == 1)
        #expect(!FileManager.default.fileExists(atPath: young))
    }

    @Test("rclone: one process serves a whole sync and a list, and none is left when coffer ends")
    func rcloneProcessEnds() throws {
        guard SyncSupport.requireRclone() else { return }
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let real = try #require(SyncSupport.rclone)
        let pids = s.path("rclone-pids")
        let wrapper = try s.write("bin/rclone-pid", "#!/bin/sh\necho $$ >> '\(pids)'\nexec '\(real)' \"$@\"\n")
        chmod(wrapper, 0o755)
        let env = ["COFFER_RCLONE": wrapper, "RCLONE_CONFIG_MYLOCAL_TYPE": "local"]
        let dest = "rclone:mylocal:" + s.path("remote")
        let sync = try s.run(["sync", dest, "--quiet"], environment: env)
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(s.versions(dest, environment: env)?.count == 2)
        let started = String(decoding: try s.read("rclone-pids"), as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
        #expect(started.count == 2, "one rclone per command: \(started)")
        for pid in started {
            #expect(kill(pid, 0) != 0 && errno == ESRCH, "rclone \(pid) is still running after coffer ended")
        }
    }
}
