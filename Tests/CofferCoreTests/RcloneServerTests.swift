@testable import CofferCore
import Foundation
import Testing

@Suite("Rclone process")
struct RcloneServerTests {
    @Test("one rclone process serves a whole sync, a re-sync and the copy's reads; shutdown ends it by its pid")
    func oneProcess() throws {
        guard S.rclone != nil else { return }
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", size: 300_000, seed: 31)
        try S.seal(f.vault, "b.bin", size: 200_000, seed: 32)
        let dir = T.scratch("rc-one")
        let remote = RcloneBackend(remote: ":local:" + dir)
        let r = try f.vault.sync(to: remote)
        #expect(r.copiedFiles == r.totalFiles && r.totalFiles > 10)
        try S.seal(f.vault, "c.bin", size: 100_000, seed: 33)
        let again = try f.vault.sync(to: remote)
        #expect(again.copiedFiles > 0)
        let copy = try Vault.open(backend: remote, passphrase: T.secret("pw"), state: nil)
        #expect(copy.head.live.count == 3)
        #expect(try copy.check(readDataFraction: 1).errors.isEmpty)
        #expect(remote.serversStarted == 1)
        let pid = try #require(remote.serverPID)
        #expect(kill(pid, 0) == 0)
        remote.shutdown()
        #expect(kill(pid, 0) != 0 && errno == ESRCH, "rclone \(pid) still runs")
        #expect(remote.serverPID == nil)
        // The lock the syncs held is gone too.
        #expect(T.files(in: dir).filter { $0.hasPrefix("locks/") }.isEmpty)
    }

    @Test("rclone killed in the middle of a sync: one clear error, no head written, no new process started")
    func serverDies() throws {
        guard S.rclone != nil else { return }
        let f = try S.vault()
        try S.seal(f.vault, "a.bin", size: 300_000, seed: 34)
        let dir = T.scratch("rc-die")
        let remote = RcloneBackend(remote: ":local:" + dir)
        var options = SyncOptions()
        let killed = Locked(false)
        options.progress = { p in
            guard p.phase == .copying, let pid = remote.serverPID else { return }
            killed.mutate { done in
                if !done { kill(pid, SIGKILL) }
                done = true
            }
        }
        #expect {
            _ = try f.vault.sync(to: remote, options: options)
        } throws: { e in
            guard case CofferError.remote(let location, let reason) = e else { return false }
            return location == remote.location && reason.contains("the rclone process (pid ") && reason.contains("ended during the command")
        }
        #expect(killed.value)
        #expect(remote.serversStarted == 1)
        #expect(T.files(in: dir).filter { $0.hasPrefix("heads/") }.isEmpty, "a head was written")
        remote.shutdown()
        // A new backend finishes the job (the stale lock of this process's dead rclone aside: it is ours).
        let fresh = RcloneBackend(remote: ":local:" + dir)
        defer { fresh.shutdown() }
        for lock in T.files(in: dir).filter({ $0.hasPrefix("locks/") }) { try FileManager.default.removeItem(atPath: dir + "/" + lock) }
        let r = try f.vault.sync(to: fresh)
        #expect(r.relation == .new)
        #expect(try S.open(dir).check(readDataFraction: 1).errors.isEmpty)
    }

    @Test("requests need the password; the htpasswd file is private; SHA-1 of the verifier is right")
    func authentication() throws {
        #expect(Hex.encode(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Hex.encode(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        guard let exe = S.rclone else { return }
        let server = try RcloneServer.start(executable: exe, options: RcloneBackend.commonOptions)
        defer { server.stop() }
        var st = stat()
        #expect(stat(server.scratch.folder + "/htpasswd", &st) == 0 && st.st_mode & 0o077 == 0)
        #expect(stat(server.scratch.folder, &st) == 0 && st.st_mode & 0o077 == 0)
        let stranger = LoopbackHTTPClient(port: server.client.port, user: "coffer", password: "guess")
        let denied = try stranger.send(method: "POST", target: "/operations/list", body: Array("{}".utf8), bodyLimit: 1 << 16, overflow: CofferError.interrupted)
        #expect(denied.status == 401)
        let served = try stranger.send(method: "GET", target: "/%5B/etc%5D/hostname", bodyLimit: 1 << 16, overflow: CofferError.interrupted)
        #expect(served.status == 401)
        // The password is in no argument.
        let cmdline = (try? String(contentsOfFile: "/proc/\(server.pid)/cmdline", encoding: .utf8)) ?? ""
        #expect(cmdline.contains("--rc-htpasswd") && !cmdline.contains("--rc-pass"))
    }
}

@Suite("Sync plan")
struct SyncPlanTests {
    static func head(_ g: UInt64, _ seed: UInt8) -> (path: String, id: ObjectID) {
        let id = ObjectID.hashing([seed])
        return (VaultFile.head(generation: g, id: id).path, id)
    }

    static func pack(_ seed: UInt8) -> String { VaultFile.pack(ObjectID.hashing([seed, 1])).path }
    static func index(_ seed: UInt8) -> String { VaultFile.index(ObjectID.hashing([seed, 2])).path }

