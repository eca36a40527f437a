@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct PruneTests {
    /// Four versions of a changing folder in small packs; returns the fixture, the version ids and
    /// the trees they hold.
    func history() throws -> (T.Fixture, [ObjectID], [[String: String]]) {
        var o = T.cheap
        o.packTargetSize = 128 << 10
        let f = try T.vault(o)
        let dir = T.scratch("in") + "/d"
        var ids: [ObjectID] = []
        var trees: [[String: String]] = []
        for month in 0..<4 {
            T.write(dir + "/Connections.csv", T.csv(rows: 2_000 + 300 * month, seed: UInt64(month)))
            T.write(dir + "/photo-\(month).bin", T.bytes(200 << 10, seed: UInt64(100 + month)))
            if month == 2 { unlink(dir + "/photo-0.bin") }
            ids.append(try f.vault.seal([dir]).id)
            trees.append(T.tree(dir))
        }
        return (f, ids, trees)
    }

    func restoresExactly(_ v: Vault, _ id: ObjectID, _ tree: [String: String]) throws {
        let out = T.scratch("r")
        try v.restore(id, to: out)
        #expect(T.tree(out + "/d") == tree)
    }

    @Test func forgetThenPruneFreesSpaceAndKeepsEveryKeptVersion() throws {
        let (f, ids, trees) = try history()
        try f.vault.forget([ids[0], ids[1]])
        var dry = PruneOptions()
        dry.dryRun = true
        let before = T.files(in: f.path)
        let plan = try f.vault.prune(options: dry)
        #expect(T.files(in: f.path) == before, "a dry run changes nothing")
        #expect(plan.packsDeleted + plan.packsRepacked > 0)
        let report = try f.vault.prune()
        #expect(report.freedBytes > 200 << 10)
        #expect(report.versionFilesDeleted == 2)
        let v = try f.reopen()
        let check = try v.check(readDataFraction: 1)
        #expect(check.isClean, "\(check.errors)")
        #expect(check.unreferencedPacks.isEmpty)
        for k in 2..<4 { try restoresExactly(v, ids[k], trees[k]) }
        // A second prune finds nothing to do.
        let again = try v.prune()
        #expect(again.packsDeleted == 0 && again.packsRepacked == 0 && again.freedBytes == 0)
    }

    /// Prune stopped at every write or deletion (like a kill): every kept version stays
    /// restorable, check finds no error, and a re-run finishes.
    @Test func pruneStoppedAtEveryStepLosesNothing() throws {
        let (f, ids, trees) = try history()
        try f.vault.forget([ids[1]])
        var n = 0
        while true {
            let failing = FailingBackend(LocalBackend(root: f.path), allowedWrites: n, error: .io(path: f.path, operation: "write", errno: EIO), countRemoves: true)
            let v = try Vault.open(backend: failing, passphrase: T.secret("pw"), state: f.state)
            do {
                _ = try v.prune()
                break
            } catch {}
            let reopened = try f.reopen()
            let report = try reopened.check(readDataFraction: 1)
            #expect(report.errors.isEmpty, "after \(n) steps: \(report.errors)")
            for k in [0, 2, 3] { try restoresExactly(reopened, ids[k], trees[k]) }
            n += 1
        }
        #expect(n >= 3)
        let v = try f.reopen()
        #expect(try v.check(readDataFraction: 1).isClean)
        // The packs the stopped runs wrote are new: kept by default (a writer may still be
        // committing them), removed once old enough (here: at once).
        var options = PruneOptions()
        options.minimumAge = 0
        _ = try v.prune(options: options)
        #expect(try v.check(readDataFraction: 1).unreferencedPacks.isEmpty)
    }

    @Test func pruneStopsWithoutDeletingWhenAUsedPackIsMissing() throws {
        let (f, ids, _) = try history()
        try f.vault.forget([ids[0]])
        let v = try f.reopen()
        let live = try v.listing(ids[3]).flatMap(\.storedChunks)
        let pack = try #require(v.index.location(of: live[0])?.pack)
        let path = f.path + "/" + VaultFile.pack(pack).path
        chmod(path, 0o600)
        unlink(path)
        let before = T.files(in: f.path)
        #expect(throws: CofferError.self) { try v.prune() }
        #expect(T.files(in: f.path).filter { !$0.hasPrefix("locks/") } == before.filter { !$0.hasPrefix("locks/") })
    }

    @Test func aWriterWhoseLockWasTakenOverCommitsNothing() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.bin", T.bytes(1 << 20, seed: 3))
        var o = SealOptions()
        let locks = f.path + "/locks"
        // Someone removes this writer's lock (as stale) while it works.
        o.progress = { _ in
            for name in (try? FileManager.default.contentsOfDirectory(atPath: locks)) ?? [] {
                chmod(locks + "/" + name, 0o600)
                unlink(locks + "/" + name)
            }
        }
        #expect(throws: CofferError.self) { try f.vault.seal([dir], options: o) }
        let v = try f.reopen()
        #expect(v.head.live.isEmpty)
        #expect(try v.backend.list("index").isEmpty, "no index written after the lock was lost")
    }
}