    @Test("to an empty destination: everything, config first, packs before index, heads last and the top head first")
    func empty() {
        let h1 = Self.head(1, 1), h2 = Self.head(2, 2)
        let source = ["config": 300, Self.pack(1): 1000, Self.index(1): 200, h1.path: 100, h2.path: 110]
        let plan = SyncPlan(source: source, destination: [:], topHead: h2.path, relation: .new, damaged: [], delete: false)
        #expect(plan.plain == ["config", Self.pack(1), Self.index(1)])
        #expect(plan.heads == [h2.path, h1.path])
        #expect(plan.skipped == 0 && plan.repairs.isEmpty && plan.extra.isEmpty && plan.toDelete.isEmpty)
        #expect(plan.changesDestination)
    }

    @Test("behind: only what is missing; a size that differs or a damaged file is a repair; extras kept or deleted")
    func behind() {
        let h1 = Self.head(1, 1), h2 = Self.head(2, 2)
        let source = ["config": 300, Self.pack(1): 1000, Self.pack(2): 900, Self.index(1): 200, h1.path: 100, h2.path: 110]
        let dest = ["config": 300, Self.pack(1): 999, Self.pack(3): 50, Self.index(1): 200, h1.path: 100]
        let plan = SyncPlan(source: source, destination: dest, topHead: h2.path, relation: .behind(1), damaged: [Self.index(1)], delete: false)
        #expect(plan.plain == [Self.pack(1), Self.pack(2), Self.index(1)].sorted { (SyncPlan.rank($0), $0) < (SyncPlan.rank($1), $1) })
        #expect(plan.heads == [h2.path])
        #expect(plan.repairs == [Self.pack(1), Self.index(1)].sorted())
        #expect(plan.skipped == 2)
        #expect(plan.extra == [Self.pack(3)] && plan.toDelete.isEmpty)
        let deleting = SyncPlan(source: source, destination: dest, topHead: h2.path, relation: .behind(1), damaged: [], delete: true)
        #expect(deleting.toDelete == [Self.pack(3)])
    }

    @Test("same: nothing changes; diverged: the destination's own heads go first, newest first, never config")
    func sameAndDiverged() {
        let h1 = Self.head(1, 1), h2 = Self.head(2, 2), other = Self.head(2, 9), other3 = Self.head(3, 8)
        let source = ["config": 300, h1.path: 100, h2.path: 110]
        let same = SyncPlan(source: source, destination: source, topHead: h2.path, relation: .same, damaged: [], delete: true)
        #expect(!same.changesDestination && same.skipped == 3)
        let dest = ["config": 301, h1.path: 100, other.path: 90, other3.path: 95]
        let diverged = SyncPlan(source: source, destination: dest, topHead: h2.path, relation: .diverged, damaged: [], delete: true)
        #expect(diverged.divergedHeads == [other3.path, other.path])
        #expect(diverged.toDelete.isEmpty)
        #expect(diverged.repairs == ["config"])
    }

    @Test("relation from the head listings alone")
    func relation() {
        let h1 = Self.head(1, 1), h2 = Self.head(2, 2), h3 = Self.head(3, 3), x2 = Self.head(2, 7), x3 = Self.head(3, 9)
        func rel(_ dst: [(String, ObjectID)], src: Set<String>, gen: UInt64, head: ObjectID, chain: [UInt64: ObjectID] = [:], reaches: Bool = false)
            -> SyncRelation
        {
            SyncPlan.relation(
                dstHeads: SyncPlan.heads(in: Dictionary(uniqueKeysWithValues: dst.map { ($0.0, 1) })), srcHeadNames: src, sourceGeneration: gen,
                sourceHead: head, sourceHeadAt: { chain[$0] }, destinationReaches: { _ in reaches })
        }
        let src: Set = [h1.path, h2.path, h3.path]
        #expect(rel([], src: src, gen: 3, head: h3.id) == .new)
        #expect(rel([h1, h2, h3], src: src, gen: 3, head: h3.id) == .same)
        #expect(rel([h1, h2], src: src, gen: 3, head: h3.id, chain: [2: h2.id]) == .behind(1))
        #expect(rel([h1, h2], src: src, gen: 3, head: h3.id, chain: [2: x2.id]) == .diverged)
        #expect(rel([h1, x2], src: src, gen: 3, head: h3.id) == .diverged)
        #expect(rel([h1, h2, x2], src: src, gen: 3, head: h3.id) == .diverged)  // two heads of one generation
        #expect(rel([h1, h2, x3], src: [h1.path, h2.path], gen: 2, head: h2.id, reaches: true) == .ahead(1))
        #expect(rel([h1, h2, x3], src: [h1.path, h2.path], gen: 2, head: h2.id, reaches: false) == .diverged)
        #expect(rel([h1, h2, h3], src: [h1.path, h2.path, h3.path], gen: 2, head: h2.id) == .ahead(1))
    }
}
